"""SearchDeadline: the search gets back the reserves the refit and the ensemble will not need."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from automl_tpot.search.budget import (
    ENSEMBLE_FLOOR,
    ENSEMBLE_OVERHEAD,
    ENSEMBLE_USABLE_SHARE,
    REFIT_OVERHEAD,
    REFIT_SAFETY,
    SearchDeadline,
)
from automl_tpot.search.watcher import GenerationWatcher

SCORE = "roc_auc_score"


def _history(scores, seconds, errors=None) -> pd.DataFrame:
    """TPOT's evaluated_individuals columns that the planning reads."""
    submitted = np.arange(len(scores), dtype=float) * 10.0
    return pd.DataFrame(
        {
            SCORE: scores,
            "Submitted Timestamp": submitted,
            "Completed Timestamp": submitted + np.asarray(seconds, dtype=float),
            "Eval Error": errors if errors is not None else [None] * len(scores),
        }
    )


def _deadline(**overrides) -> SearchDeadline:
    values = dict(
        run_end=1000.0,
        planned_end=988.0,  # run_end less both reserves
        refit_reserve=6.0,
        ensemble_reserve=6.0,
        cv=5,
        n_workers=2,
        score_column=SCORE,
    )
    values.update(overrides)
    return SearchDeadline(**values)


def test_nothing_scored_yet_keeps_the_planned_end():
    deadline = _deadline()
    assert deadline.plan(_history([], [])) == 988.0
    assert deadline.plan(_history([np.nan, np.nan], [0.1, 0.1])) == 988.0
    assert deadline.end == 988.0


def test_fast_pipelines_give_the_unused_reserves_back_to_the_search():
    deadline = _deadline()
    history = _history([0.9, 0.8, 0.7], [0.4, 0.8, 0.4])
    refit, ensemble = deadline.reserves(history)
    assert refit == pytest.approx(REFIT_OVERHEAD + REFIT_SAFETY * 0.8 / 4)
    work = max(0.8 * 1.25, (0.4 + 0.8 + 0.4) * 1.25 / 2)
    assert ensemble == pytest.approx(
        max(ENSEMBLE_FLOOR, ENSEMBLE_OVERHEAD + work / ENSEMBLE_USABLE_SHARE)
    )
    assert deadline.plan(history) == pytest.approx(1000.0 - refit - ensemble)
    assert deadline.end > deadline.planned_end


def test_slow_pipelines_never_end_the_search_earlier_than_planned():
    deadline = _deadline()
    history = _history([0.9, 0.8], [40.0, 30.0])
    assert deadline.reserves(history) == (6.0, 6.0)
    assert deadline.plan(history) == 988.0


def test_only_the_best_pipelines_size_the_refit_and_failures_do_not_count():
    deadline = _deadline(ensemble_reserve=0.0)
    scores = [0.9] * 10 + [0.1, 0.95]
    seconds = [0.3] * 10 + [50.0, 60.0]  # a slow poor pipeline, a slow failed one
    errors = [None] * 11 + ["INVALID"]
    refit, ensemble = deadline.reserves(_history(scores, seconds, errors))
    assert refit == pytest.approx(REFIT_OVERHEAD + REFIT_SAFETY * 0.3 / 4)
    assert ensemble == 0.0  # the stage is off: nothing kept for it


def _evolver(history, max_time_mins=1.0):
    """The evolver attributes the watcher reads and writes, as TPOT 1.1 keeps them."""
    return SimpleNamespace(
        generation=1,
        population=SimpleNamespace(evaluated_individuals=history),
        max_time_mins=max_time_mins,
        scheduled_timeout_time=time.time() + max_time_mins * 60,
    )


def _watch(evolver, deadline, should_stop=None) -> GenerationWatcher:
    estimator = SimpleNamespace(_evolver_instance=evolver)
    return GenerationWatcher(
        estimator,
        lambda _event: None,
        score_column=SCORE,
        started_at=time.monotonic(),
        should_stop=should_stop,
        deadline=deadline,
    )


def test_the_watcher_moves_tpots_budget_check_to_the_planned_end():
    evolver = _evolver(_history([0.9, 0.8], [0.2, 0.2]))
    start = evolver.scheduled_timeout_time - 60
    deadline = _deadline(run_end=start + 80, planned_end=start + 60)
    _watch(evolver, deadline).poll()
    assert deadline.end > start + 60
    assert evolver.scheduled_timeout_time == deadline.end
    # TPOT's own check, time.time() - start > max_time_mins * 60, now ends at the same instant
    assert start + evolver.max_time_mins * 60 == pytest.approx(deadline.end)


def test_a_stop_request_wins_over_more_time():
    evolver = _evolver(_history([0.9, 0.8], [0.2, 0.2]))
    start = evolver.scheduled_timeout_time - 60
    deadline = _deadline(run_end=start + 80, planned_end=start + 60)
    watcher = _watch(evolver, deadline, should_stop=lambda: True)
    watcher._check_stop()
    watcher.poll()
    assert evolver.max_time_mins == 0 and evolver.scheduled_timeout_time <= time.time()


def test_the_watcher_never_ends_the_search_before_tpots_own_first_end():
    evolver = _evolver(_history([0.9, 0.8], [0.2, 0.2]))
    first_end = evolver.scheduled_timeout_time
    start = first_end - 60
    # planned before TPOT started its clock, so a little earlier than TPOT's own end
    deadline = _deadline(run_end=start + 55, planned_end=start + 50)
    _watch(evolver, deadline).poll()
    assert evolver.scheduled_timeout_time == first_end
    assert start + evolver.max_time_mins * 60 == pytest.approx(first_end)
