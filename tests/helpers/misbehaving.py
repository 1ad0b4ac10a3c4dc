"""A classifier that behaves well, runs too long or eats memory, chosen by a hyperparameter.

Worker processes import it by name, so it lives in a module of its own (tests/ is put on the
workers' PYTHONPATH).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

#: MiB allocated per step by ``mode="hog"``, and the pause between steps.
HOG_STEP_MIB = 10
HOG_PAUSE = 0.02


class Misbehaving(ClassifierMixin, BaseEstimator):
    """``mode="fine"`` is a logistic regression; ``"slow"`` sleeps for a minute in small steps;
    ``"hog"`` allocates memory (touching every page) until something stops it."""

    def __init__(self, mode: str = "fine"):
        self.mode = mode

    def fit(self, X, y):
        if self.mode == "slow":
            for _ in range(1200):
                time.sleep(0.05)
        elif self.mode == "hog":
            hoard = []
            for _ in range(400):  # at most 4 GiB
                hoard.append(np.ones(HOG_STEP_MIB * 2**20 // 8))
                time.sleep(HOG_PAUSE)
        self.model_ = LogisticRegression(max_iter=200).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X):
        return self.model_.predict(X)

    def predict_proba(self, X):
        return self.model_.predict_proba(X)


def search_space(modes=("fine", "slow", "hog")):
    """A TPOT search space over the three modes."""
    from ConfigSpace import Categorical, ConfigurationSpace
    from tpot.search_spaces.nodes import EstimatorNode

    space = ConfigurationSpace({"mode": Categorical("mode", list(modes))})
    return EstimatorNode(Misbehaving, space)
