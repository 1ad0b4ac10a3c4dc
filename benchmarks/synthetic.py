"""A search space whose evaluations take wall time but almost no CPU.

On a machine with few cores it shows how an evaluation loop *orchestrates* many workers (queueing,
placement, stragglers, the deadline) without the CPU being the bottleneck: each evaluation
sleeps for a duration drawn from the search space (0.2-3 s, and one in ten a 15 s straggler), so
with perfect orchestration N workers make N times the evaluations of one.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

STRAGGLER_SECONDS = 15.0


class SleepyClassifier(ClassifierMixin, BaseEstimator):
    """Sleeps ``duration`` seconds per evaluation (split over the folds), predicts the prior."""

    def __init__(self, duration: float = 1.0, straggle: bool = False, folds: int = 5):
        self.duration = duration
        self.straggle = straggle
        self.folds = folds

    def fit(self, X, y):
        seconds = (STRAGGLER_SECONDS if self.straggle else self.duration) / self.folds
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            time.sleep(0.01)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.prior_ = counts / counts.sum()
        return self

    def predict_proba(self, X):
        rng = np.random.default_rng(int(self.duration * 1000))
        noise = rng.normal(0, 0.01, size=(len(X), len(self.classes_)))
        proba = np.clip(self.prior_ + noise, 1e-6, None)
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def search_space(folds: int = 5):
    """TPOT search space over the sleep duration and the straggler flag."""
    from ConfigSpace import Categorical, ConfigurationSpace, Constant, Float
    from tpot.search_spaces.nodes import EstimatorNode

    space = ConfigurationSpace()
    space.add(Float("duration", (0.2, 3.0), log=True))
    space.add(Categorical("straggle", [True, False], weights=[0.1, 0.9]))
    space.add(Constant("folds", folds))
    return EstimatorNode(SleepyClassifier, space)
