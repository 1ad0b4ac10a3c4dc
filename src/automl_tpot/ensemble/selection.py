"""Choosing the ensemble's weights: greedy selection over out-of-fold predictions, scored the
way the search scored its pipelines.

Greedy ensemble selection (Caruana et al., 2004) adds, one unit of weight at a time, the member
whose addition scores best; with replacement, so a member can weigh more than once.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

__all__ = ["SELECTION_ROUNDS", "TIE", "brier_closeness", "fold_score", "greedy_selection"]

#: Greedy selection steps (each adds one unit of weight to one member).
SELECTION_ROUNDS = 20
#: Scores closer than this are ties. On metrics such as balanced accuracy, averaging often leaves
#: the decisions, and so the score, as they were: for classifiers the Brier score of the averaged
#: probabilities then decides, and an average that ties the best single pipeline's score with
#: better probabilities replaces it.
TIE = 1e-12


class _FixedClassifier(ClassifierMixin, BaseEstimator):
    """Hands precomputed probabilities to a scikit-learn scorer."""

    def __init__(self, proba: np.ndarray, classes: np.ndarray):
        self.proba = proba
        self.classes = classes

    @property
    def classes_(self) -> np.ndarray:
        return self.classes

    def predict_proba(self, X: Any) -> np.ndarray:
        return self.proba

    def predict(self, X: Any) -> np.ndarray:
        return self.classes[np.argmax(self.proba, axis=1)]


class _FixedRegressor(RegressorMixin, BaseEstimator):
    """Hands precomputed predictions to a scikit-learn scorer."""

    def __init__(self, prediction: np.ndarray):
        self.prediction = prediction

    def predict(self, X: Any) -> np.ndarray:
        return self.prediction


def fold_score(
    scorer: Any, task: str, prediction: np.ndarray, y: np.ndarray, folds, classes
) -> float:
    """The mean over folds of ``scorer`` on out-of-fold predictions, as TPOT's CV computes it."""
    scores = []
    for test in folds:
        if task == "classification":
            fixed: Any = _FixedClassifier(prediction[test], classes)
        else:
            fixed = _FixedRegressor(prediction[test])
        scores.append(scorer(fixed, np.zeros((len(test), 1)), y[test]))
    return float(np.mean(scores))


def greedy_selection(
    predictions: Sequence[np.ndarray],
    score: Any,
    rounds: int = SELECTION_ROUNDS,
    deadline: float | None = None,
    tiebreak: Any = None,
) -> tuple[list[int], float]:
    """Caruana's forward selection with replacement.

    ``score(prediction) -> float`` (higher is better). Returns how often each member was picked
    (its weight) and the best score reached; the first pick is the best single member. Scores
    within :data:`TIE` of each other tie: ``tiebreak(prediction) -> float`` (higher is better;
    for classifiers, how close the averaged probabilities come to the labels) settles them, and
    without it the earlier member and the earlier weights win. Stops early at ``deadline`` (a
    ``time.monotonic()`` instant) with the best weights so far.
    """

    def beats(value: float, prediction: np.ndarray, other: float, other_prediction: Any) -> bool:
        if value > other + TIE:
            return True
        if tiebreak is None or other_prediction is None or value < other - TIE:
            return False
        return bool(tiebreak(prediction) > tiebreak(other_prediction))

    counts = [0] * len(predictions)
    total: np.ndarray | None = None
    best_counts, best_score, best_average = list(counts), -math.inf, None
    for step in range(1, rounds + 1):
        if deadline is not None and step > 1 and time.monotonic() > deadline:
            break
        choice, choice_score, choice_total, choice_average = -1, -math.inf, None, None
        for index, prediction in enumerate(predictions):
            if deadline is not None and step > 1 and time.monotonic() > deadline:
                return best_counts, best_score
            candidate = prediction if total is None else total + prediction
            average = candidate / step
            value = score(average)
            if beats(value, average, choice_score, choice_average):
                choice, choice_score, choice_total, choice_average = (
                    index,
                    value,
                    candidate,
                    average,
                )
        if choice < 0 or choice_average is None:
            break
        counts[choice] += 1
        total = choice_total
        if beats(choice_score, choice_average, best_score, best_average):
            best_counts, best_average = list(counts), choice_average
            best_score = max(choice_score, best_score)
    return best_counts, best_score


def brier_closeness(y: np.ndarray) -> Any:
    """The tie-break for classifiers: minus the Brier score of class probabilities for ``y``
    (class indices), so that of two averages with the same decisions the surer right one wins."""
    y = np.asarray(y, dtype=int)

    def closeness(probabilities: np.ndarray) -> float:
        truth = np.zeros_like(probabilities)
        truth[np.arange(len(y)), y] = 1.0
        return -float(np.mean(np.sum((probabilities - truth) ** 2, axis=1)))

    return closeness
