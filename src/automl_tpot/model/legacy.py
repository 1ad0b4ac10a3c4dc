"""Models pickled by earlier releases, brought up to today's :class:`TabularModel` on load.

Before 0.1.0's estimator contract a model held its fitted parts as constructor parameters;
``TabularModel.__setstate__`` hands such a state here and gets one with fitted attributes
ending in ``_``, unfitted copies as parameters and an input signature rebuilt from what the old
model knew.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from ..data import output_columns
from ..data.signature import legacy_signature
from ..records.signature import INVALID_VALUE_POLICIES

__all__ = ["migrate_state"]


def migrate_state(state: dict[str, Any]) -> dict[str, Any]:
    """A model pickled before 0.1.0's estimator contract: fitted parts held as parameters."""
    state = dict(state)
    preprocessor, columns = state["preprocessor"], list(state.pop("feature_columns"))
    classes, target = state.pop("classes", None), state.pop("target_column", None)
    state["preprocessor_"], state["estimator_"] = preprocessor, state["estimator"]
    state["preprocessor"], state["estimator"] = clone(preprocessor), clone(state["estimator"])
    state["signature_"] = legacy_signature(preprocessor, columns, state["task"], classes, target)
    state["n_features_in_"] = len(columns)
    if all(isinstance(c, str) for c in columns):
        state["feature_names_in_"] = np.asarray(columns, dtype=object)
    if classes is not None:
        state["classes_"] = classes
    state.setdefault("encoded_columns", output_columns(preprocessor, one_hot_only=True))
    state.setdefault("invalid_values", INVALID_VALUE_POLICIES[0])
    return state
