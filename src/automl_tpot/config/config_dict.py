"""The shape of a config dict (TPOT 0.12 style search space): reading it from JSON text or a
file, checking its structure and hyperparameter ranges, and resolving the class paths that lie
inside the allowlist (:data:`ALLOWED_PACKAGES`) with the parameters their classes take.

So a misspelt ``sklearn.ensemble.RandomForrestClassifier`` or a parameter the class does not
take fails when the configuration is built. Classes a plugin registers are known only to the
search-space registry (:mod:`automl_tpot.search_spaces.config_dict`), which checks those, and
which class serves which task, before any worker starts.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import SearchSpaceError
from ..utils.text import short_repr, shorten

__all__ = [
    "ALLOWED_PACKAGES",
    "check_allowlisted_classes",
    "check_config_dict",
    "check_parameters",
    "load_config_dict",
    "parameter_names",
    "resolve_class",
    "to_configspace",
]

_SCALARS = (str, int, float, bool, type(None))
_RANGE_KEYS = {"low", "high", "log", "default"}


def load_config_dict(text: str) -> dict[str, Any]:
    """Parse a config dict given as JSON text or as the path of a JSON file."""
    stripped = text.strip()
    source = "JSON text"
    if not stripped.startswith(("{", "[")):
        path = Path(stripped).expanduser()
        try:
            is_file = path.is_file()
        except (OSError, ValueError):  # a name too long, a NUL byte: not a file either way
            is_file = False
        if not is_file:
            raise SearchSpaceError(
                f"config dict {short_repr(stripped)}: neither a JSON object nor the path of a "
                "JSON file"
            )
        source = f"file {short_repr(stripped)}"
        try:
            stripped = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SearchSpaceError(f"config dict ({source}) cannot be read: {error}") from None
    try:
        value = json.loads(stripped)
    except (json.JSONDecodeError, RecursionError) as error:
        raise SearchSpaceError(
            f"config dict ({source}) is not valid JSON: {shorten(str(error))}"
        ) from None
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
            raise SearchSpaceError(
                f"config dict key {short_repr(key)}: expected a class path string"
            )
        if isinstance(params, ConfigurationSpace):
            continue
        if not isinstance(params, Mapping):
            raise SearchSpaceError(
                f"config dict key {short_repr(key)}: expected a mapping of parameters or a "
                f"ConfigSpace.ConfigurationSpace, not {type(params).__name__}"
            )
        for name, spec in params.items():
            _hyperparameter(f"{key}.{name}", str(name), spec)


#: Packages whose estimators and transformers config dicts may name.
ALLOWED_PACKAGES = ("sklearn", "xgboost", "lightgbm", "tpot.builtin_modules")

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def _in_allowlist(path: str) -> bool:
    module_name = path.rpartition(".")[0]
    return bool(_DOTTED.match(path)) and any(
        module_name == p or module_name.startswith(p + ".") for p in ALLOWED_PACKAGES
    )


def check_allowlisted_classes(config: Mapping[str, Any]) -> None:
    """Resolve every key of ``config`` inside :data:`ALLOWED_PACKAGES` and check its parameters.

    Keys outside the allowlist may be classes a plugin registers; the search-space registry
    checks those (before any worker starts). Call :func:`check_config_dict` first.
    """
    from ConfigSpace import ConfigurationSpace

    for key, params in config.items():
        if not _in_allowlist(key):
            continue
        cls = resolve_class(key)
        space = (
            params if isinstance(params, ConfigurationSpace) else to_configspace(params, key=key)
        )
        check_parameters(key, cls, list(space))


def resolve_class(path: str, extra_classes: Mapping[str, type] | None = None) -> type:
    """The class ``path`` names, from the allowlist or the plugin-registered classes only."""
    extra = extra_classes or {}
    if path in extra:
        return extra[path]
    allowed = ", ".join(ALLOWED_PACKAGES)
    quoted = short_repr(path)
    outside = (
        f"config dict key {quoted}: classes must come from {allowed}, or be registered by a "
        "plugin (automl_tpot_estimators)"
    )
    if not _DOTTED.match(path):
        registered = ", ".join(sorted(k for k in extra if "." not in k)) or "none"
        raise SearchSpaceError(
            f"{outside}; give a full class path (registered short names: {registered})"
        )
    module_name, _, class_name = path.rpartition(".")
    if not _in_allowlist(path):
        raise SearchSpaceError(outside)
    if class_name.startswith("_"):
        raise SearchSpaceError(f"config dict key {quoted}: private names are not allowed")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SearchSpaceError(
            f"config dict key {quoted}: cannot import {short_repr(module_name)}: "
            f"{shorten(str(error))}"
        ) from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not hasattr(cls, "fit"):
        raise SearchSpaceError(
            f"config dict key {quoted}: {shorten(module_name)} has no estimator or transformer "
            f"class {short_repr(class_name)}"
        )
    return cls


def parameter_names(cls: type) -> set[str] | None:
    """The constructor parameters of ``cls``; ``None`` when it takes any keyword (``**kwargs``).

    xgboost and lightgbm pass extra keywords on to their boosters, so they accept any name.
    """
    try:
        signature = inspect.signature(cls.__init__)  # type: ignore[misc]  # the class's own
    except (TypeError, ValueError):
        signature = None
    if signature is not None and any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()
    ):
        return None
    try:
        return set(cls().get_params(deep=False))
    except Exception:  # estimators are cheap to construct; some need arguments
        pass
    if signature is None:
        return None
    return {name for name in signature.parameters if name != "self"}


def check_parameters(key: str, cls: type, names: Sequence[str]) -> None:
    """Raise naming ``key.name`` for the first of ``names`` that ``cls`` does not take."""
    accepted = parameter_names(cls)
    if accepted is None:
        return
    for name in names:
        if name not in accepted:
            raise SearchSpaceError(
                f"config dict parameter {shorten(f'{key}.{name}')!r}: {cls.__name__} takes no "
                f"parameter {short_repr(name)}; it takes: {', '.join(sorted(accepted))}"
            )


def _hyperparameter(where: str, name: str, spec: Any) -> Any:
    """One hyperparameter from a dict value; raises naming ``where`` when it cannot be one."""
    from ConfigSpace import Categorical, Constant, Float, Integer

    if isinstance(spec, _SCALARS):
        return Constant(name, spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - _RANGE_KEYS
        if unknown or not {"low", "high"} <= set(spec):
            raise SearchSpaceError(
                f"config dict parameter {short_repr(where)}: a range is a mapping with 'low', "
                f"'high' and optionally 'log', 'default'; "
                f"got keys {short_repr(sorted(map(str, spec)))}"
            )
        low, high, log = spec["low"], spec["high"], bool(spec.get("log", False))
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high))
        if not numbers:
            raise SearchSpaceError(
                f"config dict parameter {short_repr(where)}: 'low' and 'high' must be numbers"
            )
        if not low < high:
            raise SearchSpaceError(
                f"config dict parameter {short_repr(where)}: empty range, "
                f"low={low!r} is not below high={high!r}"
            )
        if log and low <= 0:
            raise SearchSpaceError(
                f"config dict parameter {short_repr(where)}: a log range needs low > 0"
            )
        kind = Integer if isinstance(low, int) and isinstance(high, int) else Float
        extra = {"default": spec["default"]} if "default" in spec else {}
        try:
            return kind(name, (low, high), log=log, **extra)
        except (ValueError, TypeError) as error:
            raise SearchSpaceError(f"config dict parameter {short_repr(where)}: {error}") from None
    if (
        isinstance(spec, (Sequence, range))
        and not isinstance(spec, (str, bytes))
        or hasattr(spec, "tolist")
    ):
        values = list(spec.tolist() if hasattr(spec, "tolist") else spec)
        if not values:
            raise SearchSpaceError(
                f"config dict parameter {short_repr(where)}: empty range (no values)"
            )
        values = [v.item() if hasattr(v, "item") else v for v in values]
        for value in values:
            if not isinstance(value, _SCALARS):
                raise SearchSpaceError(
                    f"config dict parameter {short_repr(where)}: values must be strings, numbers, "
                    f"booleans or null, not {type(value).__name__} ({short_repr(value)})"
                )
        if len(values) == 1:
            return Constant(name, values[0])
        try:
            return Categorical(name, values)
        except (ValueError, TypeError) as error:
            raise SearchSpaceError(f"config dict parameter {short_repr(where)}: {error}") from None
    raise SearchSpaceError(
        f"config dict parameter {short_repr(where)}: expected a value, a list of values or a "
        f"{{'low': ..., 'high': ...}} range, not {type(spec).__name__}"
    )


def to_configspace(params: Mapping[str, Any], *, key: str = "") -> Any:
    """The ``ConfigurationSpace`` a config dict's parameter mapping describes."""
    from ConfigSpace import ConfigurationSpace

    space = ConfigurationSpace()
    for name, spec in params.items():
        space.add(_hyperparameter(f"{key}.{name}" if key else str(name), str(name), spec))
    return space
