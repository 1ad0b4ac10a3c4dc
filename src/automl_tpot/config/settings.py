"""TrainerConfig: every setting of a training run, validated once, in one frozen object.

Settings come from four layers, later ones winning:

    defaults  <  environment (TPOT__* variables)  <  job payload  <  keyword arguments

``TrainerConfig(...)`` alone uses defaults and keyword arguments; :meth:`TrainerConfig.from_env`,
:meth:`TrainerConfig.from_payload` and :meth:`TrainerConfig.from_sources` add the other layers.
Every invalid value raises :class:`~automl_tpot.errors.ConfigError` naming the field, the value
and what is allowed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from attrs import define, field

from ..errors import ConfigError
from .environment import ENV_VARIABLES, env_variable_for, values_from_env

__all__ = ["TrainerConfig", "ENV_VARIABLES", "PAYLOAD_JOB_KEYS", "default_n_jobs"]

TASKS = ("auto", "classification", "regression")
PARALLEL_MODES = ("local", "distributed")

#: Payload keys that belong to the job rather than to the training configuration.
PAYLOAD_JOB_KEYS = frozenset({"dataset_id"})


def default_n_jobs() -> int:
    """Local worker processes by default: one core left for the scheduler, at most 8."""
    return max(1, min((os.cpu_count() or 1) - 1, 8))


# --- validators -------------------------------------------------------------------------------


def _one_of(choices: tuple[str, ...]) -> Callable[[Any, attrs.Attribute, Any], None]:
    def check(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value not in choices:
            raise ConfigError(attribute.name, value, "one of " + ", ".join(map(repr, choices)))

    return check


def _int_at_least(minimum: int, *, optional: bool = False):
    def check(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
        if value is None and optional:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            what = f"an integer >= {minimum}" + (" or None" if optional else "")
            raise ConfigError(attribute.name, value, what)

    return check


def _positive_seconds(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, (int, float))
        and math.isfinite(value)
        and value > 0
    )
    if not ok:
        raise ConfigError(attribute.name, value, "a finite number of seconds > 0")


def _boolean(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if not isinstance(value, bool):
        raise ConfigError(attribute.name, value, "True or False")


def _optional_text(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(attribute.name, value, "a non-empty string or None")


def _metric(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
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


def _search_space_value(value: Any) -> Any:
    """Converter: JSON text (``{...}``) or a ``.json`` path becomes the config dict it holds.

    A mapping is copied, so the frozen config cannot change behind its back.
    """
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith(("{", "[")) or text.endswith(".json"):
        from ..errors import SearchSpaceError
        from .config_dict import load_config_dict

        try:
            return load_config_dict(value)
        except SearchSpaceError as error:
            raise ConfigError("search_space", value, f"a valid config dict ({error})") from None
    return value


def _search_space(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    allowed = (
        "a search space name, a config dict (mapping, JSON text or .json path) or a SearchSpace"
    )
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError(attribute.name, value, allowed)
        return
    if isinstance(value, Mapping):
        from ..errors import SearchSpaceError
        from .config_dict import check_config_dict

        try:
            check_config_dict(value)
        except SearchSpaceError as error:
            raise ConfigError(attribute.name, value, f"a valid config dict ({error})") from None
        return
    if value is None or isinstance(value, (int, float, bool, list, tuple, set)):
        raise ConfigError(attribute.name, value, allowed)


def _feature_groups_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in value.items()}
    return value


def _feature_groups(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
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
            raise ConfigError(f"{attribute.name}[{name!r}]", columns, allowed)


def _skops(instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    _boolean(instance, attribute, value)
    if value:
        import importlib.util

        if importlib.util.find_spec("skops") is None:
            allowed = "False, or True with skops installed (pip install 'automl-tpot[skops]')"
            raise ConfigError(attribute.name, value, allowed)


def _random_state(_instance: Any, attribute: attrs.Attribute, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
        raise ConfigError(attribute.name, value, "an integer in [0, 2**32) or None")


# --- the configuration ------------------------------------------------------------------------


@define(frozen=True, kw_only=True)
class TrainerConfig:
    """All settings of one training run.

    Attributes:
        task: ``"classification"``, ``"regression"`` or ``"auto"`` (decided from the target).
        target_column: the column to predict; required by :meth:`Trainer.train`.
        metric: a scikit-learn scorer name or a callable scorer ``f(estimator, X, y)``; ``None``
            picks ``roc_auc`` (binary), ``balanced_accuracy`` (multiclass) or ``r2``.
        generations: generations to evolve at most; ``None`` searches until ``time_left`` runs out.
        population_size: pipelines per generation.
        time_left: seconds for the whole :meth:`Trainer.train` call.
        per_run_limit: seconds for one pipeline evaluation (all its folds).
        cv: cross-validation folds.
        n_jobs: local Dask worker processes (default ``min(cpu_count - 1, 8)``, at least 1).
        memory_limit_mb: memory limit of each local worker, in MiB; ``None`` for no limit.
        parallel_mode: ``"local"`` (a Dask cluster started for the run) or ``"distributed"``
            (an existing scheduler named by ``scheduler_file``).
        scheduler_file: the Dask scheduler file, required by ``"distributed"``.
        parallel_fallback: when the Dask scheduler cannot be reached or has no workers (before
            or during the search), continue on a local one-worker cluster (``True``) or raise
            :class:`~automl_tpot.errors.ClusterError` (``False``).
        cluster_wait: seconds to wait for the scheduler to answer and to have a worker, before
            the search and whenever the cluster stops answering during it.
        search_space: a search space name (see ``automl-tpot spaces list``), a config dict
            (TPOT 0.12 style, values may be ``ConfigurationSpace`` objects; as a mapping, JSON
            text or the path of a ``.json`` file) or a TPOT ``SearchSpace`` object.
        feature_groups: named groups of raw feature columns for the ``fss`` preset; ``None``
            uses the detected numeric and categorical groups.
        random_state: seed for reproducible searches; ``None`` for a fresh one every run.
        leaderboard_k: how many pipelines the leaderboard keeps.
        ensemble: after the search, average the best few pipelines (weights chosen on the
            search's folds) and keep that average when its cross-validated score is higher than
            the best single pipeline's; ``False`` always returns the single best pipeline.
        explain: at the end of the run, within the budget, measure the final model's
            permutation importance on the raw columns and its out-of-fold diagnostics
            (``importance.json``, ``diagnostics.json``); ``False`` skips it.
        skops: also store the model as ``model.skops`` (the skops format, loaded with an
            explicit list of trusted types instead of pickle's code execution; needs the
            ``skops`` extra). ``model.joblib`` is always stored.
    """

    task: str = field(default="auto", validator=_one_of(TASKS))
    target_column: str | None = field(default=None, validator=_optional_text)
    metric: str | Callable[..., float] | None = field(default=None, validator=_metric)
    generations: int | None = field(default=None, validator=_int_at_least(1, optional=True))
    population_size: int = field(default=24, validator=_int_at_least(2))
    time_left: float = field(default=300.0, validator=_positive_seconds)
    per_run_limit: float = field(default=60.0, validator=_positive_seconds)
    cv: int = field(default=5, validator=_int_at_least(2))
    n_jobs: int = field(factory=default_n_jobs, validator=_int_at_least(1))
    memory_limit_mb: int | None = field(default=None, validator=_int_at_least(1, optional=True))
    parallel_mode: str = field(default="local", validator=_one_of(PARALLEL_MODES))
    scheduler_file: str | None = field(default=None, validator=_optional_text)
    parallel_fallback: bool = field(default=True, validator=_boolean)
    cluster_wait: float = field(default=10.0, validator=_positive_seconds)
    search_space: Any = field(
        default="auto", converter=_search_space_value, validator=_search_space
    )
    feature_groups: Mapping[str, tuple[str, ...]] | None = field(
        default=None, converter=_feature_groups_value, validator=_feature_groups
    )
    random_state: int | None = field(default=None, validator=_random_state)
    leaderboard_k: int = field(default=5, validator=_int_at_least(1))
    ensemble: bool = field(default=True, validator=_boolean)
    explain: bool = field(default=True, validator=_boolean)
    skops: bool = field(default=False, validator=_skops)

    def __attrs_post_init__(self) -> None:
        if self.parallel_mode == "distributed" and self.scheduler_file is None:
            raise ConfigError(
                "scheduler_file",
                None,
                "a Dask scheduler file path when parallel_mode is "
                "'distributed' (set TPOT__DASK_SCHEDULER_FILE or scheduler_file)",
            )

    # -- construction from the other layers ----------------------------------------------------

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of every configuration field, in declaration order."""
        return tuple(a.name for a in attrs.fields(cls))

    @classmethod
    def from_sources(
        cls,
        *,
        env: Mapping[str, str] | None = None,
        payload: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> TrainerConfig:
        """Build a config from defaults < ``env`` < ``payload`` < ``overrides``.

        ``env`` defaults to ``os.environ``; pass ``{}`` to ignore the environment.
        """
        origin: dict[str, str] = {}
        values: dict[str, Any] = {}
        env_values = values_from_env(os.environ if env is None else env)
        values.update(env_values)
        origin.update({name: env_variable_for(name) for name in env_values})
        if payload is not None:
            payload_values = _values_from_payload(payload)
            values.update(payload_values)
            origin.update(dict.fromkeys(payload_values, "payload"))
        _reject_unknown(overrides, "keyword argument")
        values.update(overrides)
        origin.update(dict.fromkeys(overrides, "keyword argument"))
        try:
            return cls(**values)
        except ConfigError as error:
            if error.source is None and error.field in origin:
                raise ConfigError(
                    error.field, error.value, error.allowed, source=origin[error.field]
                ) from None
            raise

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> TrainerConfig:
        """Build a config from the ``TPOT__*`` environment variables (and ``overrides``)."""
        return cls.from_sources(env=env, **overrides)

    @classmethod
    def from_payload(
        cls,
        payload: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        **overrides: Any,
    ) -> TrainerConfig:
        """Build a config from a job payload, over the environment, under ``overrides``.

        Job-level keys such as ``dataset_id`` are accepted and ignored here; any other unknown
        key is an error.
        """
        return cls.from_sources(env=env, payload=payload, **overrides)

    # -- serialisation -------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe view; callables and search-space objects appear by name."""
        out: dict[str, Any] = {}
        for name in self.field_names():
            value = getattr(self, name)
            if name == "search_space" and isinstance(value, Mapping):
                value = _config_dict_view(value)
            elif name == "feature_groups" and value is not None:
                value = {k: list(v) for k, v in value.items()}
            elif name in ("metric", "search_space") and not (
                value is None or isinstance(value, str)
            ):
                value = _object_name(value)
            out[name] = value
        return out


def _config_dict_view(config: Mapping[str, Any]) -> dict[str, Any]:
    """A config dict as JSON: ConfigurationSpace values by their hyperparameters' text."""
    out: dict[str, Any] = {}
    for key, params in config.items():
        if isinstance(params, Mapping):
            out[key] = dict(params)
        else:
            out[key] = [str(hp) for hp in params.values()]  # a ConfigurationSpace
    return out


def _object_name(value: Any) -> str:
    name = getattr(value, "__name__", None) or type(value).__name__
    module = getattr(value, "__module__", None) or type(value).__module__
    return f"<{module}.{name}>"


def _reject_unknown(values: Mapping[str, Any], kind: str) -> None:
    known = set(TrainerConfig.field_names())
    for key in values:
        if key not in known:
            raise ConfigError(key, values[key], f"a known {kind}: " + ", ".join(sorted(known)))


def _values_from_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(payload, Mapping):
        raise ConfigError("payload", payload, "a mapping of payload keys to values")
    values = {k: v for k, v in payload.items() if k not in PAYLOAD_JOB_KEYS}
    for key in values:
        if not isinstance(key, str):
            raise ConfigError("payload", key, "string keys")
    known = set(TrainerConfig.field_names())
    for key, value in values.items():
        if key not in known:
            allowed = sorted(known | PAYLOAD_JOB_KEYS)
            raise ConfigError(key, value, "a known payload key: " + ", ".join(allowed))
    return values
