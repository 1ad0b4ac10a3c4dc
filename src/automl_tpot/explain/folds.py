"""What runs on a Dask worker for one held-out fold: the final model refitted on the fold's
training rows (raw rows, through its own preprocessing), its predictions on the held-out rows,
and the permutation importance of every raw column on them.

Refitting the whole :class:`~automl_tpot.model.TabularModel` per fold, preprocessing included,
keeps the held-out rows out of everything the model learnt, so the importance and the
diagnostics describe the model on rows it has not seen.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from attrs import define
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from ..cluster.worker import call_with_time_limit

__all__ = ["FoldOutcome", "explain_fold"]

#: Held-out rows per fold at most for the permutation importance (the predictions use all).
MAX_IMPORTANCE_ROWS = 2000


@define(frozen=True, eq=False)
class FoldOutcome:
    """One fold's measurements, as the worker hands them back.

    Attributes:
        test: the held-out rows' positions in the table.
        prediction: class probabilities (or class indices when the model has none) or
            regression predictions for the held-out rows.
        probabilities: whether ``prediction`` holds class probabilities.
        importances: ``(columns, n_repeats)`` score drops, one row per raw column.
        baseline: the held-out score before any shuffle.
        rows: held-out rows the importance was measured on.
    """

    test: np.ndarray
    prediction: np.ndarray
    probabilities: bool
    importances: np.ndarray
    baseline: float
    rows: int


class _ClassIndices(BaseEstimator):
    """A fitted :class:`~automl_tpot.model.TabularModel` on raw rows that answers in class
    indices, the labels the search scored with, so a scorer measures it as the search did."""

    def __init__(self, model: Any):
        self.model = model

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier" if self.model.task == "classification" else "regressor"
        return tags

    @property
    def classes_(self) -> np.ndarray:
        return np.arange(len(self.model.classes))

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> _ClassIndices:
        """Refit the model on raw rows and class indices (or values, for regression)."""
        labels = np.asarray(y)
        if self.model.task == "classification":
            labels = np.asarray(self.model.classes)[labels.astype(int)]
        self.model.fit(X, labels)
        return self

    def _has_proba(self) -> bool:
        return self.model.task == "classification" and hasattr(
            self.model.estimator, "predict_proba"
        )

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model.estimator.predict(self.model.transform_features(X)))

    @available_if(_has_proba)
    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.model.estimator.predict_proba(self.model.transform_features(X)))


def _measure(
    model: Any,
    X: pd.DataFrame,
    target: pd.Series,
    train: np.ndarray,
    test: np.ndarray,
    scoring: Any,
    n_repeats: int,
    seed: int,
) -> FoldOutcome:
    from sklearn.inspection import permutation_importance
    from sklearn.metrics import check_scoring

    fitted = copy.deepcopy(model).fit(X.iloc[train], target.iloc[train])
    pipeline = _ClassIndices(fitted)
    rows = X.iloc[test]
    actual = target.iloc[test].to_numpy()
    if fitted.task == "classification":
        classes = np.asarray(fitted.classes)
        y = np.searchsorted(classes, actual)
        if not np.all(classes[np.clip(y, 0, len(classes) - 1)] == actual):
            raise ValueError("a held-out class is missing from the fold's training rows")
        probabilities = hasattr(pipeline, "predict_proba")
        method = "predict_proba" if probabilities else "predict"
        prediction = np.asarray(getattr(pipeline, method)(rows), dtype=float)
    else:
        y = actual.astype(float)
        probabilities = False
        prediction = np.asarray(pipeline.predict(rows), dtype=float)
    share = min(1.0, MAX_IMPORTANCE_ROWS / max(len(test), 1))
    measured = permutation_importance(
        pipeline,
        rows,
        y,
        scoring=scoring,
        n_repeats=n_repeats,
        random_state=seed,
        max_samples=share,
    )
    baseline = float(check_scoring(pipeline, scoring=scoring)(pipeline, rows, y))
    return FoldOutcome(
        test=np.asarray(test),
        prediction=prediction,
        probabilities=probabilities,
        importances=np.asarray(measured.importances, dtype=float),
        baseline=baseline,
        rows=int(round(share * len(test))),
    )


def explain_fold(
    model: Any,
    X: pd.DataFrame,
    target: pd.Series,
    train: np.ndarray,
    test: np.ndarray,
    scoring: str | Callable[..., float],
    n_repeats: int,
    seed: int,
    seconds: float,
) -> FoldOutcome | None:
    """One fold's :class:`FoldOutcome`; runs on a Dask worker and gives up (``None``) after
    ``seconds``, so an abandoned task does not hold a shared worker."""
    return call_with_time_limit(
        lambda: _measure(model, X, target, train, test, scoring, n_repeats, seed), seconds
    )
