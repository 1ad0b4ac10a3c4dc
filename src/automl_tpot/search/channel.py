"""What the Trainer, the search's hooks and the evaluation loop share while a search runs.

One object, handed to each of them explicitly, instead of attributes hung on the Dask session
or values written into TPOT from another thread: the search's end as it stands now (moved later
by the budget planning, brought to *now* by a stop request), whether a stop was asked for, and
what the evaluation loop needs to know about the generation it is evaluating.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from types import TracebackType

__all__ = ["SearchChannel", "StopWatcher"]


class SearchChannel:
    """The live state of one search, safe to read and change from any thread.

    Args:
        end: the search's first planned end (``time.time()``).
        generations: the generations the search may run in all (``None``: until the end).
    """

    def __init__(self, *, end: float, generations: int | None):
        self._lock = threading.Lock()
        self._end = float(end)
        self._stopped = False
        self.generations = generations

    def __repr__(self) -> str:
        state = "stop requested" if self._stopped else f"ends in {self._end - time.time():.1f}s"
        return f"SearchChannel({state})"

    @property
    def end(self) -> float:
        """The instant (``time.time()``) the search must end by, as it stands now."""
        with self._lock:
            return self._end

    @property
    def stop_requested(self) -> bool:
        """Whether :meth:`request_stop` was called."""
        with self._lock:
            return self._stopped

    def move_end(self, end: float) -> None:
        """Set a new end (the budget planning's); ignored once a stop was requested."""
        with self._lock:
            if not self._stopped:
                self._end = float(end)

    def request_stop(self) -> None:
        """End the search now: TPOT's next time check and the evaluation loop both see it."""
        with self._lock:
            self._stopped = True
            self._end = min(self._end, time.time())

    def may_defer(self, generation: int) -> bool:
        """Whether the evaluation of ``generation`` (0 is the initial population) may leave its
        stragglers running for the next generation to collect: not in the last one, whose
        stragglers nobody would collect."""
        return self.generations is None or generation < self.generations - 1


class StopWatcher:
    """Polls a host's ``should_stop`` from a daemon thread and stops the search when it answers
    true. A context manager around the search; ``should_stop`` errors are logged, not raised."""

    def __init__(
        self,
        channel: SearchChannel,
        should_stop: Callable[[], bool] | None,
        interval: float = 0.25,
    ):
        self._channel = channel
        self._should_stop = should_stop
        self._interval = interval
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="automl-tpot-stop", daemon=True)

    def __enter__(self) -> StopWatcher:
        if self._should_stop is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        import logging

        assert self._should_stop is not None
        while not self._done.wait(self._interval):
            try:
                asked = self._should_stop()
            except Exception:
                logging.getLogger(__name__).warning("should_stop raised; ignoring", exc_info=True)
                continue
            if asked:
                self._channel.request_stop()
                return
