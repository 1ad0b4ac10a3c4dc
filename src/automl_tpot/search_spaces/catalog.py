"""The components the built-in presets are assembled from, with our own hyperparameter spaces.

TPOT 1.1's own configuration passes parameters that scikit-learn 1.8+ deprecates
(``LogisticRegression(penalty=..., n_jobs=...)`` warns "removed in 1.10"), so every space here is
written for the installed scikit-learn: only parameters it takes without a FutureWarning.
Spaces are sized to the table (rows, preprocessed features) so small budgets stay cheap:
fewer trees on big tables, neighbour counts and quantiles bounded by the rows a fold holds,
cluster and component counts bounded by the features.

Each builder returns a TPOT ``EstimatorNode``; the presets combine them into pipelines.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer

from ..errors import SearchSpaceError
from . import SearchContext

__all__ = [
    "node",
    "estimator_node",
    "estimators",
    "light_estimators",
    "strong_estimators",
    "scalers",
    "selectors",
    "transformers",
    "arithmetic",
    "passthrough",
    "skip",
    "ESTIMATOR_NAMES",
]


def _fold_rows(context: SearchContext) -> int:
    """Rows in the smallest training fold of the run's cross-validation."""
    return max(2, context.n_rows * (context.cv - 1) // context.cv)


def _n_trees(context: SearchContext) -> int:
    return 100 if context.n_rows * max(context.n_features, 1) <= 200_000 else 50


def _space(**hyperparameters: Any) -> ConfigurationSpace:
    space = ConfigurationSpace()
    for name, value in hyperparameters.items():
        if isinstance(value, list):
            value = Categorical(name, value)
        elif not hasattr(value, "name"):
            from ConfigSpace import Constant

            value = Constant(name, value)
        space.add(value)
    return space


def _with_fixed(params: dict[str, Any], **fixed: Any) -> dict[str, Any]:
    """Hyperparameter parser that adds fixed values ConfigSpace cannot hold (functions)."""
    return {**params, **fixed}


def node(method: type, space: ConfigurationSpace | dict[str, Any], **fixed: Any) -> Any:
    """An ``EstimatorNode`` for ``method``; ``fixed`` values are added to every sample."""
    from tpot.search_spaces.nodes import EstimatorNode

    if fixed:
        # functools.partial of a module-level function pickles, so Dask workers can load it.
        return EstimatorNode(
            method, space, hyperparameter_parser=functools.partial(_with_fixed, **fixed)
        )
    return EstimatorNode(method, space)


# --- estimators -------------------------------------------------------------------------------


def _logistic_regression(context: SearchContext) -> Any:
    from sklearn.linear_model import LogisticRegression

    return node(
        LogisticRegression,
        _space(
            C=Float("C", (1e-4, 1e4), log=True, default=1.0),
            class_weight=[None, "balanced"],
            max_iter=1000,
        ),
    )


def _knn(context: SearchContext) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    cls = KNeighborsClassifier if context.classification else KNeighborsRegressor
    upper = max(2, min(50, _fold_rows(context) // 2))
    return node(
        cls,
        _space(
            n_neighbors=Integer("n_neighbors", (1, upper), default=min(5, upper)),
            weights=["uniform", "distance"],
            p=[1, 2],
        ),
    )


def _tree_params(context: SearchContext) -> dict[str, Any]:
    leaf = max(2, min(20, _fold_rows(context) // 10))
    return dict(
        min_samples_split=Integer("min_samples_split", (2, max(3, 2 * leaf)), default=2),
        min_samples_leaf=Integer("min_samples_leaf", (1, leaf), default=1),
    )


def _class_weight(context: SearchContext) -> dict[str, Any]:
    return {"class_weight": [None, "balanced"]} if context.classification else {}


def _criterion(context: SearchContext) -> dict[str, Any]:
    # Regression keeps the default: "friedman_mse" is deprecated in scikit-learn 1.9 and
    # "absolute_error" is too slow for small budgets.
    return {"criterion": ["gini", "entropy"]} if context.classification else {}


def _decision_tree(context: SearchContext) -> Any:
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    cls = DecisionTreeClassifier if context.classification else DecisionTreeRegressor
    return node(
        cls,
        _space(
            **_criterion(context),
            max_depth=Integer("max_depth", (1, 12), default=6),
            **_tree_params(context),
            **_class_weight(context),
        ),
    )


def _forest(context: SearchContext, extra: bool) -> Any:
    from sklearn import ensemble

    kind = "ExtraTrees" if extra else "RandomForest"
    cls = getattr(ensemble, kind + ("Classifier" if context.classification else "Regressor"))
    return node(
        cls,
        _space(
            n_estimators=_n_trees(context),
            **_criterion(context),
            max_features=Float("max_features", (0.05, 1.0), default=0.5),
            bootstrap=[not extra, extra],
            **_tree_params(context),
            **_class_weight(context),
        ),
    )


def _hist_gradient_boosting(context: SearchContext) -> Any:
    from sklearn.ensemble import HistGradientBoostingRegressor

    from ..model.boosting import HistGradientBoostingClassifier
    from .tuned import early_stopping

    cls = (
        HistGradientBoostingClassifier if context.classification else HistGradientBoostingRegressor
    )
    leaf = max(2, min(50, _fold_rows(context) // 10))
    return node(
        cls,
        _space(
            learning_rate=Float("learning_rate", (0.01, 1.0), log=True, default=0.1),
            max_iter=100 if context.n_rows <= 100_000 else 50,
            max_leaf_nodes=Integer("max_leaf_nodes", (3, 63), default=31),
            min_samples_leaf=Integer("min_samples_leaf", (1, leaf), default=min(20, leaf)),
            l2_regularization=Float("l2_regularization", (1e-8, 10.0), log=True, default=1e-8),
            **_class_weight(context),
        ),
        **early_stopping(context.n_rows, context.smallest_class_rows),
    )


def _gaussian_nb(context: SearchContext) -> Any:
    from sklearn.naive_bayes import GaussianNB

    return node(GaussianNB, {})


def _bernoulli_nb(context: SearchContext) -> Any:
    from sklearn.naive_bayes import BernoulliNB

    return node(
        BernoulliNB,
        _space(alpha=Float("alpha", (1e-3, 100.0), log=True, default=1.0), fit_prior=[True, False]),
    )


def _ridge(context: SearchContext) -> Any:
    from sklearn.linear_model import Ridge

    return node(Ridge, _space(alpha=Float("alpha", (1e-4, 1e4), log=True, default=1.0)))


def _elastic_net(context: SearchContext) -> Any:
    from sklearn.linear_model import ElasticNet

    return node(
        ElasticNet,
        _space(
            alpha=Float("alpha", (1e-4, 10.0), log=True, default=1e-2),
            l1_ratio=Float("l1_ratio", (0.0, 1.0), default=0.5),
            max_iter=5000,
        ),
    )


#: Catalog estimator name -> (builder, tasks). Names are what ``estimator:NAME`` accepts.
_ESTIMATORS: dict[str, tuple[Callable[[SearchContext], Any], tuple[str, ...]]] = {
    "LogisticRegression": (_logistic_regression, ("classification",)),
    "GaussianNB": (_gaussian_nb, ("classification",)),
    "BernoulliNB": (_bernoulli_nb, ("classification",)),
    "Ridge": (_ridge, ("regression",)),
    "ElasticNet": (_elastic_net, ("regression",)),
    "KNeighbors": (_knn, ("classification", "regression")),
    "DecisionTree": (_decision_tree, ("classification", "regression")),
    "RandomForest": (functools.partial(_forest, extra=False), ("classification", "regression")),
    "ExtraTrees": (functools.partial(_forest, extra=True), ("classification", "regression")),
    "HistGradientBoosting": (_hist_gradient_boosting, ("classification", "regression")),
}

#: Names ``estimator:NAME`` accepts; the task decides Classifier / Regressor where both exist.
ESTIMATOR_NAMES = tuple(sorted(_ESTIMATORS))


def estimator_node(name: str, context: SearchContext) -> Any | None:
    """The catalog node ``name`` (``RandomForest`` or ``RandomForestClassifier``), or ``None``.

    Raises :class:`SearchSpaceError` when the name exists but serves the other task.
    """
    expected, other = (
        ("Classifier", "Regressor") if context.classification else ("Regressor", "Classifier")
    )
    key = name
    if key.endswith(expected) and key[: -len(expected)] in _ESTIMATORS:
        key = key[: -len(expected)]
    elif key.endswith(other) and key[: -len(other)] in _ESTIMATORS:
        raise SearchSpaceError(
            f"estimator {name!r} is for {other.lower()}s; this is {context.task}"
        )
    entry = _ESTIMATORS.get(key)
    if entry is None:
        return None
    if context.task not in entry[1]:
        raise SearchSpaceError(
            f"estimator {name!r} serves {' and '.join(entry[1])}, not {context.task}"
        )
    return entry[0](context)


def _build(names: tuple[str, ...], context: SearchContext) -> list[Any]:
    return [_ESTIMATORS[name][0](context) for name in names if context.task in _ESTIMATORS[name][1]]


def estimators(context: SearchContext) -> list[Any]:
    """Every catalog estimator for the task."""
    return _build(tuple(_ESTIMATORS), context)


def light_estimators(context: SearchContext) -> list[Any]:
    """Fast estimators: linear models, naive Bayes, k-NN and a single tree."""
    return _build(
        (
            "LogisticRegression",
            "GaussianNB",
            "BernoulliNB",
            "Ridge",
            "ElasticNet",
            "KNeighbors",
            "DecisionTree",
        ),
        context,
    )


def strong_estimators(context: SearchContext) -> list[Any]:
    """Estimators that do well alone: boosting, forests, and scaled linear models and k-NN."""
    from sklearn.preprocessing import StandardScaler
    from tpot.search_spaces.pipelines import SequentialPipeline

    scaled = [
        SequentialPipeline([node(StandardScaler, {}), estimator])
        for estimator in _build(
            ("LogisticRegression", "Ridge", "ElasticNet", "KNeighbors"), context
        )
    ]
    return _build(("HistGradientBoosting", "RandomForest", "ExtraTrees"), context) + scaled


# --- preprocessing nodes ----------------------------------------------------------------------


def passthrough() -> Any:
    from tpot.builtin_modules import Passthrough

    return node(Passthrough, {})


def skip() -> Any:
    from tpot.builtin_modules import SkipTransformer

    return node(SkipTransformer, {})


def scalers(context: SearchContext) -> list[Any]:
    from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

    return [node(cls, {}) for cls in (StandardScaler, RobustScaler, MinMaxScaler, MaxAbsScaler)]


def selectors(context: SearchContext) -> list[Any]:
    from sklearn import feature_selection as fs

    score = fs.f_classif if context.classification else fs.f_regression
    return [
        node(fs.VarianceThreshold, _space(threshold=Float("threshold", (1e-4, 0.01), log=True))),
        node(
            fs.SelectPercentile,
            _space(percentile=Integer("percentile", (5, 100), default=50)),
            score_func=score,
        ),
    ]


def transformers(context: SearchContext) -> list[Any]:
    """Feature transformers sized to the table; polynomial features only on narrow tables."""
    from sklearn.decomposition import PCA
    from sklearn.kernel_approximation import Nystroem
    from sklearn.preprocessing import PolynomialFeatures, PowerTransformer, QuantileTransformer
    from tpot.builtin_modules import ZeroCount

    from ..model.transformers import CappedFeatureAgglomeration

    fold_rows = _fold_rows(context)
    features = max(context.n_features, 1)
    out = [
        node(PCA, _space(n_components=Float("n_components", (0.5, 0.999), default=0.95))),
        node(
            Nystroem,
            _space(
                kernel=["rbf", "poly", "sigmoid", "linear", "cosine"],
                gamma=Float("gamma", (1e-3, 1.0), log=True, default=0.1),
                n_components=Integer(
                    "n_components",
                    (1, max(2, min(100, fold_rows // 2))),
                    default=min(10, fold_rows // 2 or 1),
                ),
            ),
        ),
        node(
            QuantileTransformer,
            _space(
                n_quantiles=Integer(
                    "n_quantiles",
                    (10, max(11, min(1000, fold_rows))),
                    default=min(100, max(10, fold_rows)),
                ),
                output_distribution=["uniform", "normal"],
            ),
        ),
        node(PowerTransformer, {}),
        node(ZeroCount, {}),
    ]
    if features >= 3:
        out.append(
            node(
                CappedFeatureAgglomeration,
                _space(
                    n_clusters=Integer("n_clusters", (2, max(3, min(50, features - 1))), default=2),
                    linkage=["ward", "complete", "average"],
                ),
            )
        )
    if features <= 20:
        out.append(
            node(
                PolynomialFeatures,
                _space(interaction_only=[True, False], degree=2, include_bias=False),
            )
        )
    return out


def arithmetic() -> list[Any]:
    """TPOT's arithmetic transformers, the inner nodes of symbolic search spaces."""
    from tpot import builtin_modules as ops

    operators = (ops.AddTransformer, ops.MulTransformer, ops.mul_neg_1_Transformer)
    others = (ops.SafeReciprocalTransformer, ops.MinTransformer, ops.MaxTransformer)
    return [node(cls, {}) for cls in (*operators, *others)]
