"""What an evaluation will cost, learnt from the evaluations already finished, so the loop runs
cheap pipelines first and stops a straggler before it takes the budget from the rest.

Costs are kept per family (the pipeline's final estimator class) and per share of the work
of an evaluation on all rows with the search's folds (a sample's share of the rows, less for
its fewer folds): an evaluation on twice the rows takes about twice as long. Before anything
of a family has finished, a prior relative cost stands in, scaled by what the families seen so
far cost.
"""

from __future__ import annotations

import math
from statistics import median

__all__ = ["CAP_FACTOR", "CAP_FLOOR", "CostModel"]

#: Relative costs of a family before any of it finished (HistGradientBoosting = 1).
PRIORS = {
    "Ridge": 0.1,
    "LogisticRegression": 0.3,
    "KNeighborsClassifier": 0.5,
    "KNeighborsRegressor": 0.5,
    "LGBMClassifier": 0.6,
    "LGBMRegressor": 0.4,
    "HistGradientBoostingClassifier": 1.0,
    "HistGradientBoostingRegressor": 1.0,
    "ExtraTreesClassifier": 1.5,
    "ExtraTreesRegressor": 2.0,
    "RandomForestClassifier": 2.5,
    "RandomForestRegressor": 4.0,
}
#: An evaluation is stopped after this many times its family's typical successful evaluation
#: (on the same share of rows), never before CAP_FLOOR seconds; a family none of which has
#: succeeded yet keeps the configured limit, so the search learns what a model costs before
#: it judges one slow.
CAP_FACTOR = 4.0
CAP_FLOOR = 3.0


class CostModel:
    """Seconds per evaluation on all rows, by family, from the evaluations that succeeded."""

    def __init__(self) -> None:
        self._full_seconds: dict[str, list[float]] = {}

    def observe(self, family: str, seconds: float, work: float) -> None:
        """Record a successful evaluation of ``family`` that took ``seconds`` for ``work``
        (its share of an evaluation on all rows)."""
        if seconds > 0 and math.isfinite(seconds) and work > 0:
            self._full_seconds.setdefault(family, []).append(seconds / work)

    def _scale(self) -> float:
        """Seconds (on all rows) per unit of prior cost, from the families seen so far."""
        ratios = [
            median(values) / PRIORS.get(family, 1.0)
            for family, values in self._full_seconds.items()
            if values
        ]
        return median(ratios) if ratios else 1.0

    def estimate(self, family: str, work: float) -> float:
        """The expected seconds of an evaluation of ``family`` doing ``work``."""
        values = self._full_seconds.get(family)
        full = median(values) if values else PRIORS.get(family, 1.0) * self._scale()
        return full * work

    def cap(self, family: str, work: float, limit: float | None) -> float | None:
        """The time limit for one evaluation of ``family``: ``limit`` (the configured one)
        until one of the family succeeded, then :data:`CAP_FACTOR` times the family's typical
        evaluation, never under :data:`CAP_FLOOR` nor over ``limit``."""
        own = self._full_seconds.get(family)
        if not own:
            return limit
        cap = max(CAP_FACTOR * median(own) * work, CAP_FLOOR)
        return cap if limit is None else min(cap, limit)
