"""Checkpoints and resume: a run that ends without a model (killed, aborted, its host gone)
continues from its last checkpoint; stop-and-keep finishes a run early with the best pipeline.

These run in-process and fast: a run is aborted the way the command line's second Ctrl-C aborts
one (``RunAborted``, which TPOT does not swallow), here raised from the progress callback after
a chosen generation. ``tests/test_resume_processes.py`` does the same with real process kills
and signals (slow).
"""

from __future__ import annotations

import json
import shutil
import threading
import time

import pytest

from automl_tpot import (
    ConfigError,
    FilesystemStorage,
    JobRejected,
    ResumeError,
    RunAborted,
    StorageError,
    Trainer,
    TrainerConfig,
    load_model,
    load_run,
    unfinished_runs,
)
from automl_tpot.jobs import run_for_job
from automl_tpot.records.checkpoint import CheckpointFile
from automl_tpot.records.validation import validate
from automl_tpot.run.checkpoints import Checkpoint, read_checkpoint
from automl_tpot.storage.unfinished import read_pointer
from automl_tpot.tpot_boundary.estimator import COMPLEXITY

pytestmark = pytest.mark.usefixtures("no_leaked_processes")

SETTINGS = dict(
    target_column="diagnosis",
    time_left=60,
    per_run_limit=10,
    generations=4,
    population_size=6,
    cv=3,
    n_jobs=1,
    random_state=0,
    search_space="linear-light",
)


def _abort_after(generation: int, seen: list[int] | None = None):
    def progress(event):
        if seen is not None:
            seen.append(event.generation)
        if event.generation == generation:
            raise RunAborted(f"test abort after generation {generation}")

    return progress


@pytest.fixture(scope="module")
def aborted(tmp_path_factory, cancer_table):
    """A run aborted right after its second generation's checkpoint: ``(folder, seconds)``."""
    root = tmp_path_factory.mktemp("aborted")
    started = time.monotonic()
    with pytest.raises(RunAborted):
        Trainer(TrainerConfig(**SETTINGS), storage=FilesystemStorage(root)).train(
            cancer_table, run_id="r", progress=_abort_after(2)
        )
    return root, time.monotonic() - started


@pytest.fixture
def runs(aborted, tmp_path):
    """A copy of the aborted run's storage, for one test to change."""
    shutil.copytree(aborted[0], tmp_path / "runs")
    return FilesystemStorage(tmp_path / "runs")


def _checkpoint(storage, run_id="r") -> Checkpoint:
    pointer = read_pointer(storage, run_id)
    return read_checkpoint(storage, run_id, pointer)[0]


def test_an_aborted_run_is_unfinished_and_never_a_run(runs):
    assert runs.list_runs() == []
    with pytest.raises(StorageError, match="no complete run"):
        load_run(runs, "r")
    (unfinished,) = unfinished_runs(runs)
    assert unfinished.run_id == "r" and unfinished.generations_completed == 2
    assert unfinished.attempt == 1 and unfinished.evaluations >= 6 and unfinished.best_score > 0.5
    pointer = json.loads(runs.read_bytes("r", "checkpoint.json"))
    validate(pointer, "checkpoint")
    assert pointer["payload"]["name"] == "checkpoint-0002.pkl"
    assert pointer["previous"]["name"] == "checkpoint-0001.pkl"
    assert sorted(p.name for p in runs.run_path("r").iterdir()) == [
        "checkpoint-0001.pkl",
        "checkpoint-0002.pkl",
        "checkpoint.json",
    ]
    checkpoint = _checkpoint(runs)
    assert checkpoint.generations_completed == 2 and checkpoint.seed == 0
    assert checkpoint.config["population_size"] == 6
    (attempt,) = checkpoint.attempts
    assert attempt.attempt == 1 and attempt.outcome == "unfinished"
    assert set(attempt.timings) >= {"validate", "cluster_start", "prepare", "search"}


def test_a_resumed_run_continues_without_evaluating_anything_again(runs, cancer_table):
    before = _checkpoint(runs)
    earlier = {
        r.pipeline: r
        for r in before.snapshot.history(COMPLEXITY).records(metric="roc_auc")
        if r.status != "not_finished"
    }
    seen: list[int] = []
    resumed_at = time.time()
    # the cluster's settings may change on a resume: this one evaluates in worker processes
    config = TrainerConfig(**{**SETTINGS, "worker_threads": False})
    result = Trainer(config, storage=runs).train(
        cancer_table, resume="r", progress=lambda event: seen.append(event.generation)
    )
    assert "worker_threads" not in result.parallel
    assert seen == [3, 4]  # the generations go on counting
    assert result.generations_completed == 4 and result.stopped_by == "generations"

    stored = load_run(runs, "r")
    manifest = stored.manifest
    assert manifest["status"] == "complete"
    resume = manifest["summary"]["resume"]
    assert resume["resumed_from_generation"] == 2 and resume["resumes"] == 1
    first, second = resume["attempts"]
    assert (first["outcome"], second["outcome"]) == ("interrupted", "complete")
    assert (second["from_generation"], second["generations_completed"]) == (2, 4)
    assert second["budget"] == pytest.approx(60 - first["seconds"], abs=0.01)
    assert manifest["summary"]["checkpoints"]["written"] == 2
    assert any("resumed from the checkpoint after generation 2" in n for n in result.notes)

    individuals = stored.evaluated_individuals["individuals"]
    for record in individuals:  # what was done before the abort is there unchanged ...
        old = earlier.get(record["pipeline"])
        if old is not None:
            assert (record["submitted_at"], record["score"]) == (old.submitted_at, old.score)
            assert record["submitted_at"] < resumed_at
    new = [r for r in individuals if r["submitted_at"] and r["submitted_at"] >= resumed_at]
    assert new and all(r["generation"] >= 2 for r in new)  # ... and nothing of it ran again
    assert not {r["pipeline"] for r in new} & set(earlier)
    assert len(individuals) == len({r["pipeline"] for r in individuals})
    # a complete run keeps no checkpoint and cannot be resumed
    assert sorted(p.name for p in runs.run_path("r").iterdir() if p.name.startswith("check")) == []
    assert runs.list_unfinished() == []
    with pytest.raises(ResumeError, match="complete"):
        Trainer(TrainerConfig(**SETTINGS), storage=runs).train(cancer_table, resume="r")
    model = load_model(runs, "r")
    assert set(model.predict(cancer_table.head(20))) <= {"malignant", "benign"}


@pytest.mark.slow
def test_a_resume_with_no_time_left_refits_the_checkpoints_best(runs, cancer_table):
    spent = _checkpoint(runs).seconds_spent
    config = TrainerConfig(**{**SETTINGS, "time_left": spent * 0.9})  # less than spent
    result = Trainer(config, storage=runs).train(cancer_table, resume="r")
    assert result.generations_completed == 2  # the search did not run again
    assert any("no time was left" in note for note in result.notes)
    assert load_run(runs, "r").manifest["summary"]["resume"]["attempts"][1]["budget"] < 0
    assert result.model.predict(cancer_table.head(5)).shape == (5,)


def test_what_may_and_may_not_differ_on_a_resume(runs, cancer_table):
    def resume(table=cancer_table, **changes):
        config = TrainerConfig(**{**SETTINGS, **changes})
        return Trainer(config, storage=runs).train(table, resume="r")

    with pytest.raises(ResumeError, match=r"population_size 6 then, 8 now") as caught:
        resume(population_size=8, cv=4)
    assert set(caught.value.differences) == {"population_size", "cv"}
    assert "time_left" in str(caught.value)  # it says what may change
    with pytest.raises(ResumeError, match="metric"):
        resume(metric="accuracy")
    with pytest.raises(ResumeError, match=r"rows 569 then, 500 now"):
        resume(cancer_table.head(500))
    changed = cancer_table.copy()
    changed.loc[0, "mean radius"] = 99.0
    with pytest.raises(ResumeError, match="the same shape, other values") as caught:
        resume(changed)
    assert set(caught.value.differences) == {"fingerprint"}
    with pytest.raises(ResumeError, match="no checkpoint"):
        Trainer(TrainerConfig(**SETTINGS), storage=runs).train(cancer_table, resume="other")
    with pytest.raises(ResumeError, match="--resume r"):  # a fresh run under its id
        Trainer(TrainerConfig(**SETTINGS), storage=runs).train(cancer_table, run_id="r")
    with pytest.raises(ConfigError, match="resume"):
        Trainer(TrainerConfig(**SETTINGS), store=False).train(cancer_table, resume="r")
    assert runs.list_unfinished() == ["r"]  # none of that touched the checkpoint


def test_a_damaged_or_missing_newest_checkpoint_gives_way_to_the_previous(runs):
    pointer = read_pointer(runs, "r")
    newest = runs.run_path("r") / pointer.payload.name
    data = bytearray(newest.read_bytes())
    data[len(data) // 2] ^= 0xFF
    newest.write_bytes(bytes(data))
    checkpoint, used, note = read_checkpoint(runs, "r", pointer)
    assert checkpoint.generations_completed == 1 and used.name == "checkpoint-0001.pkl"
    assert "checkpoint-0002.pkl is damaged" in note
    newest.unlink()
    assert read_checkpoint(runs, "r", pointer)[0].generations_completed == 1
    (runs.run_path("r") / "checkpoint-0001.pkl").write_bytes(b"torn")
    with pytest.raises(ResumeError, match="no usable checkpoint"):
        read_checkpoint(runs, "r", pointer)


@pytest.mark.slow
def test_a_resume_from_the_previous_checkpoint_charges_the_newest_time(runs, cancer_table):
    pointer = read_pointer(runs, "r")
    (runs.run_path("r") / pointer.payload.name).unlink()
    seen: list[int] = []
    config = TrainerConfig(**{**SETTINGS, "generations": 3})
    result = Trainer(config, storage=runs).train(
        cancer_table, resume="r", progress=lambda e: seen.append(e.generation)
    )
    assert seen == [2, 3] and result.generations_completed == 3
    resume = result.resume
    assert resume["resumed_from_generation"] == 1
    assert resume["seconds_before"] == pytest.approx(pointer.seconds_spent, abs=0.01)
    assert any("passed over" in note for note in result.notes)


def test_should_finish_ends_the_search_and_keeps_the_best(tmp_path, cancer_table):
    finish = threading.Event()
    storage = FilesystemStorage(tmp_path / "runs")

    def progress(event):
        if event.generation == 2:
            finish.set()

    config = TrainerConfig(**{**SETTINGS, "generations": 8, "ensemble": False})
    result = Trainer(config, storage=storage).train(
        cancer_table, run_id="kept", progress=progress, should_finish=finish.is_set
    )
    assert result.stopped_by == "stopped" and result.generations_completed < 8
    assert not [alert for alert in result.alerts if alert.kind == "timeout"]
    manifest = load_run(storage, "kept").manifest
    assert manifest["status"] == "stopped" and manifest["summary"]["stopped_by"] == "stopped"
    assert any("stopped on request" in note for note in manifest["summary"]["notes"])
    validate(manifest, "run")
    assert storage.list_unfinished() == []
    assert set(load_model(storage, "kept").predict(cancer_table.head(10))) <= {
        "malignant",
        "benign",
    }


@pytest.mark.slow
def test_run_for_job_resumes_a_run_whose_host_died(tmp_path, cancer_table):
    storage = FilesystemStorage(tmp_path / "runs")
    payload = {"dataset_id": "c", **{k: v for k, v in SETTINGS.items() if k != "n_jobs"}}
    job = dict(load_dataset=lambda _id: cancer_table, storage=storage, env={}, n_jobs=1)
    with pytest.raises(RunAborted):  # the host process "dies" after generation 2
        run_for_job(payload, run_id="job-1", progress=_abort_after(2), **job)
    assert storage.list_unfinished() == ["job-1"]

    seen: list[int] = []
    record = run_for_job(
        payload, run_id="job-1", progress=lambda e: seen.append(e.generation), **job
    )
    assert record["status"] == "complete" and record["tp_generations"] == 4 and seen == [3, 4]
    validate(record, "training-run")
    manifest = load_run(storage, "job-1").manifest
    assert manifest["summary"]["resume"]["resumed_from_generation"] == 2
    assert storage.list_unfinished() == []


@pytest.mark.slow
def test_run_for_job_can_finish_early_and_keep_the_best(tmp_path, cancer_table):
    storage = FilesystemStorage(tmp_path / "runs")
    finish = threading.Event()
    payload = {"dataset_id": "c", **{k: v for k, v in SETTINGS.items() if k != "n_jobs"}}
    payload["generations"] = 8
    record = run_for_job(
        payload,
        load_dataset=lambda _id: cancer_table,
        storage=storage,
        env={},
        finish=finish,
        progress=lambda e: e.generation >= 2 and finish.set(),
        run_id="early",
        n_jobs=1,
    )
    assert record["status"] == "stopped" and record["tp_generations"] < 8
    validate(record, "training-run")
    assert load_run(storage, "early").manifest["status"] == "stopped"
    with pytest.raises(JobRejected, match="finish"):
        run_for_job(payload, load_dataset=lambda _id: cancer_table, storage=storage, finish="x")


def test_checkpoint_files_carry_their_generation_and_hash():
    file = CheckpointFile.of(3, b"payload")
    assert file.name == "checkpoint-0003.pkl" and file.matches(b"payload")
    assert not file.matches(b"payloaD") and CheckpointFile.from_dict(file.to_dict()) == file


def _synthetic_checkpoint(generations: int, seconds: float) -> Checkpoint:
    """A checkpoint whose snapshot holds arbitrary bytes: enough for the storage protocol."""
    from automl_tpot.records.checkpoint import AttemptRecord
    from automl_tpot.tpot_boundary import EvolverSnapshot

    attempt = AttemptRecord(
        1, "2026-12-01T00:00:00+00:00", 60.0, 0, generations, seconds, {}, "unfinished"
    )
    return Checkpoint(
        run_id="w",
        snapshot=EvolverSnapshot(b"population" * generations, generations, {"state": 1}),
        reasons={},
        seed=7,
        fingerprint="0" * 64,
        data={"rows": 3, "columns": ["a"], "target": "y"},
        config={"population_size": 6},
        attempts=(attempt,),
        saved_at="2026-12-01T00:00:00+00:00",
        metric="roc_auc",
        best_score=0.5,
        evaluations=generations * 6,
    )


@pytest.fixture(params=["filesystem", "fsspec-file", "memory"])
def backend(request, tmp_path):
    from automl_tpot import FsspecStorage

    if request.param == "filesystem":
        return FilesystemStorage(tmp_path / "runs")
    if request.param == "fsspec-file":
        return FsspecStorage(f"file://{tmp_path}/runs")
    return FsspecStorage(f"memory://{tmp_path.name}/runs")


def test_the_writer_keeps_two_payloads_behind_one_pointer_on_every_backend(backend):
    from automl_tpot.run.checkpoints import CheckpointWriter
    from automl_tpot.storage import write_run

    writer = CheckpointWriter(backend, "w")
    for generations in (1, 2, 3):
        writer.save(_synthetic_checkpoint(generations, seconds=generations * 1.5))
        writer.close()  # each one stored before the next (the writer may skip superseded ones)
        writer = CheckpointWriter(
            backend, "w", (read_pointer(backend, "w"), read_pointer(backend, "w").payload)
        )
    pointer = read_pointer(backend, "w")
    assert (pointer.payload.name, pointer.previous.name) == (
        "checkpoint-0003.pkl",
        "checkpoint-0002.pkl",
    )
    assert not backend.exists("w", "checkpoint-0001.pkl") and pointer.seconds_spent == 4.5
    assert backend.list_unfinished() == ["w"] and backend.list_runs() == []
    checkpoint, used, note = read_checkpoint(backend, "w", pointer)
    assert checkpoint.generations_completed == 3 and note is None
    assert checkpoint.snapshot.population == b"population" * 3
    # a run whose final write fails keeps its checkpoint: it can still be resumed
    failing = _FailingOn(backend, "leaderboard.json")
    with pytest.raises(StorageError):
        write_run(failing, "w", {"model.joblib": b"m", "leaderboard.json": b"{}"}, b"{}")
    assert backend.exists("w", "checkpoint.json") and not backend.exists("w", "model.joblib")
    assert backend.list_unfinished() == ["w"]
    writer.discard()
    assert backend.list_unfinished() == [] and not backend.exists("w", "checkpoint-0003.pkl")


class _FailingOn:
    """A real backend that fails writing one artifact, like a full disk would."""

    def __init__(self, inner, name):
        self._inner, self._name = inner, name

    def __getattr__(self, attribute):
        return getattr(self._inner, attribute)

    def write_bytes(self, run_id, name, data):
        if name == self._name:
            raise OSError("no space left on device")
        self._inner.write_bytes(run_id, name, data)
