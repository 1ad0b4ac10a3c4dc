"""From a finished search (and its ensemble stage) to the run's :class:`TrainingResult`:
the typed evaluation records, the chosen model behind the preprocessing, the notes."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import TrainerConfig
from ..data import PreparedData
from ..ensemble import EnsembleOutcome
from ..model import TabularModel
from ..records.explanations import DataSummary, EnsembleMember, EnsembleSummary, Explanations
from ..search.hooks import PATIENCE
from ..search.plan import SearchPlan
from ..search.runner import SearchRun
from ..tpot_boundary.estimator import COMPLEXITY
from ..utils.pipelines import describe_pipeline
from .events import RunReporter
from .result import TrainingResult

__all__ = ["assemble_result", "search_end_note"]


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
    explanations: Explanations | None = None,
    seed: int | None = None,
) -> TrainingResult:
    """The result of the run; raises the ``timeout`` alert when the budget cut the search
    short of the generations asked for. The explanation stage's seconds join ``timings``."""
    fitted = search.fitted
    history = fitted.history
    assert history.complexity_column == COMPLEXITY
    records = history.records(metric=plan.metric_name, reasons=search.reasons)
    chosen: Any = fitted.fitted_pipeline
    best_score: float = fitted.best_score
    notes = list(prepared.notes)
    if ensemble is not None and ensemble.error is not None:
        notes.append(f"the ensemble stage failed, the best pipeline stays: {ensemble.error}")
    if ensemble is not None:
        chosen, best_score, note = _stage_choice(ensemble, chosen, best_score, plan.metric_name)
        notes.extend([note] if note else [])
    generations = fitted.generations_completed
    finished_all = config.generations is not None and generations >= config.generations
    if parallel.get("fallback_reason"):
        notes.append(
            f"parallel fallback: ran on a local 1-worker cluster because "
            f"{parallel['fallback_reason']}"
        )
    stopped = search.stopped and not finished_all
    end_note = search_end_note(
        search, generations, finished_all=finished_all, time_left=config.time_left
    )
    notes.extend([end_note] if end_note else [])
    if explanations is not None:
        timings = {**timings, "explain": explanations.seconds}
        if config.explain and explanations.status != "complete":
            notes.append(f"explanations {explanations.status}: {explanations.reason}")
    ended_early = stopped or search.converged
    if config.generations is not None and not finished_all and not ended_early:
        reporter.alert(
            "timeout",
            f"the time budget (time_left={config.time_left:g}s) ended the search after "
            f"{generations} of {config.generations} generations",
        )
    model = TabularModel.from_fitted(plan.preprocessor, chosen, prepared)
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
        stopped_by=(
            "generations"
            if finished_all
            else "stopped"
            if stopped
            else "converged"
            if search.converged
            else "time_left"
        ),
        timings=timings,
        feature_types=prepared.feature_types,
        parallel=parallel,
        config=config,
        notes=notes,
        alerts=reporter.alerts,
        explanations=explanations,
        seed=seed,
        ensemble_summary=None if ensemble is None else ensemble_summary(ensemble),
        data_summary=data_summary(prepared),
    )


def _stage_choice(
    outcome: EnsembleOutcome, chosen: Any, best_score: float, metric: str
) -> tuple[Any, float, str]:
    """The final estimator and its score after the ensemble stage, and the note that says what
    the stage did to the search's choice (``""``: nothing)."""
    held_out = (
        f"on {outcome.holdout_rows} held-out rows of all rows (the search compared pipelines "
        f"on a sample; the final model is fitted on {outcome.fitted_rows} rows)"
    )
    where = held_out if outcome.holdout_rows else "cross-validated"
    if outcome.model is not None and outcome.score is not None:
        return (
            outcome.model,
            float(outcome.score),
            (
                f"the model averages {len(outcome.weights)} pipelines: {metric} "
                f"{outcome.score:.4f} {where}, against {outcome.best_single:.4f} for the best "
                "single pipeline"
            ),
        )
    if outcome.single is None:
        return chosen, best_score, ""
    if outcome.score is None:  # the stage failed, or nothing finished in time
        sample = f"{outcome.reason} ({outcome.fitted_rows} rows)"
        return outcome.single, best_score, "" if outcome.error else sample
    if outcome.replaced_by is not None:
        against = (
            "the search's choice did not finish in time"
            if outcome.choice_score is None
            else f"against {outcome.choice_score:.4f} for the search's choice"
        )
        return (
            outcome.single,
            float(outcome.score),
            f"the model is {outcome.replaced_by}: {metric} {outcome.score:.4f} {where}; {against}",
        )
    return (
        outcome.single,
        float(outcome.score),
        (
            f"the search's choice stays: {metric} {outcome.score:.4f} {where}, the best of "
            f"{outcome.candidates} pipelines fitted there"
        ),
    )


def ensemble_summary(outcome: EnsembleOutcome) -> EnsembleSummary:
    """``summary.ensemble`` of the stage's outcome."""
    chosen = outcome.model is not None and outcome.score is not None
    return EnsembleSummary(
        chosen=chosen,
        members=[EnsembleMember(p, float(w)) for p, w in outcome.weights.items()] if chosen else (),
        score=None if outcome.score is None else float(outcome.score),
        best_single=None if outcome.best_single is None else float(outcome.best_single),
        candidates=outcome.candidates,
        reason=outcome.reason,
        holdout_rows=outcome.holdout_rows,
        replaced_by=outcome.replaced_by,
        choice_score=outcome.choice_score,
        fitted_rows=outcome.fitted_rows,
    )


def data_summary(prepared: PreparedData) -> DataSummary:
    """``summary.data``: the table's size, the classes' rows or the target's range."""
    counts = stats = None
    if prepared.classes is not None:
        per_class = np.bincount(np.asarray(prepared.y, dtype=int), minlength=len(prepared.classes))
        counts = tuple(
            (str(label), int(n)) for label, n in zip(prepared.classes, per_class, strict=True)
        )
    else:
        y = np.asarray(prepared.y, dtype=float)
        stats = {"min": y.min(), "max": y.max(), "mean": y.mean(), "std": y.std()}
        stats = {key: round(float(value), 6) for key, value in stats.items()}
    return DataSummary(
        rows=len(prepared.features),
        columns=prepared.features.shape[1],
        target=str(prepared.target.name),
        class_counts=counts,
        target_stats=stats,
    )


def search_end_note(
    search: SearchRun, generations: int, *, finished_all: bool, time_left: float
) -> str | None:
    """Why the search ended, in words (``None`` when it ran all the generations asked for)."""
    if search.stopped and not finished_all:
        return (
            f"the search was stopped on request after {generations} generation(s); the model "
            "is the best found so far"
        )
    if search.converged:
        return (
            f"the search converged after {generations} generation(s) (no better pipeline for "
            f"{PATIENCE} generations) and ended early, {search.seconds:.0f}s into the "
            f"{time_left:g}s budget"
        )
    if finished_all:
        return None
    if search.handed_over is not None:
        left, expected = search.handed_over
        return (
            f"the time budget ended the search on a sample after {generations} generation(s): "
            f"the next (about {expected:g}s) would not have finished in the {left:g}s left, "
            "which went to the final choice on all rows"
        )
    return f"the time budget ended the search after {generations} generation(s)"
