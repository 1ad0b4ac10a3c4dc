"""The validators and converters of :class:`~automl_tpot.config.TrainerConfig`'s fields, and
the bounds they hold values to.

Each raises :class:`~automl_tpot.errors.ConfigError` naming the field, the value (cut to a
bounded length) and what is allowed. The bounds are sanity limits on what the input alone can
show; what depends on the machine (its cores, its memory) is checked by the preflight
(:mod:`automl_tpot.run.preflight`) before any worker starts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ..errors import ConfigError, SearchSpaceConfigError, SearchSpaceError

__all__ = [
    "MAX_CLUSTER_WAIT",
    "MAX_N_JOBS",
    "MAX_POPULATION_SIZE",
    "MAX_SECONDS",
    "MIN_MEMORY_LIMIT_MB",
]

#: Longest ``time_left`` and ``per_run_limit``: 7 days. A larger value is a typo (or 1e12,
#: whose deadlines overflow the clocks the search and the ensemble stage compute with).
MAX_SECONDS = 7 * 24 * 3600.0
#: Longest ``cluster_wait``: an hour.
MAX_CLUSTER_WAIT = 3600.0
#: Most local worker processes any machine is given (the preflight also holds ``n_jobs`` to
#: the machine's cores).
MAX_N_JOBS = 256
#: Largest ``population_size``: TPOT builds and evaluates the whole first generation at once.
MAX_POPULATION_SIZE = 10_000
#: Smallest ``memory_limit_mb``: a Dask worker with scikit-learn and TPOT loaded holds about
#: 300 MiB before it evaluates anything, and Dask restarts it at 95 % of its limit.
MIN_MEMORY_LIMIT_MB = 400

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def one_of(choices: tuple[str, ...]) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise ConfigError(attribute.name, value, "one of " + ", ".join(map(repr, choices)))

    return check


def int_between(minimum: int, maximum: int | None = None, *, optional: bool = False) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is None and optional:
            return
        ok = not isinstance(value, bool) and isinstance(value, int) and value >= minimum
        if ok and (maximum is None or value <= maximum):
            return
        what = (
            f"an integer >= {minimum}"
            if maximum is None
            else f"an integer from {minimum} to {maximum}"
        )
        raise ConfigError(attribute.name, value, what + (" or None" if optional else ""))

    return check


def seconds(maximum: float) -> Validator:
    def check(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        ok = (
            not isinstance(value, bool)
            and isinstance(value, (int, float))
            and math.isfinite(value)
            and 0 < value <= maximum
        )
        if not ok:
            raise ConfigError(
                attribute.name, value, f"a finite number of seconds > 0 and <= {maximum:g}"
            )

    return check


def boolean(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(attribute.name, value, "True or False")


def optional_boolean(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and not isinstance(value, bool):
        raise ConfigError(attribute.name, value, "True, False or None")


def optional_text(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(attribute.name, value, "a non-empty string or None")


def metric(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None or callable(value):
        return
    if not isinstance(value, str):
        raise ConfigError(attribute.name, value, "a scikit-learn scorer name, a callable or None")
    from sklearn.metrics import get_scorer_names  # deferred: scikit-learn is slow to import

    names = get_scorer_names()
    if value not in names:
        raise ConfigError(
            attribute.name,
            value,
            "a scikit-learn scorer name such as 'roc_auc', "
            "'balanced_accuracy', 'accuracy', 'neg_log_loss', 'r2' or 'neg_mean_squared_error'",
        )


def check_metric_for_task(value: Any, task: str) -> None:
    """A scorer name that cannot serve an explicitly given task is an error."""
    from .scorers import EXAMPLE_SCORERS, scorer_task

    if not isinstance(value, str) or task == "auto":
        return
    serves = scorer_task(value)
    if serves is not None and serves != task:
        raise ConfigError(
            "metric",
            value,
            f"a {task} scorer such as {EXAMPLE_SCORERS[task]} ({value!r} scores {serves} and "
            f"task is {task!r})",
        )


def search_space_value(value: Any) -> Any:
    """Converter: JSON text (``{...}``) or a ``.json`` path becomes the config dict it holds.

    A mapping is copied, so the frozen config cannot change behind its back.
    """
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith(("{", "[")) or text.endswith(".json"):
        from .config_dict import load_config_dict

        try:
            return load_config_dict(value)
        except SearchSpaceError as error:
            raise SearchSpaceConfigError(
                "search_space", value, f"a valid config dict ({error})"
            ) from None
    return value


def search_space(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    allowed = (
        "a search space name, a config dict (mapping, JSON text or .json path) or a SearchSpace"
    )
    if isinstance(value, str):
        if not value.strip():
            raise SearchSpaceConfigError(attribute.name, value, allowed)
        return
    if isinstance(value, Mapping):
        from .config_dict import check_allowlisted_classes, check_config_dict

        try:
            check_config_dict(value)
            check_allowlisted_classes(value)
        except SearchSpaceError as error:
            raise SearchSpaceConfigError(
                attribute.name, value, f"a valid config dict ({error})"
            ) from None
        return
    if value is None or isinstance(value, (int, float, bool, list, tuple, set, bytes)):
        raise SearchSpaceConfigError(attribute.name, value, allowed)


def feature_groups_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in value.items()}
    return value


def feature_groups(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    allowed = "None or a non-empty mapping of group names to non-empty lists of column names"
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(attribute.name, value, allowed)
    for name, columns in value.items():
        ok = (
            isinstance(name, str)
            and name.strip()
            and isinstance(columns, tuple)
            and columns
            and all(isinstance(c, str) and c for c in columns)
        )
        if not ok:
            from ..utils.text import short_repr

            raise ConfigError(f"{attribute.name}[{short_repr(name, 60)}]", columns, allowed)


def random_state(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise ConfigError(attribute.name, value, "an integer in [0, 2**32) or None")


def skops(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    """A boolean; ``True`` needs the ``skops`` extra installed."""
    boolean(instance, attribute, value)
    if value:
        import importlib.util

        if importlib.util.find_spec("skops") is None:
            allowed = "False, or True with skops installed (pip install 'automl-tpot[skops]')"
            raise ConfigError(attribute.name, value, allowed)
