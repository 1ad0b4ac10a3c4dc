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

import importlib
import inspect
import re
from collections.abc import Mapping
from typing import Any

from ..config.config_dict import check_config_dict, load_config_dict, to_configspace
from ..errors import SearchSpaceError

__all__ = [
    "ALLOWED_PACKAGES",
    "check_config_dict",
    "config_dict_search_space",
    "load_config_dict",
    "resolve_class",
    "to_configspace",
]

#: Packages whose estimators and transformers config dicts may name.
ALLOWED_PACKAGES = ("sklearn", "xgboost", "lightgbm", "tpot.builtin_modules")

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def resolve_class(path: str, extra_classes: Mapping[str, type] | None = None) -> type:
    """The class ``path`` names, from the allowlist or the plugin-registered classes only."""
    extra = extra_classes or {}
    if path in extra:
        return extra[path]
    allowed = ", ".join(ALLOWED_PACKAGES)
    outside = (
        f"config dict key {path!r}: classes must come from {allowed}, or be registered by a "
        "plugin (automl_tpot_estimators)"
    )
    if not _DOTTED.match(path):
        registered = ", ".join(sorted(k for k in extra if "." not in k)) or "none"
        raise SearchSpaceError(
            f"{outside}; give a full class path (registered short names: {registered})"
        )
    module_name, _, class_name = path.rpartition(".")
    in_allowlist = any(
        module_name == p or module_name.startswith(p + ".") for p in ALLOWED_PACKAGES
    )
    if not in_allowlist:
        raise SearchSpaceError(outside)
    if class_name.startswith("_"):
        raise SearchSpaceError(f"config dict key {path!r}: private names are not allowed")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SearchSpaceError(
            f"config dict key {path!r}: cannot import {module_name!r}: {error}"
        ) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not hasattr(cls, "fit"):
        raise SearchSpaceError(
            f"config dict key {path!r}: {module_name} has no estimator or transformer class "
            f"{class_name!r}"
        )
    return cls


def _parameter_names(cls: type) -> set[str] | None:
    """The constructor parameters of ``cls``; ``None`` when it takes any keyword (``**kwargs``).

    xgboost and lightgbm pass extra keywords on to their boosters, so they accept any name.
    """
    try:
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]  # the class's own
    except (TypeError, ValueError):
        signature = None
    if signature is not None and any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
    ):
        return None
    try:
        return set(cls().get_params(deep=False))
    except Exception:  # estimators are cheap to construct; some need arguments
        pass
    if signature is None:
        return None
    return {name for name in signature.parameters if name != "self"}


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
        accepted = _parameter_names(cls)
        if accepted is not None:
            for name in space:
                if name not in accepted:
                    raise SearchSpaceError(
                        f"config dict parameter '{key}.{name}': {cls.__name__} takes no parameter "
                        f"{name!r}; it takes: {', '.join(sorted(accepted))}"
                    )
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
