"""What a search needs besides the data: the fitted preprocessing, the metric and the search
space for this table, decided once before the search starts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from attrs import define

from ..config import TrainerConfig
from ..data import PreparedData, build_preprocessor, output_columns
from ..search_spaces import SearchContext, resolve_search_space

__all__ = [
    "SearchPlan",
    "class_balance",
    "default_metric",
    "metric_name",
    "plan_search",
    "smallest_class_rows",
]

Metric = str | Callable[..., float]


def default_metric(task: str, n_classes: int | None) -> str:
    """The metric used when none is configured: ROC AUC, balanced accuracy or R²."""
    if task == "regression":
        return "r2"
    return "roc_auc" if n_classes == 2 else "balanced_accuracy"


def metric_name(metric: Metric) -> str:
    """A metric's name: the scorer name, or a callable's (``make_scorer``'s score function's)."""
    if isinstance(metric, str):
        return metric
    score_function = getattr(metric, "_score_func", None)  # objects made by make_scorer
    if score_function is not None:
        return getattr(score_function, "__name__", type(metric).__name__)
    return getattr(metric, "__name__", None) or type(metric).__name__


def _class_counts(y: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.asarray(y, dtype=int))
    return counts[counts > 0]


def class_balance(y: np.ndarray) -> float:
    """The smallest class's rows over the largest's (``y`` holds class indices)."""
    counts = _class_counts(y)
    return float(counts.min() / counts.max())


def smallest_class_rows(y: np.ndarray) -> int:
    """The rows of the smallest class (``y`` holds class indices)."""
    return int(_class_counts(y).min())


def resolve_metric(config: TrainerConfig, prepared: PreparedData) -> Metric:
    """The configured metric, or the task's default."""
    if config.metric is not None:
        return config.metric
    n_classes = None if prepared.classes is None else len(prepared.classes)
    return default_metric(prepared.task, n_classes)


@define(frozen=True, eq=False)
class SearchPlan:
    """The fitted preprocessing, the matrix it gives, the metric and the search space.

    Attributes:
        preprocessor: fitted on all training rows; the exported model's first step.
        features: the preprocessed matrix the search evaluates pipelines on.
        metric: the scorer (a name or a callable; bigger is better).
        search_space: the TPOT ``SearchSpace`` for this table.
    """

    preprocessor: Any
    features: np.ndarray
    metric: Metric
    search_space: Any

    @property
    def metric_name(self) -> str:
        """The metric's name, as reports show it."""
        return metric_name(self.metric)


def plan_search(
    config: TrainerConfig, prepared: PreparedData, seed: int | None = None
) -> SearchPlan:
    """Fit the preprocessing and resolve the metric and the search space for ``prepared``
    (its estimators seeded with ``seed``, the run's seed; ``config.random_state`` when omitted).

    Raises:
        SearchSpaceError: the configured search space cannot be built for this table.
    """
    preprocessor = build_preprocessor(prepared.feature_types, prepared.target_type)
    features = preprocessor.fit_transform(prepared.features, prepared.y)
    metric = resolve_metric(config, prepared)
    types = prepared.feature_types
    context = SearchContext(
        task=prepared.task,
        n_rows=features.shape[0],
        n_features=features.shape[1],
        n_classes=None if prepared.classes is None else len(prepared.classes),
        numeric_columns=tuple(map(str, types.numeric)),
        categorical_columns=tuple(map(str, types.categorical + types.boolean + types.text)),
        random_state=config.random_state if seed is None else seed,
        column_indices=output_columns(preprocessor),
        one_hot_columns=output_columns(preprocessor, one_hot_only=True),
        feature_names=tuple(map(str, preprocessor.get_feature_names_out())),
        feature_groups=config.feature_groups,
        cv=prepared.cv,
        population_size=config.population_size,
        metric=metric if isinstance(metric, str) else None,
        class_balance=None if prepared.classes is None else class_balance(prepared.y),
        smallest_class_rows=None if prepared.classes is None else smallest_class_rows(prepared.y),
    )
    return SearchPlan(
        preprocessor, features, metric, resolve_search_space(config.search_space, context)
    )
