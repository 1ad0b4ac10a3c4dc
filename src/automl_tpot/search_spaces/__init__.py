"""Search spaces: resolve what the configuration names into a TPOT ``SearchSpace`` for one table.

``search_space`` may be

- a name registered by a plugin (``automl-tpot spaces list``), such as ``"linear-light"``,
  ``"choice"`` or ``"estimator:RandomForestClassifier"``; the package's own presets arrive
  through the same entry points as third-party plugins (see :mod:`automl_tpot.plugins`);
- a config dict in TPOT 0.12 style, ``{"sklearn.ensemble.RandomForestClassifier":
  {"n_estimators": [100], ...}}``, whose values may also be ``ConfigSpace.ConfigurationSpace``
  objects (see :mod:`automl_tpot.search_spaces.config_dict`);
- a TPOT ``SearchSpace`` object, used as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from attrs import define, field

from ..errors import SearchSpaceError

__all__ = ["SearchContext", "anchor_individuals", "describe_search_space", "resolve_search_space"]


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _frozen_groups(value: Any) -> dict[str, tuple[str, ...]] | None:
    if value is None:
        return None
    return {str(k): tuple(map(str, v)) for k, v in dict(value).items()}


@define(frozen=True)
class SearchContext:
    """What a search space is told about the run, so it can size itself to the data.

    The matrix TPOT searches on is the *preprocessed* one (imputed, one-hot encoded), so
    ``n_features`` counts its columns and ``column_indices`` maps each raw column to them.

    Attributes:
        task: ``"classification"`` or ``"regression"``.
        n_rows: training rows.
        n_features: columns after preprocessing.
        n_classes: classes (classification only).
        numeric_columns: raw numeric column names.
        categorical_columns: raw categorical (and boolean, text) column names.
        random_state: the run's seed.
        column_indices: raw column name -> its column indices in the preprocessed matrix.
        one_hot_columns: raw categorical column name -> its one-hot columns only (a many-valued
            column also has target-encoded ones); ``None``: the same as ``column_indices``.
        feature_names: the preprocessed matrix's column names (for readable pipelines).
        feature_groups: named groups of raw columns from the configuration, or ``None``.
        cv: the run's cross-validation folds (inner cross-validated predictions use fewer).
        population_size: pipelines per generation (a seeded space fills part of the first one).
        metric: the name of the metric the search optimises (``None`` for a callable scorer), so
            a space can match it (class weights for balanced accuracy, for example).
        class_balance: the smallest class's rows over the largest's (classification only;
            1.0 when the classes are the same size).
        smallest_class_rows: the smallest class's training rows (classification only), so a
            space can leave out what a rare class breaks (a stratified split inside a model).
    """

    task: str
    n_rows: int
    n_features: int
    n_classes: int | None
    numeric_columns: tuple[str, ...]
    categorical_columns: tuple[str, ...]
    random_state: int | None
    column_indices: Mapping[str, tuple[int, ...]] = field(factory=dict)
    one_hot_columns: Mapping[str, tuple[int, ...]] | None = None
    feature_names: tuple[str, ...] = field(default=(), converter=_str_tuple)
    feature_groups: Mapping[str, tuple[str, ...]] | None = field(
        default=None, converter=_frozen_groups
    )
    cv: int = 5
    population_size: int = 24
    metric: str | None = None
    class_balance: float | None = None
    smallest_class_rows: int | None = None

    @property
    def classification(self) -> bool:
        return self.task == "classification"

    @property
    def one_hot_blocks(self) -> tuple[tuple[int, ...], ...]:
        """The preprocessed columns of each categorical raw column encoded over 2+ columns."""
        columns = self.column_indices if self.one_hot_columns is None else self.one_hot_columns
        blocks = (columns.get(column, ()) for column in self.categorical_columns)
        return tuple(tuple(block) for block in blocks if len(block) >= 2)

    def indices_of(self, columns: tuple[str, ...] | list[str], *, group: str = "") -> list[int]:
        """The preprocessed column indices of raw ``columns``; unknown names are an error."""
        out: list[int] = []
        for column in columns:
            if column not in self.column_indices:
                known = ", ".join(sorted(self.column_indices)) or "(none)"
                where = f"feature group {group!r}: " if group else ""
                raise SearchSpaceError(
                    f"{where}column {column!r} is not a feature column the model uses; "
                    f"known columns: {known}"
                )
            out.extend(self.column_indices[column])
        return sorted(set(out))


def resolve_search_space(spec: Any, context: SearchContext, registry: Any = None) -> Any:
    """Turn ``spec`` into a TPOT ``SearchSpace`` for ``context``.

    ``registry`` (a :class:`~automl_tpot.plugins.SearchSpaceRegistry`) defaults to the installed
    plugins, read now. Raises :class:`SearchSpaceError` before any search starts.
    """
    from tpot.search_spaces.base import SearchSpace

    if isinstance(spec, SearchSpace):
        return spec
    if isinstance(spec, (str, Mapping)):
        from ..plugins import load_registry

        registry = registry if registry is not None else load_registry()
        if isinstance(spec, Mapping):
            from .config_dict import config_dict_search_space

            return config_dict_search_space(spec, context, extra_classes=registry.estimators)
        space, argument = registry.get(spec.strip())
        definition = space.definition
        if context.task not in definition.tasks:
            raise SearchSpaceError(
                f"search space {spec!r} (from {space.distribution}) serves "
                f"{' and '.join(definition.tasks)}, not {context.task}"
            )
        try:
            built = (
                definition.build(context, argument)
                if definition.parametrized
                else definition.build(context)
            )
        except SearchSpaceError:
            raise
        except Exception as error:
            raise SearchSpaceError(
                f"search space {spec!r} from distribution {space.distribution!r} failed to "
                f"build: {type(error).__name__}: {error}"
            ) from error
        if not isinstance(built, SearchSpace):
            raise SearchSpaceError(
                f"search space {spec!r} from distribution {space.distribution!r} returned "
                f"{type(built).__name__}; expected a tpot SearchSpace"
            )
        return built
    raise SearchSpaceError(
        "search_space must be a name, a config dict or a tpot SearchSpace, "
        f"not {type(spec).__name__}"
    )


def anchor_individuals(space: Any) -> list[Any]:
    """The TPOT individuals a search space names as its anchors: strong learners at their
    defaults, which the stage after a sampled search compares with the search's choice on all
    rows (the default space's HistGradientBoosting). Empty for spaces that name none."""
    return list(getattr(space, "anchors", None) or ())


def describe_search_space(space: Any, indent: int = 0) -> list[str]:
    """Lines that show what a TPOT search space searches: nodes, choices and stages."""
    from tpot.search_spaces.nodes import EstimatorNode, FSSNode
    from tpot.search_spaces.pipelines import (
        ChoicePipeline,
        DynamicLinearPipeline,
        DynamicUnionPipeline,
        GraphSearchPipeline,
        SequentialPipeline,
        UnionPipeline,
        WrapperPipeline,
    )

    pad = "  " * indent
    inner = getattr(space, "inner", None)  # a SeededSearchSpace
    if inner is not None:
        return [
            f"{pad}{type(space).__name__}: the first generation holds every estimator at its "
            "defaults"
        ] + (describe_search_space(inner, indent + 1))
    if isinstance(space, EstimatorNode):
        method = space.method
        params = space.space
        names = ", ".join(params.keys()) if hasattr(params, "keys") and len(params) else "defaults"
        return [f"{pad}{method.__name__} ({names})"]
    if isinstance(space, FSSNode):
        groups = list(getattr(space, "subsets", {}) or {})
        shown = ", ".join(map(str, groups[:8])) + (", ..." if len(groups) > 8 else "")
        return [f"{pad}FSSNode: one of {len(groups)} feature groups ({shown})"]
    children: list[tuple[str, Any]] = []
    if isinstance(space, (ChoicePipeline, SequentialPipeline, UnionPipeline)):
        kind = {
            ChoicePipeline: "ChoicePipeline: one of",
            SequentialPipeline: "SequentialPipeline: in order",
            UnionPipeline: "UnionPipeline: side by side",
        }[type(space)]
        return [f"{pad}{kind}"] + [
            line
            for child in space.search_spaces
            for line in describe_search_space(child, indent + 1)
        ]
    if isinstance(space, DynamicUnionPipeline):
        children = [("any of", space.search_space)]
        head = "DynamicUnionPipeline: several, side by side"
    elif isinstance(space, DynamicLinearPipeline):
        children = [("steps from", space.search_space)]
        head = "DynamicLinearPipeline: a chain"
    elif isinstance(space, WrapperPipeline):
        children = [("wrapped", space.estimator_search_space)]
        head = f"WrapperPipeline: {space.method.__name__} around"
    elif isinstance(space, GraphSearchPipeline):
        children = [
            ("root (final estimator)", space.root_search_space),
            ("inner nodes", space.inner_search_space),
            ("leaves", space.leaf_search_space),
        ]
        head = f"GraphSearchPipeline: a graph of at most {space.max_size} nodes"
    else:
        return [f"{pad}{type(space).__name__}"]
    lines = [f"{pad}{head}"]
    for label, child in children:
        if child is None:
            continue
        lines.append(f"{pad}  {label}:")
        lines.extend(describe_search_space(child, indent + 2))
    return lines
