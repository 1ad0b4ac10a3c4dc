"""What the ensemble stage did (:class:`EnsembleOutcome`), the folds it scores on, and the
greedy averaging both of its ways of comparing candidates share."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..cluster.waiting import wait_until
from ..model.ensemble import WeightedEnsemble
from .candidates import Candidate, finished_result
from .selection import TIE, brier_closeness, greedy_selection

__all__ = ["EnsembleOutcome", "average_members", "search_folds"]


@dataclass
class EnsembleOutcome:
    """What the ensemble stage did, for the run's notes and timings.

    Attributes:
        model: the fitted :class:`WeightedEnsemble`, or ``None`` when a single pipeline stays
            (see ``reason``).
        score: the final model's score on the rows the stage compared on (the ensemble's, or
            the single pipeline's after a sampled search), when the stage made the model.
        best_single: the best single candidate's score on the same rows.
        weights: member description -> weight, for the chosen ensemble.
        candidates: pipelines whose predictions were computed.
        reason: why no average was kept, when none was.
        seconds: time the stage took.
        error: the exception that ended the stage early, if one did (the single pipeline
            stays).
        holdout_rows: after a search that ended on a sample, the held-out rows of all rows the
            candidates were compared on (0: they were compared on the search's own folds).
        single: after a sampled search, the single pipeline the stage fitted as the final model
            (when no average was kept).
        replaced_by: its description, when it is not the search's choice.
        choice_score: the search's choice's score on the held-out rows.
        fitted_rows: the rows the stage's models were fitted on (0: all rows).
        fit_seconds: about how long one fit of the chosen model takes on ``fitted_rows`` rows
            (an average's: its members' together), as the stage measured it after a sampled
            search; ``None`` when not measured. The explanation stage plans its refits by it.
    """

    model: WeightedEnsemble | None = None
    score: float | None = None
    best_single: float | None = None
    weights: dict[str, float] = field(default_factory=dict)
    candidates: int = 0
    reason: str = ""
    seconds: float = 0.0
    error: str | None = None
    holdout_rows: int = 0
    single: Any = None
    replaced_by: str | None = None
    choice_score: float | None = None
    fitted_rows: int = 0
    fit_seconds: float | None = None

    def chosen(self, best: Any) -> Any:
        """The run's final estimator: the ensemble when it was built and scored, the stage's
        single pipeline after a sampled search, else ``best`` (the search's own choice)."""
        if self.model is not None and self.score is not None:
            return self.model
        return self.single if self.single is not None else best


def search_folds(task: str, y: Any, cv: int, random_state: int) -> list:
    """The search's cross-validation folds, ``(train, test)`` index pairs: TPOT draws them
    this way with the run's seed, so the stages after the search score on the same rows."""
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = (
        StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
        if task == "classification"
        else KFold(n_splits=cv, shuffle=True, random_state=random_state)
    )
    y = np.asarray(y)
    return list(splitter.split(np.zeros(len(y)), y))


def average_members(
    outcome: EnsembleOutcome,
    candidates: Sequence[Candidate],
    predictions: Sequence[np.ndarray | None],
    members: list[int],
    score: Callable[[np.ndarray], float],
    y: np.ndarray,
    task: str,
    deadline: float,
    *,
    fitted: dict[int, Any],
    fits: Sequence[Any] = (),
    should_stop: Callable[[], bool] | None = None,
    scored_as: str = "cross-validated",
) -> str:
    """Greedy selection over the members' predictions (``outcome.best_single`` is the score to
    beat), waiting for the refits (``fits``, futures by candidate) of members not yet in
    ``fitted``; sets ``outcome``'s model, score and weights and returns ``""`` when the average
    is kept, else why not (``scored_as`` names the score in that reason)."""
    assert outcome.best_single is not None
    while True:
        counts, ensemble_score = greedy_selection(
            [p for i in members if (p := predictions[i]) is not None],
            score,
            deadline=deadline,
            tiebreak=brier_closeness(y) if task == "classification" else None,
        )
        chosen = [members[k] for k, n in enumerate(counts) if n > 0]
        if len(chosen) < 2 or ensemble_score < outcome.best_single - TIE:
            return f"averaging did not improve the {scored_as} score"
        waiting = [fits[i] for i in chosen if i not in fitted]
        wait_until(waiting, deadline, should_stop)
        for i in chosen:
            if i not in fitted and (model := finished_result(fits[i], deadline)) is not None:
                fitted[i] = model
        missing = [i for i in chosen if i not in fitted]
        if not missing:
            break
        # a member could not be refitted in time: choose again without it
        members = [i for i in members if i not in missing]
        if time.monotonic() >= deadline:
            return "the final fits did not finish in time"
    weights = [counts[members.index(i)] / sum(counts) for i in chosen]
    outcome.model = WeightedEnsemble.from_fitted([fitted[i] for i in chosen], weights, task)
    outcome.score = ensemble_score
    outcome.weights = {
        candidates[i].description: round(weight, 3)
        for i, weight in zip(chosen, weights, strict=True)
    }
    return ""
