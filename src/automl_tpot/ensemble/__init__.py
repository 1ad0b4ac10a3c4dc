"""The ensemble stage: after the search, a weighted average of the best pipelines, kept only
when it scores better on the search's own folds."""

from .stage import EnsembleOutcome, WeightedEnsemble, build_ensemble, greedy_selection

__all__ = ["EnsembleOutcome", "WeightedEnsemble", "build_ensemble", "greedy_selection"]
