"""Parallel execution on real Dask processes: local clusters, a scheduler with two workers,
workers killed mid-search, a scheduler that is gone, limits enforced on the workers."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
from helpers.misbehaving import search_space as misbehaving_space

from automl_tpot import Alert, ClusterError, FilesystemStorage, Trainer

pytestmark = pytest.mark.usefixtures("no_leaked_processes")


class RecordingMetrics:
    """A metrics backend that keeps what it is told."""

    def __init__(self):
        self.alerts: list[Alert] = []
        self.alerted_at: list[float] = []
        self.finished: list[dict] = []

    def on_progress(self, progress):
        pass

    def on_alert(self, alert):
        self.alerts.append(alert)
        self.alerted_at.append(time.monotonic())

    def on_run_finished(self, summary):
        self.finished.append(summary)


def _executed_per_worker(scheduler_file: str) -> dict[str, int]:
    """Tasks each worker executed, as the workers themselves count them."""
    from dask.distributed import Client

    with Client(scheduler_file=scheduler_file, timeout=30) as client:
        return client.run(lambda dask_worker: dask_worker.state.executed_count)


def _assert_valid_model(result, table, target):
    predictions = result.model.predict(table.drop(columns=target).head(20))
    assert set(predictions) <= set(table[target])
    assert result.model.score(table, table[target]) > 0.7


def test_distributed_run_spreads_evaluations_over_both_workers(
    dask_cluster, cancer_table, small_config
):
    before = _executed_per_worker(dask_cluster.scheduler_file)
    config = small_config(
        target_column="diagnosis",
        parallel_mode="distributed",
        scheduler_file=dask_cluster.scheduler_file,
        population_size=6,
        generations=2,
    )
    result = Trainer(config, store=False).train(cancer_table)

    assert result.parallel == {
        "mode_requested": "distributed",
        "mode_used": "distributed",
        "n_workers": 2,
    }
    after = _executed_per_worker(dask_cluster.scheduler_file)
    ran = {worker: after[worker] - before.get(worker, 0) for worker in after}
    assert len(ran) == 2 and all(count >= 2 for count in ran.values()), ran
    ok = [r for r in result.evaluated_individuals if r["status"] == "ok"]
    assert len(ok) >= 4
    _assert_valid_model(result, cancer_table, "diagnosis")
    # the library disconnected but left the foreign cluster running
    assert dask_cluster.scheduler.poll() is None
    assert all(p.poll() is None for p in dask_cluster.workers.values())


@pytest.mark.slow  # 20-80 s of a CI run's time; `pytest -m slow` runs it
def test_a_worker_killed_mid_search_leaves_a_valid_model(
    dask_cluster, cancer_table, small_config, fault_report
):
    killed = threading.Event()
    generations_at: list[float] = []
    killed_at: list[float] = []

    def kill_worker():
        dask_cluster.kill_worker("w2")
        killed_at.append(time.monotonic())

    def kill_during_generation_two(event):
        generations_at.append(time.monotonic())
        if event.generation == 1 and not killed.is_set():
            killed.set()
            threading.Timer(0.3, kill_worker).start()

    config = small_config(
        target_column="diagnosis",
        parallel_mode="distributed",
        scheduler_file=dask_cluster.scheduler_file,
        population_size=6,
        generations=3,
        time_left=60,
    )
    started = time.monotonic()
    result = Trainer(config, store=False).train(cancer_table, progress=kill_during_generation_two)
    ended = time.monotonic()

    assert killed.is_set() and dask_cluster.workers["w2"].poll() is not None
    assert result.parallel["mode_used"] == "distributed"
    assert "fallback_reason" not in result.parallel
    assert result.generations_completed >= 2
    _assert_valid_model(result, cancer_table, "diagnosis")
    after = [t - killed_at[0] for t in generations_at if killed_at and t > killed_at[0]]
    fault_report(
        kill_to_next_generation=after[0] if after else "none",
        run=ended - started,
        budget=float(config.time_left),
    )


@pytest.mark.slow
def test_losing_every_worker_mid_search_falls_back_to_local(
    dask_cluster, cancer_table, small_config, fault_report
):
    metrics = RecordingMetrics()
    killed_at: list[float] = []

    def kill_all(event):
        if event.generation == 1:
            for name in ("w1", "w2"):
                dask_cluster.kill_worker(name)
            killed_at.append(time.monotonic())

    config = small_config(
        target_column="diagnosis",
        parallel_mode="distributed",
        scheduler_file=dask_cluster.scheduler_file,
        population_size=6,
        generations=3,
        time_left=60,
        cluster_wait=5,
    )
    started = time.monotonic()
    result = Trainer(config, store=False, metrics=metrics).train(cancer_table, progress=kill_all)
    ended = time.monotonic()

    assert result.parallel["mode_requested"] == "distributed"
    assert result.parallel["mode_used"] == "local" and result.parallel["n_workers"] == 1
    assert "during the search" in result.parallel["fallback_reason"]
    assert [a.kind for a in metrics.alerts] == ["parallel_fallback"]
    assert result.generations_completed >= 2
    _assert_valid_model(result, cancer_table, "diagnosis")
    fault_report(
        kill_to_fallback=metrics.alerted_at[0] - killed_at[0],
        run=ended - started,
        budget=float(config.time_left),
    )


def test_losing_every_worker_with_fallback_off_raises_promptly(
    dask_cluster, cancer_table, small_config
):
    killed_at = []

    def kill_all(event):
        if event.generation == 1 and not killed_at:
            for name in ("w1", "w2"):
                dask_cluster.kill_worker(name)
            killed_at.append(time.monotonic())

    config = small_config(
        target_column="diagnosis",
        parallel_mode="distributed",
        scheduler_file=dask_cluster.scheduler_file,
        population_size=6,
        generations=3,
        time_left=60,
        cluster_wait=5,
        parallel_fallback=False,
    )
    with pytest.raises(ClusterError, match="had no workers|did not answer"):
        Trainer(config, store=False).train(cancer_table, progress=kill_all)
    assert killed_at and time.monotonic() - killed_at[0] < 30  # not the 60 s budget
    assert dask_cluster.scheduler.poll() is None  # the foreign scheduler was left alone


def _gone_scheduler_file(tmp_path, dask_cluster_factory) -> str:
    cluster = dask_cluster_factory(tmp_path)
    cluster.start_scheduler()
    cluster.kill(cluster.scheduler)  # SIGKILL: the file stays, the scheduler is gone
    return cluster.scheduler_file


@pytest.fixture
def gone_scheduler_file(tmp_path):
    from conftest import DaskCluster

    return _gone_scheduler_file(tmp_path, DaskCluster)


@pytest.mark.slow  # 20-80 s of a CI run's time; `pytest -m slow` runs it
def test_a_gone_scheduler_falls_back_finishes_and_reports_it(
    gone_scheduler_file, tmp_path, cancer_table, small_config
):
    metrics = RecordingMetrics()
    config = small_config(
        target_column="diagnosis",
        parallel_mode="distributed",
        scheduler_file=gone_scheduler_file,
        cluster_wait=2,
        generations=1,
    )
    storage = FilesystemStorage(tmp_path / "runs")
    result = Trainer(config, storage=storage, metrics=metrics).train(cancer_table)

    assert result.parallel["mode_requested"] == "distributed"
    assert result.parallel["mode_used"] == "local" and result.parallel["n_workers"] == 1
    assert gone_scheduler_file in result.parallel["fallback_reason"]
    assert [a.kind for a in metrics.alerts] == ["parallel_fallback"]
    assert metrics.alerts[0].reason == result.parallel["fallback_reason"]
    assert any("parallel fallback" in note for note in result.notes)
    _assert_valid_model(result, cancer_table, "diagnosis")
    import json

    manifest = json.loads((tmp_path / "runs" / result.run_id / "run.json").read_text())
    assert manifest["summary"]["parallel"]["mode_used"] == "local"


def test_a_gone_scheduler_with_fallback_off_raises_promptly(
    gone_scheduler_file, cancer_table, small_config
):
    config = small_config(
        target_column="diagnosis",
        parallel_mode="distributed",
        scheduler_file=gone_scheduler_file,
        cluster_wait=2,
        parallel_fallback=False,
        time_left=40,
    )
    started = time.monotonic()
    with pytest.raises(ClusterError, match="scheduler") as caught:
        Trainer(config, store=False).train(cancer_table)
    assert time.monotonic() - started < 15  # not the 40 s budget
    assert gone_scheduler_file in caught.value.reason


@pytest.mark.slow  # 20-80 s of a CI run's time; `pytest -m slow` runs it
def test_a_missing_scheduler_file_falls_back(tmp_path, cancer_table, small_config):
    config = small_config(
        target_column="diagnosis",
        parallel_mode="distributed",
        scheduler_file=str(tmp_path / "nowhere.json"),
        generations=1,
    )
    result = Trainer(config, store=False).train(cancer_table)
    assert result.parallel["mode_used"] == "local"
    assert "does not exist" in result.parallel["fallback_reason"]


def test_over_time_and_over_memory_pipelines_fail_with_their_reason_and_the_search_goes_on(
    cancer_table, small_config
):
    config = small_config(
        target_column="diagnosis",
        search_space=misbehaving_space(),
        n_jobs=2,
        memory_limit_mb=800,
        per_run_limit=3,
        population_size=8,
        generations=1,
        random_state=1,
        time_left=40,
    )
    started = time.monotonic()
    result = Trainer(config, store=False).train(cancer_table)
    elapsed = time.monotonic() - started

    by_mode: dict[str, list[dict]] = {}
    for record in result.evaluated_individuals:
        mode = record["pipeline"].split("mode=")[-1].split(")")[0].strip("'\"")
        by_mode.setdefault(mode, []).append(record)
    assert set(by_mode) == {"fine", "slow", "hog"}, result.evaluated_individuals
    assert {(r["status"], r["error"]) for r in by_mode["slow"]} == {("timeout", "timeout")}
    assert all("per_run_limit=3s" in r["reason"] for r in by_mode["slow"])
    assert {(r["status"], r["error"]) for r in by_mode["hog"]} == {("failed", "memory")}
    assert all("memory limit" in r["reason"] for r in by_mode["hog"])
    assert all(r["status"] == "ok" for r in by_mode["fine"])
    assert "fine" in result.best_pipeline
    assert elapsed < 40  # the slow ones were stopped, not waited for
    _assert_valid_model(result, cancer_table, "diagnosis")


def test_local_mode_uses_n_jobs_workers_and_a_memory_limit(cancer_table, small_config):
    config = small_config(target_column="diagnosis", n_jobs=2, memory_limit_mb=900, generations=1)
    result = Trainer(config, store=False).train(cancer_table)
    assert result.parallel == {"mode_requested": "local", "mode_used": "local", "n_workers": 2}
    assert result.timings["cluster_start"] > 0 and "cluster_stop" in result.timings


def test_ctrl_c_mid_search_stops_the_run_and_closes_the_cluster(
    tmp_path, cancer_table, small_config
):
    def interrupt(event):
        os.kill(os.getpid(), signal.SIGINT)

    storage_root = tmp_path / "runs"
    config = small_config(target_column="diagnosis", n_jobs=2, generations=3)
    with pytest.raises(KeyboardInterrupt):
        trainer = Trainer(config, storage=FilesystemStorage(storage_root))
        trainer.train(cancer_table, progress=interrupt)
    # nothing complete is stored; the checkpoint of the generation before the Ctrl-C stays
    stored = FilesystemStorage(storage_root)
    assert stored.list_runs() == [] and len(stored.list_unfinished()) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.slow
def test_an_error_inside_the_search_closes_the_cluster(cancer_table, small_config):
    from automl_tpot import TrainingError

    def failing_metric(estimator, X, y):
        raise RuntimeError("this scorer always fails")

    config = small_config(target_column="diagnosis", metric=failing_metric, n_jobs=2, generations=1)
    with pytest.raises(TrainingError):
        Trainer(config, store=False).train(cancer_table)


def test_evaluation_reasons_name_the_exception():
    from automl_tpot.cluster.worker import evaluate_on_worker

    class Boom:
        def unique_id(self):
            return "boom"

    def objective(individual, X, y):
        raise ValueError("bad pipeline")

    data = {"X": np.zeros((2, 2)), "y": np.zeros(2)}
    outcome = evaluate_on_worker(Boom(), [objective], 5.0, data)
    assert outcome == {"error": "exception", "reason": "ValueError: bad pipeline"}


def _loop(session, *, end_in: float = 60.0, generations=None):
    """An evaluation loop on ``session`` with its own channel (the search's end ``end_in``)."""
    from automl_tpot.cluster.loop import EvaluationLoop
    from automl_tpot.search.channel import SearchChannel

    channel = SearchChannel(end=time.time() + end_in, generations=generations)
    return EvaluationLoop(session, channel)


def _evaluate(loop, individuals, objective, *, per_run=60.0, generation=0, **data):
    """One generation through the loop, as the boundary's evolver asks for it."""
    from automl_tpot.tpot_boundary import EvaluationRequest

    batch = loop.evaluate(
        EvaluationRequest(
            individuals=individuals,
            keys=[individual.unique_id() for individual in individuals],
            families=[type(individual).__name__ for individual in individuals],
            objectives=[objective],
            objective_kwargs=data,
            per_run_seconds=per_run,
            n_columns=1,
            generation=generation,
        )
    )
    return batch.scores, batch.errors


def test_a_generation_does_not_wait_for_its_straggler_which_is_collected_later():
    from helpers.sleepers import Sleeper, sleep_objective

    from automl_tpot import TrainerConfig
    from automl_tpot.cluster.session import open_dask_session

    data = {"X": np.zeros((10, 2)), "y": np.zeros(10)}
    with open_dask_session(TrainerConfig(n_jobs=2)) as session:
        loop = _loop(session)
        first = [Sleeper(f"fast{i}", 0.2) for i in range(6)] + [Sleeper("slow", 6.0)]
        started = time.monotonic()
        scores, errors = _evaluate(loop, first, sleep_objective, **data)
        first_call = time.monotonic() - started
        assert first_call < 5.0, first_call  # did not wait for the 6 s evaluation
        assert [s[0] for s in scores[:6]] == [0.2] * 6 and errors == [None] * 7
        assert np.isnan(scores[6][0])  # not scored yet, so TPOT asks for it again

        second = [Sleeper("slow", 6.0)]  # TPOT asks again (alone: nothing else to wait for)
        scores, errors = _evaluate(loop, second, sleep_objective, generation=1, **data)
        total = time.monotonic() - started
        assert scores == [[6.0]] and errors == [None]
        assert total < 9.0, total  # the straggler ran once, not again from the start
        executed = session.current.run(lambda dask_worker: dask_worker.state.executed_count)
        assert sum(executed.values()) == 7


def test_the_last_generation_waits_for_its_stragglers():
    from helpers.sleepers import Sleeper, sleep_objective

    from automl_tpot import TrainerConfig
    from automl_tpot.cluster.session import open_dask_session

    data = {"X": np.zeros((10, 2)), "y": np.zeros(10)}
    with open_dask_session(TrainerConfig(n_jobs=2)) as session:
        loop = _loop(session, generations=1)  # generation 0 is the last: nobody would collect
        individuals = [Sleeper(f"fast{i}", 0.2) for i in range(6)] + [Sleeper("slow", 3.0)]
        scores, errors = _evaluate(loop, individuals, sleep_objective, **data)
        assert scores[6] == [3.0] and errors == [None] * 7


def test_evaluations_follow_the_search_end_as_it_moves_and_stop_on_the_worker_when_it_passes():
    from helpers.sleepers import Sleeper, sleep_objective

    from automl_tpot import TrainerConfig
    from automl_tpot.cluster.session import open_dask_session

    data = {"X": np.zeros((4, 2)), "y": np.zeros(4)}
    with open_dask_session(TrainerConfig(n_jobs=1)) as session:
        # the end moves later while the generation runs: a 2 s evaluation is scored
        loop = _loop(session, end_in=0.5)
        loop.channel.move_end(time.time() + 6)
        scores, errors = _evaluate(loop, [Sleeper("two", 2.0)], sleep_objective, **data)
        assert scores == [[2.0]] and errors == [None]

        # a stop: the loop returns, and the worker stops the evaluation
        started = time.monotonic()
        loop = _loop(session, end_in=1.0)
        scores, _ = _evaluate(loop, [Sleeper("long", 30.0)], sleep_objective, **data)
        assert np.isnan(scores[0][0])  # not scored: the search's time was up
        scores, errors = _evaluate(_loop(session), [Sleeper("next", 0.2)], sleep_objective, **data)
        assert scores == [[0.2]] and errors == [None]
        # the one worker was free again long before the 30 s evaluation would have ended
        assert time.monotonic() - started < 15


def test_an_over_time_evaluation_is_stopped_on_the_worker():
    from helpers.sleepers import Sleeper, sleep_objective

    from automl_tpot import TrainerConfig
    from automl_tpot.cluster.session import open_dask_session

    data = {"X": np.zeros(3), "y": np.zeros(3)}
    with open_dask_session(TrainerConfig(n_jobs=1)) as session:
        loop = _loop(session)
        started = time.monotonic()
        scores, errors = _evaluate(
            loop, [Sleeper("endless", 600)], sleep_objective, per_run=1.5, **data
        )
        assert errors == ["TIMEOUT"] and np.isnan(scores[0][0])
        assert time.monotonic() - started < 10
        assert loop.reasons["endless"][0] == "timeout"
        # the worker is free again: a new evaluation runs at once
        quick, _ = _evaluate(loop, [Sleeper("quick", 0.1)], sleep_objective, **data)
        assert quick == [[0.1]]


def test_a_worker_dask_restarts_for_memory_is_reported_as_memory(fault_report):
    """One allocation far over the limit: Dask's nanny restarts the worker (the guard cannot
    interrupt a single C call); the evaluation is recorded as a memory failure."""
    from helpers.sleepers import Sleeper, allocate_objective, sleep_objective

    from automl_tpot import TrainerConfig
    from automl_tpot.cluster.session import open_dask_session

    data = {"X": np.zeros(3), "y": np.zeros(3)}  # the same objects: scattered once, then again
    with open_dask_session(TrainerConfig(n_jobs=1, memory_limit_mb=700)) as session:
        loop = _loop(session)
        started = time.monotonic()
        scores, errors = _evaluate(loop, [Sleeper("huge", 3.0)], allocate_objective, **data)
        recorded = time.monotonic()
        assert errors == ["INVALID"] and np.isnan(scores[0][0])
        category, reason = loop.reasons["huge"]
        assert category == "memory" and "restarted" in reason
        # the restarted worker lost the scattered data; the next evaluation scatters it again
        quick, errors = _evaluate(loop, [Sleeper("quick", 0.1)], sleep_objective, **data)
        assert quick == [[0.1]] and errors == [None]
        fault_report(
            recorded_as_memory_after=recorded - started,
            next_evaluation_done_after=time.monotonic() - recorded,
        )
