"""The built-in search-space presets: a plugin like any other.

This module is registered in the package's own ``pyproject.toml`` under the
``automl_tpot.search_spaces`` entry-point group, so the presets are discovered by exactly the
mechanism third-party plugins use. Every preset is built from :mod:`.catalog`, whose
hyperparameter spaces pass nothing the installed scikit-learn deprecates.
"""

from __future__ import annotations

from typing import Any

from ..errors import SearchSpaceError
from ..plugins import SearchSpaceDefinition, hookimpl
from . import SearchContext, catalog

__all__ = ["automl_tpot_search_spaces", "feature_groups"]

#: Inner cross-validated predictions (stacked estimators) use at most this many folds.
INNER_CV = 3


def _inner_cv(context: SearchContext) -> Any:
    """Folds for inner estimators' cross-validated predictions, seeded like the run."""
    from sklearn.model_selection import KFold, StratifiedKFold

    folds = max(2, min(INNER_CV, context.cv))
    cls = StratifiedKFold if context.classification else KFold
    return cls(n_splits=folds, shuffle=True, random_state=context.random_state)


def _choice(nodes: list[Any]) -> Any:
    from tpot.search_spaces.pipelines import ChoicePipeline

    return ChoicePipeline(nodes)


def _light_stages(context: SearchContext) -> list[Any]:
    return [
        _choice([*catalog.scalers(context), catalog.passthrough()]),
        _choice([*catalog.selectors(context), catalog.passthrough()]),
        _choice([*catalog.transformers(context), catalog.passthrough()]),
    ]


def linear_light(context: SearchContext) -> Any:
    """scaler -> selector -> one transformer (or none) -> a fast estimator."""
    from tpot.search_spaces.pipelines import SequentialPipeline

    return SequentialPipeline([*_light_stages(context), _choice(catalog.light_estimators(context))])


def linear(context: SearchContext) -> Any:
    """TPOT's linear template on our catalog: stacked transformers and inner estimators."""
    import tpot
    from tpot.search_spaces.pipelines import (
        DynamicUnionPipeline,
        SequentialPipeline,
        UnionPipeline,
        WrapperPipeline,
    )

    transformers = UnionPipeline(
        [
            _choice(
                [
                    DynamicUnionPipeline(_choice(catalog.transformers(context)), max_estimators=3),
                    catalog.skip(),
                ]
            ),
            catalog.passthrough(),
        ]
    )
    inner = WrapperPipeline(
        tpot.builtin_modules.EstimatorTransformer,
        # "predict" both ways: TPOT 1.1's EstimatorTransformer uses cross_val_predict's default
        # (predict) in fit_transform but predict_proba in transform under method="auto", so
        # classifier outputs would change width between fitting and predicting.
        {"cross_val_predict_cv": _inner_cv(context), "method": "predict"},
        _choice(catalog.light_estimators(context)),
    )
    stacked = UnionPipeline(
        [
            _choice([DynamicUnionPipeline(inner, max_estimators=2), catalog.skip()]),
            catalog.passthrough(),
        ]
    )
    return SequentialPipeline(
        [
            _choice([*catalog.scalers(context), catalog.passthrough()]),
            _choice([*catalog.selectors(context), catalog.passthrough()]),
            transformers,
            stacked,
            _choice(catalog.estimators(context)),
        ]
    )


def _graph(context: SearchContext, *, light: bool) -> Any:
    from tpot.search_spaces.pipelines import GraphSearchPipeline

    inner = [*catalog.transformers(context), *catalog.scalers(context), *catalog.selectors(context)]
    if not light:
        inner += catalog.light_estimators(context)
    root = catalog.light_estimators(context) if light else catalog.estimators(context)
    big = context.n_rows * max(context.n_features, 1) > 1_000_000
    return GraphSearchPipeline(
        root_search_space=_choice(root),
        leaf_search_space=None,
        inner_search_space=_choice(inner),
        cross_val_predict_cv=_inner_cv(context),
        max_size=5 if light or big else 10,
    )


def graph(context: SearchContext) -> Any:
    return _graph(context, light=False)


def graph_light(context: SearchContext) -> Any:
    return _graph(context, light=True)


def choice(context: SearchContext) -> Any:
    """One strong estimator, chosen and tuned."""
    return _choice(catalog.strong_estimators(context))


#: Classes are imbalanced when the smallest holds less than this share of the largest's rows:
#: only then do class weights change a model enough to be worth a hyperparameter.
IMBALANCED = 2 / 3


def auto(context: SearchContext) -> Any:
    """Strong estimators tuned locally around their defaults, seeded with the defaults."""
    from .tuned import strong_defaults_space

    return strong_defaults_space(
        context.task,
        context.n_rows,
        context.n_features,
        context.random_state,
        context.population_size,
        category_blocks=context.one_hot_blocks,
        balanced_classes=context.metric == "balanced_accuracy"
        and (context.class_balance or 1.0) < IMBALANCED,
        smallest_class_rows=context.smallest_class_rows,
    )


def feature_groups(context: SearchContext) -> dict[str, list[int]]:
    """Named groups of preprocessed column indices for ``FSSNode``.

    From the configuration's ``feature_groups`` (raw column names) when given; otherwise the
    detected groups: ``numeric``, ``categorical`` (categorical, boolean and text columns) and
    ``all``. ``all`` is always present, so the node always has a second group to mutate to.
    """
    groups: dict[str, list[int]] = {}
    if context.feature_groups:
        for name, columns in context.feature_groups.items():
            if not columns:
                raise SearchSpaceError(f"feature group {name!r} is empty")
            groups[name] = context.indices_of(columns, group=name)
    else:
        for name, columns in (
            ("numeric", context.numeric_columns),
            ("categorical", context.categorical_columns),
        ):
            present = [c for c in columns if c in context.column_indices]
            if present:
                groups[name] = context.indices_of(present)
    groups.setdefault("all", list(range(context.n_features)))
    if len(groups) < 2:  # FSSNode mutates by switching to another group
        raise SearchSpaceError("feature_groups: give at least one group besides 'all'")
    return groups


def fss(context: SearchContext) -> Any:
    """One named feature group, then one strong estimator."""
    from tpot.search_spaces.nodes import FSSNode
    from tpot.search_spaces.pipelines import SequentialPipeline

    return SequentialPipeline([FSSNode(feature_groups(context)), choice(context)])


def _symbolic(context: SearchContext) -> Any:
    """A tree of arithmetic over single features under a linear model (symbolic regression).

    TPOT 1.1's ``TreePipeline`` cannot be instantiated (its individual's constructor takes no
    arguments), so this uses ``GraphSearchPipeline`` with feature leaves and arithmetic inner
    nodes, as TPOT's own symbolic-regression tutorial does.
    """
    from ConfigSpace import ConfigurationSpace, Float
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from tpot.search_spaces.nodes import FSSNode
    from tpot.search_spaces.pipelines import GraphSearchPipeline

    names = context.feature_names or tuple(f"x{i}" for i in range(context.n_features))
    leaves = FSSNode({f"{i}:{name}": [i] for i, name in enumerate(names)})
    if context.classification:
        space = ConfigurationSpace()
        space.add(Float("C", (1e-3, 1e3), log=True, default=1.0))
        root = catalog.node(LogisticRegression, space, max_iter=1000)
    else:
        root = catalog.node(LinearRegression, {})
    return GraphSearchPipeline(
        root_search_space=root,
        leaf_search_space=leaves,
        inner_search_space=_choice(catalog.arithmetic()),
        max_size=8 if context.n_features <= 50 else 12,
    )


def estimator(context: SearchContext, name: str) -> Any:
    """A single estimator: a catalog name, or an allowlisted (or plugin) class with its defaults."""
    from tpot.search_spaces.nodes import EstimatorNode

    from ..plugins import load_registry
    from .config_dict import estimator_role, resolve_class

    built = catalog.estimator_node(name, context)
    if built is not None:
        return built
    extra = load_registry().estimators
    if "." not in name and name not in extra:
        raise SearchSpaceError(
            f"unknown estimator {name!r} for estimator:NAME; catalog names: "
            f"{', '.join(catalog.ESTIMATOR_NAMES)} (with or without Classifier/Regressor), "
            "or a class path such as sklearn.svm.SVC"
        )
    cls = resolve_class(name, extra)
    wanted = "classifier" if context.classification else "regressor"
    role = estimator_role(cls)
    if role != wanted:
        raise SearchSpaceError(
            f"estimator {name!r} is a {role}; a {context.task} task needs a {wanted}"
        )
    return EstimatorNode(cls, {})


_BOTH = ("classification", "regression")


@hookimpl
def automl_tpot_search_spaces() -> list[SearchSpaceDefinition]:
    return [
        SearchSpaceDefinition(
            "auto",
            auto,
            _BOTH,
            "strong estimators tuned around their defaults, seeded with them (the default)",
            "A ChoicePipeline of HistGradientBoosting, LightGBM (above 20,000 rows), random "
            "forest, extra trees, scaled logistic regression / ridge and scaled k-NN (left out "
            "above 20,000 rows). Every estimator appears at its defaults in the first "
            "generation, so the "
            "search starts from known-good models; mutations then take small steps from the "
            "current hyperparameters instead of resampling them.",
        ),
        SearchSpaceDefinition(
            "linear-light",
            linear_light,
            _BOTH,
            "scaler, selector, transformer, then a fast estimator",
            "A SequentialPipeline: a scaler (or none), a feature selector (or none), one "
            "transformer (or none), then one of logistic regression / ridge / elastic net, "
            "naive Bayes, k-NN or a decision tree.",
        ),
        SearchSpaceDefinition(
            "linear",
            linear,
            _BOTH,
            "linear pipelines with stacked transformers and inner estimators",
            "A SequentialPipeline: scaler, selector, a union of up to three transformers beside "
            "the raw features, up to two inner estimators whose cross-validated predictions "
            "become features, then any catalog estimator (boosting, forests, linear, k-NN, ...).",
        ),
        SearchSpaceDefinition(
            "graph",
            graph,
            _BOTH,
            "GraphSearchPipeline: any DAG of transformers and estimators",
            "A GraphSearchPipeline of at most 10 nodes: any catalog estimator at the root, "
            "transformers, scalers, selectors and fast estimators inside.",
        ),
        SearchSpaceDefinition(
            "graph-light",
            graph_light,
            _BOTH,
            "small GraphSearchPipeline over preprocessing and fast estimators",
            "A GraphSearchPipeline of at most 5 nodes: a fast estimator at the root, "
            "transformers, scalers and selectors inside.",
        ),
        SearchSpaceDefinition(
            "choice",
            choice,
            _BOTH,
            "ChoicePipeline over strong estimators, tuned",
            "A ChoicePipeline: histogram gradient boosting, random forest, extra trees, and "
            "scaled logistic regression / ridge / elastic net and k-NN.",
        ),
        SearchSpaceDefinition(
            "fss",
            fss,
            _BOTH,
            "FSSNode over named feature groups, then a strong estimator",
            "A SequentialPipeline: an FSSNode choosing one feature group (the config's "
            "feature_groups, or the detected numeric / categorical groups, and 'all'), then the "
            "'choice' estimators.",
        ),
        SearchSpaceDefinition(
            "symbolic-regression",
            _symbolic,
            ("regression",),
            "arithmetic trees over single features under linear regression",
            "A GraphSearchPipeline: single features at the leaves, add / multiply / negate / "
            "reciprocal / min / max inside, linear regression at the root.",
        ),
        SearchSpaceDefinition(
            "symbolic-classification",
            _symbolic,
            ("classification",),
            "arithmetic trees over single features under logistic regression",
            "A GraphSearchPipeline: single features at the leaves, add / multiply / negate / "
            "reciprocal / min / max inside, logistic regression at the root.",
        ),
        SearchSpaceDefinition(
            "estimator",
            estimator,
            _BOTH,
            "one estimator, tuned: estimator:RandomForest, estimator:sklearn.svm.SVC, ...",
            "A single EstimatorNode. NAME is a catalog estimator ("
            + ", ".join(catalog.ESTIMATOR_NAMES)
            + "; the task picks Classifier or Regressor) with its tuned space, or an "
            "allowlisted class path with its default parameters.",
            parametrized=True,
        ),
    ]
