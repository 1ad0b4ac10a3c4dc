"""Live progress of a search: per-generation events read from TPOT while it runs.

TPOT 1.1 has no working callback, so a watcher thread polls the evolver's generation counter and
history and emits one :class:`GenerationProgress` per finished generation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..records.events import GenerationProgress

if TYPE_CHECKING:
    from .budget import SearchDeadline

__all__ = ["GenerationWatcher"]

log = logging.getLogger(__name__)


class GenerationWatcher:
    """Polls a fitting ``TPOTEstimator`` from a daemon thread and reports finished generations.

    Use as a context manager around ``estimator.fit``; the listener is called from the watcher
    thread, and its exceptions are logged, never raised into the search.

    ``should_stop``, when given, is asked at every poll; once it answers true the watcher ends the
    search's time budget now, through TPOT's own budget check (the evolver's ``max_time_mins``
    and ``scheduled_timeout_time``): the search stops at its next check, as it would at the end
    of ``time_left``.

    ``deadline``, when given, is a :class:`~automl_tpot.budget.SearchDeadline`: after each
    generation the watcher asks it for the search's end and moves TPOT's budget check there.
    """

    def __init__(
        self,
        estimator: Any,
        listener: Callable[[GenerationProgress], None],
        *,
        score_column: str,
        started_at: float,
        interval: float = 0.25,
        metric: str | None = None,
        population_size: int | None = None,
        should_stop: Callable[[], bool] | None = None,
        deadline: SearchDeadline | None = None,
    ):
        self._should_stop = should_stop
        self._deadline = deadline
        self._search_started: float | None = None  # the evolver's start (time.time())
        self._first_end = 0.0  # the end TPOT first set
        self.stop_requested = False
        self._metric = metric
        self._population_size = population_size
        self._estimator = estimator
        self._listener = listener
        self._score_column = score_column
        self._started_at = started_at
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="automl-tpot-progress", daemon=True)
        self._reported = 0

    def __enter__(self) -> GenerationWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if exc_info[0] is None:
            self.poll()  # report the last generation even if it ended between two polls

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.poll()
            self._check_stop()  # right after the listener, which may be what asks to stop

    def _check_stop(self) -> None:
        if self._should_stop is None:
            return
        try:
            if not (self.stop_requested or self._should_stop()):
                return
        except Exception:
            log.warning("should_stop raised; ignoring", exc_info=True)
            return
        self.stop_requested = True
        evolver = getattr(self._estimator, "_evolver_instance", None)
        if evolver is not None:  # set at every poll: TPOT resets the deadline when it starts
            evolver.max_time_mins = 0
            evolver.scheduled_timeout_time = time.time()

    def poll(self) -> None:
        """Report generations finished since the last poll (safe to call at any time)."""
        evolver = getattr(self._estimator, "_evolver_instance", None)
        if evolver is None:
            return
        generation = int(getattr(evolver, "generation", 0))
        if generation <= self._reported:
            return
        try:
            progress = self._snapshot(evolver, generation)
        except Exception:  # the history is being mutated by the search thread: try next poll
            log.debug("progress snapshot failed", exc_info=True)
            return
        self._reported = generation
        try:
            self._listener(progress)
        except Exception:
            log.warning("progress listener raised; ignoring", exc_info=True)
        self._move_deadline(evolver)

    def _move_deadline(self, evolver: Any) -> None:
        """Set TPOT's budget check to the end the deadline plans for the history so far."""
        if self._deadline is None or self.stop_requested:
            return
        if self._search_started is None:
            scheduled = getattr(evolver, "scheduled_timeout_time", None)
            if scheduled is None:  # TPOT has not started its clock yet
                return
            # TPOT checks time.time() - start > max_time_mins * 60, with the start it took
            # just before setting scheduled_timeout_time = time.time() + max_time_mins * 60
            self._search_started = scheduled - evolver.max_time_mins * 60
            self._first_end = scheduled
        try:
            end = self._deadline.plan(evolver.population.evaluated_individuals)
        except Exception:  # the history is being mutated by the search thread: next generation
            log.debug("deadline planning failed", exc_info=True)
            return
        end = max(end, self._first_end)  # TPOT's clock started after the plan was made
        evolver.max_time_mins = (end - self._search_started) / 60
        evolver.scheduled_timeout_time = end

    def _snapshot(self, evolver: Any, generation: int) -> GenerationProgress:
        import pandas as pd

        history = evolver.population.evaluated_individuals
        scores = pd.to_numeric(history[self._score_column], errors="coerce")
        errors = history["Eval Error"] if "Eval Error" in history else pd.Series(dtype=object)
        failures = int(errors.isin(["INVALID", "TIMEOUT"]).sum())
        evaluated = int(scores.notna().sum()) + failures
        best = scores.max()
        return GenerationProgress(
            generation=generation,
            elapsed=round(time.monotonic() - self._started_at, 3),
            best_score=None if pd.isna(best) else float(best),
            evaluations=evaluated,
            failures=failures,
            metric=self._metric,
            population_size=self._population_size,
        )
