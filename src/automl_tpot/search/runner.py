"""Running one TPOT search on an open Dask session: building TPOT through the boundary, the
stop and interrupt handling, and the translation of TPOT's failures into our errors."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from types import FrameType, TracebackType
from typing import Any

from attrs import define, field

from ..cluster.loop import EvaluationLoop
from ..cluster.session import DaskSession
from ..config import TrainerConfig
from ..data import PreparedData
from ..ensemble.leaders import leading_costs, leading_fits
from ..errors import ClusterError, TrainingCancelled, TrainingError
from ..search_spaces import anchor_individuals
from ..tpot_boundary import (
    EvolverSnapshot,
    FittedSearch,
    NothingEvaluated,
    TPOTSettings,
    build_estimator,
    fit_estimator,
)
from ..utils.pipelines import pipeline_complexity
from .budget import MIN_PER_RUN_SECONDS, MIN_SEARCH_SECONDS, RunBudget, SearchBudget
from .channel import SearchChannel, StopWatcher
from .hooks import EvaluationCounter, EvaluationListener, GenerationListener, SearchHooks
from .plan import SearchPlan
from .sampling import SampleSchedule

__all__ = ["SearchRun", "SearchStart", "raise_if_stopped", "run_search"]

StopRequest = Callable[[], bool]


@define(frozen=True, eq=False)
class SearchStart:
    """Where a search starts: afresh, or from a snapshot (a resumed run).

    Attributes:
        restore: the evolver's state to continue from (``None``: a fresh search).
        generations: the generations still to run (``None``: ``config.generations``).
        reasons: the failures' reasons so far; the evaluation loop adds the new ones to this
            very mapping, so a generation listener reads them all.
        finish_only: evaluate nothing: TPOT picks and refits the best of the restored history
            (also when the time left is too short for a search).
    """

    restore: EvolverSnapshot | None = None
    generations: int | None = None
    reasons: dict[str, tuple[str, str]] = field(factory=dict)
    finish_only: bool = False


@define(frozen=True, eq=False)
class SearchRun:
    """A finished search.

    Attributes:
        fitted: the fitted TPOT search (history, choice, refit).
        reasons: each failed evaluation's ``(error, reason)``, keyed by individual.
        seconds: how long the search (with TPOT's refit) took.
        per_run_seconds: the per-evaluation limit it ran with.
        converged: whether it ended early because its best score stopped improving.
        stopped: whether ``should_finish`` ended the search early (the run keeps the best).
        handed_over: for a search on a sample that ended after a generation because the next
            would not have finished: ``(seconds it left to the later stages, seconds the next
            generation was expected to take)``.
    """

    fitted: FittedSearch
    reasons: dict[str, tuple[str, str]]
    seconds: float
    per_run_seconds: float
    converged: bool = False
    stopped: bool = False
    handed_over: tuple[float, float] | None = None


def raise_if_stopped(should_stop: StopRequest | None) -> None:
    """Raise :class:`TrainingCancelled` when the host asked the run to stop."""
    if should_stop is not None and should_stop():
        raise TrainingCancelled("the run was cancelled before it finished")


def run_search(
    *,
    config: TrainerConfig,
    prepared: PreparedData,
    plan: SearchPlan,
    session: DaskSession,
    budget: RunBudget,
    seed: int,
    listener: GenerationListener,
    should_stop: StopRequest | None = None,
    start: SearchStart | None = None,
    on_evaluation: EvaluationListener | None = None,
    should_finish: StopRequest | None = None,
) -> SearchRun:
    """Search on ``session`` until the budget's moving end (or ``config.generations``).

    ``start`` says where the search starts (a resumed run continues from a snapshot).
    ``on_evaluation`` hears of every finished evaluation (for live displays).
    ``should_finish`` is polled like ``should_stop``, but ends the search without an error:
    the run goes on with the best pipeline so far (``SearchRun.stopped``).

    Raises:
        TrainingError: TPOT failed or found no pipeline that fits on all rows (with what the
            evaluations came to).
        ClusterError: the cluster failed and ``parallel_fallback`` is off.
        TrainingCancelled: ``should_stop`` asked the run to stop.
        KeyboardInterrupt: Ctrl-C during the search.
    """
    start = start if start is not None else SearchStart()
    restore = start.restore
    shares, finish_only = _shares(budget, restore, start.finish_only)
    deadline = budget.deadline_for(
        shares,
        cv=prepared.cv,
        n_workers=session.n_workers,
        lead_fits=leading_fits(len(prepared.y)),
        # the stage after a sampled search grows the best and the anchors: their costs
        lead_costs=partial(
            leading_costs,
            anchors=anchor_individuals(plan.search_space),
            task=prepared.task,
            n_rows=len(prepared.y),
        ),
    )
    channel = SearchChannel(end=deadline.end, generations=config.generations)
    counter = None
    if on_evaluation is not None:
        counter = EvaluationCounter(
            on_evaluation, started=budget.started, deadline=budget.deadline, metric=plan.metric_name
        )
    loop = EvaluationLoop(session, channel, on_outcome=counter, reasons=start.reasons)
    asked = _either(should_stop, should_finish)
    hooks = SearchHooks(
        loop=loop,
        channel=channel,
        deadline=deadline,
        listener=listener,
        started=budget.started,
        metric=plan.metric_name,
        population_size=config.population_size,
        should_stop=asked,
        schedule=SampleSchedule(len(prepared.y), cv=prepared.cv),
    )
    settings = TPOTSettings(
        search_space=plan.search_space,
        scorer=plan.metric,
        classification=prepared.task == "classification",
        cv=prepared.cv,
        population_size=config.population_size,
        generations=config.generations if start.generations is None else start.generations,
        search_seconds=shares.search_seconds,
        per_run_seconds=shares.per_run_seconds,
        n_jobs=session.n_workers,
        client=session.current,
        random_state=seed,
        complexity=pipeline_complexity,
    )
    estimator = build_estimator(settings, hooks, restore)
    raise_if_stopped(should_stop)
    if finish_only:
        channel.request_stop()  # TPOT's first time check ends the search
    started = time.monotonic()
    interrupt = _InterruptLatch()
    try:
        with interrupt, StopWatcher(channel, asked):
            # after a sampled search, the ensemble stage fits the final model within the budget
            fitted = fit_estimator(estimator, plan.features, prepared.y, defer_sampled_refit=True)
    except ClusterError:
        raise
    except Exception as error:
        if interrupt.fired:
            raise KeyboardInterrupt from error
        raise_if_stopped(should_stop)
        summary = _outcomes(hooks, loop, shares.per_run_seconds)
        if isinstance(error, NothingEvaluated):
            raise TrainingError(f"no pipeline could be evaluated{summary}") from error
        raise TrainingError(f"the TPOT search failed: {error}{summary}") from error
    finally:
        loop.close()
    if interrupt.fired:
        # TPOT 1.1 swallows KeyboardInterrupt and returns what it has; the caller asked the
        # run to stop, so nothing is reported or stored.
        raise KeyboardInterrupt
    raise_if_stopped(should_stop)
    if fitted.fitted_pipeline is None and not fitted.refit_deferred:
        raise TrainingError("the search found no pipeline that could be fitted on all rows")
    return SearchRun(
        fitted=fitted,
        reasons=dict(loop.reasons),
        seconds=round(time.monotonic() - started, 3),
        per_run_seconds=shares.per_run_seconds,
        converged=hooks.converged,
        stopped=not finish_only and channel.stop_requested and not hooks.converged,
        handed_over=hooks.handed_over,
    )


def _shares(
    budget: RunBudget, restore: EvolverSnapshot | None, finish_only: bool
) -> tuple[SearchBudget, bool]:
    """The budget's shares, and whether the search only finishes from ``restore``: asked for,
    or a resumed run whose time left is too short for a search."""
    if not finish_only:
        try:
            return budget.plan_search(), False
        except TrainingError:
            if restore is None:
                raise
    per_run = min(budget.per_run_limit, MIN_PER_RUN_SECONDS)
    return SearchBudget(MIN_SEARCH_SECONDS, per_run, 0.0, 0.0), True


def _either(*requests: StopRequest | None) -> StopRequest | None:
    """One request that is true when any of ``requests`` is."""
    given = [request for request in requests if request is not None]
    if len(given) <= 1:
        return given[0] if given else None
    return lambda: any(request() for request in given)


def _outcomes(hooks: SearchHooks, loop: EvaluationLoop, per_run: float) -> str:
    """What the evaluations of a failed search came to, for its error message: whether every
    pipeline failed or ran out of time, and the most common failure, tell the operator what to
    change."""
    history = hooks.last_history
    if history is None or len(history) == 0:
        return " (the time ran out before any evaluation finished)"
    invalid, timeouts = history.failure_codes()
    text = (
        f" ({len(history)} pipeline(s) evaluated: {invalid} failed, {timeouts} over the "
        f"{per_run:g}s evaluation limit"
    )
    reasons = Counter(reason for _, reason in loop.reasons.values())
    if reasons:
        reason, count = reasons.most_common(1)[0]
        text += f"; the most common failure ({count}x): {reason[:300]}"
    return text + ")"


class _InterruptLatch:
    """Notes a Ctrl-C (SIGINT) during the search, which TPOT 1.1 would otherwise swallow.

    Only installed from the main thread, and it chains to the handler it replaces: a Ctrl-C
    is one when that handler raises ``KeyboardInterrupt`` (Python's default does); a handler
    that returns (the command line's first Ctrl-C asks the run to finish) or raises something
    else (its second aborts) has its way.
    """

    def __init__(self) -> None:
        self.fired = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _InterruptLatch:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            if callable(self._previous):  # not when the host ignores SIGINT or set it to default
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        try:
            self._previous(signum, frame)
        except KeyboardInterrupt:
            self.fired = True
            raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
