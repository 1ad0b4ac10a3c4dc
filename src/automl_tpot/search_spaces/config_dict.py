"""Config dicts (TPOT 0.12 style) and per-estimator ConfigSpace objects as search spaces.

A config dict maps a class path to its hyperparameters::

    {
        "sklearn.ensemble.RandomForestClassifier": {
            "n_estimators": [100],                        # one value: fixed
            "max_features": [0.25, 0.5, 1.0],             # several: a categorical choice
            "min_samples_leaf": {"low": 1, "high": 20},   # a range (integers or floats)
            "criterion": "gini",                          # a scalar: fixed
        },
        "sklearn.linear_model.LogisticRegression": ConfigurationSpace({"C": (0.01, 10.0)}),
        "sklearn.preprocessing.StandardScaler": {},
    }

Each estimator for the run's task becomes an ``EstimatorNode`` inside a ``ChoicePipeline``;
transformers and selectors, when present, form a ``ChoicePipeline`` stage (or no step) in front.

Class paths resolve only inside :data:`ALLOWED_PACKAGES`, or to classes a plugin registered
(``automl_tpot_estimators``); nothing is evaluated and no other module is imported. Every problem
(a class outside the allowlist, a parameter the class does not take, an empty range) raises
:class:`~automl_tpot.errors.SearchSpaceError` naming the offending key, before any search starts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config.config_dict import (
    ALLOWED_PACKAGES,
    check_config_dict,
    check_parameters,
    load_config_dict,
    resolve_class,
    to_configspace,
)
from ..errors import SearchSpaceError

__all__ = [
    "ALLOWED_PACKAGES",
    "check_config_dict",
    "config_dict_search_space",
    "load_config_dict",
    "resolve_class",
    "to_configspace",
]


def estimator_role(cls: type) -> str:
    """``"classifier"``, ``"regressor"`` or ``"transformer"``."""
    from sklearn.base import is_classifier, is_regressor

    try:
        instance = cls()
    except Exception:
        instance = None
    if instance is not None:
        if is_classifier(instance):
            return "classifier"
        if is_regressor(instance):
            return "regressor"
    if hasattr(cls, "transform"):
        return "transformer"
    name = cls.__name__
    return "classifier" if name.endswith("Classifier") else "regressor"


def config_dict_search_space(
    config: Mapping[str, Any], context: Any, extra_classes: Mapping[str, type] | None = None
) -> Any:
    """The TPOT search space for ``config`` and the run's task (see the module docstring)."""
    from ConfigSpace import ConfigurationSpace
    from tpot.search_spaces.nodes import EstimatorNode
    from tpot.search_spaces.pipelines import ChoicePipeline, SequentialPipeline

    from .catalog import passthrough

    check_config_dict(config)
    final: list[Any] = []
    preprocessing: list[Any] = []
    other_task: list[str] = []
    wanted = "classifier" if context.task == "classification" else "regressor"
    for key, params in config.items():
        cls = resolve_class(key, extra_classes)
        space = (
            params if isinstance(params, ConfigurationSpace) else to_configspace(params, key=key)
        )
        check_parameters(key, cls, list(space))
        role = estimator_role(cls)
        node = EstimatorNode(cls, space if len(space) else {})
        if role == "transformer":
            preprocessing.append(node)
        elif role == wanted:
            final.append(node)
        else:
            other_task.append(key)
    if not final:
        skipped = f" ({', '.join(other_task)} serve the other task)" if other_task else ""
        raise SearchSpaceError(
            f"the config dict names no {wanted} for this {context.task} task{skipped}"
        )
    estimators = ChoicePipeline(final)
    if not preprocessing:
        return estimators
    return SequentialPipeline([ChoicePipeline([*preprocessing, passthrough()]), estimators])
