"""What a session whose evaluations run in this process's threads does to the process.

BLAS's thread count and the warning filters are one setting per process. Each evaluation sets
both for itself (one BLAS thread, warnings silenced) and restores them when it ends; in threads
of one process those restores undo each other's settings, and ``warnings.catch_warnings`` is not
thread-safe, so the host's own filters could be left changed after a run. Threaded sessions
therefore set both once, for as long as any of them is open (the jobs of a host may run
concurrently in its threads), and the last one to close restores what the host had.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

__all__ = ["process_settings_held", "stop_evaluations_left"]

log = logging.getLogger(__name__)

#: Seconds the end of a threaded session waits for the work it interrupts: a thread running
#: Python stops within milliseconds, and one inside compiled code may not stop at all (the wait
#: counts against the run's budget).
STOP_GRACE = 1.0


class _SharedHold:
    """One ExitStack of process-wide settings, entered by the first holder, closed by the last."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders = 0
        self._undo: ExitStack | None = None

    def acquire(self) -> None:
        import warnings

        from threadpoolctl import threadpool_limits

        with self._lock:
            if self._holders == 0:
                undo = ExitStack()
                undo.enter_context(threadpool_limits(1))
                undo.enter_context(warnings.catch_warnings())
                warnings.simplefilter("ignore")
                self._undo = undo
            self._holders += 1

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0 and self._undo is not None:
                undo, self._undo = self._undo, None
                undo.close()


_HOLD = _SharedHold()


@contextmanager
def process_settings_held() -> Iterator[None]:
    """One BLAS thread and warnings silenced in the whole process while any holder is inside."""
    _HOLD.acquire()
    try:
        yield
    finally:
        _HOLD.release()


def stop_evaluations_left(worker_addresses: list[str]) -> None:
    """Stop the evaluations and stage fits the session's workers still run in this process, and
    say so when some do not stop: a threaded run has no worker process to take them with it,
    and a daemon thread still inside a C++ library when the interpreter exits can abort it."""
    from .worker import stop_guarded_threads

    left = stop_guarded_threads(worker_addresses, grace=STOP_GRACE)
    if left:
        log.warning(
            "%d evaluation thread(s) did not stop at the end of the run and still run in this "
            "process (worker_threads): each ends when its call into compiled code returns; "
            "worker_threads=False runs evaluations in worker processes closed with the run",
            left,
        )
