"""After the search: a weighted average of the best pipelines, kept only when it scores better.

Why: on small, noisy tables many pipelines score within noise of each other, and the single one
with the best cross-validation score is partly chosen by luck; it often does worse on new rows
than an average of several good ones. Greedy ensemble selection (Caruana et al., 2004) picks
weights from out-of-fold predictions computed on the search's own folds, so the ensemble's
cross-validated score is comparable with the single pipelines' scores. The ensemble replaces
the search's best pipeline only when that score is higher.

Everything here runs inside the time budget: the out-of-fold predictions and the final fits run
on the search's Dask workers in parallel, candidates are taken only while their recorded
evaluation time fits what is left, and whatever has not finished at the deadline is dropped.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.utils.metaestimators import available_if

__all__ = ["EnsembleOutcome", "WeightedEnsemble", "build_ensemble", "greedy_selection"]


#: Pipelines considered for the ensemble, best first.
MAX_CANDIDATES = 8
#: At most this many candidates share a final estimator class (variety beats near-copies).
MAX_PER_FAMILY = 2
#: Greedy selection steps (each adds one unit of weight to one member).
SELECTION_ROUNDS = 20
#: The ensemble must beat the best single pipeline's cross-validated score by this much.
MIN_GAIN = 1e-4
#: The stage is skipped when less than this many seconds are left.
MIN_SECONDS = 2.0


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


@dataclass
class EnsembleOutcome:
    """What the ensemble stage did, for the run's notes and timings.

    Attributes:
        model: the fitted :class:`WeightedEnsemble`, or ``None`` when the single best pipeline
            stays (see ``reason``).
        score: the ensemble's cross-validated score (mean over the search's folds).
        best_single: the best single candidate's score on the same folds.
        weights: member description -> weight, for the chosen ensemble.
        candidates: pipelines whose out-of-fold predictions were computed.
        reason: why the single pipeline stays, when it does.
        seconds: time the stage took.
        error: the exception that ended the stage early, if one did (the single pipeline
            stays).
    """

    model: WeightedEnsemble | None = None
    score: float | None = None
    best_single: float | None = None
    weights: dict[str, float] = field(default_factory=dict)
    candidates: int = 0
    reason: str = ""
    seconds: float = 0.0
    error: str | None = None


# --- scoring fixed predictions ------------------------------------------------------------------


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


def _fold_score(
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
) -> tuple[list[int], float]:
    """Caruana's forward selection with replacement.

    ``score(prediction) -> float`` (higher is better). Returns how often each member was picked
    (its weight) and the best score reached; the first pick is the best single member. Stops
    early at ``deadline`` (a ``time.monotonic()`` instant) with the best weights so far.
    """
    counts = [0] * len(predictions)
    total: np.ndarray | None = None
    best_counts, best_score = list(counts), -math.inf
    for step in range(1, rounds + 1):
        if deadline is not None and step > 1 and time.monotonic() > deadline:
            break
        choice, choice_score, choice_total = -1, -math.inf, None
        for index, prediction in enumerate(predictions):
            candidate = prediction if total is None else total + prediction
            value = score(candidate / step)
            if value > choice_score:
                choice, choice_score, choice_total = index, value, candidate
        if choice < 0:
            break
        counts[choice] += 1
        total = choice_total
        if choice_score > best_score + 1e-12:
            best_counts, best_score = list(counts), choice_score
    return best_counts, best_score


# --- on a worker ----------------------------------------------------------------------------------


def _out_of_fold(
    pipeline: Any, X: Any, y: np.ndarray, folds: list, method: str, refit: bool
) -> tuple[np.ndarray, Any]:
    """Out-of-fold predictions of ``pipeline`` on the given folds and, when ``refit``, the
    pipeline fitted on all rows (one task, so no second round is needed); runs on a worker."""
    import warnings

    from threadpoolctl import threadpool_limits

    output: np.ndarray | None = None
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore")
        for train, test in folds:
            model = clone(pipeline).fit(_rows(X, train), y[train])
            values = np.asarray(getattr(model, method)(_rows(X, test)), dtype=float)
            if output is None:
                output = np.zeros((len(y), *values.shape[1:]))
            output[test] = values
        fitted = clone(pipeline).fit(X, y) if refit else None
    assert output is not None
    return output, fitted


def _wait_until(futures: list[Any], deadline: float) -> None:
    """Wait for ``futures`` until ``deadline``; the caller looks at what finished."""
    from dask.distributed import wait

    with contextlib.suppress(TimeoutError):
        wait(futures, timeout=max(deadline - time.monotonic(), 0.1))


def _rows(X: Any, index: np.ndarray) -> Any:
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


# --- on the client --------------------------------------------------------------------------------


@dataclass
class _Candidate:
    row: Any
    pipeline: Any
    description: str
    seconds: float


def _candidates(
    frame: Any, score_column: str, task: str, describe: Any, best_row: Any
) -> list[_Candidate]:
    """The best distinct pipelines of the search, at most MAX_PER_FAMILY per final estimator."""
    import pandas as pd

    scores = pd.to_numeric(frame[score_column], errors="coerce")
    ok = scores.notna() & np.isfinite(scores)
    if "Eval Error" in frame:
        ok &= frame["Eval Error"].isna()
    ranked = scores[ok].sort_values(ascending=False, kind="stable").index.tolist()
    if best_row in ranked:  # the search's own choice first: its refit is reused
        ranked.remove(best_row)
        ranked.insert(0, best_row)
    chosen: list[_Candidate] = []
    seen: set[str] = set()
    families: dict[str, int] = {}
    for row in ranked:
        if len(chosen) >= MAX_CANDIDATES:
            break
        try:
            pipeline = frame.loc[row, "Individual"].export_pipeline()
        except Exception:  # an individual TPOT cannot export: leave it out
            continue
        if task == "classification" and not hasattr(pipeline, "predict_proba"):
            continue
        description = describe(pipeline)
        family = type(getattr(pipeline, "_final_estimator", pipeline)).__name__
        if description in seen or families.get(family, 0) >= MAX_PER_FAMILY:
            continue
        seen.add(description)
        families[family] = families.get(family, 0) + 1
        seconds = _duration(frame, row)
        chosen.append(_Candidate(row, pipeline, description, seconds))
    return chosen


def _duration(frame: Any, row: Any) -> float:
    try:
        value = float(frame.loc[row, "Completed Timestamp"] - frame.loc[row, "Submitted Timestamp"])
    except (KeyError, TypeError, ValueError):
        return math.inf
    return value if math.isfinite(value) and value >= 0 else math.inf


def _affordable(candidates: list[_Candidate], workers: int, seconds: float, cv: int) -> int:
    """How many of the best candidates fit in ``seconds``: their out-of-fold predictions take
    about as long as their evaluation did, a final fit about 1/(cv-1) of that, spread over the
    workers (with the slowest one as a floor)."""
    count, total, slowest = 0, 0.0, 0.0
    for candidate in candidates:
        cost = candidate.seconds * (1 + 1 / max(cv - 1, 1))
        if not math.isfinite(cost):
            break
        estimate = max(slowest, cost, (total + cost) / max(workers, 1))
        if estimate > seconds:
            break
        count, total, slowest = count + 1, total + cost, max(slowest, cost)
    return count


def build_ensemble(
    *,
    client: Any,
    n_workers: int,
    frame: Any,
    score_column: str,
    best_row: Any,
    best_fitted: Any,
    X: Any,
    y: Any,
    task: str,
    metric: Any,
    cv: int,
    random_state: int | None,
    deadline: float,
    describe: Any,
) -> EnsembleOutcome:
    """Average the search's best pipelines if that improves the cross-validated score.

    ``frame`` is TPOT's ``evaluated_individuals``; ``best_row`` its row of the pipeline TPOT
    chose and ``best_fitted`` that pipeline refitted on all rows (reused as a member).
    ``deadline`` is a ``time.monotonic()`` instant by which everything must be done.
    """
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import KFold, StratifiedKFold

    started = time.monotonic()
    outcome = EnsembleOutcome()

    def finish(reason: str) -> EnsembleOutcome:
        outcome.reason = reason
        outcome.seconds = round(time.monotonic() - started, 3)
        return outcome

    y = np.asarray(y)
    candidates = _candidates(frame, score_column, task, describe, best_row)
    if len(candidates) < 2:
        return finish("fewer than two distinct scored pipelines")
    if candidates[0].row != best_row:
        return finish("the search's choice is not among the candidates")
    available = deadline - time.monotonic()
    if available < MIN_SECONDS:
        return finish(f"only {max(available, 0):.1f}s left")
    candidates = candidates[: _affordable(candidates, n_workers, 0.8 * available, cv)]
    if len(candidates) < 2:
        return finish(f"the candidates' evaluations took longer than the {available:.1f}s left")

    splitter = (
        StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
        if task == "classification"
        else KFold(n_splits=cv, shuffle=True, random_state=random_state)
    )
    folds = list(splitter.split(np.zeros(len(y)), y))
    method = "predict_proba" if task == "classification" else "predict"
    scorer = get_scorer(metric)
    classes = np.unique(y)

    data = client.scatter([X, y], broadcast=True)
    futures = [
        client.submit(_out_of_fold, c.pipeline, data[0], data[1], folds, method, i > 0, pure=False)
        for i, c in enumerate(candidates)
    ]
    _wait_until(futures, deadline)
    predictions, fitted, members = [], [], []
    for index, (candidate, future) in enumerate(zip(candidates, futures, strict=True)):
        if future.status == "finished":
            prediction, model = future.result()
            predictions.append(prediction)
            fitted.append(best_fitted if index == 0 else model)
            members.append(candidate)
        else:
            future.cancel()
    outcome.candidates = len(members)
    if len(members) < 2 or members[0] is not candidates[0]:
        return finish("the out-of-fold predictions did not finish in time")

    def score(prediction: np.ndarray) -> float:
        return _fold_score(scorer, task, prediction, y, [t for _, t in folds], classes)

    outcome.best_single = score(predictions[0])
    counts, ensemble_score = greedy_selection(predictions, score, deadline=deadline)
    outcome.score = ensemble_score
    chosen = [i for i, n in enumerate(counts) if n > 0]
    if len(chosen) < 2 or ensemble_score < outcome.best_single + MIN_GAIN:
        return finish("averaging did not improve the cross-validated score")
    weights = [counts[i] / sum(counts) for i in chosen]
    outcome.model = WeightedEnsemble([fitted[i] for i in chosen], weights, task)
    outcome.weights = {
        members[i].description: round(weight, 3) for i, weight in zip(chosen, weights, strict=True)
    }
    return finish("")
