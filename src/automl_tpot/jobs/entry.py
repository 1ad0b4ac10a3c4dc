"""run_for_job: the one call a host's TrainingService makes to turn a job payload into a run.

The host keeps its datasets, its job queue and its TrainingRun table; the library validates the
payload, loads the table through the host's loader, trains, stores the artifacts and hands back
one JSON-safe record for the TrainingRun row. Every job ends in exactly one of these ways:

``complete``
    The search found a model; the run is stored with ``run.json``.
``stopped``
    The host asked the job to finish early (``finish``): the search ended and the best pipeline
    so far is the model; the run is stored with ``run.json`` (``"status": "stopped"``).
``fallback``
    The search failed and the AutoML fallback (:mod:`automl_tpot.fallback`) trained the baseline
    instead; the run is stored with the same artifacts and ``"status": "fallback"``, and an
    ``automl_fallback`` alert says why.
``failed``
    No model. :func:`run_for_job` raises a :class:`~automl_tpot.errors.JobError` subclass
    (:class:`~automl_tpot.errors.JobRejected` for an invalid payload or dataset, before any
    training; :class:`~automl_tpot.errors.JobFailed` when the search failed without fallback;
    :class:`~automl_tpot.errors.JobCancelled` for a cancelled or timed-out job) whose ``record``
    is the failure record. The same record is stored as ``failure.json`` under the run id, with
    no ``run.json``, so the storage never lists the run as complete.

A run checkpoints after every generation. When the host process dies mid-job, calling
:func:`run_for_job` again with the job's run id resumes the run from its last checkpoint
instead of starting over (see ``docs/resume.md``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..data import PreparedData, prepare_training_data
from ..errors import (
    ConfigError,
    DataError,
    JobCancelled,
    JobError,
    JobFailed,
    JobRejected,
    ResumeError,
    SearchSpaceError,
    StorageError,
    TrainingCancelled,
)
from ..metrics import MetricsBackend, NullMetrics
from ..records.evaluation import finite_or_none
from ..records.events import GenerationProgress
from ..records.job import JobRecord, ParallelUse
from ..run.checkpoints import remove_checkpoint
from ..run.events import RunReporter
from ..run.fallback import fallback_enabled, train_baseline
from ..run.preflight import check_storage_backend, preflight
from ..run.result import TrainingResult
from ..storage import ARTIFACT_NAMES, CHECKPOINT, MANIFEST, Storage, new_run_id, validate_run_id
from ..storage.unfinished import delete_artifact
from ..utils.clock import utc_timestamp
from ..utils.jsonio import dumps_json
from ..utils.text import bounded_strings, short_repr, shorten
from .details import details_json
from .guards import GuardedStorage, Stopper
from .validation import LoadDataset, read_dataset, validate_payload

__all__ = ["FAILURE", "read_failure", "run_for_job"]

#: The failure record of a job that left no complete run, stored under its run id.
FAILURE = "failure.json"


def _error_view(error: BaseException, stage: str) -> dict[str, Any]:
    """The record's ``error``: every text cut to a bounded length (a value of a megabyte would
    otherwise be stored whole, twice)."""
    message = shorten(str(error), 2000)
    # every configuration error is "ConfigError" in the record (with field, value, allowed),
    # its subclasses (a search space, a storage location, a run id) included
    kind = "ConfigError" if isinstance(error, ConfigError) else type(error).__name__
    view: dict[str, Any] = {"type": kind, "message": message, "stage": stage}
    if isinstance(error, ConfigError):
        view.update(
            field=shorten(str(error.field), 200),
            value=short_repr(error.value),
            allowed=shorten(str(error.allowed), 1000),
        )
    cause = error.__cause__
    if cause is not None:
        view["cause"] = f"{type(cause).__name__}: {shorten(str(cause), 1000)}"
    return view


class _Job:
    """The state of one :func:`run_for_job` call, and the records it produces."""

    def __init__(self, payload: Any, run_id: str, storage: Storage, metrics: MetricsBackend):
        self.started = time.monotonic()
        self.started_at = utc_timestamp()
        self.run_id: str | None = run_id
        self.storage = storage
        self.reporter = RunReporter(metrics)
        dataset_id = payload.get("dataset_id") if isinstance(payload, Mapping) else None
        valid_id = isinstance(dataset_id, (str, int)) and not isinstance(dataset_id, bool)
        self.dataset_id = dataset_id if valid_id else None
        self.config: Any = None
        self.durations: dict[str, Any] = {}
        self.trainer: Any = None  # set once training starts: its alerts belong in every record

    def lap(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.durations[name] = round(now - since, 3)
        return now

    def _record(self, status: str, **fields: Any) -> JobRecord:
        config = self.config
        self.durations["total"] = round(time.monotonic() - self.started, 3)
        alerts = [] if self.trainer is None else [a.to_dict() for a in self.trainer.alerts]
        values: dict[str, Any] = dict(
            run_id=self.run_id,
            dataset_id=self.dataset_id,
            status=status,
            tp_population_size=None if config is None else config.population_size,
            parallel_mode=ParallelUse(requested=None if config is None else config.parallel_mode),
            memory_limit_mb=None if config is None else config.memory_limit_mb,
            durations=dict(self.durations),
            alerts=alerts,
            config=None if config is None else bounded_strings(config.to_dict()),
            started_at=self.started_at,
            finished_at=utc_timestamp(),
            details=details_json([], []),
        )
        values.update(fields)
        return JobRecord(**values)

    def success(
        self, status: str, result: TrainingResult, fallback_reason: str | None
    ) -> dict[str, Any]:
        board = result.leaderboard
        location = result.location
        record = self._record(
            status,
            task=result.task,
            metric=result.metric,
            best_pipeline=result.best_pipeline,
            best_score=finite_or_none(result.best_score),
            leaderboard_topk=board,
            tp_generations=result.generations_completed,
            tp_population_size=result.population_size,
            tp_evaluations=len(result.evaluations),
            tp_pareto_front_size=len(result.pareto_points),
            parallel_mode=ParallelUse(
                requested=result.parallel.get("mode_requested"),
                used=result.parallel.get("mode_used"),
                n_workers=int(result.parallel.get("n_workers") or 0),
            ),
            location=location,
            artifacts={name: f"{location}/{name}" for name in ARTIFACT_NAMES},
            alerts=[alert.to_dict() for alert in result.alerts],
            fallback_reason=fallback_reason,
            details=details_json(
                result.evaluated_individuals,
                result.pareto_front,
                keep_ids=[entry["id"] for entry in board],
            ),
        )
        document = record.to_dict()
        document["durations"]["phases"] = dict(result.timings)
        return document

    def fail(self, kind: type[JobError], stage: str, error: BaseException) -> JobError:
        """Store the failure record (when no complete run holds the id) and build the error."""
        record = self._record("failed", error=_error_view(error, stage))
        if self.trainer is None:  # otherwise the Trainer has reported the run's end
            self.reporter.failed(
                run_id=self.run_id, started=self.started, status="failed", error=error, metric=None
            )
        if self.run_id is not None:
            try:
                if not self.storage.exists(self.run_id, MANIFEST):
                    location = self.storage.location(self.run_id)
                    record = attrs.evolve(
                        record, location=location, artifacts={FAILURE: f"{location}/{FAILURE}"}
                    )
                    self.storage.write_bytes(self.run_id, FAILURE, dumps_json(record.to_dict()))
            except Exception as store_error:  # the job's own error matters more
                view = dict(record.error or {})
                view["record_not_stored"] = f"{type(store_error).__name__}: {store_error}"
                record = attrs.evolve(record, location=None, artifacts={}, error=view)
        return kind(
            f"job {self.run_id}: {stage} failed: {shorten(str(error), 1500)}", record.to_dict()
        )


# --- the entry point --------------------------------------------------------------------------


def run_for_job(
    payload: Mapping[str, Any],
    *,
    load_dataset: LoadDataset,
    storage: Storage,
    metrics: MetricsBackend | None = None,
    env: Mapping[str, str] | None = None,
    enable_fallback: bool | None = None,
    run_id: str | None = None,
    cancel: Any = None,
    timeout: float | None = None,
    progress: Callable[[GenerationProgress], None] | None = None,
    finish: Any = None,
    fresh_budget: bool = False,
    **overrides: Any,
) -> dict[str, Any]:
    """Run one training job and return the record the host stores as its TrainingRun.

    Args:
        payload: the job: ``dataset_id``, ``target_column`` and any :class:`TrainerConfig` field
            (``task``, ``generations``, ``time_left``, ``per_run_limit``, ``metric``,
            ``parallel_mode``, ``population_size``, ``search_space`` / config dict, ...).
        load_dataset: the host's loader, ``load_dataset(dataset_id) -> DataFrame`` (or a CSV /
            Parquet path); ``KeyError`` or ``None`` means "no such dataset".
        storage: where the run's artifacts (or its ``failure.json``) go.
        metrics: receives progress, alerts and the run's end.
        env: the environment for ``TPOT__*`` settings and ``ENABLE_AUTOML_FALLBACK``
            (``os.environ`` when omitted).
        enable_fallback: the fallback switch in code; ``None`` reads ``ENABLE_AUTOML_FALLBACK``
            (off when unset).
        run_id: the run's identifier; a fresh one when omitted. The id of an unfinished run (a
            checkpoint and no ``run.json``: the host died mid-job) resumes that run from its
            last checkpoint instead of starting over; a complete run's id fails the job.
        cancel: a ``threading.Event``; setting it stops the job (the search ends at TPOT's next
            budget check, nothing complete is stored, :class:`JobCancelled` is raised; the
            last checkpoint stays, so the run can be resumed).
        finish: a ``threading.Event``; setting it ends the search and keeps the best pipeline
            so far: the run is stored and the record's ``status`` is ``"stopped"``.
        fresh_budget: when the job resumes a run, grant it a whole ``time_left`` again instead
            of what earlier attempts left.
        timeout: seconds for the whole job (loading, search, fallback, storing); past it the job
            stops as if cancelled. ``time_left`` alone bounds the search itself.
        progress: called after every generation.
        **overrides: :class:`TrainerConfig` fields that win over the payload (e.g. ``n_jobs``).

    Returns:
        The record as a JSON-safe dict with ``status`` (``complete``, ``stopped`` or
        ``fallback``), ``run_id``,
        ``dataset_id``,
        ``task``, ``metric``, ``best_pipeline``, ``best_score``, ``leaderboard_top5``,
        ``leaderboard_topk``, ``tp_generations``, ``tp_population_size``, ``tp_evaluations``,
        ``tp_pareto_front_size``, ``parallel_mode`` (``requested``, ``used``, ``n_workers``),
        ``memory_limit_mb``, ``durations`` (seconds), ``location``, ``artifacts`` (name ->
        address), ``alerts``, ``fallback_reason``, ``error`` (``None``), ``config``,
        ``started_at`` / ``finished_at`` and ``details``: a JSON string of at most
        :data:`DETAILS_LIMIT` bytes holding ``evaluated_individuals`` and ``pareto_front`` (see
        :func:`details_json`).

    Raises:
        JobRejected: invalid payload, unknown or unreadable dataset, unusable table or search
            space; raised before any training.
        JobFailed: the search failed and the fallback was off or failed too, or the artifacts
            could not be stored.
        JobCancelled: ``cancel`` was set or ``timeout`` passed.

    Each of these errors carries ``record`` (``status`` ``"failed"``, ``error`` with ``type``,
    ``message``, ``stage`` and, for configuration errors, ``field`` / ``value`` / ``allowed``),
    which is also stored as ``failure.json`` under the run id.
    """
    from ..run.trainer import Trainer

    metrics = metrics if metrics is not None else NullMetrics()
    if run_id is None:
        run_id = new_run_id()
    job = _Job(payload, run_id, storage, metrics)
    try:
        validate_run_id(run_id)
    except StorageError as error:
        job.run_id = None  # nowhere safe to store the failure record
        invalid = ConfigError("run_id", run_id, str(error))
        raise job.fail(JobRejected, "validation", invalid) from error

    # 1. Everything that can be checked before training.
    mark = job.started
    try:
        check_storage_backend(storage)
        should_stop = Stopper(cancel, timeout, job.started)
        if finish is not None and not callable(getattr(finish, "is_set", None)):
            raise ConfigError("finish", finish, "a threading.Event (with is_set()) or None")
        fallback_on = fallback_enabled(enable_fallback, env)
        job.config, dataset_id = validate_payload(payload, env=env, **overrides)
        mark = job.lap("validate", mark)
        if should_stop():
            raise should_stop.error()
        table = read_dataset(load_dataset, dataset_id)
        prepared = prepare_training_data(
            table, job.config.target_column, job.config.task, job.config.cv
        )
        # now the task and the target are known; the storage and the run id are checked too
        preflight(job.config, prepared, storage=storage, run_id=run_id)
        mark = job.lap("load_data", mark)
    except TrainingCancelled as error:
        raise job.fail(JobCancelled, "cancelled", error) from error
    except (ConfigError, DataError, SearchSpaceError) as error:
        raise job.fail(JobRejected, "validation", error) from error
    except StorageError as error:  # the storage does not answer: not the payload's fault
        raise job.fail(JobFailed, "storage", error) from error
    except Exception as error:  # not foreseen: the job fails with a record all the same
        raise job.fail(JobFailed, "validation", error) from error
    config = job.config

    # 2. The search.
    guarded = GuardedStorage(storage, should_stop)
    trainer = job.trainer = Trainer(config, storage=guarded, metrics=metrics)
    try:
        resume = run_id if _unfinished(storage, run_id) else None
        result = trainer.train(
            prepared,
            run_id=run_id,
            progress=progress,
            should_stop=should_stop,
            resume=resume,
            fresh_budget=fresh_budget,
            should_finish=None if finish is None else finish.is_set,
        )
    except TrainingCancelled as error:  # the stopper knows why: cancelled, or past the timeout
        raise job.fail(JobCancelled, "cancelled", should_stop.error()) from error
    except (ConfigError, DataError, SearchSpaceError, ResumeError) as error:
        raise job.fail(JobRejected, "validation", error) from error
    except StorageError as error:
        if should_stop():
            raise job.fail(JobCancelled, "cancelled", should_stop.error()) from error
        raise job.fail(JobFailed, "storage", error) from error
    except Exception as error:  # the search failed: an exception, no pipeline, a lost cluster
        if should_stop():
            raise job.fail(JobCancelled, "cancelled", should_stop.error()) from error
        job.lap("train", mark)
        if not fallback_on:
            raise job.fail(JobFailed, "training", error) from error
        result = _fall_back(job, trainer, prepared, error, should_stop, time.monotonic())
        return job.success("fallback", result, fallback_reason=_reason(error))
    job.lap("train", mark)
    status = "stopped" if result.stopped_by == "stopped" else "complete"
    return job.success(status, result, fallback_reason=None)


def _unfinished(storage: Storage, run_id: str) -> bool:
    """Whether ``run_id`` is an unfinished run (its host died): it resumes. A failure record
    of an earlier attempt goes, so the run never holds both it and ``run.json``."""
    if not storage.exists(run_id, CHECKPOINT) or storage.exists(run_id, MANIFEST):
        return False
    delete_artifact(storage, run_id, FAILURE)
    return True


def _fall_back(
    job: _Job,
    trainer: Any,
    prepared: PreparedData,
    error: BaseException,
    should_stop: Stopper,
    mark: float,
) -> TrainingResult:
    """Train, store and report the baseline for a failed search; raise a JobError if even that
    fails or the job is stopped meanwhile."""
    reason = _reason(error)
    trainer.alert(
        "automl_fallback", f"the TPOT search failed ({reason}); the run's model is the baseline"
    )
    try:
        baseline = train_baseline(prepared, job.config, reason=reason, alerts=trainer.alerts)
        if should_stop():
            raise should_stop.error()
        job.lap("fallback", mark)
        timings = {**baseline.timings, "total": round(time.monotonic() - job.started, 3)}
        baseline = attrs.evolve(baseline, timings=timings)
        result = trainer.save(baseline, job.run_id, status="fallback")
        remove_checkpoint(job.storage, str(job.run_id))  # a complete run cannot be resumed
    except TrainingCancelled as stopped:
        raise job.fail(JobCancelled, "cancelled", stopped) from stopped
    except StorageError as store_error:
        if should_stop():
            raise job.fail(JobCancelled, "cancelled", should_stop.error()) from error
        raise job.fail(JobFailed, "storage", store_error) from store_error
    except Exception as fallback_error:
        raise job.fail(JobFailed, "fallback", fallback_error) from fallback_error
    job.reporter.finished(
        {"status": "fallback", "run_id": result.run_id, "mode": "fallback", **result.summary()}
    )
    return result


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def read_failure(storage: Storage, run_id: str) -> dict[str, Any] | None:
    """The failure record stored for ``run_id`` by :func:`run_for_job`, or ``None``."""
    validate_run_id(run_id)
    if not storage.exists(run_id, FAILURE):
        return None
    return json.loads(storage.read_bytes(run_id, FAILURE))
