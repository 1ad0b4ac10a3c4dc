"""The histogram gradient boosting classifier of the built-in spaces: scikit-learn's, binning
without the sample weights, everything else weighted as before."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from sklearn import ensemble
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline

from automl_tpot.model.boosting import WEIGHTED_BINNING, HistGradientBoostingClassifier


def _table(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of 600 / 150 / 50 rows; six columns of many distinct values (so the bin
    edges are percentiles, the path weights change) and one of five."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], [600, 150, 50])
    X = rng.normal(size=(len(y), 7)) + y[:, None] * np.array([0.6, 0.4, 0.2, 0, 0, 0, 0])
    X[:, 6] = rng.integers(0, 5, size=len(y))
    return X, y


@pytest.fixture(scope="module")
def imbalanced() -> tuple[np.ndarray, np.ndarray]:
    return _table(0)


def _edges(model) -> list[np.ndarray]:
    return list(model._bin_mapper.bin_thresholds_)


def test_its_bin_edges_are_the_unweighted_ones(imbalanced):
    X, y = imbalanced
    weighted = HistGradientBoostingClassifier(class_weight="balanced", max_iter=5).fit(X, y)
    unweighted = ensemble.HistGradientBoostingClassifier(max_iter=5).fit(X, y)
    for ours, plain in zip(_edges(weighted), _edges(unweighted), strict=True):
        np.testing.assert_array_equal(ours, plain)
    if WEIGHTED_BINNING:  # what the class leaves out: scikit-learn's weighted edges differ
        sklearn_weighted = ensemble.HistGradientBoostingClassifier(
            class_weight="balanced", max_iter=5
        ).fit(X, y)
        assert any(
            not np.array_equal(ours, theirs)
            for ours, theirs in zip(_edges(weighted), _edges(sklearn_weighted), strict=True)
        )


def test_the_class_weights_still_shape_the_model(imbalanced):
    X, y = imbalanced
    balanced = HistGradientBoostingClassifier(class_weight="balanced", random_state=0).fit(X, y)
    plain = HistGradientBoostingClassifier(random_state=0).fit(X, y)
    # on new rows, the rarest class is predicted more often when it weighs as much as the others
    X_new, _ = _table(1)
    assert (balanced.predict(X_new) == 2).sum() > 1.5 * (plain.predict(X_new) == 2).sum()
    # and the same fit without weights is scikit-learn's own
    theirs = ensemble.HistGradientBoostingClassifier(random_state=0).fit(X, y)
    np.testing.assert_allclose(plain.predict_proba(X), theirs.predict_proba(X))


def test_it_is_a_scikit_learn_classifier_under_scikit_learn_s_name(imbalanced):
    X, y = imbalanced
    model = HistGradientBoostingClassifier(class_weight="balanced", learning_rate=0.2)
    assert is_classifier(model)
    assert isinstance(model, ensemble.HistGradientBoostingClassifier)
    assert type(model).__name__ == "HistGradientBoostingClassifier"
    assert repr(model).startswith("HistGradientBoostingClassifier(")
    copy = clone(model)
    assert type(copy) is HistGradientBoostingClassifier
    assert copy.get_params() == model.get_params()
    fitted = model.fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(restored.predict_proba(X), fitted.predict_proba(X))


def test_a_skops_file_of_it_loads_with_the_default_trust(imbalanced):
    pytest.importorskip("skops")
    from automl_tpot.model.persistence import dumps_skops, loads_skops

    X, y = imbalanced
    model = HistGradientBoostingClassifier(class_weight="balanced", max_iter=10).fit(X, y)
    loaded = loads_skops(dumps_skops(model))
    assert type(loaded) is HistGradientBoostingClassifier
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X))


def _final(pipeline):
    return pipeline.steps[-1][1] if isinstance(pipeline, Pipeline) else pipeline


@pytest.mark.parametrize("space_name", ["auto", "catalog"])
def test_the_built_in_spaces_use_it_for_classification(space_name):
    from automl_tpot.search_spaces import SearchContext
    from automl_tpot.search_spaces.catalog import estimator_node
    from automl_tpot.search_spaces.tuned import strong_defaults_space

    if space_name == "auto":
        space = strong_defaults_space(
            "classification", 500, 6, random_state=0, population_size=10, balanced_classes=True
        )
    else:
        context = SearchContext(
            task="classification",
            n_features=6,
            n_rows=500,
            n_classes=3,
            numeric_columns=tuple("abcdef"),
            categorical_columns=(),
            random_state=0,
            population_size=10,
        )
        space = estimator_node("HistGradientBoosting", context)
    rng = np.random.default_rng(0)
    finals = [_final(space.generate(rng).export_pipeline()) for _ in range(30)]
    boosting = [f for f in finals if type(f).__name__ == "HistGradientBoostingClassifier"]
    assert boosting
    assert all(type(f) is HistGradientBoostingClassifier for f in boosting)
