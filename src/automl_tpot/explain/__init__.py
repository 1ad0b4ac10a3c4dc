"""The explanation stage: at the end of a run, permutation importance of the final model on the
raw input columns and its out-of-fold diagnostics, computed on the search's Dask workers within
the time budget (``importance.json`` and ``diagnostics.json``)."""

from .diagnostics import classification_diagnostics, regression_diagnostics
from .stage import N_REPEATS, explain_model, run_explain_stage

__all__ = [
    "N_REPEATS",
    "classification_diagnostics",
    "explain_model",
    "regression_diagnostics",
    "run_explain_stage",
]
