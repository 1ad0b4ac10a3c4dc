"""From a finished search (and its ensemble stage) to the run's :class:`TrainingResult`:
the typed evaluation records, the chosen model behind the preprocessing, the notes."""

from __future__ import annotations

from typing import Any

from ..config import TrainerConfig
from ..data import PreparedData
from ..ensemble import EnsembleOutcome
from ..model import TabularModel
from ..search.plan import SearchPlan
from ..search.runner import SearchRun
from ..tpot_boundary.estimator import COMPLEXITY
from ..utils.pipelines import describe_pipeline
from .events import RunReporter
from .result import TrainingResult

__all__ = ["assemble_result"]


def assemble_result(
    *,
    config: TrainerConfig,
    prepared: PreparedData,
    plan: SearchPlan,
    search: SearchRun,
    ensemble: EnsembleOutcome | None,
    parallel: dict[str, Any],
    timings: dict[str, float],
    reporter: RunReporter,
) -> TrainingResult:
    """The result of the run; raises the ``timeout`` alert when the budget cut the search
    short of the generations asked for."""
    fitted = search.fitted
    history = fitted.history
    assert history.complexity_column == COMPLEXITY
    records = history.records(metric=plan.metric_name, reasons=search.reasons)
    chosen: Any = fitted.fitted_pipeline
    best_score = fitted.best_score
    notes = list(prepared.notes)
    if ensemble is not None and ensemble.error is not None:
        notes.append(f"the ensemble stage failed, the best pipeline stays: {ensemble.error}")
    if ensemble is not None and ensemble.model is not None and ensemble.score is not None:
        chosen, best_score = ensemble.model, float(ensemble.score)
        notes.append(
            f"the model averages {len(ensemble.weights)} pipelines: cross-validated "
            f"{plan.metric_name} {ensemble.score:.4f} against {ensemble.best_single:.4f} "
            f"for the best single pipeline"
        )
    generations = fitted.generations_completed
    finished_all = config.generations is not None and generations >= config.generations
    if parallel.get("fallback_reason"):
        notes.append(
            f"parallel fallback: ran on a local 1-worker cluster because "
            f"{parallel['fallback_reason']}"
        )
    stopped = search.stopped and not finished_all
    if stopped:
        notes.append(
            f"the search was stopped on request after {generations} generation(s); the model "
            "is the best found so far"
        )
    elif not finished_all:
        notes.append(f"the time budget ended the search after {generations} generation(s)")
    if config.generations is not None and not finished_all and not stopped:
        reporter.alert(
            "timeout",
            f"the time budget (time_left={config.time_left:g}s) ended the search after "
            f"{generations} of {config.generations} generations",
        )
    model = TabularModel(
        preprocessor=plan.preprocessor,
        estimator=chosen,
        feature_columns=list(prepared.features.columns),
        task=prepared.task,
        classes=prepared.classes,
        target_column=config.target_column,
    )
    return TrainingResult(
        model=model,
        task=prepared.task,
        task_reason=prepared.task_reason,
        metric=plan.metric_name,
        best_score=best_score,
        best_pipeline=describe_pipeline(chosen),
        evaluations=records,
        generations_completed=generations,
        population_size=config.population_size,
        stopped_by="generations" if finished_all else "stopped" if stopped else "time_left",
        timings=timings,
        feature_types=prepared.feature_types,
        parallel=parallel,
        config=config,
        notes=notes,
        alerts=reporter.alerts,
    )
