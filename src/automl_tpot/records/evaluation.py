"""One evaluated pipeline as a typed record, and the leaderboard and Pareto front derived from
the records, so the three reports can never disagree.

Every producer of evaluations (the search, through the TPOT boundary, and the AutoML fallback)
builds :class:`EvaluationRecord` objects; their one JSON view is :meth:`EvaluationRecord.to_dict`
(the objects of ``evaluated_individuals.json``, documented in ``docs/artifacts.md``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
from attrs import define, field

__all__ = [
    "ERRORS",
    "ERROR_EXCEPTION",
    "ERROR_MEMORY",
    "ERROR_TIMEOUT",
    "ERROR_WORKER_LOST",
    "STATUSES",
    "STATUS_FAILED",
    "STATUS_NOT_FINISHED",
    "STATUS_OK",
    "STATUS_TIMEOUT",
    "EvaluationRecord",
    "LeaderboardEntry",
    "ParetoPoint",
    "leaderboard",
    "pareto_front",
]

#: ``status`` of one evaluation: scored, failed, over its time limit, or cut off by the budget.
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_TIMEOUT = "timeout"
STATUS_NOT_FINISHED = "not_finished"
STATUSES = (STATUS_OK, STATUS_FAILED, STATUS_TIMEOUT, STATUS_NOT_FINISHED)

#: ``error`` of a failed evaluation: what stopped it (``reason`` says it in words).
ERROR_TIMEOUT = "timeout"
ERROR_MEMORY = "memory"
ERROR_EXCEPTION = "exception"
ERROR_WORKER_LOST = "worker_lost"
ERRORS = (ERROR_TIMEOUT, ERROR_MEMORY, ERROR_EXCEPTION, ERROR_WORKER_LOST)


def finite_or_none(value: Any) -> float | None:
    """``value`` as a finite float, or ``None`` (NaN, infinities, non-numbers)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _optional_int(value: Any) -> int | None:
    number = finite_or_none(value)
    return None if number is None else int(number)


def _int_tuple(values: Any) -> tuple[int, ...]:
    if not isinstance(values, Iterable) or isinstance(values, (str, bytes)):
        return ()
    return tuple(int(v) for v in values if finite_or_none(v) is not None)


@define(frozen=True)
class EvaluationRecord:
    """One pipeline the run evaluated.

    Attributes:
        id: the evaluation's number in the run (stable across a resumed run).
        pipeline: a one-line description (see
            :func:`~automl_tpot.utils.pipelines.describe_pipeline`).
        status: one of :data:`STATUSES`.
        error: for failures, one of :data:`ERRORS`; otherwise ``None``.
        reason: the failure in words (an exception's text, the limit it passed).
        score: the metric (bigger is better); ``None`` unless ``status`` is ``ok``.
        metric: the metric's name.
        complexity: the pipeline's structural complexity (smaller is simpler).
        generation: the generation that produced it (``None`` outside the search).
        parents: the ids it was bred from.
        variation: how it was bred (TPOT's ``ind_mutate``, ``ind_crossover``, ...;
            ``fallback`` for the AutoML fallback's baseline).
        pareto_front: TPOT's front number for it (1 for the best front), if TPOT set one.
        submitted_at: when it was submitted (Unix seconds).
        completed_at: when its evaluation ended (Unix seconds).
        sample_fraction: the share of the training rows it was cross-validated on, when the
            search worked on a sample (large tables); ``None`` for all rows.
    """

    id: int = field(converter=int)
    pipeline: str | None
    status: str = field(validator=attrs.validators.in_(STATUSES))
    error: str | None = field(
        default=None, validator=attrs.validators.optional(attrs.validators.in_(ERRORS))
    )
    reason: str | None = None
    score: float | None = field(default=None, converter=finite_or_none)
    metric: str = ""
    complexity: float | None = field(default=None, converter=finite_or_none)
    generation: int | None = field(default=None, converter=_optional_int)
    parents: tuple[int, ...] = field(default=(), converter=_int_tuple)
    variation: str | None = None
    pareto_front: int | None = field(default=None, converter=_optional_int)
    submitted_at: float | None = field(default=None, converter=finite_or_none)
    completed_at: float | None = field(default=None, converter=finite_or_none)
    sample_fraction: float | None = field(default=None, converter=finite_or_none)

    def __attrs_post_init__(self) -> None:
        if self.status != STATUS_OK and self.score is not None:  # only a success has a score
            object.__setattr__(self, "score", None)

    @property
    def ok(self) -> bool:
        """Whether the evaluation produced a score."""
        return self.status == STATUS_OK and self.score is not None

    @property
    def eval_seconds(self) -> float | None:
        """How long the evaluation took, when both ends are known."""
        if self.submitted_at is None or self.completed_at is None:
            return None
        return round(self.completed_at - self.submitted_at, 4)

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (one object of ``evaluated_individuals.json``)."""
        return {
            "id": self.id,
            "pipeline": self.pipeline,
            "status": self.status,
            "error": self.error,
            "reason": self.reason,
            "score": self.score,
            "metric": self.metric,
            "complexity": self.complexity,
            "generation": self.generation,
            "parents": list(self.parents),
            "variation": self.variation,
            "pareto_front": self.pareto_front,
            "submitted_at": self.submitted_at,
            "completed_at": self.completed_at,
            "eval_seconds": self.eval_seconds,
            "sample_fraction": self.sample_fraction,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvaluationRecord:
        """The record of a JSON view made by :meth:`to_dict`."""
        names = {a.name for a in attrs.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@define(frozen=True)
class LeaderboardEntry:
    """One row of the leaderboard: a successful evaluation and its rank (1 is best)."""

    rank: int
    record: EvaluationRecord

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (one entry of ``leaderboard.json``)."""
        record = self.record
        return {
            "rank": self.rank,
            "id": record.id,
            "pipeline": record.pipeline,
            "score": record.score,
            "scores": {record.metric: record.score},
            "complexity": record.complexity,
            "eval_seconds": record.eval_seconds,
            "generation": record.generation,
            "sample_fraction": record.sample_fraction,
        }


@define(frozen=True)
class ParetoPoint:
    """A successful evaluation no other beats on both score and simplicity."""

    record: EvaluationRecord

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (one member of ``tp_pareto_front.json``)."""
        record = self.record
        return {
            "id": record.id,
            "pipeline": record.pipeline,
            "score": record.score,
            "complexity": record.complexity,
            "generation": record.generation,
            "sample_fraction": record.sample_fraction,
        }


def _rank_key(record: EvaluationRecord) -> tuple[float, float, int]:
    complexity = record.complexity if record.complexity is not None else math.inf
    return (-(record.score or 0.0), complexity, record.id)


def _ranked(records: Iterable[EvaluationRecord]) -> list[EvaluationRecord]:
    """The successful evaluations comparable with each other, best first: those on the largest
    share of rows (all of them, unless the search worked on samples of a large table)."""
    ok = [r for r in records if r.ok]
    if not ok:
        return []
    largest = max(r.sample_fraction or 1.0 for r in ok)
    comparable = (r for r in ok if (r.sample_fraction or 1.0) >= largest - 1e-12)
    return sorted(comparable, key=_rank_key)


def leaderboard(records: Iterable[EvaluationRecord], k: int) -> list[LeaderboardEntry]:
    """The ``k`` best successful evaluations by score (ties: simpler first, then earlier),
    among those on the largest share of rows."""
    return [LeaderboardEntry(rank, r) for rank, r in enumerate(_ranked(records)[:k], start=1)]


def pareto_front(records: Sequence[EvaluationRecord]) -> list[ParetoPoint]:
    """The non-dominated successful evaluations over (score up, complexity down).

    Computed from the records rather than TPOT's ``Pareto_Front`` column, which TPOT only keeps
    up to date for its final population.
    """
    front: list[ParetoPoint] = []
    best_complexity = math.inf
    for record in _ranked(records):  # best score first: keep each strictly simpler one
        complexity = record.complexity if record.complexity is not None else math.inf
        if complexity < best_complexity or not front:
            front.append(ParetoPoint(record))
            best_complexity = complexity
    return front
