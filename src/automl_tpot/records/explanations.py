"""What a run explains about its final model, and the summary parts a report reads.

The explanation stage (:mod:`automl_tpot.explain`) measures, on out-of-fold rows, how much each
raw input column matters to the final model (permutation importance) and where the model errs
(confusion matrix and curves, or predicted against actual). It hands back an
:class:`Explanations` record; ``importance.json`` and ``diagnostics.json`` are its two JSON
views (:func:`importance_document`, :func:`diagnostics_document`), and ``run.json``'s
``summary.explanations`` says whether they were computed and, when not, why.
:class:`EnsembleSummary` and :class:`DataSummary` are ``summary.ensemble`` and
``summary.data``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
from attrs import define, field

__all__ = [
    "EXPLANATION_STATUSES",
    "ColumnImportance",
    "DataSummary",
    "EnsembleMember",
    "EnsembleSummary",
    "Explanations",
    "diagnostics_document",
    "importance_document",
]

#: ``complete`` (every fold), ``partial`` (some folds finished in time), ``skipped`` (off, or
#: no time left), ``failed`` (an error; the run goes on without explanations).
EXPLANATION_STATUSES = ("complete", "partial", "skipped", "failed")

SCHEMA_VERSION = 1


def _importances(items: Iterable[ColumnImportance]) -> tuple[ColumnImportance, ...]:
    return tuple(items)


def _members(items: Iterable[EnsembleMember]) -> tuple[EnsembleMember, ...]:
    return tuple(items)


@define(frozen=True)
class ColumnImportance:
    """How much the score drops when one raw column's values are shuffled (bigger: matters
    more), averaged over the held-out folds and the repeats."""

    column: str
    mean: float
    std: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (one entry of ``importance.json``)."""
        return {"column": self.column, "mean": self.mean, "std": self.std}


@define(frozen=True)
class Explanations:
    """The explanation stage's outcome.

    Attributes:
        status: one of :data:`EXPLANATION_STATUSES`.
        reason: why it is partial, skipped or failed (empty when complete).
        seconds: how long the stage took.
        folds: held-out folds that were scored (of ``cv``).
        cv: the search's folds.
        metric: the metric the importance is measured in (the run's).
        n_repeats: shuffles per column and fold.
        rows: held-out rows the importance was measured on.
        baseline_score: the refitted model's mean held-out score before any shuffle.
        importance: one entry per used raw column, most important first.
        diagnostics: the body of ``diagnostics.json`` (``None`` when not computed).
    """

    status: str = field(validator=attrs.validators.in_(EXPLANATION_STATUSES))
    reason: str = ""
    seconds: float = 0.0
    folds: int = 0
    cv: int = 0
    metric: str = ""
    n_repeats: int = 0
    rows: int = 0
    baseline_score: float | None = None
    importance: tuple[ColumnImportance, ...] = field(default=(), converter=_importances)
    diagnostics: Mapping[str, Any] | None = None

    @classmethod
    def skipped(cls, reason: str, *, seconds: float = 0.0, status: str = "skipped") -> Explanations:
        """No explanations, and why."""
        return cls(status=status, reason=reason, seconds=seconds)

    @property
    def computed(self) -> bool:
        """Whether the artifacts exist (complete or partial)."""
        return self.status in ("complete", "partial") and bool(self.importance)

    def summary(self) -> dict[str, Any]:
        """``summary.explanations`` of ``run.json``."""
        return {
            "status": self.status,
            "reason": self.reason,
            "seconds": self.seconds,
            "folds": self.folds,
            "cv": self.cv,
        }


def _header(schema: str, run_id: str | None, metric: str) -> dict[str, Any]:
    return {
        "schema": f"automl-tpot/{schema}",
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "metric": metric,
    }


def importance_document(run_id: str | None, explanations: Explanations) -> dict[str, Any]:
    """``importance.json``: permutation importance of the final model on the raw columns."""
    return {
        **_header("importance", run_id, explanations.metric),
        "method": "permutation",
        "greater_is_better": True,
        "n_repeats": explanations.n_repeats,
        "folds": explanations.folds,
        "cv": explanations.cv,
        "rows": explanations.rows,
        "baseline_score": explanations.baseline_score,
        "columns": [item.to_dict() for item in explanations.importance],
    }


def diagnostics_document(run_id: str | None, explanations: Explanations) -> dict[str, Any]:
    """``diagnostics.json``: where the final model errs, from its out-of-fold predictions."""
    return {
        **_header("diagnostics", run_id, explanations.metric),
        "folds": explanations.folds,
        "cv": explanations.cv,
        **dict(explanations.diagnostics or {}),
    }


@define(frozen=True)
class EnsembleMember:
    """One pipeline of a chosen ensemble and its weight."""

    pipeline: str
    weight: float

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return {"pipeline": self.pipeline, "weight": self.weight}


@define(frozen=True)
class EnsembleSummary:
    """``summary.ensemble``: what the ensemble stage chose.

    Attributes:
        chosen: whether the final model is the ensemble.
        members: its pipelines and weights (empty when not chosen).
        score: the ensemble's cross-validated score, when it was scored.
        best_single: the best single candidate's score on the same folds.
        candidates: pipelines whose out-of-fold predictions were computed.
        reason: why the search's choice stays, when it does.
        holdout_rows: when the search ended on a sample, the held-out rows of all rows the
            candidates were compared on (0: on the search's own folds).
        replaced_by: the single pipeline that replaced the search's choice, when one did.
        choice_score: the search's choice's score on the rows the stage compared on.
        fitted_rows: the rows the stage's models were fitted on (0: all rows, or the stage
            fitted nothing).
    """

    chosen: bool
    members: tuple[EnsembleMember, ...] = field(default=(), converter=_members)
    score: float | None = None
    best_single: float | None = None
    candidates: int = 0
    reason: str = ""
    holdout_rows: int = 0
    replaced_by: str | None = None
    choice_score: float | None = None
    fitted_rows: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return {
            "chosen": self.chosen,
            "members": [member.to_dict() for member in self.members],
            "score": self.score,
            "best_single": self.best_single,
            "candidates": self.candidates,
            "reason": self.reason,
            "holdout_rows": self.holdout_rows,
            "replaced_by": self.replaced_by,
            "choice_score": self.choice_score,
            "fitted_rows": self.fitted_rows,
        }


@define(frozen=True)
class DataSummary:
    """``summary.data``: the training table's size and its target.

    Attributes:
        rows: training rows.
        columns: raw feature columns (dropped ones included).
        target: the target column's name.
        class_counts: ``(label, rows)`` per class, in the model's class order
            (classification only).
        target_stats: ``min``, ``max``, ``mean``, ``std`` of the target (regression only).
    """

    rows: int
    columns: int
    target: str
    class_counts: tuple[tuple[str, int], ...] | None = None
    target_stats: Mapping[str, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return {
            "rows": self.rows,
            "columns": self.columns,
            "target": self.target,
            "class_balance": None
            if self.class_counts is None
            else [{"label": label, "count": count} for label, count in self.class_counts],
            "target_stats": None if self.target_stats is None else dict(self.target_stats),
        }
