"""The search spaces' own steps: CategoryCodes (native categories), CappedFeatureAgglomeration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import make_pipeline

from automl_tpot.data import build_preprocessor, detect_feature_types, output_columns
from automl_tpot.model.transformers import CategoryCodes


def _one_hot_table(n_rows: int = 400, seed: int = 0):
    """A table whose target depends on a 12-valued category, and its preprocessed matrix."""
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "size": rng.normal(size=n_rows),
            "city": rng.choice([f"c{i}" for i in range(12)], size=n_rows),
            "colour": rng.choice(["red", "green", "blue"], size=n_rows),
        }
    )
    effect = {f"c{i}": (i * 7) % 12 for i in range(12)}
    y = table["city"].map(effect).to_numpy(dtype=float) + 0.1 * table["size"].to_numpy()
    preprocessor = build_preprocessor(detect_feature_types(table))
    matrix = preprocessor.fit_transform(table)
    columns = output_columns(preprocessor)
    return table, matrix, columns, y, preprocessor


def test_each_block_becomes_one_category_column_holding_the_hot_position():
    table, matrix, columns, _, _ = _one_hot_table()
    step = CategoryCodes(blocks=(columns["city"], columns["colour"]))
    out = step.fit_transform(matrix)
    assert list(out.columns) == ["x0", "c0", "c1"]
    assert out["x0"].dtype == float and np.allclose(out["x0"], table["size"])
    assert isinstance(out["c0"].dtype, pd.CategoricalDtype)
    assert list(out["c0"].cat.categories) == list(range(12))
    hot = matrix[:, list(columns["city"])].argmax(axis=1)
    assert np.array_equal(out["c0"].cat.codes.to_numpy(), hot)
    # the same category always maps to the same code
    pairs = set(zip(table["city"], out["c0"].cat.codes, strict=True))
    assert len(pairs) == 12


def test_a_row_with_an_unseen_category_gets_a_missing_value():
    _, matrix, columns, _, preprocessor = _one_hot_table()
    step = CategoryCodes(blocks=(columns["city"],)).fit(matrix)
    unseen = pd.DataFrame({"size": [0.5], "city": ["nowhere"], "colour": ["red"]})
    out = step.transform(preprocessor.transform(unseen))
    assert out["c0"].isna().all()


def test_hgb_reads_the_categories_natively_and_the_pipeline_clones_and_refits():
    table, matrix, columns, y, _ = _one_hot_table()
    pipeline = make_pipeline(
        CategoryCodes(blocks=(columns["city"],)), HistGradientBoostingRegressor(random_state=0)
    )
    pipeline.fit(matrix, y)
    assert pipeline[-1].is_categorical_ is not None
    assert pipeline[-1].is_categorical_.tolist() == [False, False, False, False, True]
    assert pipeline.score(matrix, y) > 0.95
    twin = clone(pipeline).fit(matrix, y)
    assert np.allclose(twin.predict(matrix), pipeline.predict(matrix))


def test_the_description_counts_the_columns_instead_of_listing_indices():
    assert repr(CategoryCodes(blocks=((0, 1, 2), (3, 4)))) == "CategoryCodes(2 categorical columns)"


@pytest.mark.parametrize(
    "blocks, message",
    [
        (((0, 1), (1, 2)), "disjoint"),
        (((0, 9),), "below 3"),
        (((),), "at least one column"),
    ],
)
def test_bad_blocks_are_refused_at_fit(blocks, message):
    with pytest.raises(ValueError, match=message):
        CategoryCodes(blocks=blocks).fit(np.zeros((4, 3)))


def test_a_matrix_of_another_width_is_refused_at_transform():
    step = CategoryCodes(blocks=((0, 1),)).fit(np.eye(3))
    with pytest.raises(ValueError, match="fitted on 3 columns"):
        step.transform(np.zeros((2, 4)))


def test_feature_agglomeration_makes_no_more_clusters_than_it_gets_columns():
    from automl_tpot.model.transformers import CappedFeatureAgglomeration

    X = np.random.default_rng(0).normal(size=(30, 4))
    step = CappedFeatureAgglomeration(n_clusters=10).fit(X)
    assert step.n_clusters == 10  # the parameter stays as given (clone and repr see it)
    assert step.n_clusters_ == 4 and step.transform(X).shape == (30, 4)
    assert CappedFeatureAgglomeration(n_clusters=2).fit(X).transform(X).shape == (30, 2)


def test_feature_agglomeration_passes_a_single_column_through():
    # a selector before the step can leave one column, which scikit-learn's step refuses
    from automl_tpot.model.transformers import CappedFeatureAgglomeration

    X = np.random.default_rng(0).normal(size=(30, 1))
    step = CappedFeatureAgglomeration(n_clusters=5).fit(X)
    assert step.n_clusters == 5 and step.n_clusters_ == 1
    assert np.array_equal(step.transform(X), X)
    assert list(step.get_feature_names_out()) == ["cappedfeatureagglomeration0"]
    with pytest.raises(ValueError, match="2 features"):
        step.transform(np.zeros((3, 2)))


def _native_model(table, y):
    """A TabularModel whose pipeline reads the table's categorical columns natively."""
    from automl_tpot.data import build_preprocessor, detect_feature_types
    from automl_tpot.model import TabularModel

    preprocessor = build_preprocessor(detect_feature_types(table)).fit(table)
    columns = output_columns(preprocessor)
    pipeline = make_pipeline(
        CategoryCodes(blocks=(columns["city"], columns["colour"])),
        HistGradientBoostingRegressor(random_state=0),
    )
    return TabularModel(pipeline, preprocessor=preprocessor).fit(table, y)


def test_a_refit_on_data_that_encodes_differently_follows_the_categorical_columns():
    table, _, _, y, _ = _one_hot_table()
    model = _native_model(table, y)
    # other data: 6 of the 12 cities, and gaps that add a missing-value indicator column
    other, _, _, other_y, _ = _one_hot_table(seed=1)
    keep = other["city"].isin([f"c{i}" for i in range(6)]).to_numpy()
    other, other_y = other[keep].reset_index(drop=True), other_y[keep]
    other.loc[::7, "size"] = np.nan
    model.fit(other, other_y)
    step = model.estimator_[0]
    columns = output_columns(model.preprocessor_)
    assert step.blocks == (columns["city"], columns["colour"])
    assert len(step.blocks[0]) == 6
    assert model.score(other, other_y) > 0.9


def test_a_stored_native_category_model_predicts_in_a_fresh_process(tmp_path):
    import json
    import subprocess
    import sys

    import joblib

    table, _, _, y, _ = _one_hot_table()
    model = _native_model(table, y)
    joblib.dump(model, tmp_path / "model.joblib")
    rows = table.head(4).copy()
    rows.loc[rows.index[0], "city"] = "nowhere"
    rows.to_csv(tmp_path / "rows.csv", index=False)
    script = (
        "import joblib, json, pandas, sys; m = joblib.load(sys.argv[1]); "
        "print(json.dumps(m.predict(pandas.read_csv(sys.argv[2])).tolist()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "model.joblib"), str(tmp_path / "rows.csv")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert np.allclose(json.loads(out), model.predict(rows))
