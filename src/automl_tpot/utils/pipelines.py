"""The one walker of fitted or unfitted pipelines, and what is read off it: a one-line
description, the operators, the structural complexity, the final estimator.

A chosen model can be a scikit-learn ``Pipeline``, a ``FeatureUnion``, a TPOT graph pipeline, a
wrapper around an inner estimator, or our weighted ensemble of any of these. :func:`children`
is the only place that knows these containers; everything else walks through it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any, Literal

__all__ = [
    "PLACEHOLDERS",
    "children",
    "describe_pipeline",
    "final_estimator",
    "iter_operators",
    "iter_steps",
    "pipeline_complexity",
]

#: TPOT placeholders that do nothing to the data.
PLACEHOLDERS = frozenset({"Passthrough", "SkipTransformer"})

Kind = Literal["sequence", "union", "graph", "ensemble", "wrapper", "leaf"]


def children(estimator: Any) -> tuple[Kind, list[Any]]:
    """How ``estimator`` is composed, and of what.

    ``sequence`` (a Pipeline's steps, in order), ``union`` (a FeatureUnion's parts), ``graph``
    (a TPOT graph pipeline's nodes), ``ensemble`` (a weighted ensemble's members), ``wrapper``
    (an estimator around an inner ``estimator``, such as TPOT's ``EstimatorTransformer``; the
    wrapper itself is an operator too) or ``leaf``.
    """
    from sklearn.pipeline import FeatureUnion, Pipeline

    if isinstance(estimator, Pipeline):
        return "sequence", [step for _, step in estimator.steps]
    if isinstance(estimator, FeatureUnion):
        return "union", [part for _, part in estimator.transformer_list]
    if hasattr(estimator, "graph") and hasattr(estimator, "get_params"):
        try:
            nodes = estimator.graph.nodes
            return "graph", [nodes[node]["instance"] for node in nodes]
        except (AttributeError, KeyError, TypeError):  # an unexpected graph layout
            return "graph", []
    members = getattr(estimator, "members", None)
    if members is not None and hasattr(estimator, "weights"):
        return "ensemble", list(members)
    inner = getattr(estimator, "estimator", None)
    if inner is not None and hasattr(inner, "get_params") and hasattr(estimator, "get_params"):
        return "wrapper", [inner]
    return "leaf", []


def _is_placeholder(estimator: Any) -> bool:
    return type(estimator).__name__ in PLACEHOLDERS


def iter_steps(estimator: Any) -> Iterator[Any]:
    """``estimator`` and everything nested in it, containers included, depth first."""
    yield estimator
    for child in children(estimator)[1]:
        yield from iter_steps(child)


def iter_operators(estimator: Any) -> Iterator[Any]:
    """The real operators (no containers, no placeholders) of a (nested) pipeline."""
    if estimator is None or _is_placeholder(estimator):
        return
    kind, parts = children(estimator)
    if kind in ("leaf", "wrapper"):
        yield estimator
    for part in parts:
        yield from iter_operators(part)


def final_estimator(estimator: Any) -> Any:
    """The last step of a pipeline (of nested pipelines), or ``estimator`` itself."""
    kind, parts = children(estimator)
    while kind == "sequence" and parts:
        estimator = parts[-1]
        kind, parts = children(estimator)
    return estimator


_NUMPY_REPR = re.compile(r"np\.(?:str_|float64|int64|bool_|float32|int32)\(([^()]*)\)")


def _clean_repr(text: str) -> str:
    text = _NUMPY_REPR.sub(r"\1", text)
    text = text.replace("np.True_", "True").replace("np.False_", "False")
    return re.sub(r"\s+", " ", text).replace("( ", "(").replace(" )", ")")


def describe_pipeline(estimator: Any) -> str:
    """A one-line description of a (possibly nested) pipeline.

    Steps read left to right joined by ``->``; feature unions appear as ``[a + b]``; TPOT's
    pass-through and skip placeholders are left out; an ensemble reads ``Ensemble(0.60 x (a) +
    0.40 x (b))``; parameters appear as scikit-learn prints them (only those changed from the
    defaults).
    """
    if _is_placeholder(estimator):
        return ""
    kind, parts = children(estimator)
    if kind == "sequence":
        return " -> ".join(p for p in map(describe_pipeline, parts) if p)
    if kind == "union":
        shown = [p for p in map(describe_pipeline, parts) if p]
        if not shown:
            return ""
        return shown[0] if len(shown) == 1 else "[" + " + ".join(shown) + "]"
    if kind == "graph":
        return "Graph(" + ", ".join(p for p in map(describe_pipeline, parts) if p) + ")"
    if kind == "ensemble":
        weights = [float(w) for w in estimator.weights]
        total = sum(weights) or 1.0
        shown = [
            f"{weight / total:.2f} x ({describe_pipeline(member)})"
            for member, weight in zip(parts, weights, strict=True)
        ]
        return "Ensemble(" + " + ".join(shown) + ")"
    return _clean_repr(repr(estimator))


def pipeline_complexity(estimator: Any) -> float:
    """Operators in the pipeline, each weighted by 1 + its hyperparameters set off-default / 10.

    Smaller is simpler. It separates a bare estimator from the same estimator behind three
    transformers, and a default model from a heavily tuned one only slightly. It reads nothing
    fitted, so it works on the unfitted clones TPOT scores (TPOT 1.1's own ``complexity_scorer``
    reads fitted attributes and fails on naive Bayes and linear models).
    """
    return sum(1.0 + _changed_parameters(op) / 10.0 for op in iter_operators(estimator))


def _changed_parameters(operator: Any) -> int:
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
        if hasattr(value, "get_params"):
            continue  # nested estimators are counted as operators of their own
        try:
            if value != parameter.default:
                changed += 1
        except Exception:  # arrays and exotic values compare badly: count them as changed
            changed += 1
    return changed
