"""A classifier whose ``fit`` can hang inside C code (``libc.sleep`` through ctypes), where the
worker's guard cannot raise into it: only the evaluation loop's bookkeeping and the worker's
shutdown end it. Worker processes import it by name."""

from __future__ import annotations

import ctypes
import ctypes.util

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

#: Seconds a ``mode="hang"`` fit sleeps in C.
HANG_SECONDS = 60


class CHang(ClassifierMixin, BaseEstimator):
    """``mode="fine"`` is a logistic regression; ``"hang"`` first sleeps in ``libc.sleep``."""

    def __init__(self, mode: str = "fine"):
        self.mode = mode

    def fit(self, X, y):
        if self.mode == "hang":
            libc = ctypes.CDLL(ctypes.util.find_library("c"))
            libc.sleep(HANG_SECONDS)
        self.model_ = LogisticRegression(max_iter=200).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def search_space():
    """A TPOT search space over the two modes."""
    from ConfigSpace import Categorical, ConfigurationSpace
    from tpot.search_spaces.nodes import EstimatorNode

    space = ConfigurationSpace({"mode": Categorical("mode", ["fine", "hang"])})
    return EstimatorNode(CHang, space)
