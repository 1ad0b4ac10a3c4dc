"""The ensemble estimator a stored model may hold: a weighted average of fitted pipelines.

The ensemble stage (:mod:`automl_tpot.ensemble`) chooses the members and weights; this module
only holds the estimator, so loading a model needs nothing of the stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.utils.metaestimators import available_if

__all__ = ["WeightedEnsemble"]


class WeightedEnsemble(BaseEstimator):
    """The weighted average of fitted pipelines' predictions (class probabilities for a
    classifier), as chosen by :func:`build_ensemble`.

    Args:
        members: the pipelines; fitted ones are used as they are, :meth:`fit` refits clones.
        weights: one non-negative weight per member.
        task: ``"classification"`` or ``"regression"``.
    """

    def __init__(self, members: Sequence[Any], weights: Sequence[float], task: str):
        self.members = members
        self.weights = weights
        self.task = task

    def __sklearn_tags__(self):  # noqa: D105 - scikit-learn's estimator type
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if self.task == "classification" else "regressor"
        return tags

    @property
    def _normalised_weights(self) -> np.ndarray:
        weights = np.asarray(self.weights, dtype=float)
        return weights / weights.sum()

    def fit(self, X: Any, y: Any) -> WeightedEnsemble:
        """Fit a clone of every member on ``X``, ``y``."""
        self.members = [clone(member).fit(X, y) for member in self.members]
        return self

    @property
    def classes_(self) -> np.ndarray:
        """The classes of the members (they were all fitted on the same labels)."""
        return self.members[0].classes_

    def _is_classifier(self) -> bool:
        return self.task == "classification"

    @available_if(_is_classifier)
    def predict_proba(self, X: Any) -> np.ndarray:
        """The weighted mean of the members' class probabilities."""
        return sum(
            w * np.asarray(m.predict_proba(X))
            for w, m in zip(self._normalised_weights, self.members, strict=True)
        )

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class (classification) or the weighted mean prediction."""
        if self.task == "classification":
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return sum(
            w * np.asarray(m.predict(X), dtype=float)
            for w, m in zip(self._normalised_weights, self.members, strict=True)
        )
