"""Faults, survived and measured, with real processes: the scheduler killed mid-search, the
training process killed with SIGKILL during the search and during the artifact writes, a disk
that fills up during the writes, a pipeline that hangs in C code past its time limit.

The other faults have their tests beside the code they exercise: a worker killed mid-search
and every worker lost (tests/test_parallel.py), the object store killed mid-write
(tests/test_backends_integration.py), an evaluation over its worker's memory (both). Each
test prints what it measured (``pytest -s``: ``[fault] ...`` lines); docs/operations.md's table
of faults quotes them.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from automl_tpot import FilesystemStorage, StorageError, Trainer, TrainerConfig
from automl_tpot.cli import DEMO_TARGET, demo_table
from automl_tpot.storage import load_model, load_run

pytestmark = pytest.mark.usefixtures("no_leaked_processes")

TESTS = Path(__file__).parent


class RecordingMetrics:
    """A metrics backend that keeps what it is told, and when."""

    def __init__(self):
        self.alerts: list[tuple[float, object]] = []

    def on_progress(self, progress):
        pass

    def on_alert(self, alert):
        self.alerts.append((time.monotonic(), alert))

    def on_run_finished(self, summary):
        pass


def _valid_model(result, table, target):
    predictions = result.model.predict(table.drop(columns=target).head(20))
    assert set(predictions) <= set(table[target])


# --- the scheduler killed mid-search ------------------------------------------------------------


@pytest.mark.slow
def test_the_scheduler_killed_mid_search_falls_back_and_finishes(
    dask_cluster, cancer_table, small_config, fault_report
):
    metrics = RecordingMetrics()
    killed_at: list[float] = []
    generations_at: list[float] = []

    def kill_scheduler_after_the_first_generation(event):
        generations_at.append(time.monotonic())
        if not killed_at:
            dask_cluster.kill(dask_cluster.scheduler)  # SIGKILL, its process group
            killed_at.append(time.monotonic())

    config = small_config(
        target_column="diagnosis",
        parallel_mode="distributed",
        scheduler_file=dask_cluster.scheduler_file,
        population_size=6,
        generations=3,
        time_left=90,
        cluster_wait=5,
    )
    started = time.monotonic()
    result = Trainer(config, store=False, metrics=metrics).train(
        cancer_table, progress=kill_scheduler_after_the_first_generation
    )
    ended = time.monotonic()

    assert killed_at and dask_cluster.scheduler.poll() is not None
    assert result.parallel["mode_requested"] == "distributed"
    assert result.parallel["mode_used"] == "local" and result.parallel["n_workers"] == 1
    assert [alert.kind for _, alert in metrics.alerts] == ["parallel_fallback"]
    assert result.generations_completed >= 2
    _valid_model(result, cancer_table, "diagnosis")
    after = [t for t in generations_at if t > killed_at[0]]
    fault_report(
        kill_to_fallback=metrics.alerts[0][0] - killed_at[0],
        kill_to_next_generation=(after[0] - killed_at[0]) if after else "none",
        run=ended - started,
        budget=float(config.time_left),
        reason=result.parallel["fallback_reason"][:80],
    )


# --- the training process killed with SIGKILL ----------------------------------------------------

#: The killed training's settings (TRAINING_SCRIPT's, but for ``generations``), which a resume
#: of it must repeat.
KILLED_SETTINGS = dict(
    target_column=DEMO_TARGET, n_jobs=1, time_left=90, per_run_limit=10, population_size=6,
    cv=3, random_state=0,
)  # fmt: skip

TRAINING_SCRIPT = """
import sys
import time

from automl_tpot import FilesystemStorage, Trainer, TrainerConfig
from automl_tpot.cli import DEMO_TARGET, demo_table


class Announcing(FilesystemStorage):
    \"\"\"The filesystem backend, saying what it wrote; with pause, it then waits (so the test
    can kill the process in the middle of the artifact writes).\"\"\"

    pause = False

    def write_bytes(self, run_id, name, data):
        super().write_bytes(run_id, name, data)
        print(f"wrote {name}", flush=True)
        if self.pause and not name.startswith("checkpoint"):  # the run's own artifacts
            time.sleep(120)


def main():
    root, run_id, when = sys.argv[1:4]
    storage = Announcing(root)
    storage.pause = when == "writes"
    config = TrainerConfig(
        target_column=DEMO_TARGET, n_jobs=1, time_left=90, per_run_limit=10,
        generations=4 if when == "search" else 1, population_size=6, cv=3, random_state=0,
    )  # the test's KILLED_SETTINGS
    progress = lambda event: print(f"generation {event.generation}", flush=True)
    Trainer(config, storage=storage).train(demo_table(), run_id=run_id, progress=progress)
    print("finished", flush=True)


if __name__ == "__main__":
    main()
"""


def _lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def read():
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, prefix: str, timeout: float = 240) -> list[str]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError(f"the training ended before {prefix!r}: {seen[-20:]}")
        seen.append(line)
        if line.startswith(prefix):
            return seen
    raise AssertionError(f"no {prefix!r} within {timeout:g}s: {seen[-20:]}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("when", "signal_line"), [("search", "generation"), ("writes", "wrote model.joblib")]
)
def test_the_training_process_killed_leaves_no_run_and_the_next_run_is_unaffected(
    when, signal_line, tmp_path, fault_report
):
    script = tmp_path / "train_until_killed.py"
    script.write_text(TRAINING_SCRIPT)
    root = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, str(script), str(root), "victim", when],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        seen = _wait_for(_lines(process), signal_line)
        workers = psutil.Process(process.pid).children(recursive=True)
        killed_at = time.monotonic()
        os.kill(process.pid, signal.SIGKILL)  # the trainer alone, as a crash would
        process.wait(timeout=30)
        gone, alive = psutil.wait_procs(workers, timeout=60)
        orphans_lived = time.monotonic() - killed_at
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
    for orphan in alive:  # reported by the assertion below; never left behind
        orphan.kill()
    assert not alive, f"the killed trainer's workers outlived it: {[p.pid for p in alive]}"

    storage = FilesystemStorage(root)
    kept = sorted(p.name for p in (root / "victim").iterdir()) if (root / "victim").exists() else []
    assert "run.json" not in kept
    assert storage.list_runs() == []
    with pytest.raises(StorageError, match="no complete run 'victim'"):
        load_run(storage, "victim")
    # besides the checkpoints (written in the background after each generation), only what
    # the writes had stored before the kill, never listed as a run
    assert [name for name in kept if not name.startswith("checkpoint")] == (
        ["model.joblib"] if when == "writes" else []
    ), kept
    if when == "writes":  # the search's last checkpoint landed: unfinished, and resumable
        assert "checkpoint.json" in kept
        assert storage.list_unfinished() == ["victim"]

    # the next run into the same storage and under the same run id is complete: it resumes
    # the unfinished run when a checkpoint had landed (a fresh run over it is refused), or
    # starts afresh when the kill came first
    rerun_started = time.monotonic()
    resume = "victim" if "checkpoint.json" in kept else None
    config = TrainerConfig(**{**KILLED_SETTINGS, "generations": 1})
    result = Trainer(config, storage=storage).train(demo_table(), run_id="victim", resume=resume)
    rerun = time.monotonic() - rerun_started
    assert storage.list_runs() == ["victim"] and storage.list_unfinished() == []
    stored = load_run(storage, "victim")
    assert (stored.manifest["summary"].get("resume") is not None) == (resume is not None)
    import hashlib

    model_bytes = (root / "victim" / "model.joblib").read_bytes()
    assert (
        hashlib.sha256(model_bytes).hexdigest()
        == stored.manifest["artifacts"]["model.joblib"]["sha256"]
    )
    rows = demo_table().drop(columns=DEMO_TARGET).head(10)
    assert list(load_model(storage, "victim").predict(rows)) == list(result.model.predict(rows))
    fault_report(
        killed_after=seen[-1],
        workers=len(workers),
        workers_gone_after=orphans_lived,
        kept=",".join(kept) or "nothing",
        rerun=rerun,
    )


# --- a full disk during the writes -----------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (mounting needs root; skipped elsewhere)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=True)


class FillsUpAfterTheModel(FilesystemStorage):
    """The filesystem backend on a small disk that another writer fills up right after the
    model is stored: the next artifacts meet a real ENOSPC."""

    def __init__(self, root: Path, filler: Path):
        super().__init__(root)
        self.filler = filler
        self.written: list[str] = []

    def write_bytes(self, run_id, name, data):
        super().write_bytes(run_id, name, data)
        self.written.append(name)
        if len(self.written) == 1:
            with open(self.filler, "wb") as stream:
                try:
                    while True:
                        stream.write(b"\0" * 65536)
                        stream.flush()
                except OSError:
                    pass  # the disk is full


@pytest.mark.slow
def test_a_disk_that_fills_up_during_the_writes_leaves_no_run(
    small_disk, cancer_table, small_config, fault_report
):
    config = small_config(target_column="diagnosis", generations=1)
    result = Trainer(config, store=False).train(cancer_table)
    filler = small_disk / "filler"
    storage = FillsUpAfterTheModel(small_disk / "runs", filler)
    trainer = Trainer(config, storage=storage)

    started = time.monotonic()
    with pytest.raises(StorageError, match="No space left on device") as caught:
        trainer.save(result, "full")
    failed_in = time.monotonic() - started
    assert storage.written == ["model.joblib"]
    assert "full" in str(caught.value)
    assert storage.list_runs() == []
    assert not (small_disk / "runs" / "full").exists()  # the partial run was removed
    assert not list((small_disk / "runs").glob("**/.*.tmp"))

    filler.unlink()  # space again: the same run writes completely
    started = time.monotonic()
    saved = Trainer(config, storage=FilesystemStorage(small_disk / "runs")).save(result, "full")
    rewrite = time.monotonic() - started
    assert saved.location == str(small_disk / "runs" / "full")
    assert FilesystemStorage(small_disk / "runs").list_runs() == ["full"]
    fault_report(error_after=failed_in, rewrite_after_freeing=rewrite, kept="nothing")


# --- a pipeline that hangs in C code ---------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("threads", [False, True], ids=["processes", "threads"])
def test_a_pipeline_hanging_in_c_code_is_cut_off_and_the_search_goes_on(
    cancer_table, small_config, fault_report, caplog, threads
):
    from helpers.hanging import HANG_SECONDS, search_space

    config = small_config(
        target_column="diagnosis",
        search_space=search_space(),
        worker_threads=threads,
        n_jobs=1,
        per_run_limit=2,
        population_size=8,
        generations=1,
        random_state=3,
        time_left=80,
        ensemble=False,
    )
    started = time.monotonic()
    result = Trainer(config, store=False).train(cancer_table)
    elapsed = time.monotonic() - started

    by_mode: dict[str, list[dict]] = {}
    for record in result.evaluated_individuals:
        mode = record["pipeline"].split("mode=")[-1].split(")")[0].strip("'\"")
        by_mode.setdefault(mode, []).append(record)
    assert set(by_mode) == {"fine", "hang"}, result.evaluated_individuals
    assert all(r["status"] == "timeout" for r in by_mode["hang"])
    assert all("did not stop" in r["reason"] for r in by_mode["hang"] if r["reason"])
    assert all(r["status"] == "ok" for r in by_mode["fine"])
    assert "fine" in result.best_pipeline
    _valid_model(result, cancer_table, "diagnosis")
    held = [r["completed_at"] - r["submitted_at"] for r in by_mode["hang"] if r["completed_at"]]
    first_hang = min(r["submitted_at"] for r in by_mode["hang"])
    if threads and time.time() - first_hang < HANG_SECONDS - 5:
        # no worker process ends with the run to take the sleeping thread with it: say so
        assert "still run in this process" in caplog.text
    fault_report(
        hangs=len(by_mode["hang"]),
        hang_recorded_after=max(held) if held else "none",
        search=float(result.timings.get("search", 0)),
        cluster_stop=float(result.timings.get("cluster_stop", 0)),
        run=elapsed,
        budget=float(config.time_left),
    )


# --- a scheduler file that cannot be one ------------------------------------------------------


@pytest.mark.parametrize("content", ["{}", pytest.param("not json at all", marks=pytest.mark.slow)])
def test_a_garbage_or_empty_scheduler_file_falls_back_to_a_local_cluster(content, tmp_path):
    """Dask's own AssertionError / JSONDecodeError never escapes: the documented fallback."""
    from automl_tpot.cluster.session import open_dask_session

    path = tmp_path / "scheduler.json"
    path.write_text(content)
    config = TrainerConfig(
        n_jobs=1, parallel_mode="distributed", scheduler_file=str(path), cluster_wait=2
    )
    reasons: list[str] = []
    with open_dask_session(config, on_fallback=reasons.append) as session:
        assert session.mode == "local" and session.n_workers == 1
        assert session.current.submit(sum, [1, 2]).result(timeout=60) == 3
    assert reasons == [session.fallback_reason]
    assert str(path) in reasons[0] and "not a Dask scheduler file" in reasons[0]
