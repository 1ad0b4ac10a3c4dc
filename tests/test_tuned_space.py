"""The default 'auto' space: seeded defaults evaluated first, local mutations inside the ranges."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from automl_tpot.search_spaces.tuned import SeededSearchSpace, strong_defaults_space
from automl_tpot.tpot_boundary.nodes import TunedEstimatorIndividual

POPULATION = 10


def _final_estimator(pipeline):
    return pipeline.steps[-1][1] if isinstance(pipeline, Pipeline) else pipeline


def _three_class_context(**values):
    """A search context of a three-class table with four numeric columns."""
    from automl_tpot.search_spaces import SearchContext

    defaults = dict(
        task="classification",
        n_features=4,
        n_classes=3,
        numeric_columns=("a", "b", "c", "d"),
        categorical_columns=(),
        random_state=0,
        population_size=POPULATION,
    )
    return SearchContext(**{**defaults, **values})


def _generate_population(space, rng):
    return [space.generate(rng) for _ in range(POPULATION)]


def test_seeds_come_last_so_tpot_scores_them_first_and_hgb_is_the_very_last():
    space = strong_defaults_space(
        "classification", 500, 12, random_state=0, population_size=POPULATION
    )
    assert isinstance(space, SeededSearchSpace)
    population = _generate_population(space, np.random.default_rng(0))
    seeds = population[-len(space.seeds) :]
    finals = [_final_estimator(ind.export_pipeline()) for ind in seeds]
    assert isinstance(finals[-1], HistGradientBoostingClassifier)
    assert {type(f).__name__ for f in finals} == {
        "HistGradientBoostingClassifier",
        "RandomForestClassifier",
        "ExtraTreesClassifier",
        "LogisticRegression",
        "KNeighborsClassifier",
    }


def test_seeds_are_the_scikit_learn_defaults():
    space = strong_defaults_space(
        "classification", 500, 12, random_state=0, population_size=POPULATION
    )
    seeds = _generate_population(space, np.random.default_rng(1))[-len(space.seeds) :]
    hgb = _final_estimator(seeds[-1].export_pipeline())
    reference = HistGradientBoostingClassifier(random_state=0)
    for name in ("learning_rate", "max_leaf_nodes", "min_samples_leaf", "max_iter", "max_features"):
        assert hgb.get_params()[name] == reference.get_params()[name], name
    linear = next(
        _final_estimator(s.export_pipeline())
        for s in seeds
        if isinstance(_final_estimator(s.export_pipeline()), LogisticRegression)
    )
    assert linear.C == 1.0


def test_large_tables_leave_knn_out_and_regression_gets_regressors():
    space = strong_defaults_space("regression", 50_000, 12, random_state=None, population_size=8)
    names = {type(_final_estimator(s.export_pipeline())).__name__ for s in space.seeds}
    assert "KNeighborsRegressor" not in names
    assert "RandomForestRegressor" in names
    forest = next(
        _final_estimator(s.export_pipeline())
        for s in space.seeds
        if isinstance(_final_estimator(s.export_pipeline()), RandomForestRegressor)
    )
    assert forest.n_estimators == 50  # above LARGE_ROWS a seed forest starts at half the trees


def test_the_portfolio_follows_the_boosting_defaults_into_the_first_generation():
    from automl_tpot.search_spaces.tuned import portfolio

    configs = portfolio("classification")
    assert configs and all(
        set(c)
        <= {
            "learning_rate",
            "max_leaf_nodes",
            "min_samples_leaf",
            "l2_regularization",
            "max_iter",
            "max_features",
        }
        for c in configs
    )
    space = strong_defaults_space("classification", 500, 12, random_state=0, population_size=30)
    boosting = [
        _final_estimator(s.export_pipeline()).get_params()
        for s in space.seeds
        if isinstance(_final_estimator(s.export_pipeline()), HistGradientBoostingClassifier)
    ]
    for config in configs:
        assert any(all(p[k] == v for k, v in config.items()) for p in boosting), config
    # the default stays the last seed: the first one TPOT scores
    last = _final_estimator(space.seeds[-1].export_pipeline())
    assert last.get_params()["learning_rate"] == 0.1 and last.get_params()["max_iter"] == 100


def test_a_population_smaller_than_the_seeds_keeps_the_default_hgb():
    space = strong_defaults_space(
        "regression", 500, 12, random_state=0, population_size=2, category_blocks=((0, 1, 2),)
    )
    assert len(space.seeds) == 2
    finals = [type(_final_estimator(s.export_pipeline())).__name__ for s in space.seeds]
    assert finals == ["HistGradientBoostingRegressor"] * 2  # native categories, then plain
    assert isinstance(space.seeds[0].export_pipeline(), Pipeline)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), steps=st.integers(1, 15))
def test_mutations_stay_inside_the_space_and_keep_the_estimator(seed, steps):
    space = strong_defaults_space("classification", 500, 12, random_state=0, population_size=6)
    rng = np.random.default_rng(seed)
    individual = space.inner.generate(rng)
    node = individual.node
    tuned = node if isinstance(node, TunedEstimatorIndividual) else node.pipeline[-1]
    method = tuned.method
    for _ in range(steps):
        assert tuned.mutate(rng)
    assert tuned.method is method
    for name, value in tuned.hyperparameters.items():
        hyperparameter = tuned.space[name]
        if hasattr(hyperparameter, "lower"):
            assert hyperparameter.lower <= value <= hyperparameter.upper, name
        else:
            assert value in hyperparameter.choices, name
    clone(individual.export_pipeline())  # a valid, constructible estimator


def _finals(space, seed=0):
    population = [space.generate(np.random.default_rng(seed)) for _ in range(POPULATION)]
    return [ind.export_pipeline() for ind in population[-len(space.seeds) :]]


def test_many_valued_categories_add_a_seeded_native_category_hgb():
    from automl_tpot.model.transformers import CategoryCodes

    blocks = ((3, 4, 5, 6), (7, 8))
    space = strong_defaults_space(
        "regression", 500, 9, random_state=0, population_size=POPULATION, category_blocks=blocks
    )
    seeds = _finals(space)
    native = [p for p in seeds if isinstance(p, Pipeline) and isinstance(p[0], CategoryCodes)]
    assert len(native) == 1
    assert native[0][0].blocks == blocks
    assert type(native[0][-1]).__name__ == "HistGradientBoostingRegressor"
    assert native[0][-1].get_params()["learning_rate"] == 0.1  # at its defaults too
    # binary categories alone do not: trees split them the same either way
    plain = strong_defaults_space(
        "regression", 500, 9, random_state=0, population_size=POPULATION, category_blocks=((7, 8),)
    )
    assert not any(
        isinstance(p, Pipeline) and isinstance(p[0], CategoryCodes) for p in _finals(plain)
    )


def test_balanced_accuracy_starts_the_classifiers_at_balanced_class_weights():
    space = strong_defaults_space(
        "classification", 500, 9, random_state=0, population_size=POPULATION, balanced_classes=True
    )
    weights = {
        type(_final_estimator(p)).__name__: _final_estimator(p).get_params().get("class_weight")
        for p in _finals(space)
    }
    assert weights == {
        "HistGradientBoostingClassifier": "balanced",
        "RandomForestClassifier": "balanced",
        "ExtraTreesClassifier": "balanced",
        "LogisticRegression": "balanced",
        "KNeighborsClassifier": None,  # it takes no class weights
    }
    unbalanced = strong_defaults_space(
        "classification", 500, 9, random_state=0, population_size=POPULATION
    )
    assert all(
        _final_estimator(p).get_params().get("class_weight") is None for p in _finals(unbalanced)
    )


def test_the_auto_preset_weighs_classes_only_for_balanced_accuracy_on_imbalanced_classes():
    from automl_tpot.search_spaces.presets import auto

    def hgb_class_weight(metric, balance):
        context = _three_class_context(n_rows=500, metric=metric, class_balance=balance)
        seeds = _finals(auto(context))
        hgb = [p for p in seeds if isinstance(p, HistGradientBoostingClassifier)]
        return hgb[0].get_params()["class_weight"]

    assert hgb_class_weight("balanced_accuracy", 0.2) == "balanced"
    assert hgb_class_weight("balanced_accuracy", 0.9) is None  # nearly balanced: no-op weights
    assert hgb_class_weight("accuracy", 0.2) is None


def test_a_portfolio_entry_outside_the_space_is_refused():
    from automl_tpot.tpot_boundary.nodes import choice_at_defaults

    space = strong_defaults_space("regression", 500, 12, random_state=0, population_size=4)
    choice, boosting = space.inner, space.inner.search_spaces[0]
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="no hyperparameters"):
        choice_at_defaults(choice, boosting, rng, {"n_estimators": 10})
    with pytest.raises(ValueError, match="outside their ranges"):
        choice_at_defaults(choice, boosting, rng, {"max_iter": 5000})
    seeded = choice_at_defaults(choice, boosting, rng, {"max_iter": 400, "learning_rate": 0.05})
    params = _final_estimator(seeded.export_pipeline()).get_params()
    assert (params["max_iter"], params["learning_rate"]) == (400, 0.05)


def test_tables_larger_than_the_portfolios_own_leave_it_out():
    from automl_tpot.search_spaces.tuned import PORTFOLIO_MAX_ROWS

    def boosting_seeds(n_rows):
        space = strong_defaults_space("regression", n_rows, 12, random_state=0, population_size=30)
        return [
            _final_estimator(s.export_pipeline())
            for s in space.seeds
            if type(_final_estimator(s.export_pipeline())).__name__.startswith("HistGradient")
        ]

    assert len(boosting_seeds(PORTFOLIO_MAX_ROWS)) == 4  # the default and three configurations
    large = boosting_seeds(PORTFOLIO_MAX_ROWS + 1)
    assert len(large) == 1 and large[0].get_params()["max_iter"] == 100


def test_the_anchors_are_the_boosting_seeds_at_their_defaults():
    from automl_tpot.search_spaces import anchor_individuals

    space = strong_defaults_space(
        "classification", 30_000, 12, random_state=0, population_size=POPULATION,
        category_blocks=[(3, 4, 5)],
    )  # fmt: skip
    anchors = anchor_individuals(space)
    assert len(anchors) == 2  # the boosting model, and the one reading native categories
    seeds = {seed.unique_id() for seed in space.seeds}
    assert {anchor.unique_id() for anchor in anchors} <= seeds
    assert all(anchor not in space.seeds for anchor in anchors)  # copies: TPOT may mutate seeds
    plain = _final_estimator(anchors[0].export_pipeline())
    assert isinstance(plain, HistGradientBoostingClassifier)
    reference = HistGradientBoostingClassifier(random_state=0).get_params()
    for name in ("learning_rate", "max_leaf_nodes", "min_samples_leaf", "max_iter", "max_features"):
        assert plain.get_params()[name] == reference[name], name
    assert "CategoryCodes" in str(anchors[1].export_pipeline())
    # a search space that names no anchors has none
    assert anchor_individuals(space.inner) == []


def test_a_large_table_adds_a_boosting_anchor_of_more_capacity_first_never_seeded():
    from automl_tpot.search_spaces import anchor_individuals
    from automl_tpot.search_spaces.tuned import CAPACITY, CAPACITY_ROWS

    def anchors_of(n_rows):
        space = strong_defaults_space(
            "classification", n_rows, 12, random_state=0, population_size=POPULATION,
            balanced_classes=True,
        )  # fmt: skip
        return space, anchor_individuals(space)

    assert len(anchors_of(CAPACITY_ROWS - 1)[1]) == 1
    space, anchors = anchors_of(CAPACITY_ROWS)
    assert len(anchors) == 2
    capacity = _final_estimator(anchors[0].export_pipeline())
    assert isinstance(capacity, HistGradientBoostingClassifier)
    assert {name: capacity.get_params()[name] for name in CAPACITY} == CAPACITY
    # the rest at the space's defaults (the balanced metric's class weights included)
    assert capacity.get_params()["min_samples_leaf"] == 20
    assert capacity.get_params()["class_weight"] == "balanced"
    # the search never spends a sample's evaluation on it
    seeds = {seed.unique_id() for seed in space.seeds}
    assert anchors[0].unique_id() not in seeds and anchors[1].unique_id() in seeds


def test_on_a_table_with_categories_the_capacity_anchor_reads_them_natively():
    from automl_tpot.search_spaces import anchor_individuals
    from automl_tpot.search_spaces.tuned import CAPACITY, CAPACITY_ROWS

    space = strong_defaults_space(
        "regression", CAPACITY_ROWS, 12, random_state=0, population_size=POPULATION,
        category_blocks=[(3, 4, 5)],
    )  # fmt: skip
    capacity = anchor_individuals(space)[0].export_pipeline()
    assert "CategoryCodes" in str(capacity)
    assert isinstance(_final_estimator(capacity), HistGradientBoostingRegressor)
    params = _final_estimator(capacity).get_params()
    assert {name: params[name] for name in CAPACITY} == CAPACITY


def test_a_pipeline_option_is_seeded_through_its_tuned_step_and_refused_outside_its_range():
    from automl_tpot.tpot_boundary.nodes import choice_at_defaults

    space = strong_defaults_space(
        "regression", 500, 12, random_state=0, population_size=4, category_blocks=[(3, 4, 5)]
    )
    choice, native = space.inner, space.inner.search_spaces[1]  # CategoryCodes -> boosting
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"HistGradientBoostingRegressor: \['max_iter'\] outside"):
        choice_at_defaults(choice, native, rng, {"max_iter": 5000})
    seeded = choice_at_defaults(choice, native, rng, {"max_iter": 400})
    assert _final_estimator(seeded.export_pipeline()).get_params()["max_iter"] == 400


def _boosting_models(space, rng):
    """The boosting models among ``space``'s seeds, anchors and freshly generated individuals,
    and those of mutated copies of the generated ones."""
    individuals = [*space.seeds, *space.anchors, *_generate_population(space, rng)]
    for individual in list(individuals[-POPULATION:]):
        mutated = copy.deepcopy(individual)
        mutated.mutate(rng)
        individuals.append(mutated)
    finals = [_final_estimator(i.export_pipeline()) for i in individuals]
    return [f for f in finals if type(f).__name__.startswith("HistGradient")]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_boosting_stops_early_in_every_evaluation_on_a_large_table(task):
    from automl_tpot.search_spaces.tuned import EARLY_STOPPING_ROWS

    rng = np.random.default_rng(0)
    large = strong_defaults_space(
        task, EARLY_STOPPING_ROWS + 1, 12, random_state=0, population_size=POPULATION
    )
    models = _boosting_models(large, rng)
    assert len(models) >= 3  # the default seed, the anchors, generated and mutated ones
    assert {m.get_params()["early_stopping"] for m in models} == {True}
    small = strong_defaults_space(
        task, EARLY_STOPPING_ROWS, 12, random_state=0, population_size=POPULATION
    )
    assert {m.get_params()["early_stopping"] for m in _boosting_models(small, rng)} == {"auto"}


def test_a_class_too_rare_for_early_stopping_leaves_it_to_scikit_learn():
    from automl_tpot.search_spaces.presets import auto
    from automl_tpot.search_spaces.tuned import early_stopping

    assert early_stopping(300_000, None) == {"early_stopping": True}
    assert early_stopping(300_000, 1_000) == {"early_stopping": True}  # 10 per 3,000 rows
    assert early_stopping(300_000, 999) == {}

    def early_stopping(smallest):
        context = _three_class_context(n_rows=300_000, smallest_class_rows=smallest)
        models = _boosting_models(auto(context), np.random.default_rng(0))
        return {m.get_params()["early_stopping"] for m in models}

    assert early_stopping(50_000) == {True}
    assert early_stopping(40) == {"auto"}


def test_the_smallest_class_counts_only_the_classes_present():
    from automl_tpot.search.plan import smallest_class_rows

    assert smallest_class_rows(np.array([0, 0, 2, 2, 2, 1])) == 1
    assert smallest_class_rows(np.array([3, 3, 5])) == 1  # absent class indices do not count


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_large_tables_add_a_lightgbm_model_right_after_the_boosting_defaults(task):
    from automl_tpot.search_spaces.tuned import LIGHTGBM_ROWS

    kind = "Classifier" if task == "classification" else "Regressor"
    finals = _finals(strong_defaults_space(task, LIGHTGBM_ROWS + 1, 12, 0, POPULATION))
    # TPOT scores the seeds from the last: the default boosting model, then LightGBM's
    assert type(_final_estimator(finals[-1])).__name__ == f"HistGradientBoosting{kind}"
    lightgbm = _final_estimator(finals[-2])
    assert type(lightgbm).__name__ == f"LGBM{kind}"
    params = lightgbm.get_params()
    # its defaults, one thread (the worker runs one evaluation per thread), no console output
    assert (params["n_estimators"], params["num_leaves"], params["learning_rate"]) == (100, 31, 0.1)
    assert (params["n_jobs"], params["verbose"], params["random_state"]) == (1, -1, 0)
    # up to LIGHTGBM_ROWS the space has none
    smaller = _finals(strong_defaults_space(task, LIGHTGBM_ROWS, 12, 0, POPULATION))
    assert not any(type(_final_estimator(p)).__name__.startswith("LGBM") for p in smaller)


def test_lightgbm_mutations_stay_inside_its_space():
    from automl_tpot.search_spaces.tuned import LIGHTGBM_ROWS

    space = strong_defaults_space("classification", LIGHTGBM_ROWS + 1, 12, 0, POPULATION)
    rng = np.random.default_rng(3)
    tuned = copy.deepcopy(space.seeds[-2]).node
    assert tuned.method.__name__ == "LGBMClassifier"
    for _ in range(30):
        assert tuned.mutate(rng)
        for name, value in tuned.hyperparameters.items():
            hyperparameter = tuned.space[name]
            if hasattr(hyperparameter, "lower"):
                assert hyperparameter.lower <= value <= hyperparameter.upper, name
    assert tuned.method.__name__ == "LGBMClassifier"
    params = clone(tuned.export_pipeline()).get_params()
    assert (params["n_jobs"], params["verbose"]) == (1, -1)  # the fixed ones stay
