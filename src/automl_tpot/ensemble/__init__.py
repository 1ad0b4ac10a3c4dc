"""The ensemble stage: after the search, a weighted average of the best pipelines, kept only
when it scores better on the search's own folds (:mod:`.stage`); after a search that ended on a
sample, the final choice and fit on all rows (:mod:`.holdout`).

``WeightedEnsemble`` itself lives in :mod:`automl_tpot.model.ensemble` (a stored model may hold
it); it is re-exported here, where models stored before 0.1.0 look for it.
"""

from ..model.ensemble import WeightedEnsemble
from .selection import brier_closeness, greedy_selection
from .stage import EnsembleOutcome, build_ensemble, run_ensemble_stage, search_folds

__all__ = [
    "EnsembleOutcome",
    "WeightedEnsemble",
    "brier_closeness",
    "build_ensemble",
    "greedy_selection",
    "run_ensemble_stage",
    "search_folds",
]
