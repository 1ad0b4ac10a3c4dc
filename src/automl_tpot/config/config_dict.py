"""The shape of a config dict (TPOT 0.12 style search space): reading it from JSON text or a
file, and checking its structure and hyperparameter ranges without importing any estimator.

Which classes a config dict may name, and whether they take its parameters, is the search
spaces' business (:mod:`automl_tpot.search_spaces.config_dict`); this module only needs
ConfigSpace, so configuration stays cheap to build.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import SearchSpaceError

__all__ = ["check_config_dict", "load_config_dict", "to_configspace"]

_SCALARS = (str, int, float, bool, type(None))
_RANGE_KEYS = {"low", "high", "log", "default"}


def load_config_dict(text: str) -> dict[str, Any]:
    """Parse a config dict given as JSON text or as the path of a JSON file."""
    stripped = text.strip()
    source = "JSON text"
    if not stripped.startswith(("{", "[")):
        path = Path(stripped).expanduser()
        if not path.is_file():
            raise SearchSpaceError(
                f"config dict {stripped!r}: neither a JSON object nor the path of a JSON file"
            )
        source = f"file {str(path)!r}"
        stripped = path.read_text(encoding="utf-8")
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as error:
        raise SearchSpaceError(f"config dict ({source}) is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise SearchSpaceError(
            f"config dict ({source}) must be a JSON object mapping class paths to parameters, "
            f"not {type(value).__name__}"
        )
    return value


def check_config_dict(config: Any) -> None:
    """Check the shape of a config dict without importing anything (cheap, for validation)."""
    from ConfigSpace import ConfigurationSpace

    if not isinstance(config, Mapping) or not config:
        raise SearchSpaceError(
            "a config dict must be a non-empty mapping of class paths to parameters"
        )
    for key, params in config.items():
        if not isinstance(key, str) or not key.strip():
            raise SearchSpaceError(f"config dict key {key!r}: expected a class path string")
        if isinstance(params, ConfigurationSpace):
            continue
        if not isinstance(params, Mapping):
            raise SearchSpaceError(
                f"config dict key {key!r}: expected a mapping of parameters or a "
                f"ConfigSpace.ConfigurationSpace, not {type(params).__name__}"
            )
        for name, spec in params.items():
            _hyperparameter(f"{key}.{name}", str(name), spec)


def _hyperparameter(where: str, name: str, spec: Any) -> Any:
    """One hyperparameter from a dict value; raises naming ``where`` when it cannot be one."""
    from ConfigSpace import Categorical, Constant, Float, Integer

    if isinstance(spec, _SCALARS):
        return Constant(name, spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - _RANGE_KEYS
        if unknown or not {"low", "high"} <= set(spec):
            raise SearchSpaceError(
                f"config dict parameter {where!r}: a range is a mapping with 'low', 'high' and "
                f"optionally 'log', 'default'; got keys {sorted(map(str, spec))}"
            )
        low, high, log = spec["low"], spec["high"], bool(spec.get("log", False))
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if not numbers:
            raise SearchSpaceError(
                f"config dict parameter {where!r}: 'low' and 'high' must be numbers"
            )
        if not low < high:
            raise SearchSpaceError(
                f"config dict parameter {where!r}: empty range, "
                f"low={low!r} is not below high={high!r}"
            )
        if log and low <= 0:
            raise SearchSpaceError(f"config dict parameter {where!r}: a log range needs low > 0")
        kind = Integer if isinstance(low, int) and isinstance(high, int) else Float
        extra = {"default": spec["default"]} if "default" in spec else {}
        try:
            return kind(name, (low, high), log=log, **extra)
        except (ValueError, TypeError) as error:
            raise SearchSpaceError(f"config dict parameter {where!r}: {error}") from None
    if (
        isinstance(spec, (Sequence, range))
        and not isinstance(spec, (str, bytes))
        or hasattr(spec, "tolist")
    ):
        values = list(spec.tolist() if hasattr(spec, "tolist") else spec)
        if not values:
            raise SearchSpaceError(f"config dict parameter {where!r}: empty range (no values)")
        values = [v.item() if hasattr(v, "item") else v for v in values]
        for value in values:
            if not isinstance(value, _SCALARS):
                raise SearchSpaceError(
                    f"config dict parameter {where!r}: values must be strings, numbers, booleans "
                    f"or null, not {type(value).__name__} ({value!r})"
                )
        if len(values) == 1:
            return Constant(name, values[0])
        try:
            return Categorical(name, values)
        except (ValueError, TypeError) as error:
            raise SearchSpaceError(f"config dict parameter {where!r}: {error}") from None
    raise SearchSpaceError(
        f"config dict parameter {where!r}: expected a value, a list of values or a "
        f"{{'low': ..., 'high': ...}} range, not {type(spec).__name__}"
    )


def to_configspace(params: Mapping[str, Any], *, key: str = "") -> Any:
    """The ``ConfigurationSpace`` a config dict's parameter mapping describes."""
    from ConfigSpace import ConfigurationSpace

    space = ConfigurationSpace()
    for name, spec in params.items():
        space.add(_hyperparameter(f"{key}.{name}" if key else str(name), str(name), spec))
    return space
