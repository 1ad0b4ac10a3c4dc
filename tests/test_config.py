"""TrainerConfig: defaults, validation, and the precedence of its four layers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from automl_tpot import ConfigError, TrainerConfig
from automl_tpot.config import ENV_VARIABLES, default_n_jobs

SPEC_PAYLOAD = {
    "dataset_id": "ds-1",
    "target_column": "Revenue",
    "task": "auto",
    "generations": 40,
    "time_left": 600,
    "per_run_limit": 60,
    "metric": "accuracy",
    "parallel_mode": "distributed",
    "population_size": 32,
}


def test_defaults_are_valid_and_sensible():
    config = TrainerConfig()
    assert config.task == "auto"
    assert config.parallel_mode == "local"
    assert 1 <= config.n_jobs <= 8
    assert config.n_jobs == default_n_jobs()
    assert config.time_left > 0 and config.per_run_limit > 0


def test_spec_payload_is_accepted_with_a_scheduler_file_from_the_environment():
    env = {"TPOT__DASK_SCHEDULER_FILE": "/var/run/tpot/scheduler.json"}
    config = TrainerConfig.from_payload(SPEC_PAYLOAD, env=env)
    assert config.target_column == "Revenue"
    assert config.generations == 40
    assert config.population_size == 32
    assert config.parallel_mode == "distributed"
    assert config.scheduler_file == "/var/run/tpot/scheduler.json"


def test_distributed_without_scheduler_file_is_rejected():
    with pytest.raises(ConfigError) as caught:
        TrainerConfig(parallel_mode="distributed")
    assert caught.value.field == "scheduler_file"
    assert "TPOT__DASK_SCHEDULER_FILE" in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("task", "clustering"),
        ("generations", 0),
        ("generations", 2.5),
        ("generations", True),
        ("population_size", 1),
        ("time_left", 0),
        ("time_left", -5),
        ("time_left", float("inf")),
        ("time_left", "60"),
        ("per_run_limit", 0),
        ("cv", 1),
        ("n_jobs", 0),
        ("memory_limit_mb", 0),
        ("parallel_mode", "cloud"),
        ("metric", "not_a_metric"),
        ("metric", 3),
        ("random_state", -1),
        ("leaderboard_k", 0),
        ("target_column", ""),
        ("search_space", ""),
    ],
)
def test_invalid_values_name_field_value_and_what_is_allowed(field, value):
    with pytest.raises(ConfigError) as caught:
        TrainerConfig(**{field: value})
    error = caught.value
    assert error.field == field
    assert error.value == value or (value != value)  # NaN-safe
    assert field in str(error) and repr(value) in str(error)
    assert error.allowed and error.allowed in str(error)


def test_unknown_payload_key_is_rejected_with_the_known_keys():
    with pytest.raises(ConfigError) as caught:
        TrainerConfig.from_payload({"generatons": 5}, env={})
    assert caught.value.field == "generatons"
    assert "generations" in str(caught.value)


def test_wrong_payload_type_names_the_payload_as_source():
    with pytest.raises(ConfigError) as caught:
        TrainerConfig.from_payload({"population_size": "many"}, env={})
    assert caught.value.field == "population_size"
    assert caught.value.source == "payload"


def test_unknown_keyword_argument_is_rejected():
    with pytest.raises(ConfigError):
        TrainerConfig.from_sources(env={}, colour="blue")


def test_environment_values_are_parsed_and_bad_ones_name_the_variable():
    env = {
        "TPOT__GENERATIONS": "7",
        "TPOT__POPULATION_SIZE": "12",
        "TPOT_PARALLEL_MODE": "local",
        "TPOT__N_JOBS": "3",
        "TPOT__MEMORY_LIMIT_MB": "2048",
        "TPOT__TIME_LEFT": "90.5",
    }
    config = TrainerConfig.from_env(env)
    assert (config.generations, config.population_size, config.n_jobs) == (7, 12, 3)
    assert config.memory_limit_mb == 2048 and config.time_left == 90.5
    with pytest.raises(ConfigError) as caught:
        TrainerConfig.from_env({"TPOT__N_JOBS": "two"})
    assert caught.value.source == "TPOT__N_JOBS"
    with pytest.raises(ConfigError) as caught:
        TrainerConfig.from_env({"TPOT__N_JOBS": "0"})
    assert caught.value.source == "TPOT__N_JOBS" and caught.value.field == "n_jobs"


def test_empty_environment_values_are_ignored():
    assert TrainerConfig.from_env({"TPOT__GENERATIONS": ""}).generations is None


def test_to_dict_is_json_safe_for_callables():
    import json

    def my_scorer(estimator, X, y):
        return 0.0

    data = TrainerConfig(metric=my_scorer).to_dict()
    assert "my_scorer" in data["metric"]
    json.dumps(data)


# -- precedence, as a property -------------------------------------------------------------------

_INT_FIELDS = {
    "generations": ("TPOT__GENERATIONS", st.integers(1, 500)),
    "population_size": ("TPOT__POPULATION_SIZE", st.integers(2, 500)),
    "n_jobs": ("TPOT__N_JOBS", st.integers(1, 64)),
    "memory_limit_mb": ("TPOT__MEMORY_LIMIT_MB", st.integers(400, 10**6)),
}


@st.composite
def layered_values(draw):
    field = draw(st.sampled_from(sorted(_INT_FIELDS)))
    variable, values = _INT_FIELDS[field]
    layers = {
        "env": draw(st.none() | values),
        "payload": draw(st.none() | values),
        "kwargs": draw(st.none() | values),
    }
    return field, variable, layers


@given(layered_values())
def test_precedence_is_defaults_env_payload_kwargs(case):
    field, variable, layers = case
    env = {} if layers["env"] is None else {variable: str(layers["env"])}
    payload = {} if layers["payload"] is None else {field: layers["payload"]}
    kwargs = {} if layers["kwargs"] is None else {field: layers["kwargs"]}
    config = TrainerConfig.from_sources(env=env, payload=payload, **kwargs)
    expected = next(
        (layers[k] for k in ("kwargs", "payload", "env") if layers[k] is not None),
        getattr(TrainerConfig(), field),
    )
    assert getattr(config, field) == expected


def test_every_environment_variable_maps_to_a_field():
    assert set(ENV_VARIABLES.values()) <= set(TrainerConfig.field_names())


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("NO", False),
        ("off", False),
    ],
)
def test_parallel_fallback_is_read_from_the_environment(raw, expected):
    config = TrainerConfig.from_env({"TPOT__PARALLEL_FALLBACK": raw, "TPOT__CLUSTER_WAIT": "2.5"})
    assert config.parallel_fallback is expected and config.cluster_wait == 2.5


def test_bad_fallback_and_cluster_wait_values_are_rejected():
    with pytest.raises(ConfigError) as caught:
        TrainerConfig.from_env({"TPOT__PARALLEL_FALLBACK": "maybe"})
    assert caught.value.source == "TPOT__PARALLEL_FALLBACK"
    with pytest.raises(ConfigError, match="parallel_fallback"):
        TrainerConfig(parallel_fallback="yes")
    with pytest.raises(ConfigError, match="cluster_wait"):
        TrainerConfig(cluster_wait=0)
    assert TrainerConfig().parallel_fallback is True
