"""After the search and the ensemble stage: explain the final model, within the budget.

Why at the end of the run: the search's workers are still up and the rows are already
broadcast-ready, and an importance measured later, by a reader of the stored run, would need
the training table again. Why on out-of-fold rows: an importance measured on the rows the model
was fitted on rewards memorising, not predicting.

The final model is refitted once per fold of the search (the same folds, drawn with the same
seed as TPOT's and the ensemble stage's), each fold on its own Dask worker under the worker-side
time guard; a fold that has not finished at the deadline is dropped, and the stage reports
``partial`` with the folds it has. It never fails the run: an error or a budget spent before
any fold finished leaves a run without explanations, saying why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import clone

from ..cluster.session import DaskSession
from ..cluster.waiting import StageStopped, wait_until
from ..config import TrainerConfig
from ..data import PreparedData
from ..ensemble import EnsembleOutcome, search_folds
from ..ensemble.holdout import FIT_SCALING
from ..model import TabularModel
from ..records.explanations import ColumnImportance, Explanations
from ..search.budget import RunBudget
from ..search.plan import SearchPlan
from ..search.runner import SearchRun, raise_if_stopped
from .diagnostics import classification_diagnostics, regression_diagnostics
from .folds import FoldOutcome, explain_fold

__all__ = ["FOLD_MARGIN", "N_REPEATS", "explain_model", "run_explain_stage"]

log = logging.getLogger(__name__)

#: Shuffles per column and fold (times the folds: the samples behind each column's mean and
#: standard deviation).
N_REPEATS = 3
#: The stage is skipped when less than this many seconds are left.
MIN_SECONDS = 1.0
#: The stage runs at most its reserve (``RunBudget.explain_reserve``) or this many seconds,
#: whichever is more, when the budget has that much left: what it does not finish by then
#: (folds, then the whole stage) is dropped, so a search that ended early does not leave a
#: long wait for explanations.
MIN_STAGE_SECONDS = 15.0
#: A fold takes about this many times the refit's own estimate (``fold_seconds``): it also
#: preprocesses the fold's rows and predicts the held-out ones, and the folds share the workers.
#: Measured on ``insteval`` (55,065 training rows, an average of a 267-tree forest and a boosting
#: model): estimated 5.3 s, two folds finished within 8.8 s; estimated 12.6 s, none in 13.5 s.
#: On ``flights_late`` (a boosting model of 127 leaves and up to 400 iterations on 196,407 rows,
#: whose folds take turns at the GIL in a two-thread worker) at 1.5 times, no fold finished in
#: the 12 s left and the run peaked 190 MB higher (1,507 MB against 1,318 MB without the stage).
FOLD_MARGIN = 2.5


#: Characters of an error's text kept in the reason.
MAX_REASON = 300


def _text(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def _collect(future: Any, deadline: float) -> tuple[FoldOutcome | None, str | None]:
    """A finished fold's outcome, or ``None`` with the error that ended it (if one did)."""
    if future.status == "error":
        return None, _text(future.exception())
    if future.status != "finished":
        return None, None
    try:
        return future.result(timeout=max(deadline - time.monotonic(), 0.1)), None
    except Exception as error:  # a lost worker or a slow transfer: the fold drops out
        return None, _text(error)


def explain_model(
    *,
    client: Any,
    model: TabularModel,
    prepared: PreparedData,
    metric: str | Callable[..., float],
    metric_name: str,
    random_state: int,
    deadline: float,
    should_stop: Callable[[], bool] | None = None,
    fold_seconds: float | None = None,
) -> Explanations:
    """Permutation importance of ``model``'s raw columns and its out-of-fold diagnostics.

    ``model`` is refitted (a clone) on each fold's training rows of ``prepared``; the folds are
    the search's for ``random_state``. ``deadline`` is a ``time.monotonic()`` instant.
    ``fold_seconds``, when known, is about how long one such refit takes: the stage is skipped
    when not even one fold would finish in time (:data:`FOLD_MARGIN` times that; it would cost
    the time and the memory for nothing).
    """
    started = time.monotonic()

    def seconds() -> float:
        return round(time.monotonic() - started, 3)

    available = deadline - started
    if available < MIN_SECONDS:
        return Explanations.skipped(f"only {max(available, 0):.1f}s of the budget were left")
    if fold_seconds is not None and FOLD_MARGIN * fold_seconds > available:
        return Explanations.skipped(
            f"a refit on a fold's rows with its predictions takes about "
            f"{FOLD_MARGIN * fold_seconds:.1f}s, more than the {available:.1f}s left"
        )
    folds = search_folds(prepared.task, prepared.y, prepared.cv, random_state)
    limit = max(deadline - time.monotonic(), 0.1)
    futures: list[Any] = []
    try:
        # the folds refit the model's structure: its fitted parts stay here
        shared = client.scatter(
            [clone(model), prepared.features, prepared.target], broadcast=True, timeout=limit
        )
        settings = (metric, N_REPEATS, random_state, limit)
        futures = [
            client.submit(explain_fold, *shared, train, test, *settings, pure=False)
            for train, test in folds
        ]
        wait_until(futures, deadline, should_stop)
        collected = [_collect(future, deadline) for future in futures]
    except StageStopped:
        return Explanations.skipped("the run was asked to stop", seconds=seconds())
    finally:
        for future in futures:  # nothing of the stage outlives it
            future.cancel()
    done = [outcome for outcome, _ in collected if outcome is not None]
    errors = [error for _, error in collected if error is not None]
    if not done:
        if errors:
            return Explanations.skipped(errors[0], seconds=seconds(), status="failed")
        reason = f"no held-out fold finished in the {available:.1f}s left"
        return Explanations.skipped(reason, seconds=seconds())
    return _combine(done, prepared, metric_name, len(folds), random_state, errors, seconds())


def _combine(
    done: list[FoldOutcome],
    prepared: PreparedData,
    metric_name: str,
    cv: int,
    seed: int,
    errors: list[str],
    seconds: float,
) -> Explanations:
    """The folds' measurements as one :class:`Explanations`."""
    drops: dict[str, list[float]] = {}
    for outcome in done:
        for column, values in outcome.drops.items():
            drops.setdefault(column, []).extend(values)
    importance = sorted(
        (
            ColumnImportance(
                column, round(float(np.mean(values)), 6), round(float(np.std(values)), 6)
            )
            for column, values in drops.items()
        ),
        key=lambda item: (-item.mean, item.column),
    )
    test = np.concatenate([outcome.test for outcome in done])
    prediction = np.concatenate([outcome.prediction for outcome in done])
    if prepared.task == "classification":
        assert prepared.classes is not None
        diagnostics = classification_diagnostics(
            prepared.y[test], prediction, done[0].probabilities, prepared.classes
        )
    else:
        diagnostics = regression_diagnostics(prepared.y[test], prediction, seed)
    reason = ""
    if len(done) < cv:
        reason = f"{len(done)} of {cv} held-out folds finished in time" + (
            f" ({errors[0]})" if errors else ""
        )
    return Explanations(
        status="complete" if len(done) == cv else "partial",
        reason=reason,
        seconds=seconds,
        folds=len(done),
        cv=cv,
        metric=metric_name,
        n_repeats=N_REPEATS,
        rows=sum(outcome.rows for outcome in done),
        baseline_score=round(float(np.mean([outcome.baseline for outcome in done])), 6),
        importance=importance,
        diagnostics=diagnostics,
    )


def _fold_seconds(ensemble: EnsembleOutcome, prepared: PreparedData) -> float | None:
    """About how long the final model's refit on one fold's training rows takes, from the
    ensemble stage's own fit of it (scaled to the fold's rows as that stage scales its fits)."""
    if ensemble.fit_seconds is None:
        return None
    rows = len(prepared.y)
    fold_rows = rows * (prepared.cv - 1) / prepared.cv
    fitted_rows = ensemble.fitted_rows or rows
    return ensemble.fit_seconds * (fold_rows / fitted_rows) ** FIT_SCALING


def run_explain_stage(
    config: TrainerConfig,
    session: DaskSession,
    plan: SearchPlan,
    prepared: PreparedData,
    search: SearchRun,
    ensemble: EnsembleOutcome | None,
    seed: int,
    budget: RunBudget,
    should_stop: Callable[[], bool] | None = None,
) -> Explanations:
    """:func:`explain_model` for the run's final model (the ensemble when it was chosen), on
    the session's workers, by the budget's :attr:`~RunBudget.explain_deadline` (and within
    :data:`MIN_STAGE_SECONDS` or the stage's reserve, whichever is more).

    The arguments are the Trainer's for this run, in the order it holds them: the
    configuration (``explain`` off skips the stage), the Dask session, the search plan (the
    fitted preprocessing and the metric), the prepared table, the finished search, the ensemble
    stage's outcome (``None`` when it was off), the seed the search's folds were drawn with, the
    run's budget and its stop request.

    Never raises but for a stop request (:class:`~automl_tpot.errors.TrainingCancelled`): a
    failure is reported in the outcome, whose ``reason`` the run's notes repeat.
    """
    if not config.explain:
        return Explanations.skipped("explanations are off (explain=False)")
    started = time.monotonic()
    fitted = search.fitted.fitted_pipeline
    chosen = ensemble.chosen(fitted) if ensemble is not None else fitted
    model = TabularModel.from_fitted(plan.preprocessor, chosen, prepared)  # refitted per fold
    try:
        outcome = explain_model(
            client=session.current,
            model=model,
            prepared=prepared,
            metric=plan.metric,
            metric_name=plan.metric_name,
            random_state=seed,
            deadline=min(
                budget.explain_deadline,
                started + max(budget.explain_reserve, MIN_STAGE_SECONDS),
            ),
            should_stop=should_stop,
            fold_seconds=_fold_seconds(ensemble, prepared) if ensemble is not None else None,
        )
    except Exception as error:
        text = _text(error)
        log.warning("explanation stage failed: %s", text)
        outcome = Explanations.skipped(
            text, seconds=round(time.monotonic() - started, 3), status="failed"
        )
    raise_if_stopped(should_stop)
    if outcome.status != "complete":
        log.info("explanations %s: %s", outcome.status, outcome.reason)
    return outcome
