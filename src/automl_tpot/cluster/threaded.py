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

__all__ = ["process_settings_held", "warn_if_evaluations_run_on"]

log = logging.getLogger(__name__)


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


def warn_if_evaluations_run_on() -> None:
    """Say so when evaluations that did not stop at their limit still run in this process: in
    a threaded run no worker process ends with the cluster to take them with it."""
    from .worker import GUARDED_THREAD_NAMES

    left = [t for t in threading.enumerate() if t.name in GUARDED_THREAD_NAMES and t.is_alive()]
    if left:
        log.warning(
            "%d evaluation thread(s) that did not stop at their time limit still run in this "
            "process (worker_threads): each ends when its call into compiled code returns; "
            "worker_threads=False runs evaluations in worker processes closed with the run",
            len(left),
        )
