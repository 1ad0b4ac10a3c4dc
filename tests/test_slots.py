"""Which queued evaluation a free worker thread takes: one GIL-bound evaluation per worker
process at a time, the queue's order otherwise."""

from __future__ import annotations

import time
from collections import deque
from itertools import pairwise

import numpy as np

from automl_tpot.cluster.slots import GIL_BOUND, STRAGGLER_MIN_SECONDS, Job, next_job

BOOSTING = "HistGradientBoostingClassifier"
FOREST = "ExtraTreesClassifier"
LINEAR = "LogisticRegression"


def _running(*jobs: tuple[int, str, float]) -> dict[object, Job]:
    """Running jobs as ``(index, worker, seconds it has run)``."""
    running = {}
    for index, worker, seconds in jobs:
        job = Job(index, worker, 0)
        job.submitted = time.time() - seconds
        running[object()] = job
    return running


def test_the_families_the_search_fits_most_are_sorted_by_the_gil():
    assert {BOOSTING, "HistGradientBoostingRegressor", LINEAR} <= GIL_BOUND
    assert FOREST not in GIL_BOUND and "RandomForestRegressor" not in GIL_BOUND


def test_beside_a_gil_bound_evaluation_the_first_one_that_is_not_goes_first():
    families = [BOOSTING, BOOSTING, LINEAR, FOREST, BOOSTING, FOREST]
    pending = deque([(1, 0), (2, 0), (3, 0), (4, 0), (5, 1)])
    running = _running((0, "w", 0.1))
    assert next_job(pending, families, running, "w", threads=2) == (3, 0)
    assert list(pending) == [(1, 0), (2, 0), (4, 0), (5, 1)]  # the rest keep their order


def test_when_only_gil_bound_ones_wait_the_thread_waits_for_the_running_one():
    families = [BOOSTING, LINEAR, BOOSTING]
    pending = deque([(1, 0), (2, 0)])
    assert next_job(pending, families, _running((0, "w", 0.1)), "w", threads=2) is None
    assert list(pending) == [(1, 0), (2, 0)]
    # once it ended, the head of the queue goes
    assert next_job(pending, families, {}, "w", threads=2) == (1, 0)


def test_a_gil_bound_head_goes_when_nothing_gil_bound_runs_beside_it():
    families = [FOREST, BOOSTING, BOOSTING]
    assert next_job(deque([(1, 0), (2, 0)]), families, _running((0, "w", 0.1)), "w", 2) == (1, 0)
    assert next_job(deque([(1, 0), (2, 0)]), families, {}, "w", threads=2) == (1, 0)


def test_when_none_runs_the_first_gil_bound_one_starts_ahead_of_cheaper_ones():
    families = [FOREST, FOREST, LINEAR, BOOSTING]
    pending = deque([(1, 0), (2, 0), (3, 0)])
    assert next_job(pending, families, _running((0, "w", 0.1)), "w", threads=2) == (2, 0)
    assert list(pending) == [(1, 0), (3, 0)]
    # a worker of one thread keeps the queue's order
    pending = deque([(1, 0), (2, 0), (3, 0)])
    assert next_job(pending, families, {}, "w", threads=1) == (1, 0)
    # with none GIL-bound queued, the head goes
    assert next_job(deque([(0, 0), (1, 0)]), families, {}, "w", threads=2) == (0, 0)


def test_other_processes_and_one_thread_workers_are_not_held_back():
    families = [BOOSTING, BOOSTING, FOREST]
    # the GIL-bound evaluation runs on another worker: another process, another GIL
    pending = deque([(1, 0), (2, 0)])
    assert next_job(pending, families, _running((0, "other", 0.1)), "w", threads=2) == (1, 0)
    # a worker of one thread: nothing runs beside it
    pending = deque([(1, 0), (2, 0)])
    assert next_job(pending, families, _running((0, "w", 0.1)), "w", threads=1) == (1, 0)


def test_a_straggler_holds_no_one_back():
    families = [BOOSTING, BOOSTING]
    durations = [0.2, 0.3, 0.25]  # the generation's typical evaluation: a quarter second
    straggling = _running((0, "w", STRAGGLER_MIN_SECONDS + 1.0))
    assert next_job(deque([(1, 0)]), families, straggling, "w", 2, durations) == (1, 0)
    # before anything of the generation finished, nothing counts as a straggler yet ...
    assert next_job(deque([(1, 0)]), families, straggling, "w", 2) is None
    # ... but one an earlier generation left running does
    (carried,) = straggling.values()
    carried.carried = True
    assert next_job(deque([(1, 0)]), families, straggling, "w", 2) == (1, 0)


def test_the_loop_never_runs_two_gil_bound_evaluations_side_by_side_in_one_worker():
    """A real in-process worker of two threads: the stand-ins named as boosting models never
    overlap, while the forest's stand-in runs beside one of them."""
    from helpers.sleepers import Sleeper, start_objective

    from automl_tpot import TrainerConfig
    from automl_tpot.cluster.loop import EvaluationLoop
    from automl_tpot.cluster.session import open_dask_session
    from automl_tpot.search.channel import SearchChannel
    from automl_tpot.tpot_boundary import EvaluationRequest

    individuals = [Sleeper(f"boost{i}", 0.4) for i in range(3)] + [Sleeper("forest", 0.4)]
    families = [BOOSTING] * 3 + [FOREST]
    data = {"X": np.zeros((4, 2)), "y": np.zeros(4)}
    with open_dask_session(TrainerConfig(n_jobs=2, worker_threads=True)) as session:
        assert list(session.worker_threads().values()) == [2]
        loop = EvaluationLoop(session, SearchChannel(end=time.time() + 60, generations=None))
        batch = loop.evaluate(
            EvaluationRequest(
                individuals=individuals,
                keys=[individual.unique_id() for individual in individuals],
                families=families,
                objectives=[start_objective],
                objective_kwargs=data,
                per_run_seconds=30.0,
                n_columns=1,
                generation=0,
            )
        )
    assert batch.errors == [None] * 4
    starts = [scores[0] for scores in batch.scores]
    boosting = sorted(starts[:3])
    # each boosting stand-in started after the one before it had ended
    assert all(later >= earlier + 0.4 for earlier, later in pairwise(boosting))
    # and the forest did not wait for them: it started while the first one ran
    assert starts[3] < boosting[0] + 0.4
