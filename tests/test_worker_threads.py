"""``worker_threads``: the local cluster as one in-process Dask worker with ``n_jobs`` threads."""

from __future__ import annotations

import threading
import time
import warnings

import psutil
import pytest
from helpers.misbehaving import search_space as misbehaving_space
from threadpoolctl import threadpool_info

from automl_tpot import ConfigError, Trainer, TrainerConfig
from automl_tpot.cluster import worker
from automl_tpot.records.evaluation import ERROR_MEMORY

pytestmark = pytest.mark.usefixtures("no_leaked_processes")


def _python_children() -> list[psutil.Process]:
    children = psutil.Process().children(recursive=True)
    return [p for p in children if "resource_tracker" not in " ".join(p.cmdline())]


def _ignore_all(filters: list[tuple]) -> int:
    """How many filters silence every warning (what ``simplefilter("ignore")`` adds)."""
    return sum(
        f[0] == "ignore" and f[1] is None and f[2] is Warning and f[3] is None for f in filters
    )


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info()]


def test_worker_threads_cannot_be_combined_with_a_memory_limit():
    with pytest.raises(ConfigError) as caught:
        TrainerConfig(worker_threads=True, memory_limit_mb=900)
    assert caught.value.field == "worker_threads"
    assert "memory_limit_mb" in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "threads"),
    [
        ({"n_jobs": 1}, True),
        ({"n_jobs": 2}, True),
        ({"n_jobs": 3}, False),
        ({"n_jobs": 1, "memory_limit_mb": 900}, False),
        ({"n_jobs": 4, "worker_threads": True}, True),
        ({"n_jobs": 1, "worker_threads": False}, False),
    ],
)
def test_worker_threads_none_picks_threads_for_few_workers_without_a_memory_limit(
    settings, threads
):
    config = TrainerConfig(**settings)
    assert config.worker_threads is settings.get("worker_threads")
    assert config.uses_worker_threads is threads


def test_worker_threads_must_be_a_boolean_or_none():
    with pytest.raises(ConfigError) as caught:
        TrainerConfig(worker_threads="yes")
    assert caught.value.field == "worker_threads"


def test_a_threaded_run_starts_no_process_and_restores_the_thread_limits(
    cancer_table, small_config
):
    seen_children: list[int] = []
    blas_before = _blas_threads()
    filters_before = list(warnings.filters)

    def watch(event):
        seen_children.append(len(_python_children()))

    config = small_config(target_column="diagnosis", n_jobs=2, worker_threads=True)
    result = Trainer(config, store=False).train(cancer_table, progress=watch)

    assert result.parallel == {
        "mode_requested": "local",
        "mode_used": "local",
        "n_workers": 2,
        "worker_threads": True,
    }
    assert result.generations_completed == 2
    assert seen_children and set(seen_children) == {0}  # no worker, no nanny process
    assert _blas_threads() == blas_before
    # the evaluations' "ignore everything" did not outlive the run (imports during the run may
    # add filters of their own, so the lists are not compared whole)
    assert _ignore_all(warnings.filters) == _ignore_all(filters_before)
    predictions = result.model.predict(cancer_table.drop(columns="diagnosis").head(20))
    assert set(predictions) <= set(cancer_table["diagnosis"])
    assert result.model.score(cancer_table, cancer_table["diagnosis"]) > 0.7


def test_an_over_time_evaluation_in_a_thread_is_stopped_and_the_search_goes_on(
    cancer_table, small_config
):
    config = small_config(
        target_column="diagnosis",
        search_space=misbehaving_space(modes=("fine", "slow")),
        worker_threads=True,
        n_jobs=2,
        per_run_limit=2,
        population_size=6,
        generations=1,
        random_state=1,
    )
    result = Trainer(config, store=False).train(cancer_table)

    statuses = {
        ("slow" if "slow" in r["pipeline"] else "fine", r["status"])
        for r in result.evaluated_individuals
    }
    assert ("slow", "timeout") in statuses and ("fine", "ok") in statuses
    assert ("slow", "ok") not in statuses
    assert "fine" in result.best_pipeline


def test_without_a_memory_limit_an_evaluation_is_stopped_when_the_machine_runs_short(
    monkeypatch,
):
    # every machine is "short" under a floor of all its memory: the guard must then stop an
    # evaluation that grows its process, as it would one that took the machine's last memory
    monkeypatch.setattr(worker, "MACHINE_MEMORY_FLOOR", 1.0)
    held: list[bytearray] = []

    def grow(_individual):
        for _ in range(40):
            held.append(bytearray(8 * 2**20))
            time.sleep(0.05)
        return 1.0

    outcome = worker.evaluate_on_worker(None, [grow], per_run_seconds=30, objective_kwargs={})
    held.clear()

    assert outcome["error"] == ERROR_MEMORY
    assert "available" in outcome["reason"] and "scores" not in outcome


def test_without_a_memory_limit_an_evaluation_that_does_not_grow_is_left_alone(monkeypatch):
    monkeypatch.setattr(worker, "MACHINE_MEMORY_FLOOR", 1.0)

    def steady(_individual):
        time.sleep(0.3)
        return 0.5

    outcome = worker.evaluate_on_worker(None, [steady], per_run_seconds=30, objective_kwargs={})

    assert outcome == {"scores": [0.5]}


def test_interleaved_threaded_sessions_restore_the_hosts_settings_when_the_last_closes():
    # two jobs of one host, opened and closed out of order (A opens, B opens, A closes, B
    # closes): a save-and-restore per session would leave B's saved "ignore" behind
    from automl_tpot.cluster.threaded import process_settings_held

    filters_before, blas_before = list(warnings.filters), _blas_threads()
    first, second = process_settings_held(), process_settings_held()
    first.__enter__()
    second.__enter__()
    assert set(_blas_threads()) == {1}
    assert warnings.filters[0][0] == "ignore"
    first.__exit__(None, None, None)
    assert set(_blas_threads()) == {1}  # B still runs its evaluations
    second.__exit__(None, None, None)

    assert warnings.filters == filters_before
    assert _blas_threads() == blas_before


def _guarded_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("automl-tpot-guarded")]


def test_a_threaded_session_stops_the_work_its_worker_still_runs_when_it_closes():
    # a stage's fit whose future was dropped keeps running in its thread: with no worker
    # process to end, the session must stop it, or it outlives the run in the host's process
    from automl_tpot.cluster.session import open_dask_session
    from automl_tpot.cluster.worker import call_with_time_limit

    def busy_for_a_minute() -> str:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            sum(range(1000))
        return "finished"

    with open_dask_session(TrainerConfig(n_jobs=1)) as session:
        assert session.threads
        session.current.submit(call_with_time_limit, busy_for_a_minute, 60, pure=False)
        deadline = time.monotonic() + 20
        while not _guarded_threads() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _guarded_threads(), "the guarded call never started"

    assert _guarded_threads() == []


def test_an_in_process_worker_runs_without_the_sampling_profiler():
    # Dask's profiler calls sys._current_frames() every 10 ms; on Python 3.11 a collection
    # inside it while a host thread starts deadlocks the process (it hung the Prometheus test)
    from automl_tpot.cluster.session import open_dask_session

    with open_dask_session(TrainerConfig(n_jobs=1)) as session:
        assert session.threads

        def callbacks(dask_worker) -> list[str]:
            return sorted(dask_worker.periodic_callbacks)

        (names,) = session.current.run(callbacks).values()
    assert "profile" not in names
