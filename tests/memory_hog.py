"""A classifier that needs far more memory than a test gives a worker (for the OOM alert).

In its own module so Dask worker processes can import it by name.
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class MemoryHog(ClassifierMixin, BaseEstimator):
    """Touches ``megabytes`` of memory in ``fit`` and holds it for ``hold`` seconds."""

    def __init__(self, megabytes: int = 900, hold: float = 5.0):
        self.megabytes = megabytes
        self.hold = hold

    def fit(self, X, y):
        block = np.ones(self.megabytes * 2**20 // 8)  # np.ones writes every page
        time.sleep(self.hold)
        self.classes_ = np.unique(y)
        self.size_ = block.size
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])
