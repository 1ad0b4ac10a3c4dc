"""Which worker thread is free, and which running evaluation is a straggler the generation
should not wait for: the evaluation loop's bookkeeping of its running jobs."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = ["Job", "free_slots", "only_stragglers"]

#: A generation stops waiting for its last evaluations when each has run this many times the
#: median evaluation of the generation (and at least STRAGGLER_MIN_SECONDS), once at least
#: STRAGGLER_MIN_DONE of the generation is done: they run on and are collected when TPOT asks
#: for them again (it keeps unscored individuals in its population).
STRAGGLER_FACTOR = 3.0
STRAGGLER_MIN_SECONDS = 2.0
STRAGGLER_MIN_DONE = 0.5


class Job:
    """One submitted evaluation: its place in the request, when and where it was sent."""

    __slots__ = ("index", "submitted", "worker", "tries")

    def __init__(self, index: int, worker: str, tries: int):
        self.index = index
        self.submitted = time.time()
        self.worker = worker
        self.tries = tries


def free_slots(workers: dict[str, int], running: dict[Any, Job]) -> list[str]:
    busy: dict[str, int] = {}
    for job in running.values():
        busy[job.worker] = busy.get(job.worker, 0) + 1
    slots = []
    for address, threads in sorted(workers.items(), key=lambda item: busy.get(item[0], 0)):
        slots.extend([address] * max(int(threads) - busy.get(address, 0), 0))
    return slots


def only_stragglers(running: dict[Any, Job], durations: list[float], done: int, total: int) -> bool:
    """Whether everything still running is a straggler the generation should not wait for."""
    if not durations or done < STRAGGLER_MIN_DONE * total:
        return False
    limit = max(STRAGGLER_FACTOR * float(np.median(durations)), STRAGGLER_MIN_SECONDS)
    now = time.time()
    return all(now - job.submitted > limit for job in running.values())
