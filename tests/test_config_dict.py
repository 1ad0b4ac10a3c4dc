"""Config dicts and ConfigSpace objects as search spaces; TPOT__CONFIG_DICT and the payload."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ConfigSpace import Categorical, ConfigurationSpace, Constant, Float, Integer
from hypothesis import given, settings
from hypothesis import strategies as st
from tpot.search_spaces.pipelines import ChoicePipeline, SequentialPipeline

from automl_tpot import TrainerConfig
from automl_tpot.errors import ConfigError, SearchSpaceError
from automl_tpot.search_spaces import resolve_search_space
from automl_tpot.search_spaces.config_dict import (
    config_dict_search_space,
    load_config_dict,
    to_configspace,
)

from .conftest import prepared_context

RF = "sklearn.ensemble.RandomForestClassifier"
LR = "sklearn.linear_model.LogisticRegression"

CONFIG = {
    RF: {
        "n_estimators": [20],
        "max_features": [0.25, 0.5, 1.0],
        "min_samples_leaf": {"low": 1, "high": 10},
        "criterion": "gini",
    },
    LR: {"C": {"low": 0.01, "high": 10.0, "log": True}, "max_iter": [500]},
}

EQUIVALENT = {
    RF: ConfigurationSpace(
        {
            "n_estimators": Constant("n_estimators", 20),
            "max_features": Categorical("max_features", [0.25, 0.5, 1.0]),
            "min_samples_leaf": Integer("min_samples_leaf", (1, 10)),
            "criterion": Constant("criterion", "gini"),
        }
    ),
    LR: ConfigurationSpace(
        {
            "C": Float("C", (0.01, 10.0), log=True),
            "max_iter": Constant("max_iter", 500),
        }
    ),
}


@pytest.fixture(scope="module")
def classification():
    return prepared_context("classification", n_rows=90)


def sampled(space, X, y, seeds):
    out = []
    for seed in seeds:
        pipeline = space.generate(np.random.default_rng(seed)).export_pipeline()
        pipeline.fit(X, y)
        out.append((type(pipeline).__name__, pipeline.get_params(deep=False)))
    return out


def test_config_dict_and_configspace_give_equivalent_spaces(classification):
    X, y, context = classification
    from_dict = resolve_search_space(CONFIG, context)
    from_configspace = resolve_search_space(EQUIVALENT, context)
    assert isinstance(from_dict, ChoicePipeline) and isinstance(from_configspace, ChoicePipeline)
    for a, b in zip(from_dict.search_spaces, from_configspace.search_spaces, strict=True):
        assert a.method is b.method
        assert a.space == b.space
    assert to_configspace(CONFIG[RF]) == EQUIVALENT[RF]
    # and they sample the same pipelines
    assert sampled(from_dict, X, y, range(4)) == sampled(from_configspace, X, y, range(4))


def test_json_text_and_file_give_the_same_dict(tmp_path):
    text = json.dumps(CONFIG)
    path = tmp_path / "space.json"
    path.write_text(text)
    assert load_config_dict(text) == load_config_dict(str(path)) == CONFIG


def test_transformers_form_a_stage_in_front(classification):
    X, y, context = classification
    space = resolve_search_space(
        {
            "sklearn.preprocessing.StandardScaler": {},
            "sklearn.decomposition.PCA": {"n_components": [2, 3]},
            "sklearn.naive_bayes.GaussianNB": {},
        },
        context,
    )
    assert isinstance(space, SequentialPipeline)
    names = {
        type(p.steps[0][1]).__name__
        for p in (space.generate(np.random.default_rng(s)).export_pipeline() for s in range(12))
    }
    assert names <= {"StandardScaler", "PCA", "Passthrough"} and len(names) >= 2


def test_estimators_for_the_other_task_are_skipped_or_rejected():
    _, _, regression = prepared_context("regression", n_rows=60)
    both = {RF: {}, "sklearn.linear_model.Ridge": {"alpha": [1.0, 2.0]}}
    space = resolve_search_space(both, regression)
    assert [node.method.__name__ for node in space.search_spaces] == ["Ridge"]
    with pytest.raises(SearchSpaceError, match="no regressor.*RandomForestClassifier"):
        resolve_search_space({RF: {}}, regression)


@pytest.mark.parametrize(
    "config, offending",
    [
        ({"os.system": {}}, "'os.system'"),
        ({"builtins.eval": {}}, "'builtins.eval'"),
        ({"subprocess.Popen": {"args": ["ls"]}}, "'subprocess.Popen'"),
        ({"sklearnx.ensemble.Forest": {}}, "'sklearnx.ensemble.Forest'"),
        ({"__import__('os')": {}}, r"__import__\('os'\)"),
        ({"sklearn.ensemble.NoSuchForest": {}}, "'sklearn.ensemble.NoSuchForest'"),
        ({"sklearn.nowhere.Thing": {}}, "'sklearn.nowhere.Thing'"),
        ({"sklearn.utils.check_array": {}}, "'sklearn.utils.check_array'"),
        ({RF: {"n_trees": [10]}}, f"'{RF}.n_trees'"),
        ({RF: {"n_estimators": []}}, f"'{RF}.n_estimators'.*empty range"),
        ({RF: {"max_depth": {"low": 5, "high": 5}}}, f"'{RF}.max_depth'.*empty range"),
        ({RF: {"max_depth": {"low": 9, "high": 2}}}, f"'{RF}.max_depth'.*empty range"),
        ({RF: {"max_depth": {"low": 1}}}, f"'{RF}.max_depth'"),
        ({RF: {"max_depth": [[1, 2]]}}, f"'{RF}.max_depth'"),
        ({RF: ConfigurationSpace({"n_trees": (1, 5)})}, f"'{RF}.n_trees'"),
        ({RF: "not parameters"}, f"'{RF}'"),
    ],
)
def test_bad_config_dicts_are_rejected_naming_the_key(config, offending, classification):
    _, _, context = classification
    with pytest.raises(SearchSpaceError, match=offending):
        config_dict_search_space(config, context)


def test_nothing_outside_the_allowlist_is_imported(classification):
    import sys

    _, _, context = classification
    name = "antigravity"  # importing it opens a web browser
    with pytest.raises(SearchSpaceError):
        config_dict_search_space({f"{name}.fly": {}}, context)
    assert name not in sys.modules


def test_env_payload_and_keyword_precedence(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(CONFIG))
    env = {"TPOT__CONFIG_DICT": str(path)}
    assert TrainerConfig.from_env(env=env).search_space == CONFIG
    assert (
        TrainerConfig.from_env(env={"TPOT__CONFIG_DICT": json.dumps(CONFIG)}).search_space == CONFIG
    )
    payload = {"search_space": {RF: {"n_estimators": [5]}}}
    assert TrainerConfig.from_payload(payload, env=env).search_space == payload["search_space"]
    assert (
        TrainerConfig.from_payload(payload, env=env, search_space="choice").search_space == "choice"
    )
    # the payload may carry JSON text or a path too
    text = TrainerConfig.from_payload({"search_space": json.dumps(CONFIG)}, env={})
    assert text.search_space == CONFIG
    assert TrainerConfig.from_payload({"search_space": str(path)}, env={}).search_space == CONFIG
    assert TrainerConfig.from_env(env=env).to_dict()["search_space"] == CONFIG


@pytest.mark.parametrize(
    "raw, fragment",
    [
        ("linear-light", "neither a JSON object nor the path"),
        ("{not json", "not valid JSON"),
        ("/no/such/file.json", "neither a JSON object"),
    ],
)
def test_bad_env_config_dict_names_the_variable(raw, fragment):
    with pytest.raises(ConfigError, match=f"TPOT__CONFIG_DICT.*{fragment}"):
        TrainerConfig.from_env(env={"TPOT__CONFIG_DICT": raw})


def test_config_rejects_malformed_dicts_early():
    with pytest.raises(ConfigError, match="search_space.*empty range"):
        TrainerConfig(search_space={RF: {"n_estimators": []}})
    with pytest.raises(ConfigError, match="search_space"):
        TrainerConfig(search_space={})
    with pytest.raises(ConfigError, match="search_space.*must be a JSON object.*not list"):
        TrainerConfig.from_payload({"search_space": '["a"]'}, env={})


_scalar = st.one_of(
    st.integers(-1000, 1000),
    st.floats(-1e3, 1e3, allow_nan=False),
    st.text(min_size=1, max_size=8),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(_scalar, min_size=1, max_size=5, unique_by=lambda v: (type(v), v)),
    low=st.integers(-100, 100),
    width=st.integers(1, 100),
)
def test_dict_hyperparameters_match_configspace(values, low, width):
    values = [v for i, v in enumerate(values) if all(v != w for w in values[:i])]
    params = {
        "choice": values,
        "ints": {"low": low, "high": low + width},
        "floats": {"low": float(low), "high": float(low + width)},
    }
    expected = ConfigurationSpace()
    expected.add(
        Constant("choice", values[0]) if len(values) == 1 else Categorical("choice", values)
    )
    expected.add(Integer("ints", (low, low + width)))
    expected.add(Float("floats", (float(low), float(low + width))))
    assert to_configspace(params) == expected
    json_round_trip = json.loads(json.dumps(params))
    assert to_configspace(json_round_trip) == expected


@pytest.mark.parametrize(
    "package, key, params",
    [
        ("xgboost", "xgboost.XGBClassifier", {"n_estimators": [10], "max_depth": [2, 3]}),
        ("lightgbm", "lightgbm.LGBMClassifier", {"n_estimators": [10], "verbose": [-1]}),
    ],
)
def test_allowlisted_boosting_libraries(package, key, params, classification):
    pytest.importorskip(package)
    X, y, context = classification
    space = config_dict_search_space({key: params}, context)
    assert sampled(space, X, y, range(2))


def test_only_tpots_builtin_modules_are_allowed(classification):
    _, _, context = classification
    space = config_dict_search_space(
        {"tpot.builtin_modules.ZeroCount": {}, "sklearn.naive_bayes.GaussianNB": {}}, context
    )
    assert isinstance(space, SequentialPipeline)
    with pytest.raises(SearchSpaceError, match="'tpot.TPOTEstimator'"):
        config_dict_search_space({"tpot.TPOTEstimator": {}}, context)


_param_spec = st.one_of(
    st.lists(st.integers(1, 50), min_size=1, max_size=4, unique=True),
    st.integers(1, 20).map(lambda low: {"low": low, "high": low + 5}),
    st.sampled_from(["sqrt", "log2"]),
)


@settings(max_examples=25, deadline=None)
@given(
    config=st.dictionaries(
        st.sampled_from([RF, "sklearn.ensemble.ExtraTreesClassifier"]),
        st.dictionaries(st.sampled_from(["n_estimators", "max_depth"]), _param_spec, max_size=2),
        min_size=1,
    ),
    as_file=st.booleans(),
)
def test_config_dicts_survive_env_payload_and_run_json(config, as_file, tmp_path_factory):
    text = json.dumps(config)
    if as_file:
        path = tmp_path_factory.mktemp("spaces") / "space.json"
        path.write_text(text)
        text = str(path)
    from_env = TrainerConfig.from_env(env={"TPOT__CONFIG_DICT": text})
    from_payload = TrainerConfig.from_payload({"search_space": text}, env={})
    assert from_env.search_space == from_payload.search_space == config
    assert json.loads(json.dumps(from_env.to_dict()))["search_space"] == config
