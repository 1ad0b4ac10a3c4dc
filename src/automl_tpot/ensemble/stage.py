"""After the search: a weighted average of the best pipelines, kept only when it scores better;
and, when the search compared its pipelines on a sample of a large table, the final choice and
fit on all rows (:mod:`.holdout`).

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
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from ..cluster.session import DaskSession
from ..cluster.waiting import StageStopped, wait_until
from ..data import PreparedData
from ..search.plan import SearchPlan
from ..search_spaces import anchor_individuals
from ..tpot_boundary import FittedSearch, SearchHistory
from .candidates import (
    affordable,
    best_candidates,
    finished_result,
    fit_on_all_rows,
    out_of_fold,
)
from .holdout import MIN_SECONDS, choose_on_held_out_rows
from .outcome import EnsembleOutcome, average_members, search_folds
from .selection import fold_score

__all__ = ["EnsembleOutcome", "build_ensemble", "run_ensemble_stage", "search_folds"]

log = logging.getLogger(__name__)


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
) -> EnsembleOutcome:
    """Average the search's best pipelines if that improves the cross-validated score.

    ``history`` is the search's (on all rows); ``best_key`` its row of the pipeline TPOT chose
    and ``best_fitted`` that pipeline refitted on all rows (reused as a member). The candidates
    are scored on the search's folds and the members refitted on all rows. ``random_state``
    must be the seed TPOT's folds were drawn with. ``deadline`` is a ``time.monotonic()``
    instant by which everything must be done; ``should_stop()`` returning true ends the stage
    early (raising :class:`~automl_tpot.errors.TrainingCancelled` is left to the caller, which
    checks it again).
    """
    from sklearn.metrics import get_scorer

    started = time.monotonic()
    outcome = EnsembleOutcome()

    def finish(reason: str) -> EnsembleOutcome:
        outcome.reason = reason
        outcome.seconds = round(time.monotonic() - started, 3)
        return outcome

    y = np.asarray(y)
    candidates = best_candidates(history, task, best_key)
    if len(candidates) < 2:
        return finish("fewer than two distinct scored pipelines")
    if candidates[0].key != best_key:
        return finish("the search's choice is not among the candidates")
    available = deadline - time.monotonic()
    if available < MIN_SECONDS:
        return finish(f"only {max(available, 0):.1f}s left")
    candidates = candidates[: affordable(candidates, n_workers, 0.8 * available, cv)]
    if len(candidates) < 2:
        return finish(f"the candidates' evaluations took longer than the {available:.1f}s left")

    folds = search_folds(task, y, cv, random_state)
    method = "predict_proba" if task == "classification" else "predict"
    limit = max(deadline - time.monotonic(), 0.1)  # the worker-side guard of every task
    futures: list[Any] = []
    try:
        data = client.scatter([X, y], broadcast=True, timeout=limit)
        oof = [
            client.submit(out_of_fold, c.pipeline, *data, folds, method, limit, pure=False)
            for c in candidates
        ]
        # queued behind the predictions; the search's choice is already refitted
        fits = [None] + [
            client.submit(fit_on_all_rows, c.pipeline, *data, limit, pure=False)
            for c in candidates[1:]
        ]
        futures = [*oof, *fits[1:]]
        # a straggler must not take the time the chosen members' refits need
        wait_until(oof, deadline - 0.25 * available, should_stop)
        predictions = [finished_result(future, deadline) for future in oof]
        members = [i for i, p in enumerate(predictions) if p is not None]
        outcome.candidates = len(members)
        if len(members) < 2 or members[0] != 0:
            return finish("the out-of-fold predictions did not finish in time")
        scorer = get_scorer(metric)
        classes = np.unique(y)
        tests = [test for _, test in folds]

        def score(prediction: np.ndarray) -> float:
            return fold_score(scorer, task, prediction, y, tests, classes)

        # on the search's folds its choice is the best single pipeline
        outcome.best_single = score(predictions[0])
        reason = average_members(
            outcome, candidates, predictions, members, score, y, task, deadline,
            fitted={0: best_fitted}, fits=fits, should_stop=should_stop,
        )  # fmt: skip
        return finish(reason)
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
    combine: bool = True,
) -> EnsembleOutcome:
    """The stage for a finished search, on its session's workers, with its seed (the folds must
    be the search's): :func:`build_ensemble` after a search on all rows;
    :func:`~automl_tpot.ensemble.holdout.choose_on_held_out_rows`, with the search space's
    anchors, after a search whose refit was deferred because it ended on a sample.
    ``combine=False`` (the ``ensemble`` option off) never averages.

    Never raises for the stage's own failures: after a search on all rows the single best
    pipeline is a complete result, so a failure is reported in the outcome's ``error``; after a
    deferred refit the search's choice is then fitted on all rows here (as TPOT would have).
    """
    started = time.monotonic()
    common: dict[str, Any] = {
        "client": session.current,
        "n_workers": session.n_workers,
        "history": search.history,
        "best_key": search.best_key,
        "X": plan.features,
        "y": prepared.y,
        "task": prepared.task,
        "metric": plan.metric,
        "cv": prepared.cv,
        "random_state": random_state,
        "deadline": deadline,
        "should_stop": should_stop,
    }
    try:
        if search.refit_deferred:
            outcome = choose_on_held_out_rows(
                **common,
                chosen=search.chosen_pipeline(),
                anchors=anchor_individuals(plan.search_space),
                sample_fraction=search.history.largest_fraction(),
                combine=combine,
            )
        elif combine:
            outcome = build_ensemble(**common, best_fitted=search.fitted_pipeline)
        else:
            return EnsembleOutcome(reason="averaging is off (ensemble=False)")
    except Exception as error:
        text = f"{type(error).__name__}: {error}"
        log.warning("ensemble stage failed: %s", text)
        outcome = EnsembleOutcome(reason=text, error=text)
        if search.refit_deferred:
            outcome.single = _fit_in_process(search.chosen_pipeline(), plan, prepared)
        outcome.seconds = round(time.monotonic() - started, 3)
        return outcome
    if outcome.replaced_by is not None:
        log.info("the search's choice replaced by %s", outcome.replaced_by)
    elif outcome.model is None:
        log.info("no average kept: %s", outcome.reason)
    return outcome


def _fit_in_process(pipeline: BaseEstimator, plan: SearchPlan, prepared: PreparedData) -> Any:
    """``pipeline`` fitted on all rows here, in the main process: the last resort of a deferred
    refit whose stage failed (it is what TPOT's own refit would have done)."""
    from sklearn.base import clone

    return clone(pipeline).fit(plan.features, np.asarray(prepared.y))
