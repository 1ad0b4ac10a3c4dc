"""Training runs against real backends: an S3 server started here, Prometheus scraped over HTTP,
the command line with --storage and --metrics-backend, a storage server killed mid-write."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import threading
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest
from moto_server import KEY, SECRET, MotoServer
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from automl_tpot import StorageError, Trainer, TrainerConfig, TrainingError
from automl_tpot.cli import DEMO_TARGET, demo_table, main
from automl_tpot.metrics import PrometheusMetrics
from automl_tpot.storage import (
    FilesystemStorage,
    FsspecStorage,
    load_model,
    load_run,
    storage_from_url,
    write_run,
)

TINY = dict(
    target_column=DEMO_TARGET,
    population_size=4,
    generations=1,
    time_left=30,
    per_run_limit=10,
    n_jobs=1,
    cv=3,
    random_state=0,
)
REPORTS = ("evaluated_individuals.json", "tp_pareto_front.json", "leaderboard.json", "model.joblib")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return demo_table()


def test_train_into_s3_then_list_load_and_predict(s3_server, bucket, table, tmp_path):
    storage = s3_server.storage(f"s3://{bucket}/models")
    result = Trainer(TrainerConfig(**TINY), storage=storage).train(table, run_id="s3-run")
    assert result.location == f"s3://{bucket}/models/s3-run"

    # a fresh client, as another process would read it
    reader = s3_server.storage(f"s3://{bucket}/models")
    assert reader.list_runs() == ["s3-run"]
    stored = load_run(reader, "s3-run")
    assert stored.manifest["summary"]["best_score"] == pytest.approx(result.best_score)
    assert stored.manifest["summary"]["alerts"] == []
    assert stored.evaluated_individuals["count"] == len(result.evaluated_individuals)
    rows = table.drop(columns=DEMO_TARGET).head(25)
    model = load_model(reader, "s3-run")
    assert list(model.predict(rows)) == list(result.model.predict(rows))
    assert set(model.predict(rows)) <= {"malignant", "benign"}

    # the bytes in the bucket are the bytes the manifest hashed before storing them
    for name in REPORTS:
        data = reader.read_bytes("s3-run", name)
        assert hashlib.sha256(data).hexdigest() == stored.manifest["artifacts"][name]["sha256"]

    # the same run through the filesystem backend holds the same bytes: every artifact the
    # manifest lists (the explanations' files when their stage finished in time, too)
    local = FilesystemStorage(tmp_path)
    write_run(
        local,
        "s3-run",
        {name: reader.read_bytes("s3-run", name) for name in stored.manifest["artifacts"]},
        reader.read_bytes("s3-run", "run.json"),
    )
    for name in ("evaluated_individuals.json", "tp_pareto_front.json"):
        assert (tmp_path / "s3-run" / name).read_bytes() == reader.read_bytes("s3-run", name)
    assert load_run(local, "s3-run").pareto_front == stored.pareto_front
    assert list(load_model(local, "s3-run").predict(rows)) == list(model.predict(rows))


class _KillAfterFirstArtifact:
    """The real S3 backend; the storage server dies right after the first artifact is stored
    (the checkpoints written after each generation do not count)."""

    def __init__(self, inner: FsspecStorage, server: MotoServer):
        self._inner = inner
        self._server = server
        self.written: list[str] = []

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def write_bytes(self, run_id, name, data):
        self._inner.write_bytes(run_id, name, data)
        if name.startswith("checkpoint"):
            return
        self.written.append(name)
        if len(self.written) == 1:
            self._server.kill()
            self.killed_at = time.monotonic()


@pytest.mark.slow  # 20-80 s of a CI run's time; `pytest -m slow` runs it
def test_storage_server_killed_mid_write(tmp_path, table, fault_report):
    recording = tmp_path / "requests.jsonl"
    server = MotoServer(recording=recording).start()
    try:
        server.create_bucket("crashy")
        url = "s3://crashy/runs"
        storage = _KillAfterFirstArtifact(
            FsspecStorage(url, endpoint_url=server.endpoint, key=KEY, secret=SECRET), server
        )
        registry = CollectorRegistry()
        metrics = PrometheusMetrics(registry)
        trainer = Trainer(TrainerConfig(**TINY), storage=storage, metrics=metrics)
        with pytest.raises(StorageError) as caught:
            trainer.train(table, run_id="doomed")
        error_after = time.monotonic() - storage.killed_at
        message = str(caught.value)
        assert "s3://crashy/runs" in message and server.endpoint in message
        assert "Could not connect" in message
        assert SECRET not in message
        assert storage.written == ["model.joblib"]
        assert registry.get_sample_value("training_runs_total", {"status": "failed"}) == 1

        # bring the server back with everything the dead one had received
        restarted = MotoServer(server.port, recording=recording).start()
        try:
            restarted.replay()
            reader = restarted.storage(url)
            # the first artifact did reach the server; the manifest never did
            assert reader.exists("doomed", "model.joblib")
            assert not reader.exists("doomed", "run.json")
            assert reader.list_runs() == []
            assert reader.list_unfinished() == ["doomed"]  # its checkpoint stayed: resumable
            with pytest.raises(StorageError, match="no complete run 'doomed'"):
                load_run(reader, "doomed")
            fault_report(kill_to_storage_error=error_after, kept="model.joblib (no run.json)")
        finally:
            restarted.stop()
    finally:
        server.stop()


def _scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_prometheus_scraped_during_and_after_a_run_cut_by_its_budget(tmp_path, table, monkeypatch):
    # the budget must end this run: on this small table the search could otherwise converge
    # first and finish early (no timeout alert then)
    monkeypatch.setattr("automl_tpot.search.hooks.MIN_GENERATIONS", 1000)
    config = TrainerConfig(**{**TINY, "generations": 50, "time_left": 25})
    registry = CollectorRegistry()
    with PrometheusMetrics(registry, port=0) as metrics:
        trainer = Trainer(config, storage=FilesystemStorage(tmp_path), metrics=metrics)
        scrapes: list[dict] = []
        finished = threading.Event()

        def scraper():  # a Prometheus server's view: GET /metrics over and over
            while not finished.is_set():
                scrapes.append(_scrape(metrics.port))
                finished.wait(0.2)

        def on_generation(event):
            if event.generation == 1:
                # a fallback raised by other machinery mid-run travels the same way
                trainer.alert("parallel_fallback", "test: Dask scheduler unreachable, n_jobs=1")

        thread = threading.Thread(target=scraper)
        thread.start()
        try:
            result = trainer.train(table, run_id="scraped", progress=on_generation)
        finally:
            finished.set()
            thread.join()
        after = _scrape(metrics.port)

    # scrapes taken while the run was still going on, after its first generation
    during = [
        s
        for s in scrapes
        if s.get(("training_in_progress", ())) == 1 and s.get(("tp_generations", ())) >= 1
    ]
    assert during, f"no live scrape among {len(scrapes)}"
    live = during[0]
    assert live[("training_in_progress", ())] == 1
    assert live[("tp_generations", ())] >= 1
    assert live[("tp_population_size", ())] == 4
    assert live[("tp_evaluations", ())] >= 1
    assert 0.5 < live[("training_best_score", (("metric", "roc_auc"),))] <= 1.0
    assert 0 < live[("training_duration_seconds", (("mode", "tpot"),))] < 60
    assert ("training_runs_total", (("status", "complete"),)) not in live

    assert result.stopped_by == "time_left" and result.generations_completed < 50
    assert after[("training_in_progress", ())] == 0
    assert after[("training_runs_total", (("status", "complete"),))] == 1
    assert after[("tp_generations", ())] == result.generations_completed
    assert after[("tp_pareto_front_size", ())] == len(result.pareto_front) >= 1
    best = after[("training_best_score", (("metric", "roc_auc"),))]
    assert best == pytest.approx(result.best_score)
    assert after[("training_duration_seconds", (("mode", "tpot"),))] == pytest.approx(
        result.timings["total"]
    )
    assert after[("tpot_alerts_total", (("kind", "timeout"),))] == 1
    assert after[("tpot_alerts_total", (("kind", "parallel_fallback"),))] == 1
    assert after[("tpot_parallel_fallbacks_total", ())] == 1

    manifest = json.loads((tmp_path / "scraped" / "run.json").read_bytes())
    kinds = [a["kind"] for a in manifest["summary"]["alerts"]]
    assert sorted(kinds) == ["parallel_fallback", "timeout"]
    timeout = next(a for a in manifest["summary"]["alerts"] if a["kind"] == "timeout")
    assert f"after {result.generations_completed} of 50 generations" in timeout["reason"]


def test_cli_trains_into_s3_from_the_environment_and_predicts_from_the_run_url(
    s3_server, bucket, monkeypatch, tmp_path, table
):
    from moto_server import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    port = free_port()
    out, err = io.StringIO(), io.StringIO()
    argv = [
        "train",
        "--demo",
        "--storage",
        f"s3://{bucket}/cli",
        "--run-id",
        "cli-run",
        "--metrics-backend",
        "prometheus",
        "--metrics-port",
        str(port),
        "--population-size",
        "4",
        "--generations",
        "1",
        "--time-left",
        "30",
        "--n-jobs",
        "1",
        "--cv",
        "3",
        "--random-state",
        "0",
        "--quiet",
    ]
    scrapes: list[dict] = []
    finished = threading.Event()

    def scraper():
        while not finished.is_set():
            with contextlib.suppress(OSError):  # not up yet, or already closed
                scrapes.append(_scrape(port))
            finished.wait(0.1)

    thread = threading.Thread(target=scraper)
    thread.start()
    try:
        assert main(argv, out=out, err=err) == 0, err.getvalue()
    finally:
        finished.set()
        thread.join()
    assert f"metrics on http://127.0.0.1:{port}/metrics" in err.getvalue()
    assert f"s3://{bucket}/cli/cli-run" in out.getvalue()
    assert any(s.get(("tp_generations", ())) == 1 for s in scrapes), len(scrapes)
    with pytest.raises(OSError):  # the command closed its server on the way out
        _scrape(port)
    assert storage_from_url(f"s3://{bucket}/cli").list_runs() == ["cli-run"]

    rows = tmp_path / "rows.csv"
    table.drop(columns=DEMO_TARGET).head(10).to_csv(rows, index=False)
    predictions = tmp_path / "predictions.csv"
    assert (
        main(
            ["predict", f"s3://{bucket}/cli/cli-run", str(rows), "-o", str(predictions)],
            out=out,
            err=err,
        )
        == 0
    ), err.getvalue()
    frame = pd.read_csv(predictions)
    assert len(frame) == 10 and set(frame["prediction"]) <= {"malignant", "benign"}
    assert np.allclose(frame["proba_benign"] + frame["proba_malignant"], 1.0)

    # an incomplete or missing run is refused with a one-line error
    assert main(["predict", f"s3://{bucket}/cli/nope", str(rows)], out=out, err=err) == 2
    assert "not a complete run" in err.getvalue()


def test_a_worker_over_its_memory_limit_raises_an_oom_alert(tmp_path, table, caplog):
    import dask
    from memory_hog import MemoryHog
    from tpot.search_spaces.nodes import EstimatorNode

    # no ensemble stage: every pipeline fails, and the search keeps the stage's share of time
    config = TrainerConfig(
        **{
            **TINY,
            "search_space": EstimatorNode(MemoryHog, {}),
            "memory_limit_mb": 500,
            "ensemble": False,
        }
    )
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    trainer = Trainer(config, storage=FilesystemStorage(tmp_path), metrics=metrics)
    # one death per task is enough to call it: do not retry a pipeline on fresh workers
    no_retries = dask.config.set({"distributed.scheduler.allowed-failures": 0})
    with no_retries, pytest.raises(TrainingError):
        trainer.train(table, run_id="hog")
    assert registry.get_sample_value("tpot_alerts_total", {"kind": "oom"}) == 1
    assert registry.get_sample_value("training_runs_total", {"status": "failed"}) == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("alert oom:" in m and "500 MiB" in m for m in warnings), warnings
    assert FilesystemStorage(tmp_path).list_runs() == []
