"""TrainingResult and the JSON-safe reports built from TPOT's ``evaluated_individuals``.

TPOT keeps its history in a pandas DataFrame holding live estimator objects and NaNs; nothing
in it can go to JSON as is. This module turns it into plain records (one per evaluated pipeline)
and derives the leaderboard and the Pareto front from those records, so the three reports can
never disagree.

Artifact formats (all versioned by ``schema_version``) are documented in ``docs/artifacts.md``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from attrs import define, field

from ..utils.pipelines import PLACEHOLDERS

__all__ = [
    "SCHEMA_VERSION",
    "TrainingResult",
    "describe_pipeline",
    "evaluated_records",
    "leaderboard_from_records",
    "pareto_front_from_records",
    "dumps_json",
]

#: Version of every JSON artifact this release writes; bumped on any incompatible change.
SCHEMA_VERSION = 1

#: Status of one evaluation in ``evaluated_individuals``.
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_TIMEOUT = "timeout"
STATUS_NOT_FINISHED = "not_finished"

#: ``error`` of a failed evaluation: what stopped it (``reason`` says it in words).
ERROR_TIMEOUT = "timeout"
ERROR_MEMORY = "memory"
ERROR_EXCEPTION = "exception"
ERROR_WORKER_LOST = "worker_lost"

#: The column :mod:`automl_tpot.evaluation` adds to TPOT's history: ``(error, reason)``.
REASON_COLUMN = "Eval Reason"


def _failure(code: str | None, detail: Any) -> tuple[str | None, str | None]:
    """The record's ``error`` and ``reason`` from TPOT's code and our evaluation loop's detail."""
    if isinstance(detail, (tuple, list)) and len(detail) == 2:
        return str(detail[0]), str(detail[1])
    if code == "TIMEOUT":
        return ERROR_TIMEOUT, "ran longer than per_run_limit"
    if code is not None:
        return ERROR_EXCEPTION, "the pipeline raised an error (TPOT kept no detail)"
    return None, None


_NUMPY_REPR = re.compile(r"np\.(?:str_|float64|int64|bool_|float32|int32)\(([^()]*)\)")


def _clean_repr(text: str) -> str:
    text = _NUMPY_REPR.sub(r"\1", text)
    text = text.replace("np.True_", "True").replace("np.False_", "False")
    return re.sub(r"\s+", " ", text).replace("( ", "(").replace(" )", ")")


def describe_pipeline(estimator: Any) -> str:
    """A one-line description of a (possibly nested) scikit-learn pipeline.

    Steps read left to right joined by ``->``; feature unions appear as ``[a + b]``; TPOT's
    pass-through and skip placeholders are left out; parameters appear as scikit-learn prints
    them (only those changed from the defaults).
    """
    from sklearn.pipeline import FeatureUnion, Pipeline

    if isinstance(estimator, Pipeline):
        parts = [describe_pipeline(step) for _, step in estimator.steps]
        parts = [p for p in parts if p]
        return " -> ".join(parts)
    if isinstance(estimator, FeatureUnion):
        parts = [describe_pipeline(t) for _, t in estimator.transformer_list]
        parts = [p for p in parts if p]
        if not parts:
            return ""
        return parts[0] if len(parts) == 1 else "[" + " + ".join(parts) + "]"
    name = type(estimator).__name__
    if name in PLACEHOLDERS:
        return ""
    if name == "WeightedEnsemble" and hasattr(estimator, "members"):
        total = float(sum(estimator.weights)) or 1.0
        parts = [
            f"{weight / total:.2f} x ({describe_pipeline(member)})"
            for member, weight in zip(estimator.members, estimator.weights, strict=True)
        ]
        return "Ensemble(" + " + ".join(parts) + ")"
    if hasattr(estimator, "graph") and hasattr(estimator, "get_params"):  # TPOT GraphPipeline
        try:
            nodes = [
                describe_pipeline(estimator.graph.nodes[n]["instance"])
                for n in estimator.graph.nodes
            ]
            return "Graph(" + ", ".join(n for n in nodes if n) + ")"
        except Exception:  # an unexpected graph layout: fall back to the repr
            pass
    return _clean_repr(repr(estimator))


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _int_or_none(value: Any) -> int | None:
    number = _finite_or_none(value)
    return None if number is None else int(number)


def evaluated_records(
    frame: Any, *, score_column: str, complexity_column: str | None, metric: str
) -> list[dict[str, Any]]:
    """Turn TPOT's ``evaluated_individuals`` DataFrame into JSON-safe records.

    Each record: ``id``, ``pipeline`` (see :func:`describe_pipeline`), ``status`` (``ok``,
    ``failed``, ``timeout`` or ``not_finished`` when the budget ended it), ``error`` (for failures:
    ``timeout``, ``memory``, ``exception`` or ``worker_lost``), ``reason`` (the failure in words,
    e.g. the exception's text), ``score``
    (the metric; scikit-learn's sign convention, bigger is better), ``complexity``,
    ``generation``, ``parents``, ``variation``, ``pareto_front`` (1 for the best front),
    ``submitted_at`` / ``completed_at`` (Unix seconds) and ``eval_seconds``.
    """
    records: list[dict[str, Any]] = []
    if frame is None:
        return records
    for index, row in frame.iterrows():
        score = _finite_or_none(row.get(score_column))
        code = row.get("Eval Error")
        code = None if code is None or (isinstance(code, float) and math.isnan(code)) else str(code)
        error, reason = _failure(code, row.get(REASON_COLUMN))
        if score is not None and code is None:
            status = STATUS_OK
        elif error == ERROR_TIMEOUT:
            status = STATUS_TIMEOUT
        elif code is not None:
            status = STATUS_FAILED
        else:
            status = STATUS_NOT_FINISHED
        submitted = _finite_or_none(row.get("Submitted Timestamp"))
        completed = _finite_or_none(row.get("Completed Timestamp"))
        parents = row.get("Parents")
        if isinstance(parents, (tuple, list)):
            parents = [int(p) for p in parents if _finite_or_none(p) is not None]
        else:
            parents = []
        variation = row.get("Variation_Function")
        instance = row.get("Instance")
        records.append(
            {
                "id": int(index),
                "pipeline": describe_pipeline(instance) if instance is not None else None,
                "status": status,
                "error": error,
                "reason": reason,
                "score": score if status == STATUS_OK else None,
                "metric": metric,
                "complexity": _finite_or_none(row.get(complexity_column))
                if complexity_column
                else None,
                "generation": _int_or_none(row.get("Generation")),
                "parents": parents,
                "variation": variation if isinstance(variation, str) else None,
                "pareto_front": _int_or_none(row.get("Pareto_Front")),
                "submitted_at": submitted,
                "completed_at": completed,
                "eval_seconds": (
                    round(completed - submitted, 4)
                    if submitted is not None and completed is not None
                    else None
                ),
            }
        )
    return records


def _rank_key(record: dict[str, Any]) -> tuple[float, float, int]:
    complexity = record["complexity"] if record["complexity"] is not None else math.inf
    return (-record["score"], complexity, record["id"])


def leaderboard_from_records(records: Sequence[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    """The ``k`` best successful evaluations by score (ties: simpler first), with their rank."""
    ok = sorted((r for r in records if r["status"] == STATUS_OK), key=_rank_key)
    board = []
    for rank, record in enumerate(ok[:k], start=1):
        board.append(
            {
                "rank": rank,
                "id": record["id"],
                "pipeline": record["pipeline"],
                "score": record["score"],
                "scores": {record["metric"]: record["score"]},
                "complexity": record["complexity"],
                "eval_seconds": record["eval_seconds"],
                "generation": record["generation"],
            }
        )
    return board


def pareto_front_from_records(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The non-dominated successful evaluations over (score up, complexity down).

    Computed from the records themselves rather than TPOT's ``Pareto_Front`` column, which TPOT
    only keeps up to date for its final population.
    """
    ok = sorted((r for r in records if r["status"] == STATUS_OK), key=_rank_key)
    front: list[dict[str, Any]] = []
    best_complexity = math.inf
    for record in ok:  # sorted by score descending: keep each strictly simpler one
        complexity = record["complexity"] if record["complexity"] is not None else math.inf
        if complexity < best_complexity or not front:
            front.append(
                {
                    "id": record["id"],
                    "pipeline": record["pipeline"],
                    "score": record["score"],
                    "complexity": record["complexity"],
                    "generation": record["generation"],
                }
            )
            best_complexity = complexity
    return front


def dumps_json(document: Any) -> bytes:
    """Serialise ``document`` the one way every artifact is written: UTF-8, indented, no NaN."""
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


@define(frozen=True, eq=False)
class TrainingResult:
    """Everything one :meth:`Trainer.train` call produced.

    Attributes:
        run_id: the identifier of the stored run (``None`` when nothing was stored).
        model: the fitted :class:`~automl_tpot.model.TabularModel`.
        task: ``"classification"`` or ``"regression"``.
        task_reason: how the task was decided.
        metric: the name of the optimised metric.
        best_score: the chosen model's cross-validated score (bigger is better): the best
            pipeline's, or the ensemble's when the final model averages several pipelines.
        best_pipeline: a one-line description of the chosen model (``Ensemble(...)`` for an
            average of pipelines, with each member's weight).
        leaderboard: the best pipelines, see :func:`leaderboard_from_records`.
        pareto_front: score against complexity, see :func:`pareto_front_from_records`.
        evaluated_individuals: every evaluation, see :func:`evaluated_records`.
        generations_completed: generations TPOT finished (the initial population counts as 1).
        population_size: the population size searched with.
        stopped_by: ``"generations"`` when all asked-for generations ran, ``"time_left"`` when
            the time budget cut the search short, ``"fallback"`` when the search failed and the
            model is the AutoML fallback's baseline (see :mod:`automl_tpot.fallback`).
        timings: seconds spent per phase (``prepare``, ``cluster_start``, ``search``, ...,
            ``total``).
        feature_types: how each input column was encoded.
        parallel: the parallel mode asked for and used, and the number of workers.
        notes: adjustments and warnings, in words.
        config: the configuration of the run.
        location: where the run's artifacts were stored (``None`` when nothing was stored).
        alerts: the :class:`~automl_tpot.progress.Alert` events raised during the run
            (``timeout``, ``oom``, ``parallel_fallback``, ``automl_fallback``).
    """

    model: Any
    task: str
    task_reason: str
    metric: str
    best_score: float
    best_pipeline: str
    leaderboard: list[dict[str, Any]]
    pareto_front: list[dict[str, Any]]
    evaluated_individuals: list[dict[str, Any]]
    generations_completed: int
    population_size: int
    stopped_by: str
    timings: dict[str, float]
    feature_types: Any
    parallel: dict[str, Any]
    config: Any
    notes: list[str] = field(factory=list)
    run_id: str | None = None
    location: str | None = None
    alerts: list[Any] = field(factory=list)

    @property
    def budget_exhausted(self) -> bool:
        """True when the time budget, not the generation count, ended the search."""
        return self.stopped_by == "time_left"

    def summary(self) -> dict[str, Any]:
        """The JSON-safe summary stored in ``run.json``."""
        ok = sum(1 for r in self.evaluated_individuals if r["status"] == STATUS_OK)
        return {
            "task": self.task,
            "task_reason": self.task_reason,
            "metric": self.metric,
            "best_score": self.best_score,
            "best_pipeline": self.best_pipeline,
            "leaderboard_top5": self.leaderboard[:5],
            "generations_completed": self.generations_completed,
            "population_size": self.population_size,
            "evaluations": len(self.evaluated_individuals),
            "successful_evaluations": ok,
            "pareto_front_size": len(self.pareto_front),
            "stopped_by": self.stopped_by,
            "budget_exhausted": self.budget_exhausted,
            "timings": dict(self.timings),
            "feature_types": self.feature_types.to_dict(),
            "parallel": dict(self.parallel),
            "notes": list(self.notes),
            "alerts": [alert.to_dict() for alert in self.alerts],
        }
