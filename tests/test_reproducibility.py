"""A run records the seed it used, also when ``random_state`` is not set, and a run given that
seed, one worker and ``generations`` reproduces the same search: every evaluation, the
leaderboard (pipelines and scores) and the model's predictions.

With one worker thread nothing in the evaluation loop may depend on timing: a generation waits
for its slowest evaluation instead of leaving it for the next one (deferring stragglers only
helps when other threads can work meanwhile)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from automl_tpot import Trainer, TrainerConfig

pytestmark = pytest.mark.usefixtures("no_leaked_processes")


def test_a_single_worker_thread_waits_for_its_straggler():
    from helpers.sleepers import Sleeper, sleep_objective

    from automl_tpot.cluster.loop import EvaluationLoop
    from automl_tpot.cluster.session import open_dask_session
    from automl_tpot.search.channel import SearchChannel
    from automl_tpot.tpot_boundary import EvaluationRequest

    # the loop submits from the end of the list (as TPOT pops its stack): the slow one last
    individuals = [Sleeper("slow", 3.0)] + [Sleeper(f"fast{i}", 0.2) for i in range(6)]
    with open_dask_session(TrainerConfig(n_jobs=1)) as session:
        channel = SearchChannel(end=time.time() + 60, generations=None)  # stragglers may wait
        assert channel.may_defer(0)
        batch = EvaluationLoop(session, channel).evaluate(
            EvaluationRequest(
                individuals=individuals,
                keys=[individual.unique_id() for individual in individuals],
                # a family of its own: none of it has finished, so the loop does not cap it
                families=["SlowSleeper"] + ["Sleeper"] * (len(individuals) - 1),
                objectives=[sleep_objective],
                objective_kwargs={"X": np.zeros((4, 2)), "y": np.zeros(4)},
                per_run_seconds=60.0,
                n_columns=1,
                generation=0,
            )
        )
    assert batch.scores[0] == [3.0]  # scored in its own generation, not left for the next
    assert batch.errors == [None] * 7


@pytest.mark.slow  # 20-80 s of a CI run's time; `pytest -m slow` runs it
def test_the_recorded_seed_reproduces_the_search(wine_table):
    settings = dict(
        target_column="target",
        time_left=120,
        per_run_limit=30,
        generations=2,
        population_size=4,
        cv=3,
        n_jobs=1,
    )
    first = Trainer(TrainerConfig(**settings), store=False).train(wine_table)
    assert first.config.random_state is None
    assert isinstance(first.seed, int) and first.summary()["seed"] == first.seed
    again = Trainer(TrainerConfig(**settings, random_state=first.seed), store=False).train(
        wine_table
    )
    assert again.seed == first.seed
    assert first.stopped_by == again.stopped_by == "generations"

    def evaluations(result):
        return [(r.pipeline, r.status, r.score, r.generation) for r in result.evaluations]

    assert evaluations(again) == evaluations(first)
    assert [(e["pipeline"], e["score"]) for e in again.leaderboard] == [
        (e["pipeline"], e["score"]) for e in first.leaderboard
    ]
    assert again.best_pipeline == first.best_pipeline
    rows = wine_table.drop(columns="target")
    np.testing.assert_allclose(again.model.predict_proba(rows), first.model.predict_proba(rows))
