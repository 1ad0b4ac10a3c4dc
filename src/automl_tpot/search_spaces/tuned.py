"""The default search space for short budgets: strong estimators, tuned around their defaults.

Raw TPOT spends a short budget on random pipelines and often ends below a default
HistGradientBoosting model. Three things here make the most of a few minutes on few cores:

* :class:`TunedEstimatorNode` mutates hyperparameters *locally* (a step from the current value)
  instead of TPOT's resampling from scratch, so evolution refines good configurations;
* every estimator's hyperparameter space is centred on scikit-learn's defaults, and
  :class:`SeededSearchSpace` puts each estimator *at* its defaults into the first generation, so
  the search starts from known-good models and can only improve on them;
* the estimators are chosen and sized for the table (no k-NN above 20,000 rows, no random
  forest above 50,000, fewer trees and fewer split features for the extra trees above 20,000,
  a HistGradientBoosting that reads categories natively when the table has many-valued
  categorical columns, a LightGBM model beside it on large tables, class weights when the
  metric is balanced accuracy).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from ConfigSpace import Categorical, ConfigurationSpace, Float, Integer
from tpot.search_spaces.base import SearchSpace
from tpot.search_spaces.nodes import EstimatorNode
from tpot.search_spaces.pipelines import ChoicePipeline, SequentialPipeline

from ..tpot_boundary.nodes import TunedEstimatorNode, choice_at_defaults

__all__ = ["SeededSearchSpace", "early_stopping", "portfolio", "strong_defaults_space"]


class SeededSearchSpace(SearchSpace):
    """Yields the given seed individuals among the first ``population_size`` it generates.

    TPOT evaluates a generation from the end of its list backwards, so the seeds are returned
    last: they are evaluated first and are sure to be scored even if the budget ends the first
    generation early. A population smaller than the seeds keeps the last seeds (the ones
    evaluated first, so put the most important last). Afterwards it generates like ``inner``.
    ``anchors`` are individuals the stage after a sampled search compares with the search's
    choice on all rows (:func:`~automl_tpot.search_spaces.anchor_individuals`).
    """

    def __init__(
        self,
        inner: SearchSpace,
        seeds: Sequence[Any],
        population_size: int,
        anchors: Sequence[Any] = (),
    ):
        self.inner = inner
        self.anchors = list(anchors)
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


#: LightGBM's names for the boosting hyperparameters tuned (histogram gradient boosting's
#: names, the same ranges: LightGBM's ``reg_lambda`` default 0 is the range's floor, 1e-6).
LIGHTGBM_NAMES = {
    "learning_rate": "learning_rate",
    "max_leaf_nodes": "num_leaves",
    "min_samples_leaf": "min_child_samples",
    "l2_regularization": "reg_lambda",
    "max_iter": "n_estimators",
    "max_features": "colsample_bytree",
}


def _hgb_space(
    seed: int, balanced: bool = False, names: dict[str, str] | None = None
) -> ConfigurationSpace:
    """The boosting hyperparameters, centred on their defaults; ``names`` renames them for
    another library (:data:`LIGHTGBM_NAMES`)."""

    def name(key: str) -> str:
        return key if names is None else names[key]

    tuned = [
        Float(name("learning_rate"), (0.01, 0.5), log=True, default=0.1),
        Integer(name("max_leaf_nodes"), (4, 128), log=True, default=31),
        Integer(name("min_samples_leaf"), (2, 200), log=True, default=20),
        Float(name("l2_regularization"), (1e-6, 10.0), log=True, default=1e-6),
        Integer(name("max_iter"), (30, 400), log=True, default=100),
        Float(name("max_features"), (0.2, 1.0), default=1.0),
    ]
    space = {hyperparameter.name: hyperparameter for hyperparameter in tuned}
    return ConfigurationSpace(seed=seed, space={**space, **_class_weight(balanced)})


#: Tables with more rows than this add a LightGBM model to the choice. The search's worker
#: threads share one interpreter, and a HistGradientBoosting fit holds its GIL for most of its
#: time, so two of them in two threads take three times as long as one
#: (:data:`~automl_tpot.cluster.slots.GIL_BOUND`); LightGBM trains in C++ with the GIL
#: released. Measured by hand (3-fold cross-validation of the defaults on the search's first
#: 3,000-row sample, one thread each) on the seven large tables of the benchmark: 0.1-0.9 s
#: against HistGradientBoosting's 0.07-1.55 s alone, two at once in 1.0-1.1 times one's time
#: (HistGradientBoosting: 2.0-3.0 times); scores from 0.016 below to 0.004 above it (the
#: search tunes both).
LIGHTGBM_ROWS = 20_000

#: Tables with more rows than this leave random forests out of the space: a forest grown on
#: every row (its refit for the final model) costs many times a boosting model's fit.
FOREST_MAX_ROWS = 50_000
#: ... and their forests (extra trees) start with fewer trees and, for regression, consider
#: half the features at each split instead of all.
LARGE_ROWS = 20_000
#: The portfolio (``portfolio.json``) was chosen on tables of up to 5,000 rows; on larger ones
#: its 200- and 400-iteration models cost several default fits each, which a large table's
#: first generation cannot spare (on a 24,551-row table at 60 s, two of them ran into the
#: per-evaluation limit), so they are left out there.
PORTFOLIO_MAX_ROWS = LARGE_ROWS
#: From this many rows the stage after a sampled search also compares a boosting model of more
#: capacity (:data:`CAPACITY`), never evaluated in the search: on a sample of a few thousand
#: rows it over-fits and costs the most, while on all rows of a large table (where early
#: stopping bounds its iterations) it can be the best model. Measured on this project's tables
#: (one thread, the rows the stage fits, held-out test part): 0.7585 -> 0.7832 ROC AUC on
#: ``flights_late`` (186,000 rows, 2.4 -> 6.9 s), within 0.003 of the defaults on the others.
CAPACITY_ROWS = 100_000
CAPACITY: dict[str, object] = {"max_leaf_nodes": 127, "max_iter": 400, "learning_rate": 0.05}
#: On tables with more rows than this, the boosting models stop early in every evaluation:
#: scikit-learn's ``early_stopping="auto"`` turns it on for the final fit on all rows of such a
#: table anyway, but not for the search's fits on samples and folds of fewer than 10,000 rows,
#: which then ran all their iterations. Measured by hand (3-fold cross-validation of the
#: default model on a 3,000-row sample, one thread): 2-4 times faster on all seven large tables
#: of the benchmark (``military`` 2.38 -> 0.64 s, ``insteval`` 2.75 -> 1.13 s), the score the
#: same or better on each.
EARLY_STOPPING_ROWS = 10_000
#: ... unless the smallest class is this rare (its rows per 3,000, the search's first sample):
#: early stopping holds out a stratified tenth of the rows, which fails when a class has a
#: single row in a fold.
EARLY_STOPPING_MIN_CLASS_SHARE = 10 / 3_000


def early_stopping(n_rows: int, smallest_class_rows: int | None = None) -> dict[str, bool]:
    """The fixed parameters that make the boosting models of a table of ``n_rows`` training
    rows stop early in every evaluation, or none (see :data:`EARLY_STOPPING_ROWS`)."""
    rare = smallest_class_rows is not None and (
        smallest_class_rows / n_rows < EARLY_STOPPING_MIN_CLASS_SHARE
    )
    return {"early_stopping": True} if n_rows > EARLY_STOPPING_ROWS and not rare else {}


def _forest_space(
    n_rows: int, seed: int, max_features_default: float, balanced: bool = False
) -> ConfigurationSpace:
    trees = 100 if n_rows <= LARGE_ROWS else 50
    if n_rows > LARGE_ROWS:
        max_features_default = min(max_features_default, 0.5)
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
    smallest_class_rows: int | None = None,
) -> SearchSpace:
    """The default search space: a choice of strong estimators, seeded with their defaults.

    ``category_blocks`` are the one-hot column blocks of categorical columns: when one has three
    or more columns, a HistGradientBoosting candidate that reads them as native categories (see
    :class:`~automl_tpot.transformers.CategoryCodes`) joins the choice. ``balanced_classes`` (for
    a balanced-accuracy metric) gives the classifiers a ``class_weight`` hyperparameter that
    starts at "balanced". ``smallest_class_rows`` (classification) decides, with ``n_rows``,
    whether the boosting models stop early (:func:`early_stopping`).
    """
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        ExtraTreesRegressor,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler

    from ..model.boosting import HistGradientBoostingClassifier
    from ..model.transformers import CategoryCodes

    seed = 0 if random_state is None else int(random_state)
    classification = task == "classification"
    fixed_seed = {} if random_state is None else {"random_state": random_state}
    sqrt_share = 1.0 / math.sqrt(max(n_features, 1)) if classification else 1.0
    sqrt_share = min(max(sqrt_share, 0.05), 1.0)
    balanced = classification and balanced_classes
    scaler = EstimatorNode(StandardScaler, {})
    hgb = HistGradientBoostingClassifier if classification else HistGradientBoostingRegressor
    hgb_fixed = {**fixed_seed, **early_stopping(n_rows, smallest_class_rows)}

    spaces: list[SearchSpace] = [
        TunedEstimatorNode(hgb, _hgb_space(seed, balanced), _FixedParameters(hgb_fixed)),
    ]
    blocks = tuple(tuple(int(i) for i in block) for block in category_blocks)
    native = None
    if any(len(block) >= 3 for block in blocks):
        native = TunedEstimatorNode(hgb, _hgb_space(seed, balanced), _FixedParameters(hgb_fixed))
        folding = EstimatorNode(CategoryCodes, {"blocks": blocks})
        spaces.append(SequentialPipeline([folding, native]))
    if n_rows > LIGHTGBM_ROWS:
        from lightgbm import LGBMClassifier, LGBMRegressor

        spaces.append(
            TunedEstimatorNode(
                LGBMClassifier if classification else LGBMRegressor,
                _hgb_space(seed, balanced, LIGHTGBM_NAMES),
                _FixedParameters({**fixed_seed, "n_jobs": 1, "verbose": -1}),
            )
        )
    if n_rows <= FOREST_MAX_ROWS:  # beyond, one refit on all rows would take the budget
        spaces.append(
            TunedEstimatorNode(
                RandomForestClassifier if classification else RandomForestRegressor,
                _forest_space(n_rows, seed, sqrt_share, balanced),
                _FixedParameters({**fixed_seed, "n_jobs": 1}),
            )
        )
    spaces.append(
        TunedEstimatorNode(
            ExtraTreesClassifier if classification else ExtraTreesRegressor,
            _forest_space(n_rows, seed, sqrt_share, balanced),
            _FixedParameters({**fixed_seed, "n_jobs": 1}),
        )
    )
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
    # one individual per estimator at its defaults, and (on tables of the size it was chosen
    # on) the portfolio's boosting models right after the boosting ones; reversed below, the
    # default HistGradientBoosting comes last, so it is the first one TPOT scores (and what a
    # small population keeps)
    seeds = [choice_at_defaults(choice, space, rng) for space in spaces]
    after_boosting = 2 if native is not None else 1
    # the boosting models at their defaults: hyperparameters chosen on a sample of a large
    # table can under-fit all of its rows, which these are compared with after the search
    anchors = [copy.deepcopy(seed) for seed in seeds[:after_boosting]]  # TPOT may mutate seeds
    if n_rows >= CAPACITY_ROWS:  # first: the stage fits the first anchor on the most rows
        # native categories where the table has them: one column per categorical feature
        # instead of its one-hot block costs far fewer histograms on each of its many trees
        anchors.insert(0, choice_at_defaults(choice, spaces[after_boosting - 1], rng, CAPACITY))
    seeds[after_boosting:after_boosting] = [
        choice_at_defaults(choice, spaces[0], rng, params)
        for params in (portfolio(task) if n_rows <= PORTFOLIO_MAX_ROWS else [])
    ]
    seeds.reverse()
    return SeededSearchSpace(choice, seeds, population_size, anchors)


def portfolio(task: str) -> list[dict[str, object]]:
    """The strong HistGradientBoosting configurations seeded right after the defaults, in
    priority order (``portfolio.json``, made by ``benchmarks/portfolio.py``, which says from
    which tables and how they were chosen)."""
    from importlib import resources

    document = json.loads(resources.files(__package__).joinpath("portfolio.json").read_text())
    return [dict(params) for params in document[task]["portfolio"]]
