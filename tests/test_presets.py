"""Built-in presets: every one builds, for each task it declares, pipelines that fit and predict
on real data with a categorical column and missing values, without any FutureWarning.

Sampling and fitting pipelines directly keeps these fast; the Trainer runs of every preset are
in ``test_trainer_search_spaces.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from automl_tpot.errors import SearchSpaceError
from automl_tpot.plugins import load_registry
from automl_tpot.search_spaces import describe_search_space, resolve_search_space
from automl_tpot.search_spaces.catalog import ESTIMATOR_NAMES
from automl_tpot.search_spaces.presets import feature_groups

from .conftest import TABLES, TARGET, prepared_context

REGISTRY = load_registry()
PRESETS = [
    (name, task)
    for name, space in sorted(REGISTRY.spaces.items())
    if space.distribution == "automl-tpot" and not space.definition.parametrized
    for task in space.definition.tasks
]
SAMPLES = 4


@pytest.fixture(scope="module")
def contexts():
    return {task: prepared_context(task, n_rows=120) for task in TABLES}


def fit_samples(space, X, y, seeds) -> list:
    """Generate, mutate, fit and predict pipelines; FutureWarnings are errors."""
    pipelines = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        individual = space.generate(rng)
        for _ in range(2):
            with warnings.catch_warnings(), threadpool_limits(1):  # 2 shared CPU cores in CI
                warnings.simplefilter("error", FutureWarning)
                warnings.simplefilter("ignore", UserWarning)  # networkx's hash notice
                pipeline = individual.export_pipeline()
                pipeline.fit(X, y)
                predictions = pipeline.predict(X)
            assert len(predictions) == len(y)
            pipelines.append(pipeline)
            individual.mutate(rng)
    return pipelines


def test_every_builtin_declares_its_tasks():
    assert ("symbolic-regression", "regression") in PRESETS
    assert ("symbolic-classification", "classification") in PRESETS
    assert ("symbolic-regression", "classification") not in PRESETS
    assert {name for name, _ in PRESETS} >= {"linear", "linear-light", "graph", "choice", "fss"}


@pytest.mark.parametrize("name, task", PRESETS)
def test_preset_pipelines_fit_and_predict_without_future_warnings(name, task, contexts):
    X, y, context = contexts[task]
    space = resolve_search_space(name, context, REGISTRY)
    fit_samples(space, X, y, range(SAMPLES))
    assert describe_search_space(space)


@pytest.mark.parametrize("task", sorted(TABLES))
@pytest.mark.parametrize("name", ["RandomForest", "KNeighbors", "DecisionTree"])
def test_estimator_preset_by_catalog_name(name, task, contexts):
    X, y, context = contexts[task]
    suffix = "Classifier" if task == "classification" else "Regressor"
    for spec in (f"estimator:{name}", f"estimator:{name}{suffix}"):
        space = resolve_search_space(spec, context, REGISTRY)
        assert space.method.__name__ == name + suffix
        fit_samples(space, X, y, range(2))


def test_estimator_preset_task_specific_and_class_paths(contexts):
    X, y, context = contexts["classification"]
    space = resolve_search_space("estimator:LogisticRegression", context, REGISTRY)
    fit_samples(space, X, y, range(3))
    space = resolve_search_space("estimator:sklearn.naive_bayes.GaussianNB", context, REGISTRY)
    fit_samples(space, X, y, range(1))
    with pytest.raises(SearchSpaceError, match="serves regression"):
        resolve_search_space("estimator:Ridge", context, REGISTRY)
    with pytest.raises(SearchSpaceError, match="for regressors"):
        resolve_search_space("estimator:RandomForestRegressor", context, REGISTRY)
    with pytest.raises(SearchSpaceError, match="unknown estimator 'Magic'.*RandomForest"):
        resolve_search_space("estimator:Magic", context, REGISTRY)
    with pytest.raises(SearchSpaceError, match="'os.system'"):
        resolve_search_space("estimator:os.system", context, REGISTRY)
    with pytest.raises(SearchSpaceError, match="'sklearn.svm.SVR' is a regressor"):
        resolve_search_space("estimator:sklearn.svm.SVR", context, REGISTRY)
    assert set(ESTIMATOR_NAMES) >= {"HistGradientBoosting", "RandomForest", "ExtraTrees"}


def test_symbolic_preset_rejects_the_other_task(contexts):
    _, _, context = contexts["classification"]
    with pytest.raises(SearchSpaceError, match="serves regression, not classification"):
        resolve_search_space("symbolic-regression", context, REGISTRY)


def test_fss_default_groups_map_raw_columns_to_preprocessed_indices(contexts):
    X, y, context = contexts["classification"]
    groups = feature_groups(context)
    assert set(groups) == {"numeric", "categorical", "all"}
    assert groups["all"] == list(range(X.shape[1]))
    # 'band' is one-hot encoded with a missing category: 4 columns, all in the categorical group
    assert groups["categorical"] == list(context.column_indices["band"])
    assert len(groups["categorical"]) == 4
    assert sorted(groups["numeric"] + groups["categorical"]) == groups["all"]
    names = [context.feature_names[i] for i in groups["categorical"]]
    assert all(name.startswith("categorical__band_") for name in names)


def test_fss_uses_configured_groups(task):
    table = TABLES[task]()
    first, second = (str(c) for c in table.columns[:2])
    X, y, context = prepared_context(
        task, n_rows=120, feature_groups={"size": [first, second], "band": ["band"]}
    )
    groups = feature_groups(context)
    assert set(groups) == {"size", "band", "all"}
    # the second column has gaps, so it has a missing-value indicator column too
    assert len(groups["size"]) == 3
    assert groups["band"] == list(context.column_indices["band"])
    space = resolve_search_space("fss", context, REGISTRY)
    selected = set()
    for pipeline in fit_samples(space, X, y, range(3)):
        selected.add(pipeline.steps[0][1].name)
    assert selected <= {"size", "band", "all"} and selected


def test_fss_rejects_unknown_columns_and_a_single_group():
    _, _, context = prepared_context("regression", feature_groups={"g": ["no-such-column"]})
    with pytest.raises(SearchSpaceError, match="feature group 'g'.*'no-such-column'"):
        resolve_search_space("fss", context, REGISTRY)
    _, _, context = prepared_context("regression", feature_groups={"all": ["band"]})
    with pytest.raises(SearchSpaceError, match="at least one group besides 'all'"):
        resolve_search_space("fss", context, REGISTRY)


def test_presets_are_sized_to_the_data():
    _, _, small = prepared_context("classification", n_rows=30)
    node = resolve_search_space("estimator:KNeighbors", small, REGISTRY)
    assert node.space["n_neighbors"].upper <= 30 // 2
    _, _, larger = prepared_context("classification", n_rows=200)
    assert (
        resolve_search_space("estimator:KNeighbors", larger, REGISTRY).space["n_neighbors"].upper
        > node.space["n_neighbors"].upper
    )


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1), task=st.sampled_from(sorted(TABLES)))
def test_default_preset_never_emits_future_warnings(seed, task, contexts):
    X, y, context = contexts[task]
    space = resolve_search_space("linear-light", context, REGISTRY)
    fit_samples(space, X, y, [seed])


def test_tables_have_categorical_columns_and_gaps():
    for make in TABLES.values():
        table = make()
        assert table.drop(columns=TARGET).isna().any().any()
        assert table["band"].dtype == object


@pytest.mark.parametrize("task", sorted(TABLES))
def test_the_catalog_boosting_model_stops_early_on_a_large_table(task):
    import attrs

    from automl_tpot.search_spaces.tuned import EARLY_STOPPING_ROWS

    _, _, context = prepared_context(task, n_rows=120)

    def early_stopping(n_rows):
        sized = attrs.evolve(context, n_rows=n_rows)
        space = resolve_search_space("estimator:HistGradientBoosting", sized, REGISTRY)
        return space.generate(np.random.default_rng(0)).export_pipeline().early_stopping

    assert early_stopping(EARLY_STOPPING_ROWS + 1) is True
    assert early_stopping(EARLY_STOPPING_ROWS) == "auto"
