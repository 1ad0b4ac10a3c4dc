"""The time budget: the search gets back the reserves the refit and the ensemble will not need,
the channel carries the moving end and stop requests, the hooks replan after each generation."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from automl_tpot import TrainingError
from automl_tpot.search.budget import (
    CLOSE_RESERVE,
    ENSEMBLE_FLOOR,
    ENSEMBLE_OVERHEAD,
    ENSEMBLE_USABLE_SHARE,
    MIN_PER_RUN_SECONDS,
    REFIT_OVERHEAD,
    REFIT_SAFETY,
    SAMPLED_FIT_SHARE,
    SAMPLED_FLOOR,
    SAMPLED_OVERHEAD,
    RunBudget,
    SearchDeadline,
)
from automl_tpot.search.channel import SearchChannel, StopWatcher
from automl_tpot.search.hooks import SearchHooks
from automl_tpot.tpot_boundary import SearchHistory

SCORE = "roc_auc_score"


def _history(scores, seconds, errors=None, budget=None) -> SearchHistory:
    """A history with TPOT's evaluated_individuals columns that the planning reads (``budget``:
    the share of the rows every evaluation used, when the search is on a sample)."""
    submitted = np.arange(len(scores), dtype=float) * 10.0
    frame = pd.DataFrame(
        {
            SCORE: scores,
            "Submitted Timestamp": submitted,
            "Completed Timestamp": submitted + np.asarray(seconds, dtype=float),
            "Eval Error": errors if errors is not None else [None] * len(scores),
        }
    )
    if budget is not None:
        frame["Budget"] = budget
    return SearchHistory(frame, SCORE)


def _deadline(**overrides) -> SearchDeadline:
    values = dict(
        run_end=1000.0,
        planned_end=988.0,  # run_end less both reserves
        refit_reserve=6.0,
        ensemble_reserve=6.0,
        cv=5,
        n_workers=2,
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
    refit, ensemble, explain = deadline.reserves(history)
    assert explain == 0.0  # the stage is off
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
    assert deadline.reserves(history) == (6.0, 6.0, 0.0)
    assert deadline.plan(history) == 988.0


def test_only_the_best_pipelines_size_the_refit_and_failures_do_not_count():
    deadline = _deadline(ensemble_reserve=0.0)
    scores = [0.9] * 10 + [0.1, 0.95]
    seconds = [0.3] * 10 + [50.0, 60.0]  # a slow poor pipeline, a slow failed one
    errors = [None] * 11 + ["INVALID"]
    refit, ensemble, _ = deadline.reserves(_history(scores, seconds, errors))
    assert refit == pytest.approx(REFIT_OVERHEAD + REFIT_SAFETY * 0.3 / 4)
    assert ensemble == 0.0  # the stage is off: nothing kept for it


def test_the_run_budget_shares_the_time_left_between_search_and_reserves():
    budget = RunBudget(100.0, time.monotonic(), per_run_limit=60.0, ensemble=True)
    shares = budget.plan_search()
    assert shares.refit_reserve == pytest.approx(10.0)
    assert shares.ensemble_reserve == pytest.approx(10.0)
    assert shares.search_seconds == pytest.approx(100.0 - CLOSE_RESERVE - 20.0, abs=0.5)
    # one evaluation gets at most a quarter of the search, and never the configured 60 s here
    assert shares.per_run_seconds == pytest.approx(shares.search_seconds / 4)


def test_a_late_start_drops_the_ensemble_reserve_then_refuses_to_search():
    started = time.monotonic() - 85.0  # 85 of 100 s already gone (a slow cluster start)
    shares = RunBudget(100.0, started, per_run_limit=60.0, ensemble=True).plan_search()
    assert shares.ensemble_reserve == 0.0
    assert shares.per_run_seconds == MIN_PER_RUN_SECONDS
    with pytest.raises(TrainingError, match="raise time_left"):
        RunBudget(100.0, time.monotonic() - 99.0, 60.0, ensemble=True).plan_search()


def test_the_channel_moves_its_end_until_a_stop_is_requested():
    channel = SearchChannel(end=time.time() + 60, generations=3)
    later = time.time() + 90
    channel.move_end(later)
    assert channel.end == later
    channel.request_stop()
    assert channel.stop_requested and channel.end <= time.time()
    channel.move_end(time.time() + 120)  # the budget planning no longer wins
    assert channel.end <= time.time()


def test_stragglers_may_wait_for_the_next_generation_except_in_the_last():
    channel = SearchChannel(end=time.time() + 60, generations=3)
    assert channel.may_defer(0) and channel.may_defer(1)
    assert not channel.may_defer(2)
    assert SearchChannel(end=time.time(), generations=None).may_defer(99)


def test_the_stop_watcher_turns_a_hosts_request_into_a_stop():
    channel = SearchChannel(end=time.time() + 60, generations=None)
    asked = []

    def should_stop() -> bool:
        asked.append(True)
        return len(asked) >= 2

    with StopWatcher(channel, should_stop, interval=0.01):
        deadline = time.monotonic() + 5
        while not channel.stop_requested and time.monotonic() < deadline:
            time.sleep(0.01)
    assert channel.stop_requested


def _state(history: SearchHistory, completed: int) -> SimpleNamespace:
    """What the hooks read of TPOT's generation state (see tests/test_tpot_contract.py)."""
    return SimpleNamespace(history=lambda _complexity="": history, generations_completed=completed)


def _hooks(channel, deadline, events, should_stop=None) -> SearchHooks:
    return SearchHooks(
        loop=None,
        channel=channel,
        deadline=deadline,
        listener=lambda event, _state: events.append(event),
        started=time.monotonic(),
        metric=SCORE,
        population_size=2,
        should_stop=should_stop,
    )


def test_each_generation_reports_progress_then_moves_the_end_to_the_plan():
    start = time.time()
    deadline = _deadline(run_end=start + 80, planned_end=start + 60)
    channel = SearchChannel(end=deadline.end, generations=None)
    events = []
    hooks = _hooks(channel, deadline, events)
    history = _history([0.9, np.nan], [0.2, 0.2], errors=[None, "INVALID"])
    hooks.generation_evaluated(_state(history, 1))
    hooks.generation_evaluated(_state(history, 1))  # TPOT retried an empty population: once
    assert [(e.generation, e.evaluations, e.failures, e.best_score) for e in events] == [
        (1, 2, 1, 0.9)
    ]
    assert channel.end == deadline.end > start + 60


def test_a_stop_asked_for_by_the_listener_ends_the_search_before_the_next_generation():
    start = time.time()
    deadline = _deadline(run_end=start + 80, planned_end=start + 60)
    channel = SearchChannel(end=deadline.end, generations=None)
    events = []
    hooks = _hooks(channel, deadline, events, should_stop=lambda: bool(events))
    hooks.generation_evaluated(_state(_history([0.9], [0.2]), 1))
    assert channel.stop_requested and channel.end <= time.time()


def test_the_evaluation_counter_reports_every_outcome_with_the_best_so_far():
    from automl_tpot.search.hooks import EvaluationCounter

    events = []
    started = time.monotonic()
    counter = EvaluationCounter(events.append, started=started, deadline=started + 60, metric="r2")
    counter(0, 0.5, False)
    counter(0, None, True)
    counter(1, 0.7, False)
    assert [(e.generation, e.evaluations, e.failures, e.best_score) for e in events] == [
        (1, 1, 0, 0.5),
        (1, 2, 1, 0.5),
        (2, 3, 1, 0.7),
    ]
    assert all(0 < e.seconds_left <= 60 and e.metric == "r2" for e in events)


def test_a_short_budget_after_a_slow_start_squeezes_the_refit_rather_than_the_search():
    # 95 of 100 s gone: the fixed 10 s refit share would leave nothing; the refit gets 1 s
    shares = RunBudget(100.0, time.monotonic() - 95.0, 60.0, ensemble=True).plan_search()
    assert shares.ensemble_reserve == 0.0
    assert shares.refit_reserve == pytest.approx(1.0)
    assert shares.search_seconds == pytest.approx(5.0 - CLOSE_RESERVE - 1.0, abs=0.2)


def test_the_explanation_reserve_is_planned_from_the_durations_and_told_to_the_budget():
    from automl_tpot.search.budget import EXPLAIN_FACTOR, EXPLAIN_OVERHEAD

    budget = RunBudget(100.0, time.monotonic(), per_run_limit=60.0, ensemble=True, explain=True)
    assert budget.explain_reserve == budget.explain_cap == pytest.approx(10.0)
    fixed_stages = budget.stages_deadline
    deadline = budget.deadline_for(budget.plan_search(), cv=5, n_workers=2)
    history = _history([0.9, 0.8], [0.4, 1.2])
    _refit, _ensemble, explain = deadline.reserves(history)
    assert explain == pytest.approx(max(2.0, EXPLAIN_OVERHEAD + EXPLAIN_FACTOR * 1.2 / 2))
    deadline.plan(history)
    assert budget.explain_reserve == pytest.approx(explain)
    # the ensemble stage's deadline follows: it gets what the explanation will not need
    assert budget.stages_deadline == pytest.approx(fixed_stages + 10.0 - explain)


def test_on_a_sample_the_stage_after_the_search_gets_one_fit_on_most_rows():
    # run_end less the three fixed reserves; 45 % of a 60 s run for the sampled case
    deadline = _deadline(explain_reserve=6.0, planned_end=982.0, sampled_reserve=27.0)
    # 0.7 s for five fits on a hundredth of the rows: 14 s per fit on four fifths of all rows
    history = _history([0.9, 0.8], [0.7, 0.2], budget=0.01)
    refit, ensemble, explain = deadline.reserves(history)
    assert (ensemble, explain) == (0.0, 0.0)  # the explanation gets what the stage leaves
    assert refit == pytest.approx(SAMPLED_OVERHEAD + 0.7 / 0.01 / 5 / SAMPLED_FIT_SHARE)
    # the end may come earlier than the fixed shares put it, to make room for that fit
    assert deadline.plan(history) == pytest.approx(1000.0 - refit)
    assert deadline.end < deadline.planned_end
    # but never earlier than the sampled share allows
    slow = _history([0.9], [50.0], budget=0.01)
    assert deadline.reserves(slow)[0] == 27.0
    assert deadline.plan(slow) == pytest.approx(1000.0 - 27.0)
    # a quick one still gets the floor
    assert deadline.reserves(_history([0.9], [0.0001], budget=0.5))[0] == SAMPLED_FLOOR


def test_on_a_sample_the_stages_leading_fits_share_the_workers():
    four = _deadline(explain_reserve=6.0, planned_end=982.0, sampled_reserve=27.0, lead_fits=4)
    # five pipelines of 0.3 s on a hundredth: 6 s per fit; the stage fits the best four side
    # by side, two at a time on the two workers
    history = _history([0.9, 0.8, 0.7, 0.6, 0.5], [0.3] * 5, budget=0.01)
    fold_fit = 0.3 / 0.01 / 5
    expected = SAMPLED_OVERHEAD + 4 * fold_fit / 2 / SAMPLED_FIT_SHARE
    assert four.reserves(history)[0] == pytest.approx(expected)
    # two leading fits run at once on the two workers: one fit's time
    two = _deadline(explain_reserve=6.0, planned_end=982.0, sampled_reserve=27.0, lead_fits=2)
    expected = SAMPLED_OVERHEAD + fold_fit / SAMPLED_FIT_SHARE
    assert two.reserves(history)[0] == pytest.approx(expected)


def test_once_the_search_is_on_all_rows_the_usual_reserves_apply():
    deadline = _deadline(explain_reserve=6.0, planned_end=982.0, sampled_reserve=27.0)
    on_all = _history([0.9, 0.8], [0.5, 0.2], budget=1.0)
    assert deadline.reserves(on_all) == deadline.reserves(_history([0.9, 0.8], [0.5, 0.2]))
    assert deadline.plan(on_all) >= deadline.planned_end


def test_the_sampled_reserve_plans_the_held_out_stage_as_the_stage_sizes_its_fits():
    from automl_tpot.ensemble import holdout

    assert SAMPLED_FIT_SHARE == holdout.FIT_SHARE
