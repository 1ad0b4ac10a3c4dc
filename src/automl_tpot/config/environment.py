"""The ``TPOT__*`` environment variables: which setting each one sets, and how its text is read.

The names are a contract of the host deployment (``shared/spec/mission.md``). Only
:meth:`TrainerConfig.from_env`, :meth:`~TrainerConfig.from_payload` and
:meth:`~TrainerConfig.from_sources` read them; ``TrainerConfig(...)`` alone does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import SearchSpaceConfigError, SearchSpaceError
from ..utils.environment import parse_bool, parse_number
from .config_dict import load_config_dict

__all__ = ["ENV_VARIABLES", "env_variable_for", "values_from_env"]

#: Environment variable -> TrainerConfig field. Names are a contract of the host deployment.
ENV_VARIABLES: dict[str, str] = {
    "TPOT__GENERATIONS": "generations",
    "TPOT__POPULATION_SIZE": "population_size",
    "TPOT_PARALLEL_MODE": "parallel_mode",
    "TPOT__N_JOBS": "n_jobs",
    "TPOT__MEMORY_LIMIT_MB": "memory_limit_mb",
    "TPOT__DASK_SCHEDULER_FILE": "scheduler_file",
    "TPOT__TIME_LEFT": "time_left",
    # A config dict as JSON text or the path of a JSON file; it becomes the search space.
    "TPOT__CONFIG_DICT": "search_space",
    "TPOT__PARALLEL_FALLBACK": "parallel_fallback",
    "TPOT__CLUSTER_WAIT": "cluster_wait",
    "TPOT__ENSEMBLE": "ensemble",
    "TPOT__EXPLAIN": "explain",
}

_INT_FIELDS = frozenset({"generations", "population_size", "n_jobs", "memory_limit_mb"})
_FLOAT_FIELDS = frozenset({"time_left", "cluster_wait"})
_BOOL_FIELDS = frozenset({"parallel_fallback", "ensemble", "explain"})


def env_variable_for(name: str) -> str:
    """The environment variable that sets field ``name``."""
    return next(variable for variable, field_name in ENV_VARIABLES.items() if field_name == name)


def values_from_env(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings ``env`` holds, by field name (blank variables are unset).

    Raises:
        ConfigError: a value cannot be read, naming the field and the variable.
    """
    values: dict[str, Any] = {}
    for variable, name in ENV_VARIABLES.items():
        raw = env.get(variable)
        if raw is None or not str(raw).strip():
            continue
        raw = str(raw).strip()
        if name in _INT_FIELDS or name in _FLOAT_FIELDS:
            values[name] = parse_number(raw, name, variable=variable, integer=name in _INT_FIELDS)
        elif name in _BOOL_FIELDS:
            values[name] = parse_bool(raw, name, variable=variable)
        elif variable == "TPOT__CONFIG_DICT":
            try:
                values[name] = load_config_dict(raw)
            except SearchSpaceError as error:
                allowed = f"a config dict as JSON text or a JSON file path ({error})"
                raise SearchSpaceConfigError(name, raw, allowed, source=variable) from None
        else:
            values[name] = raw
    return values
