"""run_for_job: the one call a host's TrainingService makes to turn a job payload into a run.

The host keeps its datasets, its job queue and its TrainingRun table; the library validates the
payload, loads the table through the host's loader, trains, stores the artifacts and hands back
one JSON-safe record for the TrainingRun row. Every job ends in exactly one of three ways:

``complete``
    The search found a model; the run is stored with ``run.json``.
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
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from ..config import TrainerConfig
from ..data import load_table, prepare_training_data
from ..errors import (
    ConfigError,
    DataError,
    JobCancelled,
    JobError,
    JobFailed,
    JobRejected,
    SearchSpaceError,
    StorageError,
    TrainingCancelled,
)
from ..metrics import MetricsBackend, NullMetrics
from ..records.evaluations import SCHEMA_VERSION, STATUS_OK, TrainingResult, dumps_json
from ..records.events import GenerationProgress
from ..run.fallback import fallback_enabled, train_baseline
from ..storage import ARTIFACT_NAMES, MANIFEST, Storage, new_run_id, validate_run_id

__all__ = [
    "DETAILS_LIMIT",
    "FAILURE",
    "JOB_STATUSES",
    "details_json",
    "read_failure",
    "run_for_job",
    "validate_payload",
]

log = logging.getLogger(__name__)

#: The failure record of a job that left no complete run, stored under its run id.
FAILURE = "failure.json"
#: Bytes (UTF-8) the ``details`` JSON of a record may take at most.
DETAILS_LIMIT = 64 * 1024
#: The statuses of a job record.
JOB_STATUSES = ("complete", "fallback", "failed")
RECORD_SCHEMA = "automl-tpot/training-run"

LoadDataset = Callable[[Any], Any]


# --- validation -------------------------------------------------------------------------------


def validate_payload(
    payload: Any, *, env: Mapping[str, str] | None = None, **overrides: Any
) -> tuple[TrainerConfig, Any]:
    """Check a job payload without loading data; return its configuration and ``dataset_id``.

    Checks what can be checked from the payload alone: known keys and their types (through
    :meth:`TrainerConfig.from_payload`), a ``dataset_id`` and a ``target_column``, that a
    search space named by the payload is registered, and that a config dict's classes and
    parameters resolve (for the task, when it is given).

    Raises:
        ConfigError: naming the payload key, the value and what is allowed.
    """
    if not isinstance(payload, Mapping):
        raise ConfigError("payload", payload, "a mapping of payload keys to values")
    dataset_id = payload.get("dataset_id")
    if (
        dataset_id is None
        or isinstance(dataset_id, bool)
        or not isinstance(dataset_id, (str, int))
        or (isinstance(dataset_id, str) and not dataset_id.strip())
    ):
        raise ConfigError(
            "dataset_id", dataset_id, "a dataset identifier (a non-empty string or an integer)"
        )
    config = TrainerConfig.from_payload(payload, env=env, **overrides)
    if config.target_column is None:
        raise ConfigError("target_column", None, "the name of the column to predict")
    _check_search_space(config.search_space, config.task)
    return config, dataset_id


def _check_search_space(spec: Any, task: str) -> None:
    """Check a named or config-dict search space for ``task`` (``"auto"``: for either task)
    without any data: the name is registered, the config dict's classes and parameters resolve.
    Search-space objects are taken as they are."""
    from ..plugins import load_registry
    from ..search_spaces import SearchContext
    from ..search_spaces.config_dict import config_dict_search_space

    if not isinstance(spec, (str, Mapping)):
        return
    try:
        registry = load_registry()
    except SearchSpaceError as error:
        raise ConfigError("search_space", spec, f"installed search spaces ({error})") from None
    tasks = ("classification", "regression") if task == "auto" else (task,)
    if isinstance(spec, str):
        try:
            space, _argument = registry.get(spec.strip())
        except SearchSpaceError as error:
            allowed = f"a registered search space ({error})"
            raise ConfigError("search_space", spec, allowed) from None
        if not set(tasks) & set(space.definition.tasks):
            raise ConfigError(
                "search_space",
                spec,
                f"a search space serving {task} ({spec!r} serves "
                f"{' and '.join(space.definition.tasks)})",
            )
        return
    first_error: SearchSpaceError | None = None
    for candidate in tasks:
        context = SearchContext(
            task=candidate,
            n_rows=0,
            n_features=0,
            n_classes=None,
            numeric_columns=(),
            categorical_columns=(),
            random_state=None,
        )
        try:
            config_dict_search_space(spec, context, extra_classes=registry.estimators)
            return
        except SearchSpaceError as error:
            first_error = first_error or error
    raise ConfigError("search_space", spec, f"a valid config dict ({first_error})") from None


def _load_dataset(load_dataset: LoadDataset, dataset_id: Any) -> Any:
    """The host's table for ``dataset_id``; any loader failure is a :class:`DataError`."""
    import pandas as pd

    try:
        table = load_dataset(dataset_id)
    except LookupError as error:  # KeyError, IndexError: the host's "no such dataset"
        raise DataError(f"dataset {dataset_id!r} does not exist: {error}") from error
    except FileNotFoundError as error:
        raise DataError(f"dataset {dataset_id!r} does not exist: {error}") from error
    except Exception as error:  # a loader may raise anything; the job cannot go on either way
        raise DataError(
            f"dataset {dataset_id!r} could not be loaded: {type(error).__name__}: {error}"
        ) from error
    if table is None:
        raise DataError(f"dataset {dataset_id!r} does not exist (the loader returned None)")
    if not isinstance(table, pd.DataFrame):
        table = load_table(table)  # a CSV / Parquet path
    return table


# --- cancellation -----------------------------------------------------------------------------


class _Stopper:
    """``should_stop`` for the Trainer: the host's cancel event or the job's timeout."""

    def __init__(self, cancel: Any, timeout: float | None, started: float):
        if cancel is not None and not callable(getattr(cancel, "is_set", None)):
            raise ConfigError("cancel", cancel, "a threading.Event (with is_set()) or None")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ConfigError("timeout", timeout, "a number of seconds > 0 or None")
        self._cancel = cancel
        self._timeout = timeout
        self._deadline = None if timeout is None else started + timeout
        self._lock = threading.Lock()
        self.reason: str | None = None

    def __call__(self) -> bool:
        with self._lock:
            if self.reason is not None:
                return True
            if self._cancel is not None and self._cancel.is_set():
                self.reason = "the job was cancelled"
            elif self._deadline is not None and time.monotonic() > self._deadline:
                self.reason = f"the job ran past its timeout of {self._timeout:g}s"
            return self.reason is not None

    def error(self) -> TrainingCancelled:
        return TrainingCancelled(self.reason or "the job was stopped")


class _GuardedStorage:
    """A storage that refuses writes once the job is stopped.

    :func:`~automl_tpot.storage.write_run` then removes what it had written, so a job cancelled
    while its artifacts were being written never leaves a ``run.json``. A cancel that comes after
    the manifest was written is too late: the job is complete.
    """

    def __init__(self, storage: Storage, should_stop: Callable[[], bool]):
        self._storage = storage
        self._should_stop = should_stop

    def __repr__(self) -> str:
        return repr(self._storage)

    def location(self, run_id: str) -> str:
        return self._storage.location(run_id)

    def write_bytes(self, run_id: str, name: str, data: bytes) -> None:
        if self._should_stop():
            raise StorageError(f"the job was stopped; not writing {name!r} of run {run_id!r}")
        self._storage.write_bytes(run_id, name, data)

    def read_bytes(self, run_id: str, name: str) -> bytes:
        return self._storage.read_bytes(run_id, name)

    def exists(self, run_id: str, name: str) -> bool:
        return self._storage.exists(run_id, name)

    def list_runs(self) -> list[str]:
        return self._storage.list_runs()

    def delete_run(self, run_id: str) -> None:
        self._storage.delete_run(run_id)


# --- details ----------------------------------------------------------------------------------


def _rank(record: Mapping[str, Any]) -> tuple[int, float, int]:
    ok = record.get("status") == STATUS_OK and record.get("score") is not None
    return (0 if ok else 1, -record["score"] if ok else 0.0, int(record.get("id", 0)))


def details_json(
    evaluated: Sequence[Mapping[str, Any]],
    pareto_front: Sequence[Mapping[str, Any]],
    *,
    keep_ids: Sequence[int] = (),
    limit: int = DETAILS_LIMIT,
) -> str:
    """``evaluated_individuals`` and the Pareto front as compact JSON of at most ``limit`` bytes.

    When everything does not fit, evaluations are left out whole, never cut: first kept are
    ``keep_ids`` (the leaderboard, best first), then the Pareto members, then the others by
    score. The document says what it holds: ``evaluations`` (all), ``included``, ``omitted``,
    ``pareto_front_size`` and ``truncated``.
    """
    total = len(evaluated)
    front_size = len(pareto_front)

    def render(records: Sequence[Mapping[str, Any]], front: Sequence[Mapping[str, Any]]) -> str:
        document = {
            "evaluations": total,
            "included": len(records),
            "omitted": total - len(records),
            "pareto_front_size": front_size,
            "truncated": len(records) < total or len(front) < front_size,
            "limit_bytes": limit,
            "pareto_front": list(front),
            "evaluated_individuals": sorted(records, key=lambda r: int(r.get("id", 0))),
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def fits(text: str) -> bool:
        return len(text.encode("utf-8")) <= limit

    text = render(evaluated, pareto_front)
    if fits(text):
        return text
    by_id = {int(r.get("id", 0)): r for r in evaluated}
    order: list[int] = []
    for record_id in [*keep_ids, *(int(m.get("id", 0)) for m in pareto_front)]:
        if record_id in by_id and record_id not in order:
            order.append(record_id)
    chosen = set(order)
    rest = (int(r.get("id", 0)) for r in sorted(evaluated, key=_rank))
    order.extend(i for i in rest if i not in chosen)
    priority = [by_id[i] for i in order]

    front = list(pareto_front)
    if not fits(render([], front)):  # pathological: even the front alone is too large
        front = front[: _largest_fitting(len(front), lambda j: fits(render([], front[:j])))]
    best = _largest_fitting(len(priority), lambda k: fits(render(priority[:k], front)))
    text = render(priority[:best], front)
    while not fits(text) and best > 0:  # the counts' digits can shift the size by a byte
        best -= 1
        text = render(priority[:best], front)
    return text


def _largest_fitting(n: int, fits: Callable[[int], bool]) -> int:
    """The largest k in [0, n] with fits(k), for fits monotone (true, then false)."""
    low, high = 0, n
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


# --- records ----------------------------------------------------------------------------------


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _error_view(error: BaseException, stage: str) -> dict[str, Any]:
    view: dict[str, Any] = {"type": type(error).__name__, "message": str(error), "stage": stage}
    if isinstance(error, ConfigError):
        view.update(field=error.field, value=repr(error.value), allowed=error.allowed)
    cause = error.__cause__
    if cause is not None:
        view["cause"] = f"{type(cause).__name__}: {cause}"
    return view


class _Job:
    """The state of one :func:`run_for_job` call, and the records it produces."""

    def __init__(self, payload: Any, run_id: str, storage: Storage, metrics: MetricsBackend):
        self.started = time.monotonic()
        self.started_at = _now()
        self.run_id = run_id
        self.storage = storage
        self.metrics = metrics
        self.dataset_id = payload.get("dataset_id") if isinstance(payload, Mapping) else None
        if not isinstance(self.dataset_id, (str, int)) or isinstance(self.dataset_id, bool):
            self.dataset_id = None
        self.config: TrainerConfig | None = None
        self.durations: dict[str, float] = {}
        self.trainer: Any = None  # set once training starts: its alerts belong in every record

    def lap(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.durations[name] = round(now - since, 3)
        return now

    def _base(self, status: str) -> dict[str, Any]:
        config = self.config
        self.durations["total"] = round(time.monotonic() - self.started, 3)
        return {
            "schema": RECORD_SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "dataset_id": self.dataset_id,
            "status": status,
            "task": None,
            "metric": None,
            "best_pipeline": None,
            "best_score": None,
            "leaderboard_top5": [],
            "leaderboard_topk": [],
            "tp_generations": 0,
            "tp_population_size": None if config is None else config.population_size,
            "tp_evaluations": 0,
            "tp_pareto_front_size": 0,
            "parallel_mode": {
                "requested": None if config is None else config.parallel_mode,
                "used": None,
                "n_workers": 0,
            },
            "memory_limit_mb": None if config is None else config.memory_limit_mb,
            "durations": dict(self.durations),
            "location": None,
            "artifacts": {},
            "alerts": [] if self.trainer is None else [a.to_dict() for a in self.trainer.alerts],
            "fallback_reason": None,
            "error": None,
            "config": None if config is None else config.to_dict(),
            "started_at": self.started_at,
            "finished_at": _now(),
            "details": details_json([], []),
        }

    def success(
        self, status: str, result: TrainingResult, fallback_reason: str | None
    ) -> dict[str, Any]:
        record = self._base(status)
        location = result.location
        board = list(result.leaderboard)
        record.update(
            task=result.task,
            metric=result.metric,
            best_pipeline=result.best_pipeline,
            best_score=_finite(result.best_score),
            leaderboard_top5=board[:5],
            leaderboard_topk=board,
            tp_generations=result.generations_completed,
            tp_population_size=result.population_size,
            tp_evaluations=len(result.evaluated_individuals),
            tp_pareto_front_size=len(result.pareto_front),
            parallel_mode={
                "requested": result.parallel.get("mode_requested"),
                "used": result.parallel.get("mode_used"),
                "n_workers": result.parallel.get("n_workers"),
            },
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
        record["durations"]["phases"] = dict(result.timings)
        return record

    def fail(self, kind: type[JobError], stage: str, error: BaseException) -> JobError:
        """Store the failure record (when no complete run holds the id) and build the error."""
        record = self._base("failed")
        record["error"] = _error_view(error, stage)
        if self.trainer is None:  # otherwise the Trainer has reported the run's end
            summary = {
                "status": "failed",
                "run_id": self.run_id,
                "error": f"{type(error).__name__}: {error}",
                "timings": {"total": record["durations"]["total"]},
                "alerts": record["alerts"],
            }
            try:
                self.metrics.on_run_finished(summary)
            except Exception:
                log.warning("metrics backend failed on run end; ignoring", exc_info=True)
        if self.run_id is not None:
            try:
                if not self.storage.exists(self.run_id, MANIFEST):
                    location = self.storage.location(self.run_id)
                    record["location"] = location
                    record["artifacts"] = {FAILURE: f"{location}/{FAILURE}"}
                    self.storage.write_bytes(self.run_id, FAILURE, dumps_json(record))
            except Exception as store_error:  # the job's own error matters more
                log.warning("cannot store the failure record of %s", self.run_id, exc_info=True)
                record["location"] = None
                record["artifacts"] = {}
                record["error"]["record_not_stored"] = f"{type(store_error).__name__}: " + str(
                    store_error
                )
        return kind(f"job {self.run_id}: {stage} failed: {error}", record)


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
        run_id: the run's identifier; a fresh one when omitted. Use a new one per attempt.
        cancel: a ``threading.Event``; setting it stops the job (the search ends at TPOT's next
            budget check, nothing complete is stored, :class:`JobCancelled` is raised).
        timeout: seconds for the whole job (loading, search, fallback, storing); past it the job
            stops as if cancelled. ``time_left`` alone bounds the search itself.
        progress: called after every generation.
        **overrides: :class:`TrainerConfig` fields that win over the payload (e.g. ``n_jobs``).

    Returns:
        The record as a JSON-safe dict with ``status`` (``complete`` or ``fallback``), ``run_id``,
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
        should_stop = _Stopper(cancel, timeout, job.started)
        fallback_on = fallback_enabled(enable_fallback, env)
        job.config, dataset_id = validate_payload(payload, env=env, **overrides)
        mark = job.lap("validate", mark)
        if should_stop():
            raise should_stop.error()
        table = _load_dataset(load_dataset, dataset_id)
        prepared = prepare_training_data(
            table, job.config.target_column, job.config.task, job.config.cv
        )
        _check_search_space(job.config.search_space, prepared.task)  # now the task is known
        mark = job.lap("load_data", mark)
    except TrainingCancelled as error:
        raise job.fail(JobCancelled, "cancelled", error) from error
    except (ConfigError, DataError, SearchSpaceError) as error:
        raise job.fail(JobRejected, "validation", error) from error
    config = job.config

    # 2. The search.
    guarded = _GuardedStorage(storage, should_stop)
    trainer = job.trainer = Trainer(config, storage=guarded, metrics=metrics)
    try:
        result = trainer.train(table, run_id=run_id, progress=progress, should_stop=should_stop)
    except TrainingCancelled as error:  # the stopper knows why: cancelled, or past the timeout
        raise job.fail(JobCancelled, "cancelled", should_stop.error()) from error
    except (ConfigError, DataError, SearchSpaceError) as error:
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
        result = _fall_back(job, trainer, table, error, should_stop, time.monotonic())
        return job.success("fallback", result, fallback_reason=_reason(error))
    job.lap("train", mark)
    return job.success("complete", result, fallback_reason=None)


def _fall_back(
    job: _Job,
    trainer: Any,
    table: Any,
    error: BaseException,
    should_stop: _Stopper,
    mark: float,
) -> TrainingResult:
    """Train, store and report the baseline for a failed search; raise a JobError if even that
    fails or the job is stopped meanwhile."""
    import attrs

    reason = _reason(error)
    trainer.alert(
        "automl_fallback", f"the TPOT search failed ({reason}); the run's model is the baseline"
    )
    try:
        baseline = train_baseline(table, job.config, reason=reason, alerts=trainer.alerts)
        if should_stop():
            raise should_stop.error()
        job.lap("fallback", mark)
        timings = {**baseline.timings, "total": round(time.monotonic() - job.started, 3)}
        baseline = attrs.evolve(baseline, timings=timings)
        result = trainer.save(baseline, job.run_id, status="fallback")
    except TrainingCancelled as stopped:
        raise job.fail(JobCancelled, "cancelled", stopped) from stopped
    except StorageError as store_error:
        if should_stop():
            raise job.fail(JobCancelled, "cancelled", should_stop.error()) from error
        raise job.fail(JobFailed, "storage", store_error) from store_error
    except Exception as fallback_error:
        raise job.fail(JobFailed, "fallback", fallback_error) from fallback_error
    try:
        job.metrics.on_run_finished(
            {"status": "fallback", "run_id": result.run_id, "mode": "fallback", **result.summary()}
        )
    except Exception:
        log.warning("metrics backend failed on run end; ignoring", exc_info=True)
    return result


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


def read_failure(storage: Storage, run_id: str) -> dict[str, Any] | None:
    """The failure record stored for ``run_id`` by :func:`run_for_job`, or ``None``."""
    validate_run_id(run_id)
    if not storage.exists(run_id, FAILURE):
        return None
    return json.loads(storage.read_bytes(run_id, FAILURE))
