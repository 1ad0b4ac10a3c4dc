"""What runs on a Dask worker for one held-out fold: the final model refitted on the fold's
training rows (raw rows, through its own preprocessing), its predictions on the held-out rows,
and the permutation importance of every raw column it reads on them.

Refitting the whole :class:`~automl_tpot.model.TabularModel` per fold, preprocessing included,
keeps the held-out rows out of everything the model learnt, so the importance and the
diagnostics describe the model on rows it has not seen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from attrs import define

from ..cluster.worker import call_with_time_limit

__all__ = ["FoldOutcome", "explain_fold", "permutation_drops"]

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
        drops: per raw column the model reads, the score drops of its ``n_repeats`` shuffles.
        baseline: the held-out score before any shuffle (on the rows the importance used).
        rows: held-out rows the importance was measured on.
    """

    test: np.ndarray
    prediction: np.ndarray
    probabilities: bool
    drops: dict[str, list[float]]
    baseline: float
    rows: int


def permutation_drops(
    estimator: Any,
    matrix: np.ndarray,
    y: np.ndarray,
    scorer: Callable[..., float],
    groups: Mapping[str, Sequence[int]],
    n_repeats: int,
    seed: int,
) -> tuple[float, dict[str, list[float]]]:
    """The score of ``estimator`` on ``matrix`` and, per raw column, how much it drops when
    the column's block of ``matrix`` (``groups``: raw column -> its preprocessed columns) is
    shuffled over the rows, ``n_repeats`` times.

    Why blocks of the preprocessed matrix, not scikit-learn's ``permutation_importance`` on the
    raw rows: the preprocessing works row by row and column by column (imputation, indicators,
    one-hot), so shuffling a raw column's values and preprocessing gives exactly its block with
    the rows shuffled; shuffling the block skips re-running the preprocessing for every shuffle
    of every column, several times faster, and a raw column that became several (one-hot) moves
    as one.
    """
    rng = np.random.default_rng(seed)
    baseline = float(scorer(estimator, matrix, y))
    work = matrix.copy()
    drops: dict[str, list[float]] = {}
    for column, block in groups.items():
        indices = list(block)
        original = work[:, indices].copy()
        scores = []
        for _ in range(n_repeats):
            work[:, indices] = original[rng.permutation(len(work))]
            scores.append(baseline - float(scorer(estimator, work, y)))
        work[:, indices] = original
        drops[column] = scores
    return baseline, drops


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
    from sklearn.base import clone
    from sklearn.metrics import check_scoring

    from ..data import output_columns

    # a clone, not a copy: the model's fitted parts (a forest can weigh hundreds of MB) are not
    # needed for a refit, and two folds on one worker's threads must not fit one object
    fitted = clone(model).fit(X.iloc[train], target.iloc[train])
    estimator = fitted.estimator_  # scored on the preprocessed rows, as the search scored it
    matrix = np.asarray(fitted.transform_features(X.iloc[test]), dtype=float)
    actual = target.iloc[test].to_numpy()
    if fitted.task == "classification":
        classes = np.asarray(fitted.classes_)
        y = np.searchsorted(classes, actual)
        if not np.all(classes[np.clip(y, 0, len(classes) - 1)] == actual):
            raise ValueError("a held-out class is missing from the fold's training rows")
        probabilities = hasattr(estimator, "predict_proba")
        method = "predict_proba" if probabilities else "predict"
        prediction = np.asarray(getattr(estimator, method)(matrix), dtype=float)
    else:
        y = actual.astype(float)
        probabilities = False
        prediction = np.asarray(estimator.predict(matrix), dtype=float)
    rows = np.arange(len(test))
    if len(rows) > MAX_IMPORTANCE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(rows, MAX_IMPORTANCE_ROWS, False))
    scorer = check_scoring(estimator, scoring=scoring)
    groups = output_columns(fitted.preprocessor_)
    baseline, drops = permutation_drops(
        estimator, matrix[rows], y[rows], scorer, groups, n_repeats, seed
    )
    return FoldOutcome(
        test=np.asarray(test),
        prediction=prediction,
        probabilities=probabilities,
        drops=drops,
        baseline=baseline,
        rows=len(rows),
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
