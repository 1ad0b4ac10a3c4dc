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

from ..cluster.loop import call_with_time_limit

__all__ = ["EnsembleOutcome", "WeightedEnsemble", "build_ensemble", "greedy_selection"]


#: Pipelines considered for the ensemble, best first.
MAX_CANDIDATES = 8
#: At most this many candidates share a final estimator class (variety beats near-copies).
MAX_PER_FAMILY = 2
#: Greedy selection steps (each adds one unit of weight to one member).
SELECTION_ROUNDS = 20
#: Scores closer than this are ties. On metrics such as balanced accuracy, averaging often leaves
#: the decisions, and so the score, as they were: for classifiers the Brier score of the averaged
#: probabilities then decides, and an average that ties the best single pipeline's score with
#: better probabilities replaces it.
TIE = 1e-12
#: The stage is skipped when less than this many seconds are left.
MIN_SECONDS = 2.0
#: Seconds between looks at the stop request while waiting for the workers.
WAIT_SLICE = 0.25


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
        if choice < 0:
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


# --- on a worker ----------------------------------------------------------------------------------


def _out_of_fold(
    pipeline: Any, X: Any, y: np.ndarray, folds: list, method: str, seconds: float
) -> np.ndarray | None:
    """Out-of-fold predictions of ``pipeline`` on the given folds; runs on a Dask worker and
    gives up (``None``) after ``seconds``, so an abandoned task does not hold a shared worker."""

    def compute() -> np.ndarray:
        output: np.ndarray | None = None
        for train, test in folds:
            model = clone(pipeline).fit(_rows(X, train), y[train])
            values = np.asarray(getattr(model, method)(_rows(X, test)), dtype=float)
            if output is None:
                output = np.zeros((len(y), *values.shape[1:]))
            output[test] = values
        assert output is not None
        return output

    return call_with_time_limit(compute, seconds)


def _fit(pipeline: Any, X: Any, y: np.ndarray, seconds: float) -> Any:
    """``pipeline`` fitted on all rows, or ``None`` after ``seconds``; runs on a Dask worker."""
    return call_with_time_limit(lambda: clone(pipeline).fit(X, y), seconds)


def _rows(X: Any, index: np.ndarray) -> Any:
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


# --- on the client --------------------------------------------------------------------------------


@dataclass
class _Candidate:
    row: Any
    pipeline: Any
    description: str
    seconds: float


def _family(pipeline: Any, description: str) -> str:
    """The final estimator's class (of a pipeline, or of a bare estimator); a TPOT graph
    pipeline is its own family."""
    if hasattr(pipeline, "graph"):
        return description
    final = getattr(pipeline, "_final_estimator", pipeline)
    return type(final).__name__


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
        family = _family(pipeline, description)
        if description in seen or families.get(family, 0) >= MAX_PER_FAMILY:
            continue
        seen.add(description)
        families[family] = families.get(family, 0) + 1
        chosen.append(_Candidate(row, pipeline, description, _duration(frame, row)))
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
    workers (with the slowest one as a floor). Evaluations the search abandoned may still hold
    a worker for a while; whatever does not finish in time is dropped."""
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


class _Stopped(Exception):
    """The caller asked the run to stop while the stage waited."""


def _wait(futures: list[Any], deadline: float, should_stop: Any) -> None:
    """Wait for ``futures`` until ``deadline`` in short slices, so a stop request is seen."""
    from dask.distributed import wait

    pending = [f for f in futures if not f.done()]
    while pending and time.monotonic() < deadline:
        if should_stop is not None and should_stop():
            raise _Stopped
        with contextlib.suppress(TimeoutError):
            wait(pending, timeout=min(WAIT_SLICE, max(deadline - time.monotonic(), 0.01)))
        pending = [f for f in pending if not f.done()]


def _result(future: Any, deadline: float) -> Any:
    """A finished future's value, or ``None`` when it failed or cannot be fetched in time."""
    if future.status != "finished":
        return None
    try:
        return future.result(timeout=max(deadline - time.monotonic(), 0.1))
    except Exception:  # a lost worker or a slow transfer: this candidate drops out
        return None


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
    random_state: int,
    deadline: float,
    describe: Any,
    should_stop: Any = None,
) -> EnsembleOutcome:
    """Average the search's best pipelines if that improves the cross-validated score.

    ``frame`` is TPOT's ``evaluated_individuals``; ``best_row`` its row of the pipeline TPOT
    chose and ``best_fitted`` that pipeline refitted on all rows (reused as a member).
    ``random_state`` must be the seed TPOT's folds were drawn with. ``deadline`` is a
    ``time.monotonic()`` instant by which everything must be done; ``should_stop()`` returning
    true ends the stage early (raising :class:`~automl_tpot.errors.TrainingCancelled` is left
    to the caller, which checks it again).
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
    limit = max(deadline - time.monotonic(), 0.1)  # the worker-side guard of every task
    futures: list[Any] = []
    try:
        data = client.scatter([X, y], broadcast=True, timeout=limit)
        oof = [
            client.submit(_out_of_fold, c.pipeline, *data, folds, method, limit, pure=False)
            for c in candidates
        ]
        # queued behind the predictions; the search's choice is already refitted
        fits = [None] + [
            client.submit(_fit, c.pipeline, *data, limit, pure=False) for c in candidates[1:]
        ]
        futures = [*oof, *fits[1:]]
        # a straggler must not take the time the chosen members' refits need
        _wait(oof, deadline - 0.25 * available, should_stop)
        predictions = [_result(future, deadline) for future in oof]
        members = [i for i, p in enumerate(predictions) if p is not None]
        outcome.candidates = len(members)
        if len(members) < 2 or members[0] != 0:
            return finish("the out-of-fold predictions did not finish in time")
        scorer = get_scorer(metric)
        classes = np.unique(y)
        tests = [test for _, test in folds]

        def score(prediction: np.ndarray) -> float:
            return _fold_score(scorer, task, prediction, y, tests, classes)

        outcome.best_single = score(predictions[0])
        fitted = {0: best_fitted}
        while True:
            counts, ensemble_score = greedy_selection(
                [predictions[i] for i in members],
                score,
                deadline=deadline,
                tiebreak=brier_closeness(y) if task == "classification" else None,
            )
            outcome.score = ensemble_score
            chosen = [members[k] for k, n in enumerate(counts) if n > 0]
            if len(chosen) < 2 or ensemble_score < outcome.best_single - TIE:
                return finish("averaging did not improve the cross-validated score")
            _wait([fits[i] for i in chosen if i not in fitted], deadline, should_stop)
            for i in chosen:
                if i not in fitted and (model := _result(fits[i], deadline)) is not None:
                    fitted[i] = model
            missing = [i for i in chosen if i not in fitted]
            if not missing:
                break
            # a member could not be refitted in time: choose again without it
            members = [i for i in members if i not in missing]
            if time.monotonic() >= deadline:
                return finish("the final fits did not finish in time")
        weights = [counts[members.index(i)] / sum(counts) for i in chosen]
        outcome.model = WeightedEnsemble([fitted[i] for i in chosen], weights, task)
        outcome.weights = {
            candidates[i].description: round(weight, 3)
            for i, weight in zip(chosen, weights, strict=True)
        }
        return finish("")
    except _Stopped:
        return finish("the run was asked to stop")
    finally:
        for future in futures:  # nothing of the stage outlives it
            future.cancel()
