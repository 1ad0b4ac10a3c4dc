"""What the search does at TPOT's own steps: evaluate a generation on the Dask workers, tell
TPOT when to end, and after every generation report progress, replan the budget and hand a
snapshot to whoever keeps checkpoints.

:class:`SearchHooks` is the :class:`~automl_tpot.tpot_boundary.EvolverHooks` of one search. It
is called in the search's own thread, between TPOT's steps, so nothing here races TPOT.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from ..cluster.loop import EvaluationLoop
from ..records.events import EvaluationProgress, GenerationProgress
from ..tpot_boundary import EvaluationBatch, EvaluationRequest, GenerationState, SearchHistory
from ..tpot_boundary.estimator import COMPLEXITY
from ..utils.notify import notify
from .budget import SearchDeadline
from .channel import SearchChannel
from .sampling import SampleSchedule

__all__ = ["EvaluationCounter", "EvaluationListener", "GenerationListener", "SearchHooks"]

#: Told of every finished generation: the progress event and TPOT's state (for checkpoints).
GenerationListener = Callable[[GenerationProgress, GenerationState], None]
#: Told of every finished evaluation.
EvaluationListener = Callable[[EvaluationProgress], None]

#: The search ends early, as converged, when its best score improved by no more than
#: IMPROVEMENT over the last PATIENCE generations, after at least MIN_GENERATIONS: the rest of
#: the budget would buy nothing the host should wait for.
PATIENCE = 6
IMPROVEMENT = 1e-4
MIN_GENERATIONS = 10


class EvaluationCounter:
    """Counts the search's finished evaluations and tells ``listener`` after each one (the
    evaluation loop calls it; a live display listens)."""

    def __init__(
        self, listener: EvaluationListener, *, started: float, deadline: float, metric: str
    ):
        self.listener = listener
        self.started = started
        self.deadline = deadline
        self.metric = metric
        self.evaluations = 0
        self.failures = 0
        self.best: float | None = None

    def __call__(self, generation: int, score: float | None, failed: bool) -> None:
        self.evaluations += 1
        self.failures += int(failed)
        if score is not None and (self.best is None or score > self.best):
            self.best = score
        now = time.monotonic()
        event = EvaluationProgress(
            generation=generation + 1,
            evaluations=self.evaluations,
            failures=self.failures,
            best_score=self.best,
            elapsed=round(now - self.started, 3),
            seconds_left=round(max(self.deadline - now, 0.0), 3),
            metric=self.metric,
        )
        notify(self.listener, event, what="the evaluation listener")


class SearchHooks:
    """The hooks of one search.

    Args:
        loop: evaluates each generation.
        channel: the search's live end and stop request.
        deadline: replans the end after each generation.
        listener: told of each finished generation (its failures are logged, not raised).
        started: when the run started (``time.monotonic()``), for the events' ``elapsed``.
        metric: the metric's name, for the events.
        population_size: for the events.
        should_stop: the host's stop request, also asked right after each generation (so a
            listener that asks to stop ends the search before the next generation starts).
        schedule: the share of the rows each generation evaluates on (all rows when omitted).
    """

    def __init__(
        self,
        *,
        loop: EvaluationLoop,
        channel: SearchChannel,
        deadline: SearchDeadline,
        listener: GenerationListener,
        started: float,
        metric: str,
        population_size: int,
        should_stop: Callable[[], bool] | None = None,
        schedule: SampleSchedule | None = None,
    ):
        self.loop = loop
        self.schedule = schedule
        #: Whether the search ended early because its best score stopped improving.
        self.converged = False
        #: When a search on a sample ended after a generation because the next one would not
        #: have finished in time while the stage after it wanted more time than its reserve:
        #: ``(seconds it left, seconds the next was expected to take)``.
        self.handed_over: tuple[float, float] | None = None
        self._best: list[float] = []
        self._generation_started = time.time()
        self.channel = channel
        self.deadline = deadline
        self.listener = listener
        self.started = started
        self.metric = metric
        self.population_size = population_size
        self.should_stop = should_stop
        #: The history as of the last finished generation (what a failed search had done).
        self.last_history: SearchHistory | None = None
        self._reported = 0

    def search_end(self) -> float:
        """The channel's end: TPOT checks it between generations, the loop during one."""
        return self.channel.end

    def evaluate(self, request: EvaluationRequest) -> EvaluationBatch:
        """Evaluate a generation on the workers."""
        self._generation_started = time.time()
        return self.loop.evaluate(request)

    def _has_converged(self, history: SearchHistory) -> bool:
        """Whether the best score has not improved for :data:`PATIENCE` generations (on all
        rows: while the sample grows, scores are not comparable across generations)."""
        best = history.best_score()
        self._best.append(-math.inf if best is None else best)
        if self.schedule is not None and self.schedule.fraction < 1.0:
            return False
        if len(self._best) < MIN_GENERATIONS:
            return False
        recent, before = self._best[-PATIENCE:], self._best[:-PATIENCE]
        return max(recent) <= max(before) + IMPROVEMENT

    def sample_fraction(self, generation: int) -> float:
        """The share of the rows the generation evaluates on (see :mod:`.sampling`)."""
        return 1.0 if self.schedule is None else self.schedule.fraction

    def generation_evaluated(self, state: GenerationState) -> None:
        """Report the generation, then give the search the time the later stages will not need."""
        history = state.history(COMPLEXITY)
        self.last_history = history
        if state.generations_completed <= self._reported:  # TPOT retried an empty population
            return
        self._reported = state.generations_completed
        evaluated, failed = history.counts()
        event = GenerationProgress(
            generation=state.generations_completed,
            elapsed=round(time.monotonic() - self.started, 3),
            best_score=history.best_score(),
            evaluations=evaluated,
            failures=failed,
            metric=self.metric,
            population_size=self.population_size,
        )
        notify(self.listener, event, state, what="the generation listener")
        if self.should_stop is not None and self.should_stop():
            self.channel.request_stop()
        if self._has_converged(history):
            self.converged = True
            self.channel.request_stop()
        self.channel.move_end(self.deadline.plan(history))
        if self.schedule is not None:
            # a resumed search goes on from the largest sample its checkpoint holds
            self.schedule.fraction = max(self.schedule.fraction, history.largest_fraction())
            sampled = self.schedule.fraction < 1.0
            now = time.time()
            left = self.channel.end - now
            self.schedule.after_generation(now - self._generation_started, left)
            expected = self.schedule.next_seconds
            wanted = sampled and self.deadline.stage_wants_more
            if wanted and expected is not None and 0 < left < expected:
                # the next generation would be cut short, partly unevaluated, while the final
                # choice on all rows would take more time than it has: it gets the seconds
                self.handed_over = (round(left, 1), round(expected, 1))
                self.channel.move_end(now)
