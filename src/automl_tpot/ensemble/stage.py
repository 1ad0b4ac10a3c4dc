"""After the search: a weighted average of the best pipelines, kept only when it scores better.

Why: on small, noisy tables many pipelines score within noise of each other, and the single one
with the best cross-validation score is partly chosen by luck; it often does worse on new rows
than an average of several good ones. The weights are chosen (:mod:`.selection`) from
out-of-fold predictions computed on the search's own folds, so the ensemble's cross-validated
score is comparable with the single pipelines' scores. The ensemble replaces the search's best
pipeline only when that score is higher.

Everything here runs inside the time budget: the out-of-fold predictions and the final fits run
on the search's Dask workers in parallel, candidates are taken only while their recorded
evaluation time fits what is left, and whatever has not finished at the deadline is dropped.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.base import clone

from ..cluster.session import DaskSession
from ..cluster.waiting import StageStopped, wait_until
from ..cluster.worker import call_with_time_limit
from ..data import PreparedData
from ..model.ensemble import WeightedEnsemble
from ..search.plan import SearchPlan
from ..tpot_boundary import FittedSearch, SearchHistory, sample_rows
from ..utils.pipelines import children, describe_pipeline, final_estimator
from .selection import TIE, brier_closeness, fold_score, greedy_selection

__all__ = ["EnsembleOutcome", "build_ensemble", "run_ensemble_stage", "search_folds"]

log = logging.getLogger(__name__)

#: Pipelines considered for the ensemble, best first.
MAX_CANDIDATES = 8
#: At most this many candidates share a final estimator class (variety beats near-copies).
MAX_PER_FAMILY = 2
#: The stage is skipped when less than this many seconds are left.
MIN_SECONDS = 2.0


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

    def chosen(self, best: Any) -> Any:
        """The run's final estimator: the ensemble when it was built and scored, else ``best``
        (the search's own choice)."""
        return self.model if self.model is not None and self.score is not None else best


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
    key: Any
    pipeline: Any
    description: str
    seconds: float
    full_seconds: float


def _family(pipeline: Any, description: str) -> str:
    """The final estimator's class (of a pipeline, or of a bare estimator); a TPOT graph
    pipeline is its own family."""
    if children(pipeline)[0] == "graph":
        return description
    return type(final_estimator(pipeline)).__name__


def _candidates(history: SearchHistory, task: str, best_key: Any) -> list[_Candidate]:
    """The best distinct pipelines of the search (the search's own choice first: its refit is
    reused), at most MAX_PER_FAMILY per final estimator."""
    chosen: list[_Candidate] = []
    seen: set[str] = set()
    families: dict[str, int] = {}
    for scored in history.scored(first=best_key):
        if len(chosen) >= MAX_CANDIDATES:
            break
        try:
            pipeline = scored.export()
        except Exception:  # an individual TPOT cannot export: leave it out
            continue
        if task == "classification" and not hasattr(pipeline, "predict_proba"):
            continue
        description = describe_pipeline(pipeline)
        family = _family(pipeline, description)
        if description in seen or families.get(family, 0) >= MAX_PER_FAMILY:
            continue
        seen.add(description)
        families[family] = families.get(family, 0) + 1
        chosen.append(
            _Candidate(scored.key, pipeline, description, scored.seconds, scored.full_seconds)
        )
    return chosen


def _affordable(candidates: list[_Candidate], workers: int, seconds: float, cv: int) -> int:
    """How many of the best candidates fit in ``seconds``: their out-of-fold predictions take
    about as long as their evaluation did, a final fit on all rows about 1/(cv-1) of an
    evaluation on all rows, spread over the workers (with the slowest one as a floor).
    Evaluations the search abandoned may still hold a worker for a while; whatever does not
    finish in time is dropped."""
    count, total, slowest = 0, 0.0, 0.0
    for candidate in candidates:
        cost = candidate.seconds + candidate.full_seconds / max(cv - 1, 1)
        if not math.isfinite(cost):
            break
        estimate = max(slowest, cost, (total + cost) / max(workers, 1))
        if estimate > seconds:
            break
        count, total, slowest = count + 1, total + cost, max(slowest, cost)
    return count


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
    history: SearchHistory,
    best_key: Any,
    best_fitted: Any,
    X: Any,
    y: Any,
    task: str,
    metric: Any,
    cv: int,
    random_state: int,
    deadline: float,
    should_stop: Callable[[], bool] | None = None,
    sample_fraction: float = 1.0,
) -> EnsembleOutcome:
    """Average the search's best pipelines if that improves the cross-validated score.

    ``history`` is the search's; ``best_key`` its row of the pipeline TPOT chose and
    ``best_fitted`` that pipeline refitted on all rows (reused as a member). The candidates
    are scored on the rows and folds the search compared them on: all rows, or the search's
    last sample (``sample_fraction``); the members are refitted on all rows.
    ``random_state`` must be the seed TPOT's folds were drawn with. ``deadline`` is a
    ``time.monotonic()`` instant by which everything must be done; ``should_stop()`` returning
    true ends the stage early (raising :class:`~automl_tpot.errors.TrainingCancelled` is left
    to the caller, which checks it again).
    """
    from sklearn.metrics import get_scorer

    started = time.monotonic()
    outcome = EnsembleOutcome()

    def finish(reason: str) -> EnsembleOutcome:
        outcome.reason = reason
        outcome.seconds = round(time.monotonic() - started, 3)
        return outcome

    y = np.asarray(y)
    candidates = _candidates(history, task, best_key)
    if len(candidates) < 2:
        return finish("fewer than two distinct scored pipelines")
    if candidates[0].key != best_key:
        return finish("the search's choice is not among the candidates")
    available = deadline - time.monotonic()
    if available < MIN_SECONDS:
        return finish(f"only {max(available, 0):.1f}s left")
    candidates = candidates[: _affordable(candidates, n_workers, 0.8 * available, cv)]
    if len(candidates) < 2:
        return finish(f"the candidates' evaluations took longer than the {available:.1f}s left")

    X_scored, y_scored = sample_rows(X, y, sample_fraction, task == "classification")
    y_scored = np.asarray(y_scored)
    folds = search_folds(task, y_scored, cv, random_state)
    method = "predict_proba" if task == "classification" else "predict"
    limit = max(deadline - time.monotonic(), 0.1)  # the worker-side guard of every task
    futures: list[Any] = []
    try:
        data = client.scatter([X, y], broadcast=True, timeout=limit)
        scored = data
        if sample_fraction < 1.0:
            scored = client.scatter([X_scored, y_scored], broadcast=True, timeout=limit)
        oof = [
            client.submit(_out_of_fold, c.pipeline, *scored, folds, method, limit, pure=False)
            for c in candidates
        ]
        # queued behind the predictions; the search's choice is already refitted
        fits = [None] + [
            client.submit(_fit, c.pipeline, *data, limit, pure=False) for c in candidates[1:]
        ]
        futures = [*oof, *fits[1:]]
        # a straggler must not take the time the chosen members' refits need
        wait_until(oof, deadline - 0.25 * available, should_stop)
        predictions = [_result(future, deadline) for future in oof]
        members = [i for i, p in enumerate(predictions) if p is not None]
        outcome.candidates = len(members)
        if len(members) < 2 or members[0] != 0:
            return finish("the out-of-fold predictions did not finish in time")
        scorer = get_scorer(metric)
        classes = np.unique(y_scored)
        tests = [test for _, test in folds]

        def score(prediction: np.ndarray) -> float:
            return fold_score(scorer, task, prediction, y_scored, tests, classes)

        outcome.best_single = score(predictions[0])
        fitted = {0: best_fitted}
        while True:
            counts, ensemble_score = greedy_selection(
                [predictions[i] for i in members],
                score,
                deadline=deadline,
                tiebreak=brier_closeness(y_scored) if task == "classification" else None,
            )
            outcome.score = ensemble_score
            chosen = [members[k] for k, n in enumerate(counts) if n > 0]
            if len(chosen) < 2 or ensemble_score < outcome.best_single - TIE:
                return finish("averaging did not improve the cross-validated score")
            wait_until([fits[i] for i in chosen if i not in fitted], deadline, should_stop)
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
        outcome.model = WeightedEnsemble.from_fitted([fitted[i] for i in chosen], weights, task)
        outcome.weights = {
            candidates[i].description: round(weight, 3)
            for i, weight in zip(chosen, weights, strict=True)
        }
        return finish("")
    except StageStopped:
        return finish("the run was asked to stop")
    finally:
        for future in futures:  # nothing of the stage outlives it
            future.cancel()


def run_ensemble_stage(
    *,
    session: DaskSession,
    search: FittedSearch,
    plan: SearchPlan,
    prepared: PreparedData,
    random_state: int,
    deadline: float,
    should_stop: Callable[[], bool] | None = None,
) -> EnsembleOutcome:
    """:func:`build_ensemble` for a finished search, on its session's workers, with its seed
    (the folds must be the search's). Never raises: the single best pipeline is a complete
    result on its own, so a failure is reported in the outcome's ``error``."""
    started = time.monotonic()
    try:
        outcome = build_ensemble(
            client=session.current,
            n_workers=session.n_workers,
            history=search.history,
            best_key=search.best_key,
            best_fitted=search.fitted_pipeline,
            X=plan.features,
            y=prepared.y,
            task=prepared.task,
            metric=plan.metric,
            cv=prepared.cv,
            random_state=random_state,
            deadline=deadline,
            should_stop=should_stop,
            sample_fraction=search.history.largest_fraction(),
        )
    except Exception as error:
        text = f"{type(error).__name__}: {error}"
        log.warning("ensemble stage failed: %s", text)
        seconds = round(time.monotonic() - started, 3)
        return EnsembleOutcome(reason=text, error=text, seconds=seconds)
    if outcome.model is None:
        log.info("single pipeline kept: %s", outcome.reason)
    return outcome
