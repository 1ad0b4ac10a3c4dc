"""The input signature (signature.json) and the one policy every predicted row goes through:
a missing column is a DataError naming it, extra columns are ignored (logged once), a value of
the wrong type is counted per column and treated as missing or refused, no rows give empty
predictions; the CLI's predict applies the same checks and exits 2 on them."""

from __future__ import annotations

import copy
import io
import json
import logging

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression, Ridge
from threadpoolctl import threadpool_limits

from automl_tpot import DataError, FilesystemStorage, TabularModel, Trainer, TrainerConfig
from automl_tpot.cli import main
from automl_tpot.data import prepare_training_data
from automl_tpot.data.signature import check_rows, signature_from_prepared
from automl_tpot.records.signature import InputSignature
from automl_tpot.records.validation import validate
from automl_tpot.run.fallback import train_baseline

TARGET = "diagnosis"


@pytest.fixture(scope="module")
def table(cancer_table) -> pd.DataFrame:
    """The messy breast cancer table plus an identifier column (dropped in training)."""
    frame = cancer_table.copy()
    frame["patient"] = [f"p{i:04d}" for i in range(len(frame))]
    return frame


@pytest.fixture(scope="module")
def rows(table) -> pd.DataFrame:
    return table.drop(columns=TARGET).head(40).reset_index(drop=True)


@pytest.fixture(scope="module")
def model(table) -> TabularModel:
    with threadpool_limits(1):
        return TabularModel(LogisticRegression(max_iter=5000)).fit(
            table.drop(columns=TARGET), table[TARGET]
        )


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory, table):
    """A run stored with the standard artifacts (the AutoML fallback's baseline: no search)."""
    config = TrainerConfig(target_column=TARGET, cv=3, n_jobs=1, random_state=0)
    storage = FilesystemStorage(tmp_path_factory.mktemp("runs"))
    result = train_baseline(table, config, reason="a stored model for the predict tests")
    saved = Trainer(config, storage=storage).save(result, "baseline", status="fallback")
    return storage, saved


# --- the signature ------------------------------------------------------------------------------


def test_the_signature_records_kinds_types_levels_ranges_and_the_target(table, model):
    signature = model.signature_
    by_name = {column.name: column for column in signature.columns}
    radius = by_name["mean radius"]
    assert (radius.kind, radius.dtype, radius.required) == ("numeric", "float64", True)
    assert radius.minimum == table["mean radius"].min()
    assert radius.maximum == table["mean radius"].max()
    assert radius.missing == int(table["mean radius"].isna().sum()) > 0
    region = by_name["region"]
    assert region.kind == "categorical"
    assert region.levels == ("east", "north", "south", "west") and region.n_levels == 4
    assert by_name["member"].kind == "boolean"
    patient = by_name["patient"]
    assert patient.kind == "dropped" and not patient.required and "identifier" in patient.reason
    assert signature.names == tuple(table.drop(columns=TARGET).columns)
    assert signature.target.name == TARGET
    assert signature.target.task == "classification"
    assert signature.target.classes == ("benign", "malignant")
    assert signature.n_rows == len(table)


def test_the_signature_document_validates_and_reads_back(table, model):
    document = model.signature_.to_dict(run_id="r1", invalid_values="error")
    validate(json.loads(json.dumps(document)), "signature")
    assert document["policy"]["invalid_values"] == "error"
    assert InputSignature.from_dict(document) == model.signature_
    # what the Trainer stores: the same signature, built from the prepared table
    prepared = prepare_training_data(table, TARGET)
    assert signature_from_prepared(prepared) == model.signature_


def test_many_levels_are_bounded_and_say_so():
    frame = pd.DataFrame({"word": [f"w{i % 300}" for i in range(900)], "x": np.arange(900.0)})
    frame["y"] = np.arange(900) % 2
    signature = signature_from_prepared(prepare_training_data(frame, "y"))
    (word,) = [column for column in signature.columns if column.name == "word"]
    assert word.kind == "text" and word.n_levels == 300 and len(word.levels) == 100
    document = signature.to_dict()
    validate(document, "signature")
    assert document["columns"][0]["levels_truncated"] is True


def test_a_stored_run_writes_signature_json(stored_run, table):
    storage, result = stored_run
    document = json.loads(storage.read_bytes(result.run_id, "signature.json"))
    validate(document, "signature")
    assert document["run_id"] == result.run_id
    assert document["target"] == {
        "name": TARGET,
        "task": "classification",
        "dtype": str(table[TARGET].dtype),
        "classes": ["benign", "malignant"],
    }
    manifest = json.loads(storage.read_bytes(result.run_id, "run.json"))
    assert "signature.json" in manifest["artifacts"]
    validate(manifest, "run")


# --- the policy at prediction time ------------------------------------------------------------


def test_a_missing_column_is_a_data_error_naming_it(model, rows):
    with pytest.raises(DataError, match=r"lack 1 column\(s\) the model reads: \['mean area'\]"):
        model.predict(rows.drop(columns="mean area"))
    with pytest.raises(DataError, match="region"):
        model.predict_proba(rows.drop(columns="region"))


def test_a_dropped_column_may_be_absent_and_order_does_not_matter(model, rows):
    expected = model.predict_proba(rows)
    np.testing.assert_allclose(model.predict_proba(rows.drop(columns="patient")), expected)
    np.testing.assert_allclose(model.predict_proba(rows[rows.columns[::-1]]), expected)


def test_extra_columns_are_ignored_and_logged_once(model, rows, caplog):
    extra = rows.assign(comment="n/a", score=1.0)
    with caplog.at_level(logging.INFO, logger="automl_tpot.model"):
        first = model.predict(extra)
        model.predict(extra)
    assert list(first) == list(model.predict(rows))
    logged = [r.getMessage() for r in caplog.records if "not trained on" in r.getMessage()]
    assert logged == ["ignoring 2 column(s) the model was not trained on: ['comment', 'score']"]


def test_text_in_a_numeric_column_is_counted_and_treated_as_missing(model, rows, caplog):
    bad = rows.astype({"mean texture": object})
    bad.loc[[3, 7], "mean texture"] = ["n/a", "?"]
    bad.loc[5, "mean texture"] = "17.5"  # a number written as text is a number
    gaps = rows.copy()
    gaps.loc[[3, 7], "mean texture"] = np.nan
    gaps.loc[5, "mean texture"] = 17.5
    with caplog.at_level(logging.WARNING, logger="automl_tpot.model"):
        probabilities = model.predict_proba(bad)
    np.testing.assert_allclose(probabilities, model.predict_proba(gaps))
    (message,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert message.startswith("column 'mean texture': 2 of 40 row(s) hold values that are not")
    assert "'n/a'" in message and "treated as missing" in message


def test_with_invalid_values_error_the_rows_are_refused_naming_column_and_count(model, rows):
    bad = rows.astype({"mean texture": object, "member": object})
    bad.loc[3, "mean texture"] = "n/a"
    bad.loc[[1, 2, 4], "member"] = "maybe"
    strict = copy.deepcopy(model).set_params(invalid_values="error")
    with pytest.raises(DataError) as caught:
        strict.predict(bad)
    message = str(caught.value)
    assert "column 'mean texture': 1 of 40 row(s)" in message
    assert "column 'member': 3 of 40 row(s) hold values that are not true/false" in message
    assert len(model.predict(bad)) == 40  # the default policy predicts all the same


def test_booleans_written_as_text_and_infinities(model, rows):
    as_text = rows.astype({"member": object})
    as_text["member"] = rows["member"].map({True: "True", False: "false"})
    np.testing.assert_allclose(model.predict_proba(as_text), model.predict_proba(rows))
    infinite = rows.copy()
    infinite.loc[0, "mean area"] = np.inf
    gap = rows.copy()
    gap.loc[0, "mean area"] = np.nan
    np.testing.assert_allclose(model.predict_proba(infinite), model.predict_proba(gap))


def test_no_rows_give_empty_predictions_of_the_right_shape(model, rows, diabetes_table):
    empty = rows.iloc[:0]
    predictions = model.predict(empty)
    assert predictions.shape == (0,) and predictions.dtype == model.classes_.dtype
    assert model.predict_proba(empty).shape == (0, 2)
    with pytest.raises(DataError, match="mean area"):  # the columns are still checked
        model.predict(empty.drop(columns="mean area"))
    regressor = TabularModel(Ridge()).fit(
        diabetes_table.drop(columns="target"), diabetes_table["target"]
    )
    empty_regression = regressor.predict(diabetes_table.drop(columns="target").iloc[:0])
    assert empty_regression.shape == (0,) and empty_regression.dtype == float


def test_arrays_are_read_in_training_column_order(model, rows):
    expected = model.predict(rows)
    assert list(model.predict(rows.to_numpy(dtype=object))) == list(expected)
    with pytest.raises(DataError, match="X has 3 features, but TabularModel is expecting 11"):
        model.predict(rows.iloc[:, :3].to_numpy())
    with pytest.raises(DataError, match="Reshape your data"):
        model.predict(rows.iloc[0].to_numpy())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.one_of(
            st.floats(allow_nan=False, allow_infinity=False, width=32),
            st.none(),
            st.text(alphabet="abc?/-", min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_value_that_is_not_a_number_is_counted_once(values):
    frame = pd.DataFrame({"x": np.linspace(0, 1, 20), "y": [0, 1] * 10})
    signature = signature_from_prepared(prepare_training_data(frame, "y"))
    checked = check_rows(pd.DataFrame({"x": pd.Series(values, dtype=object)}), signature)
    text = sum(isinstance(v, str) for v in values)
    assert sum(item.count for item in checked.invalid) == text
    assert checked.frame["x"].isna().sum() == text + sum(v is None for v in values)
    assert checked.frame["x"].dtype == float


# --- the CLI's predict ----------------------------------------------------------------------


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_predict_refuses_a_missing_column_with_exit_2(stored_run, rows, tmp_path):
    storage, result = stored_run
    path = tmp_path / "rows.csv"
    rows.drop(columns="mean area").to_csv(path, index=False)
    code, out, err = _cli("predict", result.location, str(path))
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("automl-tpot predict: error:") and "'mean area'" in line


def test_cli_predict_on_text_in_a_numeric_column(stored_run, rows, tmp_path):
    storage, result = stored_run
    bad = rows.astype({"mean texture": object})
    bad.loc[[2, 9], "mean texture"] = "unknown"
    path = tmp_path / "rows.csv"
    bad.to_csv(path, index=False)
    code, out, err = _cli("predict", result.location, str(path))
    assert code == 0, err
    assert len(pd.read_csv(io.StringIO(out))) == len(rows)
    (line,) = err.strip().splitlines()  # predict and predict_proba: warned once
    assert line.startswith("automl-tpot predict: warning: column 'mean texture': 2 of 40")
    code, out, err = _cli("predict", result.location, str(path), "--invalid-values", "error")
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert "column 'mean texture': 2 of 40 row(s)" in line


def test_cli_predict_on_a_header_only_csv_gives_empty_predictions(stored_run, rows, tmp_path):
    storage, result = stored_run
    path = tmp_path / "header.csv"
    rows.iloc[:0].to_csv(path, index=False)
    code, out, err = _cli("predict", result.location, str(path))
    assert code == 0, err
    assert out.strip() == "prediction,proba_benign,proba_malignant"
