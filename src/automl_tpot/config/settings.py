"""TrainerConfig: every setting of a training run, validated once, in one frozen object.

Settings come from four layers, later ones winning:

    defaults  <  environment (TPOT__* variables)  <  job payload  <  keyword arguments

``TrainerConfig(...)`` alone uses defaults and keyword arguments; :meth:`TrainerConfig.from_env`,
:meth:`TrainerConfig.from_payload` and :meth:`TrainerConfig.from_sources` add the other layers.
Every invalid value raises :class:`~automl_tpot.errors.ConfigError` naming the field, the value
and what is allowed.
"""

from __future__ import annotations

import contextvars
import os
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import attrs
from attrs import define, field

from ..errors import ConfigError, SearchSpaceConfigError
from . import validators as check
from .environment import ENV_VARIABLES, env_variable_for, values_from_env

__all__ = [
    "AUTO_THREADS_UP_TO",
    "ENV_VARIABLES",
    "PAYLOAD_JOB_KEYS",
    "TrainerConfig",
    "default_n_jobs",
]

TASKS = ("auto", "classification", "regression")
PARALLEL_MODES = ("local", "distributed")

#: Payload keys that belong to the job rather than to the training configuration.
PAYLOAD_JOB_KEYS = frozenset({"dataset_id"})


def default_n_jobs() -> int:
    """Local evaluations at once by default: one core left for the scheduler, at most 8."""
    return max(1, min((os.cpu_count() or 1) - 1, 8))


#: With ``worker_threads=None``, up to this many evaluations at once run as threads of one
#: in-process worker. Two threads on two cores, against two worker processes: half the peak
#: memory, the same held-out scores, as many scored pipelines on tables up to 55,000 rows and
#: half as many on larger ones, where an evaluation on a sample is mostly Python and holds the
#: GIL (``benchmarks/RESULTS.md``). More threads were not measured.
AUTO_THREADS_UP_TO = 2


# --- the configuration ------------------------------------------------------------------------


@define(frozen=True, kw_only=True)
class TrainerConfig:
    """All settings of one training run.

    ``TrainerConfig(...)`` takes its keyword arguments and the defaults, and nothing else: it
    does **not** read the ``TPOT__*`` environment variables (it warns once when some are set).
    :meth:`from_env`, :meth:`from_payload` and :meth:`from_sources` read them.

    Values are bounded (``time_left`` and ``per_run_limit`` at most 7 days, ``cluster_wait`` an
    hour, ``n_jobs`` 256, ``population_size`` 10,000, ``memory_limit_mb`` at least 400); what
    depends on the machine (``n_jobs`` against its cores, ``memory_limit_mb`` against its memory)
    and on the table (the metric against the target) is checked before any worker starts.

    Attributes:
        task: ``"classification"``, ``"regression"`` or ``"auto"`` (decided from the target).
        target_column: the column to predict; required by :meth:`Trainer.train`.
        metric: a scikit-learn scorer name or a callable scorer ``f(estimator, X, y)``; ``None``
            picks ``roc_auc`` (binary), ``balanced_accuracy`` (multiclass) or ``r2``.
        generations: generations to evolve at most; ``None`` searches until ``time_left`` runs out.
        population_size: pipelines per generation.
        time_left: seconds for the whole :meth:`Trainer.train` call.
        per_run_limit: seconds for one pipeline evaluation (all its folds); capped by what is
            left of ``time_left``.
        cv: cross-validation folds.
        n_jobs: evaluations at once on the local cluster, as worker processes or threads (see
            ``worker_threads``; default ``min(cpu_count - 1, 8)``, at least 1).
        memory_limit_mb: memory limit of each local worker, in MiB; ``None`` for no limit.
        worker_threads: run the local cluster's ``n_jobs`` evaluations as threads of one
            in-process Dask worker (``True``) instead of worker processes (``False``): no
            process imports scikit-learn and TPOT a second time and the data is held once (peak
            memory about half, the cluster open in a tenth of a second instead of about five),
            at the price of sharing Python's GIL and of a stuck evaluation that cannot be
            killed (a thread that does not stop at its limit runs on in the host's process).
            ``None`` (the default) picks threads for up to ``AUTO_THREADS_UP_TO`` (2)
            evaluations at once without ``memory_limit_mb``, processes otherwise (see
            :attr:`uses_worker_threads`). ``True`` is refused with ``memory_limit_mb``, which
            needs a worker process its nanny can restart.
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

    task: str = field(default="auto", validator=check.one_of(TASKS))
    target_column: str | None = field(default=None, validator=check.optional_text)
    metric: str | Callable[..., float] | None = field(default=None, validator=check.metric)
    generations: int | None = field(default=None, validator=check.int_between(1, optional=True))
    population_size: int = field(
        default=24, validator=check.int_between(2, check.MAX_POPULATION_SIZE)
    )
    time_left: float = field(default=300.0, validator=check.seconds(check.MAX_SECONDS))
    per_run_limit: float = field(default=60.0, validator=check.seconds(check.MAX_SECONDS))
    cv: int = field(default=5, validator=check.int_between(2))
    n_jobs: int = field(factory=default_n_jobs, validator=check.int_between(1, check.MAX_N_JOBS))
    memory_limit_mb: int | None = field(
        default=None, validator=check.int_between(check.MIN_MEMORY_LIMIT_MB, optional=True)
    )
    worker_threads: bool | None = field(default=None, validator=check.optional_boolean)
    parallel_mode: str = field(default="local", validator=check.one_of(PARALLEL_MODES))
    scheduler_file: str | None = field(default=None, validator=check.optional_text)
    parallel_fallback: bool = field(default=True, validator=check.boolean)
    cluster_wait: float = field(default=10.0, validator=check.seconds(check.MAX_CLUSTER_WAIT))
    search_space: Any = field(
        default="auto", converter=check.search_space_value, validator=check.search_space
    )
    feature_groups: Mapping[str, tuple[str, ...]] | None = field(
        default=None, converter=check.feature_groups_value, validator=check.feature_groups
    )
    random_state: int | None = field(default=None, validator=check.random_state)
    leaderboard_k: int = field(default=5, validator=check.int_between(1))
    ensemble: bool = field(default=True, validator=check.boolean)
    explain: bool = field(default=True, validator=check.boolean)
    skops: bool = field(default=False, validator=check.skops)

    def __attrs_post_init__(self) -> None:
        if self.parallel_mode == "distributed" and self.scheduler_file is None:
            raise ConfigError(
                "scheduler_file",
                None,
                "a Dask scheduler file path when parallel_mode is "
                "'distributed' (set TPOT__DASK_SCHEDULER_FILE or scheduler_file)",
            )
        if self.worker_threads is True and self.memory_limit_mb is not None:
            raise ConfigError(
                "worker_threads",
                True,
                "False when memory_limit_mb is set (only a worker process can be restarted by "
                "its nanny when it outgrows the limit): set one of the two",
            )
        check.check_metric_for_task(self.metric, self.task)
        if not _FROM_SOURCES.get():
            _warn_if_environment_ignored()

    @property
    def uses_worker_threads(self) -> bool:
        """Whether a local cluster of this run holds its evaluations as threads of one
        in-process worker: ``worker_threads`` when set, else ``n_jobs`` of at most
        :data:`AUTO_THREADS_UP_TO` and no ``memory_limit_mb``."""
        if self.worker_threads is not None:
            return self.worker_threads
        return self.memory_limit_mb is None and self.n_jobs <= AUTO_THREADS_UP_TO

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
        token = _FROM_SOURCES.set(True)
        try:
            return cls(**values)
        except ConfigError as error:
            if error.source is None and error.field in origin:
                kind = type(error) if type(error) is SearchSpaceConfigError else ConfigError
                raise kind(
                    error.field, error.value, error.allowed, source=origin[error.field]
                ) from None
            raise
        finally:
            _FROM_SOURCES.reset(token)

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


#: Set while :meth:`TrainerConfig.from_sources` builds a config (which reads the environment).
_FROM_SOURCES: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "automl_tpot_config_from_sources", default=False
)
_ENVIRONMENT_WARNING_SHOWN = False


def _warn_if_environment_ignored() -> None:
    """Warn once per process when ``TrainerConfig(...)`` is built while ``TPOT__*`` variables
    are set: it does not read them (only ``from_env``, ``from_payload`` and ``from_sources`` do)."""
    global _ENVIRONMENT_WARNING_SHOWN
    if _ENVIRONMENT_WARNING_SHOWN:
        return
    present = sorted(v for v in ENV_VARIABLES if str(os.environ.get(v, "")).strip())
    if not present:
        return
    _ENVIRONMENT_WARNING_SHOWN = True
    warnings.warn(
        f"TrainerConfig(...) does not read the environment, so {', '.join(present)} "
        f"{'is' if len(present) == 1 else 'are'} ignored here; build the config with "
        "TrainerConfig.from_env(...) (or from_payload / from_sources) to apply "
        f"{'it' if len(present) == 1 else 'them'}",
        UserWarning,
        stacklevel=4,
    )


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
