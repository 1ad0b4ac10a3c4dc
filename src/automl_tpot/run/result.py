"""TrainingResult: everything one training run produced, and its summary for ``run.json``."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from attrs import define, field

from ..records.evaluation import (
    EvaluationRecord,
    LeaderboardEntry,
    ParetoPoint,
    leaderboard,
    pareto_front,
)
from ..records.events import Alert
from ..records.explanations import DataSummary, EnsembleSummary, Explanations

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from ..config import TrainerConfig
    from ..data import FeatureTypes
    from ..model import TabularModel

__all__ = ["TrainingResult"]


def _as_records(records: Iterable[EvaluationRecord]) -> tuple[EvaluationRecord, ...]:
    return tuple(records)


@define(frozen=True, eq=False)
class TrainingResult:
    """Everything one :meth:`Trainer.train` call produced.

    Attributes:
        model: the fitted :class:`~automl_tpot.model.TabularModel`.
        task: ``"classification"`` or ``"regression"``.
        task_reason: how the task was decided.
        metric: the name of the optimised metric.
        best_score: the chosen model's score (bigger is better): the best pipeline's
            cross-validated one, or the ensemble's when the final model averages several
            pipelines; after a search that ended on a sample of a large table, the final
            model's score on the held-out rows of all rows it was chosen on (see
            ``summary.ensemble``).
        best_pipeline: a one-line description of the chosen model (``Ensemble(...)`` for an
            average of pipelines, with each member's weight).
        evaluations: every evaluation, as typed records (:attr:`evaluated_individuals` is
            their JSON view).
        generations_completed: generations TPOT finished (the initial population counts as 1).
        population_size: the population size searched with.
        stopped_by: ``"generations"`` when all asked-for generations ran, ``"time_left"`` when
            the time budget cut the search short, ``"converged"`` when the search ended early
            because its best score stopped improving (see :attr:`budget_used`), ``"stopped"``
            when the caller asked the run to finish early (``should_finish``, the command
            line's first Ctrl-C), ``"fallback"`` when the search failed and the model is the
            AutoML fallback's baseline (see :mod:`automl_tpot.run.fallback`).
        timings: seconds spent per phase (``prepare``, ``cluster_start``, ``search``, ...,
            ``total``).
        feature_types: how each input column was encoded.
        parallel: the parallel mode asked for and used, and the number of workers.
        config: the configuration of the run.
        notes: adjustments and warnings, in words.
        run_id: the identifier of the stored run (``None`` when nothing was stored).
        location: where the run's artifacts were stored (``None`` when nothing was stored).
        alerts: the :class:`~automl_tpot.records.events.Alert` events raised during the run
            (``timeout``, ``oom``, ``parallel_fallback``, ``automl_fallback``).
        explanations: the final model's permutation importance and out-of-fold diagnostics
            (or why they are missing); ``None`` when the run had no explanation stage.
        ensemble_summary: what the ensemble stage chose; ``None`` when it did not run.
        data_summary: the training table's size and its target's classes or range.
        seed: the random seed the run used: ``config.random_state``, or the one drawn for it
            when that is ``None`` (``TrainerConfig(random_state=seed)`` repeats the run's draws).
        resume: for a resumed run, what ``run.json`` says about it (the generation it resumed
            from, how often, each attempt's budget, seconds and timings); ``None`` otherwise.
        checkpoints: how many checkpoints the run wrote and what they cost (``None`` when it
            stored nothing).

    A result draws its own report (:meth:`report`), its plots one by one (``plot_*``: they and
    the report need matplotlib, the ``report`` extra) and its leaderboard as a DataFrame.
    """

    model: TabularModel
    task: str
    task_reason: str
    metric: str
    best_score: float
    best_pipeline: str
    evaluations: tuple[EvaluationRecord, ...] = field(converter=_as_records)
    generations_completed: int
    population_size: int
    stopped_by: str
    timings: dict[str, float]
    feature_types: FeatureTypes
    parallel: dict[str, Any]
    config: TrainerConfig
    notes: list[str] = field(factory=list)
    run_id: str | None = None
    location: str | None = None
    alerts: list[Alert] = field(factory=list)
    explanations: Explanations | None = None
    ensemble_summary: EnsembleSummary | None = None
    data_summary: DataSummary | None = None
    seed: int | None = None
    resume: Mapping[str, Any] | None = None
    checkpoints: Mapping[str, Any] | None = None

    @property
    def leaderboard_entries(self) -> list[LeaderboardEntry]:
        """The ``leaderboard_k`` best successful evaluations, as typed entries."""
        return leaderboard(self.evaluations, self.config.leaderboard_k)

    @property
    def pareto_points(self) -> list[ParetoPoint]:
        """The Pareto front of score against complexity, as typed points."""
        return pareto_front(self.evaluations)

    @property
    def leaderboard(self) -> list[dict[str, Any]]:
        """The best pipelines (the entries of ``leaderboard.json``), best first."""
        return [entry.to_dict() for entry in self.leaderboard_entries]

    @property
    def pareto_front(self) -> list[dict[str, Any]]:
        """Score against complexity (the front of ``tp_pareto_front.json``)."""
        return [point.to_dict() for point in self.pareto_points]

    @property
    def evaluated_individuals(self) -> list[dict[str, Any]]:
        """Every evaluation (the individuals of ``evaluated_individuals.json``)."""
        return [record.to_dict() for record in self.evaluations]

    @property
    def budget_used(self) -> float | None:
        """The share of ``time_left`` the whole run took (``None`` before it is known)."""
        total = self.timings.get("total")
        return None if total is None else round(total / self.config.time_left, 3)

    @property
    def budget_exhausted(self) -> bool:
        """True when the time budget, not the generation count, ended the search."""
        return self.stopped_by == "time_left"

    def summary(self) -> dict[str, Any]:
        """The JSON-safe summary stored in ``run.json`` (and given to metrics backends)."""
        best = self.best_score
        return {
            "task": self.task,
            "task_reason": self.task_reason,
            "metric": self.metric,
            "best_score": best if math.isfinite(best) else None,
            "best_pipeline": self.best_pipeline,
            "leaderboard_top5": self.leaderboard[:5],
            "generations_completed": self.generations_completed,
            "population_size": self.population_size,
            "evaluations": len(self.evaluations),
            "successful_evaluations": sum(1 for record in self.evaluations if record.ok),
            "pareto_front_size": len(self.pareto_points),
            "stopped_by": self.stopped_by,
            "budget_exhausted": self.budget_exhausted,
            "budget_used": self.budget_used,
            "timings": dict(self.timings),
            "feature_types": self.feature_types.to_dict(),
            "parallel": dict(self.parallel),
            "notes": list(self.notes),
            "alerts": [alert.to_dict() for alert in self.alerts],
            **self._stage_summaries(),
            "seed": self.seed,
            "resume": None if self.resume is None else dict(self.resume),
            "checkpoints": None if self.checkpoints is None else dict(self.checkpoints),
        }

    def _stage_summaries(self) -> dict[str, Any]:
        parts = {
            "ensemble": self.ensemble_summary,
            "data": self.data_summary,
        }
        out: dict[str, Any] = {k: v.to_dict() for k, v in parts.items() if v is not None}
        if self.explanations is not None:
            out["explanations"] = self.explanations.summary()
        return out

    # -- the report and its parts (automl_tpot.report; run is layer 6, report 7: the imports
    # -- below are the one exception tests/test_architecture.py allows) ----------------------

    def report(self, path: str | Path) -> Path:
        """Write the run's self-contained HTML report to ``path``; return the path."""
        from ..report import write_report

        return write_report(self, path)

    def leaderboard_frame(self) -> pd.DataFrame:
        """The leaderboard as a pandas DataFrame, best first."""
        from ..report import leaderboard_frame

        return leaderboard_frame(self)

    def plot_pareto_front(self) -> Figure:
        """Score against complexity: every evaluated pipeline, the front highlighted."""
        from ..report import plot_pareto_front

        return plot_pareto_front(self)

    def plot_score_over_time(self) -> Figure:
        """The best score so far against the seconds since the search started."""
        from ..report import plot_score_over_time

        return plot_score_over_time(self)

    def plot_score_over_generations(self) -> Figure:
        """Each generation's best and median score, and the best so far."""
        from ..report import plot_score_over_generations

        return plot_score_over_generations(self)

    def plot_evaluation_durations(self) -> Figure:
        """How long the evaluations took, by outcome."""
        from ..report import plot_evaluation_durations

        return plot_evaluation_durations(self)

    def plot_importance(self) -> Figure:
        """The final model's permutation importance on the raw columns."""
        from ..report import plot_importance

        return plot_importance(self)

    def plot_diagnostics(self) -> Figure:
        """Confusion matrix and curves (classification) or predicted against actual and
        residuals (regression), from out-of-fold predictions."""
        from ..report import plot_diagnostics

        return plot_diagnostics(self)
