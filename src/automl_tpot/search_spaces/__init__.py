"""Search spaces: a name or a TPOT ``SearchSpace`` object, resolved for one task and table."""

from __future__ import annotations

from typing import Any

from attrs import define

from ..errors import SearchSpaceError

__all__ = ["DEFAULT_SPACE", "SearchContext", "resolve_search_space", "TPOT_TEMPLATES"]

#: TPOT's own template search spaces, available by name.
TPOT_TEMPLATES = ("linear", "linear-light", "graph", "graph-light")
#: The default: strong estimators tuned around their defaults (see ``tuned.py``).
DEFAULT_SPACE = "auto"


@define(frozen=True)
class SearchContext:
    """What a search space may be sized to.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        n_rows: training rows.
        n_features: columns after preprocessing.
        n_classes: classes (classification only).
        numeric_columns: raw numeric column names.
        categorical_columns: raw categorical (and boolean, text) column names.
        random_state: the run's seed.
        population_size: pipelines per generation (seeded spaces fill part of the first one).
    """

    task: str
    n_rows: int
    n_features: int
    n_classes: int | None
    numeric_columns: tuple[str, ...]
    categorical_columns: tuple[str, ...]
    random_state: int | None
    population_size: int = 24


def resolve_search_space(spec: Any, context: SearchContext) -> Any:
    """Turn ``spec`` (a name or a ``SearchSpace``) into a TPOT ``SearchSpace``."""
    from tpot.search_spaces.base import SearchSpace

    if isinstance(spec, SearchSpace):
        return spec
    if spec == DEFAULT_SPACE:
        from .tuned import strong_defaults_space

        return strong_defaults_space(
            context.task, context.n_rows, context.n_features, context.random_state, context.population_size
        )
    if isinstance(spec, str):
        if spec not in TPOT_TEMPLATES:
            names = ", ".join((DEFAULT_SPACE, *TPOT_TEMPLATES))
            raise SearchSpaceError(f"unknown search space {spec!r}; available: {names}")
        from tpot.config.template_search_spaces import get_template_search_spaces

        return get_template_search_spaces(
            spec,
            classification=context.task == "classification",
            inner_predictors=True,
            n_classes=context.n_classes,
            n_samples=context.n_rows,
            n_features=context.n_features,
            random_state=context.random_state,
        )
    raise SearchSpaceError(
        f"search_space must be a name or a tpot SearchSpace, not {type(spec).__name__}"
    )
