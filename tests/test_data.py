"""Data preparation: loading, task inference, feature typing, preprocessing, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl_tpot import DataError
from automl_tpot.data import (
    build_preprocessor,
    detect_feature_types,
    infer_task,
    load_table,
    prepare_training_data,
)


def test_load_table_reads_csv_and_parquet(tmp_path, cancer_table):
    csv, parquet = tmp_path / "t.csv", tmp_path / "t.parquet"
    cancer_table.to_csv(csv, index=False)
    cancer_table.to_parquet(parquet)
    assert load_table(csv).shape == cancer_table.shape
    assert load_table(str(parquet)).shape == cancer_table.shape
    assert load_table(cancer_table) is cancer_table


@pytest.mark.parametrize("name", ["missing.csv", "table.xlsx"])
def test_load_table_rejects_missing_and_unsupported_files(tmp_path, name):
    with pytest.raises(DataError, match=name):
        load_table(tmp_path / name)


def test_load_table_rejects_unreadable_content(tmp_path):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"this is not parquet")
    with pytest.raises(DataError, match="broken.parquet"):
        load_table(broken)


def test_load_table_rejects_other_types():
    with pytest.raises(DataError, match="DataFrame"):
        load_table([[1, 2], [3, 4]])


@pytest.mark.parametrize(
    ("values", "task", "reason_part"),
    [
        (["a", "b", "a", "c"], "classification", "non-numeric"),
        ([True, False, True, True], "classification", "non-numeric"),
        ([0, 1, 2, 1, 0], "classification", "3 distinct integer"),
        (list(np.linspace(0, 1, 50)), "regression", "non-integer"),
        (list(range(100)), "regression", "100 distinct integer"),
    ],
)
def test_infer_task_says_why(values, task, reason_part):
    decided, reason = infer_task(pd.Series(values, name="y"))
    assert decided == task
    assert reason_part in reason


def test_regression_on_a_text_target_is_rejected():
    with pytest.raises(DataError, match="numeric target"):
        infer_task(pd.Series(["a", "b"], name="y"), "regression")


def test_feature_types_are_detected(cancer_table):
    table = cancer_table.copy()
    table["constant"] = 1
    table["empty"] = np.nan
    table["customer_id"] = [f"c{i}" for i in range(len(table))]
    table["city"] = [f"city{i % 80}" for i in range(len(table))]
    table["when"] = pd.Timestamp("2024-01-01")
    types = detect_feature_types(table.drop(columns="diagnosis"))
    assert "region" in types.categorical
    assert "member" in types.boolean
    assert "city" in types.text
    assert "mean radius" in types.numeric
    assert set(types.dropped) == {"constant", "empty", "customer_id", "when"}
    assert "identifier" in types.dropped["customer_id"]


def test_preprocessor_handles_missing_values_and_unseen_categories(cancer_table):
    prepared = prepare_training_data(cancer_table, "diagnosis")
    pre = build_preprocessor(prepared.feature_types).fit(prepared.features, prepared.y)
    rows = prepared.features.head(4).copy()
    rows.loc[rows.index[0], "region"] = "atlantis"  # never seen
    rows.loc[rows.index[1], "mean radius"] = np.nan
    rows["member"] = rows["member"].astype(object)
    rows.loc[rows.index[2], "member"] = None
    matrix = pre.transform(rows)
    assert matrix.shape[0] == 4
    assert np.isfinite(matrix).all()


def test_prepare_encodes_labels_and_keeps_the_classes(cancer_table):
    prepared = prepare_training_data(cancer_table, "diagnosis")
    assert prepared.task == "classification"
    assert list(prepared.classes) == ["benign", "malignant"]
    assert set(np.unique(prepared.y)) == {0, 1}


def test_cv_is_lowered_for_a_small_class_and_said_so(cancer_table):
    table = pd.concat([cancer_table, cancer_table.head(3).assign(diagnosis="rare")])
    prepared = prepare_training_data(table, "diagnosis", cv=5)
    assert prepared.cv == 3
    assert any("cv lowered" in note for note in prepared.notes)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda t: t.iloc[0:0], "empty"),
        (lambda t: t.drop(columns="diagnosis"), "not in the table"),
        (lambda t: t.assign(diagnosis="benign"), "single class"),
        (
            lambda t: t.assign(diagnosis=t["diagnosis"].where(t.index % 10 != 0)),
            "no value in target",
        ),
        (lambda t: t[["diagnosis"]], "no feature columns"),
        (lambda t: t.head(4), "rows"),
        (lambda t: pd.concat([t, t.head(1).assign(diagnosis="lonely")]), "single row"),
        (
            lambda t: t.assign(**{c: np.nan for c in t.columns if c != "diagnosis"}),
            "no usable feature",
        ),
    ],
)
def test_bad_tables_raise_data_error(cancer_table, make, message):
    with pytest.raises(DataError, match=message):
        prepare_training_data(make(cancer_table), "diagnosis")


def test_text_target_for_regression_is_rejected(cancer_table):
    with pytest.raises(DataError, match="numeric target"):
        prepare_training_data(cancer_table, "diagnosis", task="regression")


def _many_valued(n_rows: int = 3000, seed: int = 0) -> pd.DataFrame:
    """A table whose one many-valued column carries the target: 300 shops, each with its own
    mean, and an integer-valued regression target (minutes, say)."""
    rng = np.random.default_rng(seed)
    shops = rng.integers(0, 300, size=n_rows)
    effect = rng.normal(0, 10, size=300)
    return pd.DataFrame(
        {
            "shop": [f"shop-{s}" for s in shops],
            "size": rng.normal(size=n_rows),
            "minutes": np.round(effect[shops] + rng.normal(0, 1, size=n_rows)),
        }
    )


def test_many_valued_columns_are_also_target_encoded_and_traced_to_their_column():
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeRegressor

    from automl_tpot.data import output_columns

    table = _many_valued()
    prepared = prepare_training_data(table, "minutes", "regression", cv=3)
    assert prepared.feature_types.text == ("shop",) and prepared.target_type == "continuous"
    preprocessor = build_preprocessor(prepared.feature_types, prepared.target_type)
    X = preprocessor.fit_transform(prepared.features, prepared.y)
    columns = output_columns(preprocessor)
    one_hot = output_columns(preprocessor, one_hot_only=True)
    # the top levels one-hot (plus "infrequent") and one target-encoded column
    assert len(columns["shop"]) == len(one_hot["shop"]) + 1
    assert "size" not in one_hot
    encoded = X[:, sorted(set(columns["shop"]) - set(one_hot["shop"]))]
    # the encoding carries the shops' effect: a shallow tree on it explains most of the target
    tree = DecisionTreeRegressor(max_depth=4, random_state=0)
    assert cross_val_score(tree, encoded, prepared.y, cv=3, scoring="r2").mean() > 0.7
    # an integer-valued regression target is not taken for classes (one column, not hundreds)
    assert X.shape[1] == len(columns["size"]) + len(columns["shop"])


def test_a_multiclass_target_encodes_one_column_per_class():
    from automl_tpot.data import output_columns

    table = _many_valued()
    table["band"] = pd.cut(table.pop("minutes"), 3, labels=["low", "mid", "high"]).astype(str)
    prepared = prepare_training_data(table, "band", "classification", cv=3)
    preprocessor = build_preprocessor(prepared.feature_types, prepared.target_type)
    preprocessor.fit_transform(prepared.features, prepared.y)
    columns = output_columns(preprocessor)
    one_hot = output_columns(preprocessor, one_hot_only=True)
    assert len(columns["shop"]) - len(one_hot["shop"]) == 3
