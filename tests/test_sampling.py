"""Large tables: the search works on a sample first, the sample grows as time allows, and the
final choice and the ensemble compare candidates on the same rows and folds."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from automl_tpot import Trainer
from automl_tpot.search.sampling import FIRST_SAMPLE_ROWS, SAMPLE_ABOVE_ROWS, SampleSchedule

pytestmark = pytest.mark.usefixtures("no_leaked_processes")


def test_small_tables_are_never_sampled():
    schedule = SampleSchedule(SAMPLE_ABOVE_ROWS)
    assert schedule.fraction == 1.0
    assert schedule.after_generation(generation_seconds=0.1, seconds_left=1000) == 1.0


def test_the_sample_doubles_only_while_the_next_generation_fits():
    schedule = SampleSchedule(100 * FIRST_SAMPLE_ROWS)
    assert schedule.rows == FIRST_SAMPLE_ROWS
    # 4 s now, about 8 s at twice the rows: fits in 35 % of 60 s, not of 20 s
    assert schedule.after_generation(generation_seconds=4.0, seconds_left=20.0) == 0.01
    assert schedule.after_generation(generation_seconds=4.0, seconds_left=60.0) == 0.02
    assert schedule.rows == 2 * FIRST_SAMPLE_ROWS
    for _ in range(10):
        schedule.after_generation(generation_seconds=0.01, seconds_left=1e6)
    assert schedule.fraction == 1.0  # never beyond all rows


def test_the_step_to_all_rows_counts_the_folds_a_sample_saves():
    # 0.6 of the rows with 3 folds; all rows with 5 folds: 1/0.6 the rows, twice the fits' rows
    schedule = SampleSchedule(100_000, first_rows=60_000)
    assert schedule.after_generation(generation_seconds=3.0, seconds_left=28.0) == 0.6
    assert schedule.after_generation(generation_seconds=3.0, seconds_left=29.0) == 1.0


def test_an_evaluations_cost_is_scaled_by_its_work_not_only_its_rows():
    from automl_tpot.tpot_boundary import evaluation_work, sample_folds

    assert sample_folds(0.1, 5) == 3 and sample_folds(1.0, 5) == 5 and sample_folds(0.1, 2) == 2
    assert evaluation_work(1.0, 5) == 1.0
    assert evaluation_work(0.1, 5) == pytest.approx(0.1 * 2 / 4)
    from automl_tpot.tpot_boundary import SearchHistory

    frame = pd.DataFrame(
        {
            "r2_score": [0.5, 0.6],
            "Eval Error": [None, None],
            "Submitted Timestamp": [0.0, 0.0],
            "Completed Timestamp": [1.0, 1.0],
            "Budget": [0.1, 0.1],
            "Work Share": [0.05, np.nan],  # the second recorded before the column was
        }
    )
    second, first = SearchHistory(frame, "r2_score").scored()
    assert first.full_seconds == pytest.approx(20.0) and second.full_seconds == pytest.approx(10.0)


def _hooks(deadline, schedule=None):
    """Search hooks (and their channel) planned by ``deadline``, with no evaluation loop."""
    from automl_tpot.search.channel import SearchChannel
    from automl_tpot.search.hooks import SearchHooks

    channel = SearchChannel(end=deadline.end, generations=None)
    hooks = SearchHooks(
        loop=None,
        channel=channel,
        deadline=deadline,
        listener=lambda *_: None,
        started=time.monotonic(),
        metric="r2",
        population_size=4,
        schedule=schedule,
    )
    return hooks, channel


def _converging_hooks():
    from automl_tpot.search.budget import SearchDeadline

    now = time.time()
    deadline = SearchDeadline(
        run_end=now + 600,
        planned_end=now + 500,
        refit_reserve=5,
        ensemble_reserve=5,
        cv=5,
        n_workers=1,
    )
    return _hooks(deadline)


def _history(best: float):
    from automl_tpot.tpot_boundary import SearchHistory

    frame = pd.DataFrame(
        {
            "r2_score": [best],
            "Eval Error": [None],
            "Submitted Timestamp": [0.0],
            "Completed Timestamp": [0.1],
        }
    )
    return SearchHistory(frame, "r2_score")


def test_a_search_whose_best_stops_improving_ends_early_as_converged():
    from automl_tpot.search.hooks import MIN_GENERATIONS, PATIENCE

    hooks, channel = _converging_hooks()
    scores = [0.5, 0.6, 0.7, 0.8, 0.81] + [0.81] * (MIN_GENERATIONS + PATIENCE)
    for generation, best in enumerate(scores, start=1):
        state = SimpleNamespace(
            history=lambda _c="", best=best: _history(best), generations_completed=generation
        )
        hooks.generation_evaluated(state)
        if channel.stop_requested:
            break
    assert hooks.converged and generation == max(MIN_GENERATIONS, 5 + PATIENCE)
    assert channel.end <= time.time()


def test_a_search_that_still_improves_goes_on():
    hooks, channel = _converging_hooks()
    for generation in range(1, 30):
        best = 0.5 + 0.01 * generation
        state = SimpleNamespace(
            history=lambda _c="", best=best: _history(best), generations_completed=generation
        )
        hooks.generation_evaluated(state)
    assert not hooks.converged and not channel.stop_requested


def _large_table(n_rows: int = 16_000, seed: int = 0) -> pd.DataFrame:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n_rows, n_features=8, n_informative=5, random_state=seed, flip_y=0.05
    )
    table = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    table["label"] = np.where(y == 1, "yes", "no")
    return table


@pytest.mark.slow  # 20-80 s of a CI run's time; `pytest -m slow` runs it
def test_a_large_table_is_searched_on_a_sample_and_chosen_on_comparable_rows(small_config):
    table = _large_table()
    config = small_config(
        target_column="label", generations=3, population_size=4, time_left=90, cv=3
    )
    result = Trainer(config, store=False).train(table)
    fractions = {r.sample_fraction for r in result.evaluations if r.status != "not_finished"}
    assert fractions and all(f is None or 0 < f < 1 for f in fractions) and fractions != {None}
    largest = max((f or 1.0) for f in fractions)
    # the leaderboard and the front hold only the evaluations on the largest sample
    for entry in result.leaderboard + result.pareto_front:
        assert (entry["sample_fraction"] or 1.0) == largest
    assert result.best_score > 0.8
    assert result.model.predict(table.drop(columns="label").head(5)).shape == (5,)


def test_after_a_search_on_a_sample_the_final_model_is_chosen_and_fitted_on_all_rows(
    small_config, tmp_path
):
    from automl_tpot import FilesystemStorage
    from automl_tpot.records.validation import validate

    table = _large_table(13_000)
    config = small_config(target_column="label", generations=1, population_size=4, cv=3)
    storage = FilesystemStorage(tmp_path)
    result = Trainer(config, storage=storage).train(table)
    # one generation on the first sample: TPOT's refit was left to the stage, which compared
    # the search's choice with the anchors on the held-out third of all rows
    assert {r.sample_fraction for r in result.evaluations if r.ok} == {3_000 / 13_000}
    stage = result.ensemble_summary
    assert stage is not None and stage.holdout_rows in (4_333, 4_334)
    assert stage.candidates >= 2 and stage.score is not None
    assert any("held-out rows of all rows" in note for note in result.notes)
    assert result.best_score == stage.score
    if stage.replaced_by is not None:
        assert result.best_pipeline == stage.replaced_by
    assert stage.fitted_rows > 3_000
    assert result.model.predict(table.drop(columns="label").head(5)).shape == (5,)
    manifest = json.loads(storage.read_bytes(result.run_id, "run.json"))
    validate(manifest, "run")
    assert manifest["summary"]["ensemble"]["holdout_rows"] == stage.holdout_rows


def _sampled_hooks(seconds_left: float, sampled_reserve: float = 0.0):
    """Hooks of a search on a sample whose end is ``seconds_left`` away (no fixed reserves;
    the stage after it may get up to ``sampled_reserve``)."""
    from automl_tpot.search.budget import SearchDeadline

    now = time.time()
    deadline = SearchDeadline(
        run_end=now + seconds_left,
        planned_end=now + seconds_left,
        refit_reserve=0,
        ensemble_reserve=0,
        cv=5,
        n_workers=1,
        sampled_reserve=sampled_reserve,
    )
    return _hooks(deadline, SampleSchedule(100 * FIRST_SAMPLE_ROWS))


def _sampled_generation(hooks, seconds: float) -> None:
    """Report a generation on the first sample that took ``seconds``."""
    from automl_tpot.tpot_boundary import SearchHistory

    frame = pd.DataFrame(
        {
            "r2_score": [0.5],
            "Eval Error": [None],
            "Submitted Timestamp": [0.0],
            "Completed Timestamp": [0.1],
            "Budget": [0.01],
        }
    )
    hooks._generation_started = time.time() - seconds
    state = SimpleNamespace(history=lambda _c="": SearchHistory(frame, "r2_score"))
    state.generations_completed = 1
    hooks.generation_evaluated(state)


def test_a_sampled_search_ends_when_its_next_generation_would_not_finish():
    # its evaluation (0.1 s on a hundredth of the rows) says the stage after it needs ~5 s
    hooks, channel = _sampled_hooks(seconds_left=20.0)
    _sampled_generation(hooks, seconds=30.0)  # the next, on the same sample, needs about 30 s
    assert channel.end <= time.time() and not channel.stop_requested
    left, expected = hooks.handed_over
    assert 19 < left <= 20 and expected == pytest.approx(30.0, abs=0.5)


def test_a_sampled_search_goes_on_while_its_next_generation_fits():
    hooks, channel = _sampled_hooks(seconds_left=40.0)
    _sampled_generation(hooks, seconds=30.0)
    assert channel.end > time.time() + 35 and hooks.handed_over is None


def test_a_sampled_search_goes_on_when_the_stage_after_it_has_the_time_it_needs():
    hooks, channel = _sampled_hooks(seconds_left=20.0, sampled_reserve=100.0)
    _sampled_generation(hooks, seconds=30.0)
    assert not hooks.deadline.stage_wants_more
    assert channel.end > time.time() + 10 and hooks.handed_over is None


def test_the_result_says_why_the_search_ended_on_a_sample():
    from automl_tpot.run.assemble import search_end_note
    from automl_tpot.search.runner import SearchRun

    def run(**overrides):
        values = dict(fitted=None, reasons={}, seconds=30.0, per_run_seconds=8.0)
        return SearchRun(**{**values, **overrides})

    note = search_end_note(run(handed_over=(9.5, 21.0)), 2, finished_all=False, time_left=60)
    assert note == (
        "the time budget ended the search on a sample after 2 generation(s): the next (about "
        "21s) would not have finished in the 9.5s left, which went to the final choice on all rows"
    )
    plain = search_end_note(run(), 2, finished_all=False, time_left=60)
    assert plain == "the time budget ended the search after 2 generation(s)"
    assert search_end_note(run(), 3, finished_all=True, time_left=60) is None
    converged = search_end_note(run(converged=True), 12, finished_all=False, time_left=60)
    assert converged.endswith("ended early, 30s into the 60s budget")


def test_on_a_table_of_more_than_lightgbm_rows_the_worker_threads_score_lightgbm(small_config):
    """The LightGBM model of large tables runs in the real two-thread worker, on the sample,
    and is scored like any other."""
    from automl_tpot.search_spaces.tuned import LIGHTGBM_ROWS

    table = _large_table(LIGHTGBM_ROWS + 1_000)
    config = small_config(
        target_column="label", generations=1, population_size=4, n_jobs=2, explain=False
    )
    result = Trainer(config, store=False).train(table)
    lightgbm = [r for r in result.evaluations if "LGBMClassifier" in (r.pipeline or "")]
    assert lightgbm and all(r.ok for r in lightgbm), [r.status for r in lightgbm]
    assert {r.sample_fraction for r in lightgbm} == {FIRST_SAMPLE_ROWS / (LIGHTGBM_ROWS + 1_000)}
    assert all(0.5 < r.score <= 1.0 for r in lightgbm)
    assert result.model.predict(table.drop(columns="label").head(5)).shape == (5,)
