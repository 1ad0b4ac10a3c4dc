"""Stand-ins for TPOT individuals whose evaluation takes a known time (importable by workers)."""

from __future__ import annotations

import time


class Sleeper:
    """An "individual" that scores its own duration."""

    def __init__(self, name: str, seconds: float):
        self.name = name
        self.seconds = seconds

    def unique_id(self) -> str:
        return self.name


def sleep_objective(individual: Sleeper, X, y) -> list[float]:
    """Sleeps in small steps (so the worker's guard can interrupt it) and returns the time."""
    end = time.monotonic() + individual.seconds
    while time.monotonic() < end:
        time.sleep(0.02)
    return [individual.seconds]


def allocate_objective(individual: Sleeper, X, y) -> list[float]:
    """Allocates ``individual.seconds`` GiB in one go (too fast for the guard to interrupt)."""
    import numpy as np

    block = np.ones(int(individual.seconds * 2**30) // 8)
    return [float(block[0])]
