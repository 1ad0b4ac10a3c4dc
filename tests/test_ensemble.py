"""The ensemble stage: greedy selection, the weighted average, the stage on real Dask workers."""

from __future__ import annotations

import io
import time
from types import SimpleNamespace

import joblib
import numpy as np
import pandas as pd
import pytest
from helpers.local_dask import local_client
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from automl_tpot.cluster.worker import call_with_time_limit
from automl_tpot.ensemble import WeightedEnsemble, brier_closeness, build_ensemble, greedy_selection
from automl_tpot.ensemble.candidates import family as _family
from automl_tpot.tpot_boundary import SearchHistory
from automl_tpot.utils.pipelines import describe_pipeline


def _mse_score(truth: np.ndarray):
    return lambda prediction: -float(np.mean((prediction - truth) ** 2))


def test_greedy_selection_averages_members_with_independent_errors():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=500)
    a = truth + rng.normal(scale=1.0, size=500)
    b = truth + rng.normal(scale=1.1, size=500)
    score = _mse_score(truth)
    counts, best = greedy_selection([a, b], score)
    assert counts[0] > 0 and counts[1] > 0
    assert best > max(score(a), score(b))
    # the first pick is the best single member, so the result is never worse than it
    single_counts, single_best = greedy_selection([a, b], score, rounds=1)
    assert single_counts == [1, 0] and single_best == pytest.approx(score(a))


def test_greedy_selection_keeps_a_single_member_when_averaging_hurts():
    truth = np.linspace(0, 1, 100)
    counts, best = greedy_selection([truth + 5.0, truth.copy()], _mse_score(truth))
    assert counts[0] == 0 and counts[1] > 0
    assert best == pytest.approx(0.0)


def test_a_tie_on_a_discrete_metric_goes_to_the_average_with_the_better_probabilities():
    truth = np.array([0, 1, 1, 0, 1])

    def accuracy(probabilities):
        return float(np.mean(probabilities.argmax(axis=1) == truth))

    def two_columns(p):
        return np.column_stack([1 - np.asarray(p), p])

    # the same (right) decisions, each member unsure where the other is sure
    a = two_columns([0.1, 0.6, 0.99, 0.4, 0.99])
    b = two_columns([0.4, 0.99, 0.6, 0.1, 0.6])
    counts, best = greedy_selection([a, b], accuracy, tiebreak=brier_closeness(truth))
    assert best == 1.0
    assert counts[0] > 0 and counts[1] > 0
    # without a tie-break the tie keeps the first pick alone
    assert greedy_selection([a, b], accuracy)[0] == [1, 0]
    # and an average with worse probabilities is not taken for the same score
    sure = two_columns([0.05, 0.95, 0.95, 0.05, 0.95])
    counts, _ = greedy_selection([sure, b], accuracy, tiebreak=brier_closeness(truth))
    assert counts[1] == 0


def test_greedy_selection_stops_at_the_deadline():
    truth = np.zeros(10)
    counts, _ = greedy_selection(
        [truth + 1, truth - 1], _mse_score(truth), deadline=time.monotonic() - 1
    )
    assert sum(counts) == 1  # the first (best single) pick only


def _classification_data():
    X, y = load_breast_cancer(return_X_y=True)
    return X[:300], y[:300]


def test_weighted_ensemble_classifier_averages_probabilities():
    X, y = _classification_data()
    members = [
        make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
        RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y),
    ]
    ensemble = WeightedEnsemble.from_fitted(members, [3, 1], "classification")
    expected = 0.75 * members[0].predict_proba(X) + 0.25 * members[1].predict_proba(X)
    np.testing.assert_allclose(ensemble.predict_proba(X), expected)
    np.testing.assert_array_equal(ensemble.predict(X), np.argmax(expected, axis=1))
    np.testing.assert_array_equal(ensemble.classes_, [0, 1])
    # survives a pickle round trip, as the stored model does
    buffer = io.BytesIO()
    joblib.dump(ensemble, buffer)
    buffer.seek(0)
    np.testing.assert_allclose(joblib.load(buffer).predict_proba(X), expected)
    # a refit (TabularModel.fit clones the estimator) fits fresh copies of the members
    refitted = WeightedEnsemble(
        [LogisticRegression(max_iter=5000), KNeighborsClassifier()], [1, 1], "classification"
    ).fit(X, y)
    assert all(hasattr(m, "classes_") for m in refitted.members_)
    assert refitted.predict_proba(X).shape == (len(y), 2)


def test_weighted_ensemble_regressor_averages_predictions():
    X, y = load_diabetes(return_X_y=True)
    members = [LinearRegression().fit(X, y), Ridge(alpha=10.0).fit(X, y)]
    ensemble = WeightedEnsemble.from_fitted(members, [1, 1], "regression")
    expected = (members[0].predict(X) + members[1].predict(X)) / 2
    np.testing.assert_allclose(ensemble.predict(X), expected)
    assert not hasattr(ensemble, "predict_proba")
    text = describe_pipeline(ensemble)
    assert text.startswith("Ensemble(0.50 x (LinearRegression()) + 0.50 x (Ridge(alpha=10.0)")


class _Exported:
    """What the stage reads from TPOT's ``Individual`` column: an ``export_pipeline()``."""

    def __init__(self, pipeline):
        self.pipeline = pipeline

    def export_pipeline(self):
        return self.pipeline


def _frame(pipelines: list, scores: list[float]) -> pd.DataFrame:
    now = time.time()
    return pd.DataFrame(
        {
            "roc_auc_score": scores,
            "Eval Error": [None] * len(scores),
            "Submitted Timestamp": [now - 0.5] * len(scores),
            "Completed Timestamp": [now] * len(scores),
            "Individual": [_Exported(p) for p in pipelines],
        }
    )


@pytest.fixture(scope="module")
def client():
    with local_client(n_workers=2) as client:
        yield client


def _stage(client, frame, X, y, deadline_in: float = 60.0, best_fitted=None, should_stop=None):
    return build_ensemble(
        client=client,
        n_workers=2,
        history=SearchHistory(frame, "roc_auc_score"),
        best_key=0,
        best_fitted=best_fitted,
        X=X,
        y=y,
        task="classification",
        metric="roc_auc",
        cv=5,
        random_state=0,
        deadline=time.monotonic() + deadline_in,
        should_stop=should_stop,
    )


def test_build_ensemble_on_dask_workers_scores_on_the_searchs_folds(client):
    X, y = _classification_data()
    pipelines = [
        ExtraTreesClassifier(n_estimators=30, random_state=0),
        make_pipeline(StandardScaler(), LogisticRegression()),
        make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=15)),
        make_pipeline(StandardScaler(), LinearSVC()),  # no predict_proba: left out
    ]
    best_fitted = ExtraTreesClassifier(n_estimators=30, random_state=0).fit(X, y)
    frame = _frame(pipelines, [0.99, 0.98, 0.97, 0.96])
    outcome = _stage(client, frame, X, y, best_fitted=best_fitted)

    assert outcome.candidates == 3
    # the same folds as TPOT's cross-validation: the single score is the CV score
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    expected = cross_val_score(pipelines[0], X, y, cv=folds, scoring="roc_auc").mean()
    assert outcome.best_single == pytest.approx(expected)
    if outcome.model is None:
        assert outcome.reason == "averaging did not improve the cross-validated score"
    else:
        assert outcome.score >= outcome.best_single
        if describe_pipeline(pipelines[0]) in outcome.weights:  # the search's refit is reused
            assert any(member is best_fitted for member in outcome.model.members)
        assert len(outcome.weights) >= 2 and sum(outcome.weights.values()) == pytest.approx(1)
        assert outcome.model.predict_proba(X).shape == (len(y), 2)


def test_build_ensemble_gives_up_without_time_or_candidates(client):
    X, y = _classification_data()
    pipelines = [RandomForestClassifier(n_estimators=10), LogisticRegression(max_iter=5000)]
    late = _stage(client, _frame(pipelines, [0.9, 0.8]), X, y, deadline_in=0.5)
    assert late.model is None and late.reason.startswith("only")
    alone = _stage(client, _frame(pipelines[:1], [0.9]), X, y)
    assert alone.model is None and alone.reason == "fewer than two distinct scored pipelines"
    failed = _frame(pipelines, [0.9, np.nan])
    assert _stage(client, failed, X, y).reason == "fewer than two distinct scored pipelines"


def test_build_ensemble_stops_when_asked(client):
    X, y = _classification_data()
    pipelines = [
        RandomForestClassifier(n_estimators=300, random_state=0),
        ExtraTreesClassifier(n_estimators=300, random_state=0),
    ]
    started = time.monotonic()
    outcome = _stage(client, _frame(pipelines, [0.9, 0.8]), X, y, should_stop=lambda: True)
    assert outcome.model is None and outcome.reason == "the run was asked to stop"
    assert time.monotonic() - started < 10


def test_call_with_time_limit_interrupts_and_propagates():
    def slow():
        while True:
            time.sleep(0.01)

    started = time.monotonic()
    assert call_with_time_limit(slow, 0.3) is None
    assert time.monotonic() - started < 3
    assert call_with_time_limit(lambda: 41 + 1, 5) == 42
    with pytest.raises(ZeroDivisionError):
        call_with_time_limit(lambda: 1 / 0, 5)


def test_a_family_is_the_final_estimator_and_a_graph_pipeline_is_its_own():
    assert _family(make_pipeline(StandardScaler(), LogisticRegression()), "a") == (
        "LogisticRegression"
    )
    # a bare estimator (what the auto space exports for its tree models) counts by its class
    assert _family(RandomForestClassifier(n_estimators=7), "b") == "RandomForestClassifier"
    graph = SimpleNamespace(graph="a networkx graph", get_params=lambda deep=True: {})
    assert _family(graph, "Graph(a, b)") == "Graph(a, b)"
