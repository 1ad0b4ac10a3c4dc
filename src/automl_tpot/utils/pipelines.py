"""Secondary objectives for the search, evaluated on unfitted pipelines in Dask workers.

TPOT 1.1's ``complexity_scorer`` reads fitted attributes (``class_prior_``, ``coef_``) from the
unfitted clone it is given, so every pipeline ending in naive Bayes or a linear model fails as
INVALID. The structural measure here needs nothing fitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["pipeline_complexity", "iter_operators"]

#: TPOT placeholders that do nothing to the data.
PLACEHOLDERS = frozenset({"Passthrough", "SkipTransformer"})


def iter_operators(estimator: Any) -> Iterator[Any]:
    """Yield the real operators of a (nested) pipeline, feature union or TPOT graph pipeline."""
    from sklearn.pipeline import FeatureUnion, Pipeline

    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps:
            yield from iter_operators(step)
    elif isinstance(estimator, FeatureUnion):
        for _, transformer in estimator.transformer_list:
            yield from iter_operators(transformer)
    elif hasattr(estimator, "graph") and hasattr(estimator, "get_params"):
        for node in estimator.graph.nodes:
            yield from iter_operators(estimator.graph.nodes[node]["instance"])
    elif estimator is not None and type(estimator).__name__ not in PLACEHOLDERS:
        inner = getattr(estimator, "estimator", None)  # TPOT's EstimatorTransformer and wrappers
        yield estimator
        if inner is not None and hasattr(inner, "get_params"):
            yield from iter_operators(inner)


def pipeline_complexity(estimator: Any) -> float:
    """Operators in the pipeline, each weighted by 1 + its hyperparameters set off-default / 10.

    Smaller is simpler. It separates a bare estimator from the same estimator behind three
    transformers, and a default model from a heavily tuned one only slightly.
    """
    total = 0.0
    for operator in iter_operators(estimator):
        changed = _changed_parameters(operator)
        total += 1.0 + changed / 10.0
    return total


def _changed_parameters(operator: Any) -> int:
    import inspect

    try:
        signature = inspect.signature(type(operator).__init__)
        params = operator.get_params(deep=False)
    except (TypeError, ValueError, AttributeError):
        return 0
    changed = 0
    for name, value in params.items():
        parameter = signature.parameters.get(name)
        if parameter is None or parameter.default is inspect.Parameter.empty:
            continue
        default = parameter.default
        if hasattr(value, "get_params"):
            continue  # nested estimators are counted as operators of their own
        try:
            if value != default:
                changed += 1
        except Exception:  # arrays and exotic values compare badly: count them as changed
            changed += 1
    return changed
