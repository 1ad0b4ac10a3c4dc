"""Search-space nodes whose individuals mutate *locally*: a step from the current value.

TPOT's ``EstimatorNodeIndividual.mutate`` resamples hyperparameters from scratch, so evolution
cannot refine a good configuration. Overriding it means subclassing TPOT's individual class,
which is not part of TPOT's documented API: it lives here, inside the boundary.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from ConfigSpace import ConfigurationSpace
from tpot.search_spaces.nodes.estimator_node import EstimatorNode, EstimatorNodeIndividual

__all__ = [
    "TunedEstimatorIndividual",
    "TunedEstimatorNode",
    "choice_at_defaults",
    "reset_to_defaults",
]

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
    for tuned in _tuned_inside(individual):
        tuned.to_defaults()
    return individual


def _children(individual: Any) -> list[Any]:
    node = getattr(individual, "node", None)
    if node is not None:
        return [node]
    pipeline = getattr(individual, "pipeline", None)
    if pipeline is not None:
        return list(pipeline)
    return []


def _inside(hyperparameter: Any, value: object) -> bool:
    """Whether ``value`` lies in a ConfigSpace hyperparameter's range or among its choices
    (bounds compared directly: ConfigSpace's own check rejects a log range's lower bound)."""
    if hasattr(hyperparameter, "lower"):
        return bool(hyperparameter.lower <= value <= hyperparameter.upper)
    return value in getattr(hyperparameter, "choices", (value,))


def choice_at_defaults(
    choice: Any,
    option: Any,
    rng: np.random.Generator,
    params: dict[str, object] | None = None,
) -> Any:
    """An individual of the ``ChoicePipeline`` ``choice`` that holds an individual of its
    ``option`` (one of its search spaces), with every tuned estimator at its defaults, and the
    option's one tuned estimator (bare, or a step of a pipeline) at ``params`` over them when
    given.

    Raises ``ValueError`` for a parameter the estimator's space does not have or a value
    outside its range: a portfolio written for another space must not be seeded silently with
    its defaults, nor start outside the space its mutations keep to."""
    individual = choice.generate(rng)
    individual.node = reset_to_defaults(option.generate(rng))
    if params:
        tuned = _tuned_inside(individual.node)
        if len(tuned) != 1:
            raise ValueError(
                "only an option holding one tuned estimator can be seeded with parameters"
            )
        target = tuned[0]
        space, name = target.space, target.method.__name__
        unknown = set(params) - set(space.keys())
        if unknown:
            raise ValueError(f"{name} has no hyperparameters {sorted(unknown)}")
        outside = [key for key, value in params.items() if not _inside(space[key], value)]
        if outside:
            raise ValueError(f"{name}: {sorted(outside)} outside their ranges")
        target.hyperparameters.update(params)
    return individual


def _tuned_inside(individual: Any) -> list[Any]:
    """The tuned estimators in ``individual`` and its steps, in order."""
    found = [individual] if isinstance(individual, TunedEstimatorIndividual) else []
    for child in _children(individual):
        found.extend(_tuned_inside(child))
    return found
