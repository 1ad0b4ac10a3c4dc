"""The TPOT boundary's contract: every TPOT internal the boundary relies on exists and behaves
as the boundary assumes, checked against the installed TPOT with real, brief fits.

If a TPOT release changes any of this, these tests fail by name, before users' runs would
silently lose stop requests, deadline moves or checkpoints.
"""

from __future__ import annotations

import inspect
import threading
import time
import warnings

import numpy as np
import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Integer
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from automl_tpot import TPOTCompatibilityError
from automl_tpot.tpot_boundary import (
    INVALID,
    EvaluationBatch,
    NothingEvaluated,
    TPOTSettings,
    build_estimator,
    check_tpot,
    compat,
    fit_estimator,
    history,
)
from automl_tpot.utils.pipelines import pipeline_complexity


class _Untouchable:
    """A 'Dask client' that fails on any use: TPOT must leave all evaluation to the hooks."""

    def __getattr__(self, name):
        raise AssertionError(f"TPOT used the client ({name}); the boundary assumes it does not")


class RecordingHooks:
    """Evaluates in this process (as TPOT's objectives expect) and records every call."""

    def __init__(self, end_in: float = 120.0, fail: bool = False, sleep: float = 0.0):
        self.end = time.time() + end_in
        self.fail = fail
        self.sleep = sleep
        self.requests = []
        self.states = []
        self.on_generation = None
        self.fractions = {}

    def search_end(self) -> float:
        return self.end

    def sample_fraction(self, generation: int) -> float:
        return self.fractions.get(generation, 1.0)

    def evaluate(self, request):
        self.requests.append(request)
        time.sleep(self.sleep)
        scores, submitted, completed, errors = [], [], [], []
        for individual in request.individuals:
            submitted.append(time.time())
            if self.fail:
                scores.append([np.nan] * request.n_columns)
                errors.append(INVALID)
            else:
                values = []
                for objective in request.objectives:
                    values.extend(objective(individual, **request.objective_kwargs))
                scores.append([float(v) for v in values])
                errors.append(None)
            completed.append(time.time())
        return EvaluationBatch(scores, submitted, completed, errors)

    def generation_evaluated(self, state):
        self.states.append((state.generations_completed, len(state.history())))
        if self.on_generation is not None:
            self.on_generation(state)


def _settings(**overrides) -> TPOTSettings:
    from tpot.search_spaces.nodes import EstimatorNode

    # large enough that every generation breeds individuals not seen before
    hyperparameters = {
        "max_depth": Integer("max_depth", (1, 30)),
        "min_samples_leaf": Integer("min_samples_leaf", (1, 40)),
        "criterion": Categorical("criterion", ["gini", "entropy"]),
    }
    space = EstimatorNode(DecisionTreeClassifier, ConfigurationSpace(seed=0, space=hyperparameters))
    values = dict(
        search_space=space,
        scorer="accuracy",
        classification=True,
        cv=3,
        population_size=4,
        generations=3,
        search_seconds=120.0,
        per_run_seconds=30.0,
        n_jobs=1,
        client=_Untouchable(),
        random_state=0,
        complexity=pipeline_complexity,
    )
    values.update(overrides)
    return TPOTSettings(**values)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def _fit(hooks, X, y, restore=None, **overrides):
    estimator = build_estimator(_settings(**overrides), hooks, restore)
    return fit_estimator(estimator, X, y)


# --- the version check ------------------------------------------------------------------------


def test_the_installed_tpot_is_supported():
    check_tpot()  # raises when it is not


@pytest.mark.parametrize("found", ["1.2.0", "2.0.1", "0.12.2"])
def test_a_tpot_outside_the_range_is_refused_naming_the_version(found):
    with pytest.raises(TPOTCompatibilityError, match=found) as caught:
        check_tpot(found)
    assert caught.value.found == found and caught.value.supported == ">=1.1,<1.2"


def test_a_missing_name_is_refused_naming_it(monkeypatch):
    required = {**compat.REQUIRED, "tpot": {"TPOTEstimator": ("fit", "no_such_method")}}
    monkeypatch.setattr(compat, "REQUIRED", required)
    with pytest.raises(TPOTCompatibilityError, match="tpot.TPOTEstimator.no_such_method"):
        check_tpot()


def test_the_pin_in_pyproject_is_the_supported_range():
    from pathlib import Path

    import tomllib

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "tpot>=1.1,<1.2" in project["project"]["dependencies"]


# --- the evolver seams, on real fits ----------------------------------------------------------


def test_the_replaced_loop_evaluates_every_generation_and_the_counter_advances(iris):
    hooks = RecordingHooks()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "Both generations and ..." is filtered
        fitted = _fit(hooks, *iris)
    assert [r.generation for r in hooks.requests] == [0, 1, 2]
    assert [completed for completed, _ in hooks.states] == [1, 2, 3]
    sizes = [size for _, size in hooks.states]
    assert sizes == sorted(sizes) and sizes[0] == 4  # the history only grows
    assert fitted.generations_completed == 3
    assert fitted.fitted_pipeline is not None and 0 < fitted.best_score <= 1
    # each generation asks only for individuals not evaluated before
    seen = set()
    for request in hooks.requests:
        ids = {individual.unique_id() for individual in request.individuals}
        assert not ids & seen
        seen |= ids


def test_the_history_holds_the_columns_and_codes_the_boundary_reads(iris):
    hooks = RecordingHooks()
    fitted = _fit(hooks, *iris)
    frame = fitted.history.frame
    for column in (
        history.INDIVIDUAL,
        history.INSTANCE,
        history.GENERATION,
        history.PARENTS,
        history.VARIATION,
        history.SUBMITTED,
        history.COMPLETED,
        history.EVAL_ERROR,
        fitted.score_column,
        "complexity",
    ):
        assert column in frame.columns, column
    assert fitted.best_key in frame.index
    records = fitted.history.records(metric="accuracy")
    assert {r.status for r in records} <= {"ok", "not_finished"}
    assert [r.id for r in records] == list(range(len(records)))
    assert {r.variation for r in records} >= {"ind_mutate"}  # TPOT's names for its variation


def test_a_moved_later_end_is_honoured_past_tpots_own(iris):
    # TPOT is told 1 s; the hooks' end is a minute away: all three generations run
    hooks = RecordingHooks(end_in=60.0, sleep=0.6)
    fitted = _fit(hooks, *iris, search_seconds=1.0)
    assert fitted.generations_completed == 3


def test_an_end_moved_to_now_ends_the_search_at_tpots_next_check(iris):
    hooks = RecordingHooks()

    def stop_after_first(state):
        hooks.end = time.time()

    hooks.on_generation = stop_after_first
    fitted = _fit(hooks, *iris, generations=10)
    assert fitted.generations_completed == 1 and len(hooks.requests) == 1


def test_a_stop_from_another_thread_ends_the_search(iris):
    from automl_tpot.search.channel import SearchChannel

    channel = SearchChannel(end=time.time() + 120, generations=None)
    hooks = RecordingHooks(sleep=0.3)
    hooks.search_end = lambda: channel.end
    timer = threading.Timer(1.0, channel.request_stop)
    timer.start()
    try:
        fitted = _fit(hooks, *iris, generations=None)
    finally:
        timer.cancel()
    assert 1 <= fitted.generations_completed < 10


def test_a_snapshot_continues_where_it_was_taken(iris):
    snapshots = []
    hooks = RecordingHooks()
    hooks.on_generation = lambda state: snapshots.append(state.snapshot())
    _fit(hooks, *iris, generations=2)
    before = {i.unique_id() for r in hooks.requests for i in r.individuals}
    snapshot = snapshots[-1]
    assert snapshot.generations_completed == 2

    resumed = RecordingHooks()
    fitted = _fit(resumed, *iris, restore=snapshot, generations=1)
    assert [r.generation for r in resumed.requests] == [2]
    assert not {i.unique_id() for i in resumed.requests[0].individuals} & before
    assert fitted.generations_completed == 3
    assert len(fitted.history) > 8  # the restored history and the new generation


def test_recorded_individuals_never_change_so_a_draft_may_be_packed_later(iris):
    import pickle
    import zlib

    drafts, recorded = [], []

    def on_generation(state):
        if state.generations_completed == 1:
            drafts.append(state.draft())  # nothing packed yet: the four are held by reference
            recorded.extend(state.history().frame.index)

    hooks = RecordingHooks()
    hooks.on_generation = on_generation
    _fit(hooks, *iris, generations=3)
    assert "4 to pack" in repr(drafts[0])
    late = drafts[0].finish()  # packed after two more generations were bred from them
    assert list(late.individuals) == recorded
    for key, data in late.individuals.items():
        assert pickle.loads(zlib.decompress(data)).unique_id() == key  # as recorded
    assert len(late.history()) == 4 and late.generations_completed == 1


def test_tpot_reports_a_search_where_nothing_could_be_evaluated(iris):
    with pytest.raises(NothingEvaluated):
        _fit(RecordingHooks(fail=True), *iris)


def test_the_individuals_the_nodes_subclass_mutate_as_tpot_calls_them():
    from tpot.search_spaces.nodes.estimator_node import EstimatorNodeIndividual
    from tpot.search_spaces.pipelines import ChoicePipeline

    from automl_tpot.tpot_boundary.nodes import TunedEstimatorNode, choice_at_defaults

    assert list(inspect.signature(EstimatorNodeIndividual.mutate).parameters) == ["self", "rng"]
    space = ConfigurationSpace(seed=0, space={"max_depth": Integer("max_depth", (1, 6), default=3)})
    node = TunedEstimatorNode(DecisionTreeClassifier, space)
    individual = choice_at_defaults(ChoicePipeline([node]), node, np.random.default_rng(0))
    assert individual.node.hyperparameters == {"max_depth": 3}
    assert individual.mutate(np.random.default_rng(1))
    assert individual.export_pipeline().get_params()["max_depth"] in range(1, 7)


def test_a_sampled_generation_evaluates_on_tpots_sample_and_survivors_pay_for_more_rows(iris):
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from automl_tpot.tpot_boundary import sample_rows
    from automl_tpot.tpot_boundary.history import BUDGET, SAMPLE_SCORE

    X, y = iris
    hooks = RecordingHooks()
    hooks.fractions = {0: 0.5, 1: 0.5}  # generation 2 on all rows
    fitted = _fit(hooks, X, y, cv=5)  # on a sample with 3 folds, on all rows with 5
    assert [r.sample_fraction for r in hooks.requests] == [0.5, 0.5, 1.0]
    # the sample is drawn once, in this process, and handed to the evaluations as their data
    sampled, again, full = (request.objective_kwargs for request in hooks.requests)
    X_s, y_s = sample_rows(X, y, 0.5, classification=True)
    np.testing.assert_array_equal(sampled["X"], X_s)
    np.testing.assert_array_equal(sampled["y"], y_s)
    assert again["X"] is sampled["X"] and again["y"] is sampled["y"]
    assert len(full["X"]) == len(X)
    assert "budget" not in sampled and "budget" not in full
    assert sampled["cv"].get_n_splits() == 3 and "cv" not in full  # TPOT's own 5 folds
    assert [r.work_share for r in hooks.requests] == [0.25, 0.25, 1.0]  # half the rows, 2/4
    # the survivors of generation 1 are evaluated again on all rows in generation 2
    earlier = {key for request in hooks.requests[:2] for key in request.keys}
    assert set(hooks.requests[2].keys) & earlier
    frame = fitted.history.frame
    assert frame.loc[fitted.best_key, BUDGET] == 1.0  # TPOT chose among the comparable ones
    retired = frame[frame[BUDGET] < 1.0]
    assert len(retired) and retired[fitted.score_column].isna().all()
    assert retired[SAMPLE_SCORE].notna().any()
    records = fitted.history.records(metric="accuracy")
    assert {r.sample_fraction for r in records if r.ok} == {0.5, None}
    # sample_rows gives exactly the rows TPOT's objective cross-validated on
    row = retired[retired[SAMPLE_SCORE].notna()].iloc[0]
    pipeline = row[history.INDIVIDUAL].export_pipeline()
    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    expected = cross_val_score(pipeline, X_s, y_s, cv=folds, scoring="accuracy").mean()
    assert row[SAMPLE_SCORE] == pytest.approx(expected)
    assert frame.loc[retired.index, history.WORK].eq(0.25).all()


def test_a_search_that_ended_on_a_sample_can_leave_the_refit_to_the_caller(iris):
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    X, y = iris
    hooks = RecordingHooks()
    hooks.fractions = {0: 0.5, 1: 0.5}  # both generations on half of the rows
    estimator = build_estimator(_settings(generations=2), hooks)
    fitted = fit_estimator(estimator, X, y, defer_sampled_refit=True)
    assert fitted.refit_deferred and fitted.fitted_pipeline is None
    chosen = fitted.chosen_pipeline()
    with pytest.raises(NotFittedError):
        check_is_fitted(chosen)
    # TPOT's own individuals are back in the history, and TPOT's method on the estimator
    individual = fitted.history.frame.loc[fitted.best_key, history.INDIVIDUAL]
    assert type(individual).__module__.startswith("tpot")
    assert "make_evaluated_individuals" not in vars(estimator)
    assert chosen.fit(X, y).predict(X[:3]).shape == (3,)


def test_a_search_on_all_rows_is_refitted_even_when_deferral_is_asked_for(iris):
    from sklearn.utils.validation import check_is_fitted

    X, y = iris
    estimator = build_estimator(_settings(generations=1), RecordingHooks())
    fitted = fit_estimator(estimator, X, y, defer_sampled_refit=True)
    assert not fitted.refit_deferred
    check_is_fitted(fitted.fitted_pipeline)
