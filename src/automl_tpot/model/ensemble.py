"""The ensemble estimator a stored model may hold: a weighted average of fitted pipelines.

The ensemble stage (:mod:`automl_tpot.ensemble`) chooses the members and weights; this module
only holds the estimator, so loading a model needs nothing of the stage. It follows
scikit-learn's contract: ``members`` are parameters (templates), :meth:`WeightedEnsemble.fit`
fits clones into ``members_``; :meth:`WeightedEnsemble.from_fitted` adopts members the stage
fitted already.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.utils import ClassifierTags, RegressorTags, Tags, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..errors import ConfigError

__all__ = ["WeightedEnsemble"]


class WeightedEnsemble(BaseEstimator):
    """The weighted average of pipelines' predictions (class probabilities for a classifier),
    as chosen by :func:`~automl_tpot.ensemble.build_ensemble`.

    Args:
        members: the pipelines (templates: :meth:`fit` fits clones of them).
        weights: one non-negative weight per member, not all zero.
        task: ``"classification"``, ``"regression"``, or ``None`` to follow the first member.

    Attributes:
        members_: the fitted members.
        classes_: the class labels (classification).
        n_features_in_: the number of input columns (when the members record it).
    """

    def __init__(self, members: Sequence[Any], weights: Sequence[float], task: str | None = None):
        self.members = members
        self.weights = weights
        self.task = task

    @classmethod
    def from_fitted(
        cls, members: Sequence[Any], weights: Sequence[float], task: str | None = None
    ) -> WeightedEnsemble:
        """An ensemble of members fitted already (on the same data and labels); nothing is
        refitted. The parameters are unfitted copies, so a clone refits the same members."""
        ensemble = cls([clone(member) for member in members], list(weights), task)
        ensemble._check_weights()
        ensemble._adopt(list(members))
        return ensemble

    def _task(self) -> str | None:
        if self.task is not None:
            return self.task
        if not self.members:
            return None
        return "classification" if is_classifier(self.members[0]) else "regression"

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        classifier = self._task() == "classification"
        tags.estimator_type = "classifier" if classifier else "regressor"
        tags.classifier_tags = ClassifierTags() if classifier else None
        tags.regressor_tags = None if classifier else RegressorTags()
        tags.target_tags.required = True
        members = [get_tags(member).input_tags for member in self.members or ()]
        tags.input_tags.allow_nan = bool(members) and all(tag.allow_nan for tag in members)
        tags.input_tags.sparse = bool(members) and all(tag.sparse for tag in members)
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "members_")

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "members_" not in state:  # stored before 0.1.0's estimator contract: fitted members
            state = dict(state)
            state["members_"] = list(state["members"])
            state["members"] = [clone(member) for member in state["members"]]
            classes = getattr(state["members_"][0], "classes_", None)
            if state.get("task") == "classification" and classes is not None:
                state["classes_"] = classes
        super().__setstate__(state)

    def _check_weights(self) -> np.ndarray:
        weights = np.asarray(self.weights, dtype=float)
        members = list(self.members)
        ok = (
            weights.ndim == 1
            and len(weights) == len(members) > 0
            and np.all(np.isfinite(weights))
            and np.all(weights >= 0)
            and weights.sum() > 0
        )
        if not ok:
            raise ConfigError(
                "weights",
                list(self.weights)[:10],
                f"{len(members)} finite non-negative weight(s), one per member, not all zero",
            )
        return weights / weights.sum()

    def _adopt(self, fitted: list[Any]) -> None:
        self.members_ = fitted
        if self._task() == "classification":
            self.classes_ = fitted[0].classes_
        n_features = getattr(fitted[0], "n_features_in_", None)
        if n_features is not None:
            self.n_features_in_ = n_features

    def fit(self, X: Any, y: Any) -> WeightedEnsemble:
        """Fit a clone of every member on ``X``, ``y``."""
        self._check_weights()
        shape = np.asarray(y).shape
        if len(shape) == 2 and shape[1] == 1:
            y = column_or_1d(np.asarray(y), warn=True)
        self._adopt([clone(member).fit(X, y) for member in self.members])
        return self

    def _is_classifier(self) -> bool:
        return self._task() == "classification"

    @available_if(_is_classifier)
    def predict_proba(self, X: Any) -> np.ndarray:
        """The weighted mean of the members' class probabilities."""
        check_is_fitted(self)
        weights = self._check_weights()
        return sum(
            w * np.asarray(m.predict_proba(X)) for w, m in zip(weights, self.members_, strict=True)
        )

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class (classification) or the weighted mean prediction."""
        check_is_fitted(self)
        if self._task() == "classification":
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        weights = self._check_weights()
        return sum(
            w * np.asarray(m.predict(X), dtype=float)
            for w, m in zip(weights, self.members_, strict=True)
        )

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R² (regression) of :meth:`predict` on ``X``."""
        from sklearn.metrics import accuracy_score, r2_score

        metric = accuracy_score if self._task() == "classification" else r2_score
        return float(metric(y, self.predict(X)))
