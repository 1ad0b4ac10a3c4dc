"""Stand-ins for TPOT individuals whose evaluation takes a known time (importable by workers)."""

from __future__ import annotations

import time

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.tree import DecisionTreeClassifier


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


class SlowOnManyRows(ClassifierMixin, BaseEstimator):
    """A small tree classifier whose fit on more than ``rows`` rows first sleeps ``seconds`` in
    small steps (a candidate whose cost grows far faster than its rows; the worker's guard can
    interrupt the sleep)."""

    def __init__(self, rows: int = 2_000, seconds: float = 60.0):
        self.rows = rows
        self.seconds = seconds

    def fit(self, X, y):
        if len(X) > self.rows:
            end = time.monotonic() + self.seconds
            while time.monotonic() < end:
                time.sleep(0.02)
        self.tree_ = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
        self.classes_ = self.tree_.classes_
        return self

    def predict(self, X):
        return self.tree_.predict(X)

    def predict_proba(self, X):
        return self.tree_.predict_proba(X)


def start_objective(individual: Sleeper, X, y) -> list[float]:
    """Like :func:`sleep_objective`, but scores when it started (``time.monotonic()``: for an
    in-process worker), so a test can tell which evaluations ran side by side."""
    started = time.monotonic()
    sleep_objective(individual, X, y)
    return [started]
