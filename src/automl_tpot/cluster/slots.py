"""Which worker thread is free, which queued evaluation it takes, and which running evaluation
is a straggler the generation should not wait for: the evaluation loop's bookkeeping of its
running jobs."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "GIL_BOUND",
    "Job",
    "free_slots",
    "next_job",
    "only_stragglers",
    "straggler_seconds",
]

#: A generation stops waiting for its last evaluations when each has run this many times the
#: median evaluation of the generation (and at least STRAGGLER_MIN_SECONDS), once at least
#: STRAGGLER_MIN_DONE of the generation is done: they run on and are collected when TPOT asks
#: for them again (it keeps unscored individuals in its population).
STRAGGLER_FACTOR = 3.0
STRAGGLER_MIN_SECONDS = 2.0
STRAGGLER_MIN_DONE = 0.5
#: Final estimators whose fits on a sample's few thousand rows hold Python's GIL much of the
#: time (HistGradientBoosting grows every tree node in Python; lbfgs iterates in Python): two of
#: them in threads of one worker process run no faster together than one after the other,
#: while a forest's fit, which builds its trees without the GIL, runs beside one almost at full
#: speed. Measured on ``insteval``'s 3,000-row sample, 3-fold, in two threads of one process: a
#: HistGradientBoostingClassifier with balanced class weights took 1.5 s alone and 4.5 s beside
#: another (the pair 1.5 times as long as one after the other); a default one 1.83 times as
#: long beside another, 2.85 times beside a logistic regression, 1.36 times beside an
#: ExtraTreesClassifier (which itself took 1.07 times as long). In processes, two took 1.4 s.
GIL_BOUND = frozenset(
    {
        "HistGradientBoostingClassifier",
        "HistGradientBoostingRegressor",
        "LogisticRegression",
    }
)


class Job:
    """One submitted evaluation: its place in the request, when and where it was sent, and
    whether an earlier generation left it running (``carried``)."""

    __slots__ = ("index", "submitted", "worker", "tries", "carried")

    def __init__(self, index: int, worker: str, tries: int):
        self.index = index
        self.submitted = time.time()
        self.worker = worker
        self.tries = tries
        self.carried = False


def free_slots(workers: dict[str, int], running: dict[Any, Job]) -> list[str]:
    busy: dict[str, int] = {}
    for job in running.values():
        busy[job.worker] = busy.get(job.worker, 0) + 1
    slots = []
    for address, threads in sorted(workers.items(), key=lambda item: busy.get(item[0], 0)):
        slots.extend([address] * max(int(threads) - busy.get(address, 0), 0))
    return slots


def next_job(
    pending: deque[tuple[int, int]],
    families: Sequence[str],
    running: dict[Any, Job],
    worker: str,
    threads: int,
    durations: Sequence[float] = (),
) -> tuple[int, int] | None:
    """Take the next ``(index, tries)`` for a free thread of ``worker`` (which has ``threads``)
    from ``pending``, or ``None`` to leave the thread idle for now.

    The queue's order is kept, except that a worker process runs one :data:`GIL_BOUND`
    evaluation at a time: while one runs on another of its threads, the first queued one that
    is not GIL-bound goes instead, and when only GIL-bound ones wait, they wait for it to end
    (measured on seven tables of 24,000 to 750,000 training rows, on a 3,000-row sample with one
    two-thread worker: the first generation ended 10-36 % sooner, and none of its evaluations
    ran into their limit, where five did before). Since they run one after another, the first
    queued GIL-bound one starts as soon as none runs, ahead of cheaper ones that are not: their
    chain is what the generation waits for last. A straggler holds no one back: one an earlier
    generation left running, or one running past :func:`straggler_seconds` of the generation's
    finished ``durations`` (failures included). A worker of one thread, a process of its own,
    takes the head of the queue.
    """
    if threads >= 2 and pending:
        limit = straggler_seconds(durations)
        now = time.time()
        beside = [
            families[job.index]
            for job in running.values()
            if job.worker == worker
            and not job.carried
            and (limit is None or now - job.submitted <= limit)
        ]
        gil_beside = any(family in GIL_BOUND for family in beside)
        for position, (index, tries) in enumerate(pending):
            if (families[index] in GIL_BOUND) != gil_beside:
                del pending[position]
                return index, tries
        if gil_beside:
            return None
    return pending.popleft()


def straggler_seconds(durations: Sequence[float]) -> float | None:
    """How long an evaluation runs before it counts as a straggler, from the durations of the
    generation's finished ones (``None`` before any finished)."""
    if not len(durations):
        return None
    return max(STRAGGLER_FACTOR * float(np.median(durations)), STRAGGLER_MIN_SECONDS)


def only_stragglers(running: dict[Any, Job], durations: list[float], done: int, total: int) -> bool:
    """Whether everything still running is a straggler the generation should not wait for."""
    limit = straggler_seconds(durations)
    if limit is None or done < STRAGGLER_MIN_DONE * total:
        return False
    now = time.time()
    return all(now - job.submitted > limit for job in running.values())
