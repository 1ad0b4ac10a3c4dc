"""The TrainingService integration end to end: the example host app (SQLite, worker threads) runs
jobs through ``run_for_job`` on real data; the AutoML fallback on real search failures; invalid
payloads rejected before training; cancellation and timeouts; the 64 KB ``details``.

Every test name holds ``tpot``: ``pytest tests/test_training_service.py -k tpot`` runs them all.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from automl_tpot import (
    ConfigError,
    FilesystemStorage,
    JobCancelled,
    JobFailed,
    JobRejected,
    PrometheusMetrics,
    load_model,
    load_run,
)
from automl_tpot.jobs import DETAILS_LIMIT, FAILURE, details_json, read_failure, run_for_job
from automl_tpot.run.fallback import FALLBACK_ENV, fallback_enabled

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "training_service"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from training_service import TrainingService  # noqa: E402  (the example host app)

pytestmark = pytest.mark.usefixtures("no_leaked_processes")

ARTIFACTS = {
    "model.joblib",
    "leaderboard.json",
    "tp_pareto_front.json",
    "evaluated_individuals.json",
    "signature.json",
    "run.json",
}
RECORD_FIELDS = {
    "status",
    "run_id",
    "dataset_id",
    "task",
    "metric",
    "best_pipeline",
    "best_score",
    "leaderboard_top5",
    "leaderboard_topk",
    "tp_generations",
    "tp_population_size",
    "parallel_mode",
    "memory_limit_mb",
    "durations",
    "location",
    "artifacts",
    "alerts",
    "fallback_reason",
    "error",
    "details",
}
SMALL = {
    "generations": 2,
    "population_size": 6,
    "time_left": 40,
    "per_run_limit": 10,
    "cv": 3,
    "random_state": 0,
}
#: A config dict whose only estimator cannot fit tables with negative values.
NAIVE_BAYES_ONLY = {"sklearn.naive_bayes.MultinomialNB": {"alpha": [0.5, 1.0]}}


@pytest.fixture
def make_service(tmp_path):
    """A TrainingService on a fresh SQLite file and run folder, isolated from os.environ."""
    services = []

    def make(**options) -> TrainingService:
        options.setdefault("env", {})
        options.setdefault("overrides", {"n_jobs": 1})
        service = TrainingService(tmp_path / "service.db", tmp_path / "runs", **options)
        services.append(service)
        return service

    yield make
    for service in services:
        service.stop(cancel_running=True)


def _negative(table):
    """The table with its first numeric column negated: MultinomialNB refuses it."""
    return table.assign(**{"mean radius": -table["mean radius"]})


def _check_details(record) -> dict:
    assert isinstance(record["details"], str)
    assert len(record["details"].encode("utf-8")) <= DETAILS_LIMIT
    details = json.loads(record["details"])
    assert details["evaluations"] == details["included"] + details["omitted"]
    return details


# --- the host app, end to end ------------------------------------------------------------------


def test_tpot_host_app_runs_a_classification_and_a_regression_job_at_once(
    make_service, cancer_table, diabetes_table, tmp_path
):
    service = make_service()
    cancer = service.register_dataset(cancer_table, name="breast-cancer")
    csv = tmp_path / "diabetes.csv"
    diabetes_table.to_csv(csv, index=False)
    diabetes = service.register_dataset(csv)
    classification = service.submit(
        {"dataset_id": cancer, "target_column": "diagnosis", "metric": "accuracy", **SMALL}
    )
    regression = service.submit(
        {"dataset_id": diabetes, "target_column": "target", "task": "regression", **SMALL}
    )
    service.start(workers=2)  # both jobs at once, in two threads of this process

    rows = {job: service.wait(job, timeout=150) for job in (classification, regression)}
    assert {row["status"] for row in rows.values()} == {"complete"}, rows
    started = sorted((r["started_at"], r["finished_at"]) for r in rows.values())
    assert started[1][0] <= started[0][1], "the two jobs did not overlap"

    records = {job: service.training_run(job) for job in rows}
    assert records[classification]["run_id"] != records[regression]["run_id"]
    for job, record in records.items():
        assert set(record) >= RECORD_FIELDS
        assert record["status"] == "complete" and record["error"] is None
        assert record["run_id"] == rows[job]["run_id"]
        assert record["tp_generations"] == 2 and record["tp_population_size"] == 6
        assert record["parallel_mode"] == {"requested": "local", "used": "local", "n_workers": 1}
        assert record["memory_limit_mb"] is None
        assert record["durations"]["total"] >= record["durations"]["train"] > 0
        assert record["durations"]["phases"]["search"] > 0
        assert 1 <= len(record["leaderboard_top5"]) <= 5
        top = record["leaderboard_topk"][0]
        if record["best_pipeline"].startswith("Ensemble("):  # an average scored better
            assert record["best_score"] > top["score"]
        else:
            assert top["score"] == pytest.approx(record["best_score"])
            assert top["pipeline"] == record["best_pipeline"]
        assert set(record["artifacts"]) == ARTIFACTS
        assert all(Path(address).is_file() for address in record["artifacts"].values())
        details = _check_details(record)
        assert details["included"] == record["tp_evaluations"] >= 6 and not details["truncated"]
        assert {m["id"] for m in details["pareto_front"]} <= {
            r["id"] for r in details["evaluated_individuals"]
        }
        manifest = load_run(service.storage, record["run_id"]).manifest
        assert manifest["status"] == "complete"
        assert manifest["summary"]["best_pipeline"] == record["best_pipeline"]
        json.dumps(record, allow_nan=False)  # JSON-safe as it is

    cancer_record, diabetes_record = records[classification], records[regression]
    assert cancer_record["task"] == "classification" and cancer_record["metric"] == "accuracy"
    assert diabetes_record["task"] == "regression" and diabetes_record["metric"] == "r2"
    model = load_model(service.storage, cancer_record["run_id"])
    assert set(model.predict(cancer_table.drop(columns="diagnosis").head(25))) <= {
        "benign",
        "malignant",
    }
    assert model.score(cancer_table, cancer_table["diagnosis"]) > 0.85
    predictions = load_model(service.storage, diabetes_record["run_id"]).predict(
        diabetes_table.drop(columns="target").head(5)
    )
    assert predictions.dtype == float and predictions.shape == (5,)

    # The real run's evaluations trimmed to a small limit: whole records, best and Pareto kept.
    stored = load_run(service.storage, cancer_record["run_id"])
    individuals = stored.evaluated_individuals["individuals"]
    front = stored.pareto_front["front"]
    best_ids = [e["id"] for e in stored.leaderboard["entries"]]
    full = len(details_json(individuals, front, keep_ids=best_ids).encode())
    limit = full // 2
    trimmed = json.loads(details_json(individuals, front, keep_ids=best_ids, limit=limit))
    assert trimmed["truncated"] and 0 < trimmed["omitted"] < len(individuals)
    kept = {r["id"] for r in trimmed["evaluated_individuals"]}
    assert best_ids[0] in kept and {m["id"] for m in front} <= kept
    assert all(r in individuals for r in trimmed["evaluated_individuals"])


def test_tpot_details_of_a_run_with_many_evaluations_stay_within_64_kb():
    pipelines = [
        "StandardScaler() -> LogisticRegression(C=%0.3f, penalty='l2', max_iter=2000)" % (i / 7)
        for i in range(6000)
    ]
    records = [
        {
            "id": i,
            "pipeline": pipelines[i],
            "status": "ok" if i % 5 else "failed",
            "error": None if i % 5 else "ValueError: " + "x" * 80,
            "score": (i % 997) / 997 if i % 5 else None,
            "metric": "roc_auc",
            "complexity": float(i % 13),
            "generation": i // 40,
            "parents": [i - 1, i - 2],
            "variation": "mutate",
            "pareto_front": None,
            "submitted_at": 1.7e9 + i,
            "completed_at": 1.7e9 + i + 0.5,
            "eval_seconds": 0.5,
        }
        for i in range(6000)
    ]
    front = [
        {
            "id": i,
            "pipeline": pipelines[i],
            "score": records[i]["score"],
            "complexity": records[i]["complexity"],
            "generation": records[i]["generation"],
        }
        for i in (996, 1993, 4985)
    ]
    best = [996, 1993, 2990, 3987, 4984]
    text = details_json(records, front, keep_ids=best)
    assert len(text.encode("utf-8")) <= DETAILS_LIMIT
    details = json.loads(text)
    assert details["evaluations"] == 6000 and details["truncated"]
    assert details["omitted"] == 6000 - len(details["evaluated_individuals"]) > 5000
    kept = {r["id"] for r in details["evaluated_individuals"]}
    assert set(best) <= kept and {m["id"] for m in front} <= kept
    assert details["pareto_front"] == front
    assert all(
        r == records[r["id"]] for r in details["evaluated_individuals"]
    )  # whole records only
    ok_scores = [r["score"] for r in details["evaluated_individuals"] if r["status"] == "ok"]
    dropped_best = max(r["score"] for r in records if r["status"] == "ok" and r["id"] not in kept)
    assert min(ok_scores) >= dropped_best  # the better evaluations are the ones kept


_RECORD = st.fixed_dictionaries(
    {
        "id": st.integers(0, 10**6),
        "pipeline": st.text(max_size=300),
        "status": st.sampled_from(["ok", "failed", "timeout", "not_finished"]),
        "score": st.one_of(st.none(), st.floats(-1e6, 1e6)),
    }
)


@settings(max_examples=60, deadline=None)
@given(st.lists(_RECORD, max_size=60, unique_by=lambda r: r["id"]), st.integers(200, 6000))
def test_tpot_details_never_exceed_the_limit_and_are_always_valid_json(records, limit):
    front = [{"id": r["id"], "score": r["score"]} for r in records[:3]]
    text = details_json(records, front, keep_ids=[r["id"] for r in records[:2]], limit=limit)
    assert len(text.encode("utf-8")) <= limit
    details = json.loads(text)
    assert details["included"] + details["omitted"] == len(records)
    assert all(r in records for r in details["evaluated_individuals"])


# --- invalid payloads --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "loads_data"),
    [
        ({"learning_rate": 0.1}, "learning_rate", False),  # unknown key
        ({"generations": "ten"}, "generations", False),  # wrong type
        ({"time_left": -5}, "time_left", False),
        ({"metric": "accuracy_score"}, "metric", False),
        ({"search_space": "no-such-space"}, "search_space", False),
        ({"search_space": {"sklearn.nothing.Here": {}}}, "search_space", False),  # config dict
        ({"dataset_id": None}, "dataset_id", False),
        ({"target_column": None}, "target_column", False),
        ({"dataset_id": "ds-missing"}, None, True),  # no such dataset
        ({"target_column": "Revenue"}, None, True),  # not a column of the table
        ({"search_space": {"sklearn.linear_model.Ridge": {}}}, "search_space", True),  # wrong task
    ],
)
def test_tpot_invalid_payloads_are_rejected_before_training_with_a_stored_failure(
    tmp_path, cancer_table, change, field, loads_data
):
    storage = FilesystemStorage(tmp_path / "runs")
    loaded = []

    def load_dataset(dataset_id):
        loaded.append(dataset_id)
        return {"ds-1": cancer_table}[dataset_id]

    payload = {"dataset_id": "ds-1", "target_column": "diagnosis", **SMALL, **change}
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload, load_dataset=load_dataset, storage=storage, env={}, run_id="bad-job", n_jobs=1
        )
    record = caught.value.record
    assert record["status"] == "failed" and record["error"]["stage"] == "validation"
    assert "train" not in record["durations"]  # rejected before any training
    assert bool(loaded) == loads_data
    if field is not None:
        assert record["error"]["type"] == "ConfigError" and record["error"]["field"] == field
        assert isinstance(caught.value.__cause__, ConfigError)
    else:
        assert record["error"]["type"] == "DataError"
        assert ("does not exist" if "missing" in str(change) else "Revenue") in record["error"][
            "message"
        ]
    assert read_failure(storage, "bad-job") == json.loads(json.dumps(record))
    assert set(record["artifacts"]) == {FAILURE}
    assert storage.list_runs() == [] and not storage.exists("bad-job", "run.json")


def test_tpot_host_app_stores_a_failed_training_run_for_a_bad_payload(make_service, cancer_table):
    service = make_service()
    dataset = service.register_dataset(cancer_table)
    job = service.submit(
        {"dataset_id": dataset, "target_column": "diagnosis", "generations": "many"}
    )
    record = service.run_for_job(job)
    row = service.job(job)
    assert row["status"] == "failed" and row["error"].startswith("JobRejected")
    assert record["status"] == "failed" and record["error"]["field"] == "generations"
    assert service.training_run(job) == record
    assert read_failure(service.storage, row["run_id"])["error"]["field"] == "generations"


# --- the AutoML fallback -----------------------------------------------------------------------


def _assert_fallback_run(storage, record, table, target):
    assert record["status"] == "fallback" and record["error"] is None
    assert record["fallback_reason"]
    assert "HistGradientBoosting" in record["best_pipeline"]
    assert [a["kind"] for a in record["alerts"]].count("automl_fallback") == 1
    assert record["parallel_mode"]["used"] == "in_process"
    assert set(record["artifacts"]) == ARTIFACTS
    stored = load_run(storage, record["run_id"])
    assert stored.manifest["status"] == "fallback"
    assert stored.manifest["summary"]["stopped_by"] == "fallback"
    assert "automl_fallback" in [a["kind"] for a in stored.manifest["summary"]["alerts"]]
    assert stored.leaderboard["entries"][0]["pipeline"] == record["best_pipeline"]
    assert stored.leaderboard["entries"][0]["score"] == pytest.approx(record["best_score"])
    assert _check_details(record)["evaluated_individuals"][0]["variation"] == "fallback"
    model = load_model(storage, record["run_id"])
    assert model.score(table, table[target]) > 0.8
    return stored


def test_tpot_search_space_that_cannot_fit_the_data_falls_back_to_the_baseline(
    make_service, cancer_table
):
    registry = CollectorRegistry()
    service = make_service(env={FALLBACK_ENV: "1"}, metrics=PrometheusMetrics(registry))
    table = _negative(cancer_table)
    dataset = service.register_dataset(table)
    job = service.submit(
        {
            "dataset_id": dataset,
            "target_column": "diagnosis",
            **SMALL,
            "search_space": NAIVE_BAYES_ONLY,
        }
    )
    record = service.run_for_job(job)
    assert service.job(job)["status"] == "fallback"
    assert service.training_run(job) == record
    assert "no pipeline could be evaluated" in record["fallback_reason"]
    assert "Negative values in data passed to MultinomialNB" in record["fallback_reason"]
    assert re.search(r"evaluated: [1-9]\d* failed, 0 over the", record["fallback_reason"])
    _assert_fallback_run(service.storage, record, table, "diagnosis")
    value = registry.get_sample_value
    assert value("tpot_alerts_total", {"kind": "automl_fallback"}) == 1
    assert value("training_runs_total", {"status": "failed"}) == 1  # the search
    assert value("training_runs_total", {"status": "fallback"}) == 1  # the job


def test_tpot_search_failure_without_fallback_fails_the_job_with_a_stored_record(
    tmp_path, cancer_table
):
    storage = FilesystemStorage(tmp_path / "runs")
    payload = {
        "dataset_id": "t",
        "target_column": "diagnosis",
        **SMALL,
        "search_space": NAIVE_BAYES_ONLY,
    }
    with pytest.raises(JobFailed) as caught:
        run_for_job(
            payload,
            load_dataset=lambda _: _negative(cancer_table),
            storage=storage,
            env={FALLBACK_ENV: "true"},
            enable_fallback=False,
            run_id="no-fallback",
            n_jobs=1,
        )
    record = caught.value.record
    assert record["status"] == "failed" and record["error"]["stage"] == "training"
    assert record["error"]["type"] == "TrainingError" and record["durations"]["train"] > 0
    assert read_failure(storage, "no-fallback")["error"]["type"] == "TrainingError"
    assert storage.list_runs() == [] and not storage.exists("no-fallback", "model.joblib")


def test_tpot_budget_too_short_for_an_evaluation_falls_back(tmp_path, diabetes_table):
    storage = FilesystemStorage(tmp_path / "runs")
    payload = {"dataset_id": "d", "target_column": "target", **SMALL, "time_left": 1.5}
    record = run_for_job(
        payload,
        load_dataset=lambda _: diabetes_table,
        storage=storage,
        env={FALLBACK_ENV: "yes"},
        n_jobs=1,
    )
    assert "time_left" in record["fallback_reason"]
    assert record["task"] == "regression" and record["metric"] == "r2"
    assert "HistGradientBoostingRegressor" in record["best_pipeline"]
    assert record["status"] == "fallback" and set(record["artifacts"]) == ARTIFACTS
    assert load_model(storage, record["run_id"]).predict(diabetes_table.head(3)).shape == (3,)


def _dead_scheduler_file(tmp_path) -> Path:
    """Start a real Dask scheduler, let it write its file, then kill it: the cluster is gone."""
    scheduler_file = tmp_path / "scheduler.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--scheduler-file",
            str(scheduler_file),
            "--no-dashboard",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while (
            not (scheduler_file.is_file() and scheduler_file.stat().st_size)
            and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert scheduler_file.is_file(), "the Dask scheduler did not start"
    finally:
        process.kill()
        process.wait(30)
    return scheduler_file


def test_tpot_lost_dask_cluster_falls_back_to_the_baseline(tmp_path, cancer_table):
    scheduler_file = _dead_scheduler_file(tmp_path)
    storage = FilesystemStorage(tmp_path / "runs")
    payload = {
        "dataset_id": "c",
        "target_column": "diagnosis",
        **SMALL,
        "parallel_mode": "distributed",
    }
    # With the parallel fallback on, the watchdog would carry on locally (tests/test_parallel.py);
    # off, the lost cluster fails the search and the AutoML fallback takes over.
    env = {
        "TPOT__DASK_SCHEDULER_FILE": str(scheduler_file),
        "TPOT__PARALLEL_FALLBACK": "false",
        FALLBACK_ENV: "on",
    }
    record = run_for_job(
        payload, load_dataset=lambda _: cancer_table, storage=storage, env=env, n_jobs=1
    )
    assert record["parallel_mode"]["requested"] == "distributed"
    assert "scheduler" in record["fallback_reason"]
    _assert_fallback_run(storage, record, cancer_table, "diagnosis")


def test_tpot_search_where_no_evaluation_finishes_in_time_falls_back(tmp_path, cancer_table):
    storage = FilesystemStorage(tmp_path / "runs")
    slow_forest = {"sklearn.ensemble.ExtraTreesClassifier": {"n_estimators": [20000]}}
    payload = {
        "dataset_id": "c",
        "target_column": "diagnosis",
        **SMALL,
        "time_left": 12,
        "per_run_limit": 3,
        "search_space": slow_forest,
    }
    record = run_for_job(
        payload,
        load_dataset=lambda _: cancer_table,
        storage=storage,
        enable_fallback=True,
        env={},
        n_jobs=1,
    )
    assert "could be evaluated" in record["fallback_reason"]
    # TPOT reports the cut-off evaluation as timed out, or as failed when its worker-side
    # timeout interrupts the fit: either way nothing finished within the 3 s limit.
    assert re.search(
        r"1 pipeline\(s\) evaluated: \d failed, \d over the 3s", record["fallback_reason"]
    )
    _assert_fallback_run(storage, record, cancer_table, "diagnosis")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", True),
        ("true", True),
        ("On", True),
        ("yes", True),
        ("0", False),
        ("false", False),
        ("", False),
    ],
)
def test_tpot_fallback_switch_reads_the_environment(value, expected):
    assert fallback_enabled(None, {FALLBACK_ENV: value}) is expected
    assert fallback_enabled(not expected, {FALLBACK_ENV: value}) is (not expected)  # code wins
    assert fallback_enabled(None, {}) is False


def test_tpot_fallback_switch_rejects_unclear_values():
    with pytest.raises(ConfigError) as caught:
        fallback_enabled(None, {FALLBACK_ENV: "maybe"})
    assert caught.value.field == FALLBACK_ENV


# --- cancellation and timeouts ------------------------------------------------------------------

LONG = {**SMALL, "generations": 200, "time_left": 40}


def test_tpot_cancelled_job_leaves_a_failure_record_and_no_complete_run(make_service, cancer_table):
    service = make_service(enable_fallback=True)  # a cancelled job must not fall back either
    dataset = service.register_dataset(cancer_table)
    job = service.submit({"dataset_id": dataset, "target_column": "diagnosis", **LONG})
    service.start(workers=1)
    deadline = time.monotonic() + 30
    while service.job(job)["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(4)  # well into the search
    assert service.cancel(job)
    row = service.wait(job, timeout=60)
    assert row["status"] == "cancelled" and row["error"].startswith("JobCancelled")
    record = service.training_run(job)
    assert record["status"] == "failed" and record["error"]["stage"] == "cancelled"
    assert (
        record["error"]["type"] == "TrainingCancelled" and "cancelled" in record["error"]["message"]
    )
    assert service.storage.list_runs() == []
    assert not service.storage.exists(row["run_id"], "run.json")
    assert read_failure(service.storage, row["run_id"])["error"]["stage"] == "cancelled"
    assert not service.cancel(job)  # finished: nothing to cancel


def test_tpot_job_cancelled_mid_search_stops_at_the_next_budget_check(tmp_path, cancer_table):
    cancel = threading.Event()
    seen, cancelled_at = [], []  # generations reported; the generation that cancelled

    def progress(event):
        seen.append(event.generation)
        if event.generation >= 2 and not cancel.is_set():
            cancelled_at.append(event.generation)
            cancel.set()

    storage = FilesystemStorage(tmp_path / "runs")
    with pytest.raises(JobCancelled) as caught:
        run_for_job(
            {"dataset_id": "c", "target_column": "diagnosis", **LONG},
            load_dataset=lambda _: cancer_table,
            storage=storage,
            env={},
            cancel=cancel,
            progress=progress,
            run_id="mid",
            n_jobs=1,
            enable_fallback=True,
        )
    assert cancelled_at, f"the search never reached generation 2: {seen}"
    # TPOT stopped at its next budget check: the generation running at the cancel was its last.
    assert max(seen) <= cancelled_at[0] + 1, seen
    assert caught.value.record["error"]["message"] == "the job was cancelled"
    assert storage.list_runs() == [] and not storage.exists("mid", "run.json")
    assert read_failure(storage, "mid")["error"]["stage"] == "cancelled"


def test_tpot_job_past_its_timeout_is_stopped_without_a_complete_run(tmp_path, cancer_table):
    storage = FilesystemStorage(tmp_path / "runs")
    with pytest.raises(JobCancelled) as caught:
        run_for_job(
            {"dataset_id": "c", "target_column": "diagnosis", **LONG},
            load_dataset=lambda _: cancer_table,
            storage=storage,
            env={},
            timeout=6,
            run_id="too-slow",
            n_jobs=1,
        )
    assert "timeout of 6s" in caught.value.record["error"]["message"]
    assert storage.list_runs() == [] and not storage.exists("too-slow", "model.joblib")
    assert read_failure(storage, "too-slow")["status"] == "failed"


def test_tpot_job_cancelled_before_it_starts_never_trains(tmp_path, cancer_table):
    cancel = threading.Event()
    cancel.set()
    loaded = []
    with pytest.raises(JobCancelled) as caught:
        run_for_job(
            {"dataset_id": "c", "target_column": "diagnosis", **SMALL},
            load_dataset=lambda d: loaded.append(d) or cancer_table,
            storage=FilesystemStorage(tmp_path),
            env={},
            cancel=cancel,
            run_id="early",
        )
    assert loaded == [] and "train" not in caught.value.record["durations"]
    assert read_failure(FilesystemStorage(tmp_path), "early")["error"]["stage"] == "cancelled"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout": 0}, "timeout"),
        ({"cancel": "stop"}, "cancel"),
        ({"env": {FALLBACK_ENV: "maybe"}}, FALLBACK_ENV),
        ({"run_id": "../escape"}, "run_id"),
    ],
)
def test_tpot_bad_job_arguments_are_rejected_before_loading_data(
    tmp_path, cancer_table, options, field
):
    loaded = []
    arguments = {"env": {}, "storage": FilesystemStorage(tmp_path / "runs"), **options}
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            {"dataset_id": "c", "target_column": "diagnosis", **SMALL},
            load_dataset=lambda d: loaded.append(d) or cancer_table,
            **arguments,
        )
    assert caught.value.record["error"]["field"] == field and loaded == []
    assert FilesystemStorage(tmp_path / "runs").list_runs() == []


def test_tpot_cancel_while_artifacts_are_written_leaves_no_run(tmp_path, wine_table):
    from automl_tpot import StorageError, Trainer, TrainerConfig
    from automl_tpot.jobs.guards import GuardedStorage
    from automl_tpot.run.fallback import train_baseline

    config = TrainerConfig(target_column="target", cv=3, n_jobs=1, random_state=0)
    result = train_baseline(wine_table, config, reason="test")
    storage = FilesystemStorage(tmp_path / "runs")
    # The cancel arrives once the first artifact is on disk, in the middle of write_run.
    cancelled = lambda: (tmp_path / "runs" / "late" / "model.joblib").is_file()  # noqa: E731
    trainer = Trainer(config, storage=GuardedStorage(storage, cancelled))
    with pytest.raises(StorageError, match="stopped"):
        trainer.save(result, "late", status="fallback")
    assert storage.list_runs() == [] and not (tmp_path / "runs" / "late").exists()
    saved = Trainer(config, storage=storage).save(result, "on-time", status="fallback")
    assert load_run(storage, "on-time").manifest["status"] == "fallback"
    assert saved.location == storage.location("on-time")


def test_tpot_service_queues_again_the_jobs_a_dead_process_left_running(make_service, cancer_table):
    service = make_service()
    dataset = service.register_dataset(cancer_table)
    job = service.submit({"dataset_id": dataset, "target_column": "diagnosis", **SMALL})
    # the state a killed host leaves: the job running under its run id (with, in storage, the
    # run's last checkpoint; tests/test_resume_processes.py kills a real one and resumes it)
    with service._db() as db:
        db.execute("UPDATE jobs SET status = 'running', run_id = 'job1-left' WHERE id = ?", (job,))
    assert service.recover() == [job]
    row = service.job(job)
    assert (row["status"], row["run_id"]) == ("queued", "job1-left")
    claimed = service._claim(job)
    assert claimed["status"] == "running" and claimed["run_id"] == "job1-left"  # it resumes
    assert service.recover() == [job]  # nothing of this process runs it
    assert not service.finish(job)  # not running here: nothing to finish
