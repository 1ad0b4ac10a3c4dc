"""The default search space for short budgets: strong estimators, tuned around their defaults.

Raw TPOT spends a short budget on random pipelines and often ends below a default
HistGradientBoosting model. Three things here make the most of a few minutes on few cores:

* :class:`TunedEstimatorNode` mutates hyperparameters *locally* (a step from the current value)
  instead of TPOT's resampling from scratch, so evolution refines good configurations;
* every estimator's hyperparameter space is centred on scikit-learn's defaults, and
  :class:`SeededSearchSpace` puts each estimator *at* its defaults into the first generation, so
  the search starts from known-good models and can only improve on them;
* the estimators are chosen and sized for the table (no k-NN on large tables, fewer trees on
  many rows, a HistGradientBoosting that reads categories natively when the table has
  many-valued categorical columns, class weights when the metric is balanced accuracy).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer
from tpot.search_spaces.base import SearchSpace
from tpot.search_spaces.nodes.estimator_node import EstimatorNode, EstimatorNodeIndividual
from tpot.search_spaces.pipelines import ChoicePipeline, SequentialPipeline

__all__ = ["TunedEstimatorNode", "SeededSearchSpace", "strong_defaults_space", "reset_to_defaults"]

#: Probability that a categorical hyperparameter is resampled by one mutation.
CATEGORICAL_FLIP = 0.3


class TunedEstimatorIndividual(EstimatorNodeIndividual):
    """An estimator whose mutation takes a local step in each numeric hyperparameter."""

    hyperparameters: dict[str, Any]

    def mutate(self, rng: Any = None) -> bool:
        rng = np.random.default_rng(rng)
        before = dict(self.hyperparameters)
        self.hyperparameters = {
            name: _step(self.space[name], value, rng) if name in self.space else value
            for name, value in self.hyperparameters.items()
        }
        if self.hyperparameters == before:  # nothing moved (e.g. all categorical): force a flip
            name = rng.choice(list(self.space.keys()))
            self.hyperparameters[name] = _resample(self.space[name], rng)
        return True

    def to_defaults(self) -> None:
        """Set every hyperparameter to its default value in the space."""
        self.hyperparameters = dict(self.space.get_default_configuration())


def _resample(hyperparameter: Any, rng: np.random.Generator) -> Any:
    space = ConfigurationSpace(seed=int(rng.integers(0, 2**31)))
    space.add(hyperparameter)
    return space.sample_configuration()[hyperparameter.name]


def _step(hyperparameter: Any, value: Any, rng: np.random.Generator) -> Any:
    """A small random move from ``value`` inside the hyperparameter's range."""
    if hasattr(hyperparameter, "lower") and hasattr(hyperparameter, "upper"):  # numeric
        lower, upper = hyperparameter.lower, hyperparameter.upper
        if hyperparameter.log:
            moved = math.exp(
                math.log(value) + rng.normal(0, 0.35) * (math.log(upper) - math.log(lower)) / 4
            )
        else:
            moved = value + rng.normal(0, 0.15) * (upper - lower)
        moved = min(max(moved, lower), upper)
        if "Integer" in type(hyperparameter).__name__:
            moved = int(round(moved))
        return moved
    if rng.random() < CATEGORICAL_FLIP:
        return _resample(hyperparameter, rng)
    return value


class TunedEstimatorNode(EstimatorNode):
    """Like TPOT's ``EstimatorNode``, but its individuals mutate locally (see module docs)."""

    def __init__(
        self, method: type, space: ConfigurationSpace, hyperparameter_parser: Callable | None = None
    ):
        super().__init__(method, space)
        self.hyperparameter_parser = hyperparameter_parser

    def generate(self, rng: Any = None) -> TunedEstimatorIndividual:
        return TunedEstimatorIndividual(
            self.method, self.space, hyperparameter_parser=self.hyperparameter_parser, rng=rng
        )


def reset_to_defaults(individual: Any) -> Any:
    """Put every tuned estimator inside ``individual`` at its default hyperparameters."""
    if isinstance(individual, TunedEstimatorIndividual):
        individual.to_defaults()
    for child in _children(individual):
        reset_to_defaults(child)
    return individual


def _children(individual: Any) -> list[Any]:
    node = getattr(individual, "node", None)
    if node is not None:
        return [node]
    pipeline = getattr(individual, "pipeline", None)
    if pipeline is not None:
        return list(pipeline)
    return []


class SeededSearchSpace(SearchSpace):
    """Yields the given seed individuals among the first ``population_size`` it generates.

    TPOT evaluates a generation from the end of its list backwards, so the seeds are returned
    last: they are evaluated first and are sure to be scored even if the budget ends the first
    generation early. A population smaller than the seeds keeps the last seeds (the ones
    evaluated first, so put the most important last). Afterwards it generates like ``inner``.
    """

    def __init__(self, inner: SearchSpace, seeds: Sequence[Any], population_size: int):
        self.inner = inner
        self.seeds = list(seeds)[-population_size:] if population_size > 0 else []
        self.first_seed_at = population_size - len(self.seeds)
        self._generated = 0

    def generate(self, rng: Any = None) -> Any:
        index = self._generated
        self._generated += 1
        if self.first_seed_at <= index < self.first_seed_at + len(self.seeds):
            return self.seeds[index - self.first_seed_at]
        return self.inner.generate(rng)


# --- the estimators ---------------------------------------------------------------------------


def _class_weight(balanced: bool) -> dict[str, Any]:
    """A ``class_weight`` hyperparameter, defaulting to "balanced" when the metric is."""
    if not balanced:
        return {}
    choice = Categorical("class_weight", ["balanced", None], default="balanced")
    return {"class_weight": choice}


def _hgb_space(n_rows: int, seed: int, balanced: bool = False) -> ConfigurationSpace:
    return ConfigurationSpace(
        seed=seed,
        space={
            "learning_rate": Float("learning_rate", (0.01, 0.5), log=True, default=0.1),
            "max_leaf_nodes": Integer("max_leaf_nodes", (4, 128), log=True, default=31),
            "min_samples_leaf": Integer("min_samples_leaf", (2, 200), log=True, default=20),
            "l2_regularization": Float("l2_regularization", (1e-6, 10.0), log=True, default=1e-6),
            "max_iter": Integer("max_iter", (30, 400), log=True, default=100),
            "max_features": Float("max_features", (0.2, 1.0), default=1.0),
            **_class_weight(balanced),
        },
    )


def _forest_space(
    n_rows: int, seed: int, max_features_default: float, balanced: bool = False
) -> ConfigurationSpace:
    trees = 100 if n_rows <= 50_000 else 50
    return ConfigurationSpace(
        seed=seed,
        space={
            "n_estimators": Integer("n_estimators", (20, 300), log=True, default=trees),
            "max_features": Float("max_features", (0.05, 1.0), default=max_features_default),
            "min_samples_leaf": Integer("min_samples_leaf", (1, 50), log=True, default=1),
            "bootstrap": Categorical("bootstrap", [True, False], default=True),
            **_class_weight(balanced),
        },
    )


class _FixedParameters:
    """A picklable hyperparameter parser that adds fixed parameters to the tuned ones."""

    def __init__(self, fixed: dict[str, Any]):
        self.fixed = dict(fixed)

    def __call__(self, params: dict[str, Any]) -> dict[str, Any]:
        return {**params, **self.fixed}


def strong_defaults_space(
    task: str,
    n_rows: int,
    n_features: int,
    random_state: int | None,
    population_size: int,
    *,
    category_blocks: Sequence[Sequence[int]] = (),
    balanced_classes: bool = False,
) -> SearchSpace:
    """The default search space: a choice of strong estimators, seeded with their defaults.

    ``category_blocks`` are the one-hot column blocks of categorical columns: when one has three
    or more columns, a HistGradientBoosting candidate that reads them as native categories (see
    :class:`~automl_tpot.transformers.CategoryCodes`) joins the choice. ``balanced_classes`` (for
    a balanced-accuracy metric) gives the classifiers a ``class_weight`` hyperparameter that
    starts at "balanced".
    """
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler

    from ..transformers import CategoryCodes

    seed = 0 if random_state is None else int(random_state)
    classification = task == "classification"
    fixed_seed = {} if random_state is None else {"random_state": random_state}
    sqrt_share = 1.0 / math.sqrt(max(n_features, 1)) if classification else 1.0
    sqrt_share = min(max(sqrt_share, 0.05), 1.0)
    balanced = classification and balanced_classes
    scaler = EstimatorNode(StandardScaler, {})
    hgb = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor

    spaces: list[SearchSpace] = [
        TunedEstimatorNode(hgb, _hgb_space(n_rows, seed, balanced), _FixedParameters(fixed_seed)),
    ]
    blocks = tuple(tuple(int(i) for i in block) for block in category_blocks)
    if any(len(block) >= 3 for block in blocks):
        native = TunedEstimatorNode(
            hgb, _hgb_space(n_rows, seed, balanced), _FixedParameters(fixed_seed)
        )
        folding = EstimatorNode(CategoryCodes, {"blocks": blocks})
        spaces.append(SequentialPipeline([folding, native]))
    spaces += [
        TunedEstimatorNode(
            RandomForestClassifier if classification else RandomForestRegressor,
            _forest_space(n_rows, seed, sqrt_share, balanced),
            _FixedParameters({**fixed_seed, "n_jobs": 1}),
        ),
        TunedEstimatorNode(
            ExtraTreesClassifier if classification else ExtraTreesRegressor,
            _forest_space(n_rows, seed, sqrt_share, balanced),
            _FixedParameters({**fixed_seed, "n_jobs": 1}),
        ),
    ]
    if classification:
        linear = TunedEstimatorNode(
            LogisticRegression,
            ConfigurationSpace(
                seed=seed,
                space={
                    "C": Float("C", (1e-3, 1e3), log=True, default=1.0),
                    **_class_weight(balanced),
                },
            ),
            _FixedParameters({"max_iter": 2000}),
        )
    else:
        linear = TunedEstimatorNode(
            Ridge,
            ConfigurationSpace(
                seed=seed, space={"alpha": Float("alpha", (1e-3, 1e3), log=True, default=1.0)}
            ),
        )
    spaces.append(SequentialPipeline([scaler, linear]))
    if n_rows <= 20_000:
        neighbours = TunedEstimatorNode(
            KNeighborsClassifier if classification else KNeighborsRegressor,
            ConfigurationSpace(
                seed=seed,
                space={
                    "n_neighbors": Integer("n_neighbors", (1, 100), log=True, default=5),
                    "weights": Categorical("weights", ["uniform", "distance"], default="uniform"),
                },
            ),
        )
        spaces.append(SequentialPipeline([scaler, neighbours]))

    choice = ChoicePipeline(spaces)
    rng = np.random.default_rng(seed)
    seeds = []
    for space in spaces:  # one individual per estimator, at its defaults; HGB last = first scored
        individual = choice.generate(rng)
        individual.node = reset_to_defaults(space.generate(rng))
        seeds.append(individual)
    seeds.reverse()
    return SeededSearchSpace(choice, seeds, population_size)
