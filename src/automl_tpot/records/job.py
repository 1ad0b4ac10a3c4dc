"""The job record: what :func:`~automl_tpot.jobs.run_for_job` hands back for the host's
TrainingRun row, and what ``failure.json`` holds for a job that left no complete run.

Its keys are a contract with the host (``leaderboard_topk``, ``tp_generations`` and the others
the plan names); ``docs/jobs.md`` documents each.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from attrs import define, field

from .documents import SCHEMA_VERSION

__all__ = ["JOB_STATUSES", "RECORD_SCHEMA", "JobRecord", "ParallelUse"]

#: The statuses of a job record.
JOB_STATUSES = ("complete", "stopped", "fallback", "failed")
#: The record's ``schema``.
RECORD_SCHEMA = "automl-tpot/training-run"


@define(frozen=True)
class ParallelUse:
    """The parallel mode a job asked for and the one it ran with."""

    requested: str | None = None
    used: str | None = None
    n_workers: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return attrs.asdict(self)


@define(frozen=True, kw_only=True)
class JobRecord:
    """One job's outcome.

    Attributes:
        run_id: the run's identifier (``None`` when the id itself was invalid).
        dataset_id: the payload's ``dataset_id`` when it was valid.
        status: one of :data:`JOB_STATUSES`.
        task, metric, best_pipeline, best_score: the chosen model (``None`` for failures).
        leaderboard_topk: the leaderboard's entries (``leaderboard_top5`` is the first five).
        tp_generations, tp_population_size, tp_evaluations, tp_pareto_front_size: the search's
            figures the plan names.
        parallel_mode: the parallel mode asked for and used.
        memory_limit_mb: the workers' memory limit.
        durations: seconds per job stage (``validate``, ``load_data``, ``train``, ...,
            ``total``; ``phases`` holds the run's own timings).
        location: where the run (or ``failure.json``) is stored.
        artifacts: artifact name -> its address.
        alerts: the run's alerts.
        fallback_reason: why the AutoML fallback's baseline is the model, if it is.
        error: for failures: ``type``, ``message``, ``stage`` (and ``field``, ``value``,
            ``allowed`` for configuration errors, ``cause`` when there is one).
        config: the job's configuration when it was valid.
        started_at, finished_at: UTC, ISO 8601.
        details: ``evaluated_individuals`` and the Pareto front as compact JSON of a bounded
            size (see :func:`~automl_tpot.jobs.details_json`).
    """

    run_id: str | None
    dataset_id: str | int | None
    status: str = field(validator=attrs.validators.in_(JOB_STATUSES))
    task: str | None = None
    metric: str | None = None
    best_pipeline: str | None = None
    best_score: float | None = None
    leaderboard_topk: Sequence[Mapping[str, Any]] = ()
    tp_generations: int = 0
    tp_population_size: int | None = None
    tp_evaluations: int = 0
    tp_pareto_front_size: int = 0
    parallel_mode: ParallelUse = field(factory=ParallelUse)
    memory_limit_mb: int | None = None
    durations: Mapping[str, Any] = field(factory=dict)
    location: str | None = None
    artifacts: Mapping[str, str] = field(factory=dict)
    alerts: Sequence[Mapping[str, str]] = ()
    fallback_reason: str | None = None
    error: Mapping[str, Any] | None = None
    config: Mapping[str, Any] | None = None
    started_at: str
    finished_at: str
    details: str

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (the host's TrainingRun record, ``failure.json``)."""
        board = [dict(entry) for entry in self.leaderboard_topk]
        return {
            "schema": RECORD_SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "dataset_id": self.dataset_id,
            "status": self.status,
            "task": self.task,
            "metric": self.metric,
            "best_pipeline": self.best_pipeline,
            "best_score": self.best_score,
            "leaderboard_top5": board[:5],
            "leaderboard_topk": board,
            "tp_generations": self.tp_generations,
            "tp_population_size": self.tp_population_size,
            "tp_evaluations": self.tp_evaluations,
            "tp_pareto_front_size": self.tp_pareto_front_size,
            "parallel_mode": self.parallel_mode.to_dict(),
            "memory_limit_mb": self.memory_limit_mb,
            "durations": dict(self.durations),
            "location": self.location,
            "artifacts": dict(self.artifacts),
            "alerts": [dict(alert) for alert in self.alerts],
            "fallback_reason": self.fallback_reason,
            "error": None if self.error is None else dict(self.error),
            "config": None if self.config is None else dict(self.config),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "details": self.details,
        }
