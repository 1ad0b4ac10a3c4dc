"""Waiting for a stage's Dask futures until a deadline, with an eye on the stop request.

The ensemble and explanation stages both submit work to the session's workers and then wait
for it; a plain ``wait`` would not notice a host's stop request until everything finished, so
they wait in short slices and check it between them.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

__all__ = ["WAIT_SLICE", "StageStopped", "wait_until"]

#: Seconds between looks at the stop request while waiting for the workers.
WAIT_SLICE = 0.25


class StageStopped(Exception):
    """The caller asked the run to stop while a stage waited for its workers."""


def wait_until(futures: list[Any], deadline: float, should_stop: Callable[[], bool] | None) -> None:
    """Return once every future is done or ``deadline`` (``time.monotonic()``) has passed;
    raise :class:`StageStopped` as soon as ``should_stop()`` is true."""
    from dask.distributed import wait

    pending = [f for f in futures if not f.done()]
    while pending and time.monotonic() < deadline:
        if should_stop is not None and should_stop():
            raise StageStopped
        with contextlib.suppress(TimeoutError):
            wait(pending, timeout=min(WAIT_SLICE, max(deadline - time.monotonic(), 0.01)))
        pending = [f for f in pending if not f.done()]
