"""A small but real host application: a TrainingService on SQLite that trains with automl-tpot.

It keeps what a host keeps (datasets, a job queue, one TrainingRun row per finished job) in a
SQLite database, and leaves everything about training to one call,
:func:`automl_tpot.jobs.run_for_job`. Worker threads take queued jobs; each job can be cancelled,
finished early with the best model so far, or given a timeout. A job the service was running
when its process died is resumed from its last checkpoint when the service starts again.

Run the demo (two jobs on scikit-learn's datasets, one classification, one regression)::

    python examples/training_service/training_service.py --db service.db --runs runs

Embed it::

    service = TrainingService("service.db", FilesystemStorage("runs"))
    dataset_id = service.register_dataset(table, name="churn")
    job_id = service.submit({"dataset_id": dataset_id, "target_column": "churned"})
    service.start(workers=1)
    row = service.wait(job_id)              # the jobs row: status, run_id, ...
    run = service.training_run(job_id)      # the stored TrainingRun record
    service.stop()
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from automl_tpot import FilesystemStorage, JobCancelled, JobError, Storage
from automl_tpot.jobs import run_for_job
from automl_tpot.storage import new_run_id

__all__ = ["TrainingService", "JOB_STATES"]

log = logging.getLogger("training_service")

#: A job's life: queued -> running -> complete | stopped | fallback | failed | cancelled
#: (running -> queued again when the service died meanwhile and starts anew).
JOB_STATES = ("queued", "running", "complete", "stopped", "fallback", "failed", "cancelled")
FINISHED = frozenset({"complete", "stopped", "fallback", "failed", "cancelled"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    n_rows      INTEGER NOT NULL,
    columns     TEXT NOT NULL,          -- JSON list
    data        BLOB NOT NULL,          -- Parquet bytes: column types survive the round trip
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id       TEXT,
    payload          TEXT NOT NULL,     -- JSON, exactly as submitted
    status           TEXT NOT NULL,
    run_id           TEXT,
    timeout_s        REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    error            TEXT,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT
);
CREATE TABLE IF NOT EXISTS training_runs (
    run_id             TEXT PRIMARY KEY,
    job_id             INTEGER NOT NULL UNIQUE REFERENCES jobs(id),
    status             TEXT NOT NULL,   -- complete | stopped | fallback | failed
    best_pipeline      TEXT,
    best_score         REAL,
    leaderboard_topk   TEXT,            -- JSON
    tp_generations     INTEGER,
    tp_population_size INTEGER,
    parallel_mode      TEXT,            -- JSON: requested, used, n_workers
    details            TEXT,            -- JSON, at most 64 KB
    record             TEXT NOT NULL,   -- the whole record from run_for_job, JSON
    created_at         TEXT NOT NULL
);
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class TrainingService:
    """Datasets and jobs in SQLite; jobs run with :func:`automl_tpot.jobs.run_for_job`.

    Args:
        database: the SQLite file (created when missing).
        storage: where runs' artifacts go (a path means a :class:`FilesystemStorage`).
        metrics: an automl-tpot metrics backend shared by every job.
        env: the environment for ``TPOT__*`` settings and ``ENABLE_AUTOML_FALLBACK``.
        enable_fallback: the fallback switch; ``None`` reads ``ENABLE_AUTOML_FALLBACK``.
        job_timeout: default seconds a job may take in all (``None``: only ``time_left``).
        overrides: TrainerConfig fields forced on every job (e.g. ``{"n_jobs": 1}``).
    """

    def __init__(
        self,
        database: str | Path,
        storage: Storage | str | Path,
        *,
        metrics: Any = None,
        env: Mapping[str, str] | None = None,
        enable_fallback: bool | None = None,
        job_timeout: float | None = None,
        overrides: Mapping[str, Any] | None = None,
    ):
        self.database = str(database)
        self.storage = FilesystemStorage(storage) if isinstance(storage, (str, Path)) else storage
        self.metrics = metrics
        self.env = env
        self.enable_fallback = enable_fallback
        self.job_timeout = job_timeout
        self.overrides = dict(overrides or {})
        self._running: dict[int, threading.Event] = {}
        self._finishing: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """A connection of this thread's own (sqlite3 connections are not shared)."""
        connection = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        try:
            yield connection
        finally:
            connection.close()

    # -- datasets --------------------------------------------------------------------------------

    def register_dataset(
        self,
        source: pd.DataFrame | str | Path,
        *,
        name: str | None = None,
        dataset_id: str | None = None,
    ) -> str:
        """Store a table (a DataFrame or a CSV file) and return its id."""
        if isinstance(source, pd.DataFrame):
            table, default_name = source, "table"
        else:
            path = Path(source)
            table, default_name = pd.read_csv(path), path.stem
        buffer = io.BytesIO()
        table.to_parquet(buffer, index=False)
        dataset_id = dataset_id or f"ds-{new_run_id()}"
        with self._db() as db:
            db.execute(
                "INSERT INTO datasets (id, name, n_rows, columns, data, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    dataset_id,
                    name or default_name,
                    len(table),
                    json.dumps(list(map(str, table.columns))),
                    buffer.getvalue(),
                    _now(),
                ),
            )
        return dataset_id

    def load_dataset(self, dataset_id: str) -> pd.DataFrame:
        """The loader handed to ``run_for_job``; ``KeyError`` when there is no such dataset."""
        with self._db() as db:
            row = db.execute(
                "SELECT data FROM datasets WHERE id = ?", (str(dataset_id),)
            ).fetchone()
        if row is None:
            raise KeyError(f"no dataset {dataset_id!r} in {self.database}")
        return pd.read_parquet(io.BytesIO(row["data"]))

    # -- jobs ------------------------------------------------------------------------------------

    def submit(self, payload: Mapping[str, Any], *, timeout: float | None = None) -> int:
        """Queue a job; its payload is checked when it runs (a bad one ends ``failed``)."""
        text = json.dumps(dict(payload))
        dataset_id = payload.get("dataset_id")
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO jobs (dataset_id, payload, status, timeout_s, created_at) "
                "VALUES (?, ?, 'queued', ?, ?)",
                (
                    None if dataset_id is None else str(dataset_id),
                    text,
                    timeout if timeout is not None else self.job_timeout,
                    _now(),
                ),
            )
            job_id = int(cursor.lastrowid)
        self._wake.set()
        return job_id

    def cancel(self, job_id: int) -> bool:
        """Ask a queued or running job to stop; False when it has already finished."""
        with self._db() as db:
            updated = db.execute(
                "UPDATE jobs SET cancel_requested = 1 "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (job_id,),
            ).rowcount
        with self._lock:
            event = self._running.get(job_id)
        if event is not None:
            event.set()
        return bool(updated)

    def finish(self, job_id: int) -> bool:
        """Ask a running job to end its search and keep the best model so far (its status
        becomes ``stopped``); False when it is not running."""
        with self._lock:
            event = self._finishing.get(job_id)
        if event is None:
            return False
        event.set()
        return True

    def recover(self) -> list[int]:
        """Queue again the jobs a previous process left ``running`` (it died mid-job), under
        their run id: ``run_for_job`` then resumes each from its last checkpoint (or starts it
        afresh when it had none). Called by :meth:`start`; one service process per database."""
        with self._lock:
            mine = set(self._running)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            rows = db.execute("SELECT id FROM jobs WHERE status = 'running'").fetchall()
            orphans = [int(row["id"]) for row in rows if int(row["id"]) not in mine]
            for job_id in orphans:
                db.execute("UPDATE jobs SET status = 'queued' WHERE id = ?", (job_id,))
            db.execute("COMMIT")
        for job_id in orphans:
            log.info("job %s was left running by a previous process: it resumes", job_id)
        if orphans:
            self._wake.set()
        return orphans

    def job(self, job_id: int) -> dict[str, Any]:
        """The jobs row."""
        with self._db() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(f"no job {job_id}")
        return dict(row)

    def training_run(self, job_id: int) -> dict[str, Any] | None:
        """The stored TrainingRun record of a finished job (``None`` before it finishes)."""
        with self._db() as db:
            row = db.execute(
                "SELECT record FROM training_runs WHERE job_id = ?", (job_id,)
            ).fetchone()
        return None if row is None else json.loads(row["record"])

    def wait(self, job_id: int, timeout: float = 300.0) -> dict[str, Any]:
        """Wait until a job has finished; return its jobs row."""
        deadline = time.monotonic() + timeout
        while True:
            row = self.job(job_id)
            if row["status"] in FINISHED:
                return row
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {row['status']} after {timeout:g}s")
            time.sleep(0.2)

    # -- running jobs ----------------------------------------------------------------------------

    def _claim(self, job_id: int | None = None) -> sqlite3.Row | None:
        """Mark one queued job running (the given one, or the oldest) and return it."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                if job_id is None:
                    row = db.execute(
                        "SELECT * FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1"
                    ).fetchone()
                else:
                    row = db.execute(
                        "SELECT * FROM jobs WHERE id = ? AND status = 'queued'", (job_id,)
                    ).fetchone()
                if row is not None:  # a recovered job keeps its run id: it resumes
                    run_id = row["run_id"] or f"job{row['id']}-{new_run_id()}"
                    db.execute(
                        "UPDATE jobs SET status = 'running', run_id = ?, started_at = ? "
                        "WHERE id = ?",
                        (run_id, _now(), row["id"]),
                    )
                    row = db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return row

    def run_for_job(self, job_id: int) -> dict[str, Any]:
        """Run one queued job now, in this thread; return its TrainingRun record.

        This is the host's trigger: the whole training is the library's ``run_for_job``.
        """
        row = self._claim(job_id)
        if row is None:
            raise ValueError(f"job {job_id} is not queued")
        return self._run(row)

    def _run(self, row: sqlite3.Row) -> dict[str, Any]:
        job_id, run_id = int(row["id"]), row["run_id"]
        cancel, finish = threading.Event(), threading.Event()
        if row["cancel_requested"]:
            cancel.set()
        with self._lock:
            self._running[job_id] = cancel
            self._finishing[job_id] = finish
        status, error = "failed", None
        try:
            payload = json.loads(row["payload"])
            record = run_for_job(
                payload,
                load_dataset=self.load_dataset,
                storage=self.storage,
                metrics=self.metrics,
                env=self.env,
                enable_fallback=self.enable_fallback,
                run_id=run_id,
                cancel=cancel,
                finish=finish,
                timeout=row["timeout_s"],
                **self.overrides,
            )
            status = record["status"]
        except JobError as job_error:
            record = job_error.record
            status = "cancelled" if isinstance(job_error, JobCancelled) else "failed"
            error = f"{type(job_error).__name__}: {record['error']['message']}"
        except Exception as unexpected:  # a bug: the job must still end, with a record
            log.exception("job %s crashed", job_id)
            record = {
                "run_id": run_id,
                "status": "failed",
                "details": "{}",
                "error": {"type": type(unexpected).__name__, "message": str(unexpected)},
            }
            error = f"{type(unexpected).__name__}: {unexpected}"
        finally:
            with self._lock:
                self._running.pop(job_id, None)
                self._finishing.pop(job_id, None)
        self._store(job_id, status, error, record)
        return record

    def _store(self, job_id: int, status: str, error: str | None, record: dict[str, Any]) -> None:
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute(
                "INSERT INTO training_runs (run_id, job_id, status, best_pipeline, best_score, "
                "leaderboard_topk, tp_generations, tp_population_size, parallel_mode, details, "
                "record, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record["run_id"],
                    job_id,
                    record["status"],
                    record.get("best_pipeline"),
                    record.get("best_score"),
                    json.dumps(record.get("leaderboard_topk", [])),
                    record.get("tp_generations"),
                    record.get("tp_population_size"),
                    json.dumps(record.get("parallel_mode")),
                    record.get("details"),
                    json.dumps(record),
                    _now(),
                ),
            )
            db.execute(
                "UPDATE jobs SET status = ?, error = ?, finished_at = ? WHERE id = ?",
                (status, error, _now(), job_id),
            )
            db.execute("COMMIT")

    def _work(self) -> None:
        while not self._stopping.is_set():
            row = self._claim()
            if row is None:
                self._wake.wait(0.2)
                self._wake.clear()
                continue
            self._run(row)

    def start(self, workers: int = 1) -> None:
        """Start ``workers`` threads that run queued jobs, oldest first (after queueing again
        the jobs a previous process left running, see :meth:`recover`)."""
        self._stopping.clear()
        self.recover()
        for index in range(workers):
            thread = threading.Thread(
                target=self._work, name=f"training-worker-{index}", daemon=True
            )
            thread.start()
            self._workers.append(thread)

    def stop(self, *, cancel_running: bool = False, timeout: float = 120.0) -> None:
        """Stop the workers after their current job (or cancel it first)."""
        self._stopping.set()
        self._wake.set()
        if cancel_running:
            with self._lock:
                events = list(self._running.values())
            for event in events:
                event.set()
        for thread in self._workers:
            thread.join(timeout)
        self._workers = [t for t in self._workers if t.is_alive()]

    def __enter__(self) -> TrainingService:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop(cancel_running=True)


# --- the demo ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Register two scikit-learn datasets, train one job on each, print the records."""
    from sklearn.datasets import load_breast_cancer, load_diabetes

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="training_service.db")
    parser.add_argument("--runs", default="runs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--time-left", type=float, default=60)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("distributed").setLevel(logging.WARNING)

    service = TrainingService(args.db, args.runs, overrides={"n_jobs": 1})
    cancer = service.register_dataset(load_breast_cancer(as_frame=True).frame, name="breast-cancer")
    diabetes = service.register_dataset(load_diabetes(as_frame=True).frame, name="diabetes")
    common = {"generations": 2, "population_size": 6, "time_left": args.time_left, "cv": 3}
    jobs = [
        service.submit(
            {"dataset_id": cancer, "target_column": "target", "metric": "accuracy", **common}
        ),
        service.submit(
            {"dataset_id": diabetes, "target_column": "target", "task": "regression", **common}
        ),
    ]
    service.start(workers=args.workers)
    try:
        for job_id in jobs:
            row = service.wait(job_id, timeout=args.time_left * 3)
            record = service.training_run(job_id)
            print(f"job {job_id}: {row['status']} run {row['run_id']}")
            if record and record.get("best_pipeline"):
                score = f"{record['metric']} {record['best_score']:.4f}"
                print(f"  best {score}: {record['best_pipeline']}")
                print(f"  artifacts at {record['location']}")
            elif row["error"]:
                print(f"  {row['error']}")
    finally:
        service.stop(cancel_running=True)
    return 0


if __name__ == "__main__":  # the guard Dask's worker processes need
    raise SystemExit(main())
