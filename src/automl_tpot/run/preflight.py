"""The preflight: everything the configuration and the table show, checked before any Dask
process starts and before anything is written.

It checks the search space (a registered name serving the task, ``estimator:NAME`` with a
name that builds, every class and parameter of a config dict, plugin classes included), the
metric against the task and the target (a constant model is scored with it, so ``roc_auc`` on
a regression or multiclass target, or a deviance on targets that are not positive, fail here),
``feature_groups`` against the table's columns, worker counts and memory against this machine,
the scheduler file when a broken one would not fall back, and the storage (writable, and no
complete run under the run id). Every failure is a typed error naming the field, the value
(cut to a bounded length) and what is allowed.

:meth:`Trainer.train <automl_tpot.Trainer.train>`, the job API and the command line call it;
the configuration's own validators (:mod:`automl_tpot.config.validators`) have already held
each value to what the input alone can show.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..cluster.preconditions import scheduler_file_problem
from ..cluster.session import check_main_guard
from ..config import TrainerConfig
from ..config.scorers import EXAMPLE_SCORERS, scorer_task
from ..data import PreparedData
from ..errors import ConfigError, SearchSpaceConfigError, SearchSpaceError
from ..storage import Storage, check_new_run_id
from ..utils.text import short_repr, shorten

__all__ = ["check_metric", "check_search_space", "check_storage_backend", "preflight"]

#: Rows of the target a constant model is scored on when the metric is checked.
METRIC_CHECK_ROWS = 5000


def preflight(
    config: TrainerConfig,
    prepared: PreparedData | None = None,
    *,
    storage: Storage | None = None,
    run_id: str | None = None,
) -> None:
    """Check ``config`` (against ``prepared``, the table, when given), this machine, and the
    ``storage`` a run with ``run_id`` will be written to; start nothing, write nothing.

    Raises:
        ConfigError: a setting that cannot work (the field, the value, what is allowed); also
            :class:`~automl_tpot.errors.StorageConfigError` for the storage and the run id.
        ClusterError: a script that would start local workers without the main guard.
        StorageError: the storage could not be asked (an object store that does not answer).
    """
    task = prepared.task if prepared is not None else config.task
    check_search_space(config.search_space, task, prepared)
    if prepared is not None:
        check_metric(config.metric, prepared)
        _check_feature_groups(config.feature_groups, prepared)
    _check_machine(config)
    _check_scheduler_file(config)
    if storage is not None:
        check = getattr(storage, "check_writable", None)
        if check is not None:
            check()
        if run_id is not None:
            check_new_run_id(storage, run_id)


def check_storage_backend(storage: Any) -> Storage:
    """``storage`` if it is a storage backend (it has the :class:`~automl_tpot.Storage` methods).

    Raises:
        ConfigError: ``storage``, naming what was given.
    """
    if not isinstance(storage, Storage):
        raise ConfigError(
            "storage",
            storage,
            "a storage backend (FilesystemStorage, FsspecStorage, storage_from_url(URL), or any "
            "object with the Storage methods)",
        )
    return storage


# --- the search space -------------------------------------------------------------------------


def check_search_space(spec: Any, task: str, prepared: PreparedData | None = None) -> None:
    """Check a named or config-dict search space for ``task`` (``"auto"``: for either task)
    without fitting anything: the name is registered and serves the task (a parametrised one,
    such as ``estimator:NAME``, is built once for a table of this shape), the config dict's
    classes (plugin classes too) and parameters resolve. Search-space objects pass as they are.

    Raises:
        SearchSpaceConfigError: ``search_space``, naming the value and what is allowed (a
            ``ConfigError`` and a ``SearchSpaceError``).
    """
    from ..plugins import load_registry
    from ..search_spaces.config_dict import config_dict_search_space

    if not isinstance(spec, (str, Mapping)):
        return
    try:
        registry = load_registry()
    except SearchSpaceError as error:
        raise SearchSpaceConfigError(
            "search_space", spec, f"installed search spaces ({error})"
        ) from None
    tasks = ("classification", "regression") if task == "auto" else (task,)
    if isinstance(spec, str):
        try:
            space, argument = registry.get(spec.strip())
        except SearchSpaceError as error:
            raise SearchSpaceConfigError(
                "search_space", spec, f"a registered search space ({error})"
            ) from None
        served = [t for t in tasks if t in space.definition.tasks]
        if not served:
            raise SearchSpaceConfigError(
                "search_space",
                spec,
                f"a search space serving {task} ({short_repr(spec)} serves "
                f"{' and '.join(space.definition.tasks)}, not {task})",
            )
        if space.definition.parametrized:
            try:
                space.definition.build(_context(served[0], prepared), argument)
            except Exception as error:  # a plugin's build may raise anything
                raise SearchSpaceConfigError(
                    "search_space", spec, f"a search space that builds ({_reason(error)})"
                ) from None
        return
    first_error: SearchSpaceError | None = None
    for candidate in tasks:
        try:
            config_dict_search_space(spec, _context(candidate, None), registry.estimators)
            return
        except SearchSpaceError as error:
            first_error = first_error or error
    raise SearchSpaceConfigError(
        "search_space", spec, f"a valid config dict ({first_error})"
    ) from None


def _context(task: str, prepared: PreparedData | None) -> Any:
    """A search context shaped like the table (or a 1,000 x 10 numeric one), one matrix column
    per raw column: enough to build a search space, not to search with it."""
    from ..search_spaces import SearchContext

    if prepared is None:
        numeric: tuple[str, ...] = tuple(f"x{i}" for i in range(10))
        categorical: tuple[str, ...] = ()
        n_rows, n_classes = 1000, 2 if task == "classification" else None
    else:
        types = prepared.feature_types
        numeric = tuple(map(str, types.numeric))
        categorical = tuple(map(str, types.categorical + types.boolean + types.text))
        n_rows = len(prepared.features)
        n_classes = None if prepared.classes is None else len(prepared.classes)
    names = numeric + categorical
    return SearchContext(
        task=task,
        n_rows=n_rows,
        n_features=len(names),
        n_classes=n_classes,
        numeric_columns=numeric,
        categorical_columns=categorical,
        random_state=0,
        column_indices={name: (i,) for i, name in enumerate(names)},
        feature_names=names,
    )


def _check_feature_groups(
    groups: Mapping[str, tuple[str, ...]] | None, prepared: PreparedData
) -> None:
    if not groups:
        return
    used = set(map(str, prepared.feature_types.used))
    for name, columns in groups.items():
        unknown = [c for c in columns if c not in used]
        if unknown:
            dropped = [c for c in unknown if c in prepared.feature_types.dropped]
            why = f" ({', '.join(map(repr, dropped[:5]))} dropped)" if dropped else ""
            raise SearchSpaceConfigError(
                f"feature_groups[{short_repr(name, 60)}]",
                list(columns),
                f"feature columns the model uses{why}; unknown: {short_repr(unknown)}; "
                f"known: {short_repr(sorted(used))}",
            )


# --- the metric -------------------------------------------------------------------------------


def check_metric(metric: Any, prepared: PreparedData) -> None:
    """A scorer name that cannot score this target is an error: one of the other task's, or one
    that fails on a constant model fitted to the target (a binary-only scorer on several
    classes, a deviance on targets that are not positive).

    Raises:
        ConfigError: ``metric``, naming the target and scorers that would work.
    """
    if not isinstance(metric, str):
        return  # None is the task's default; a callable is the user's own
    task = prepared.task
    target = short_repr(prepared.target.name, 100)
    serves = scorer_task(metric)
    if serves is not None and serves != task:
        other = "classification" if task == "regression" else "regression"
        raise ConfigError(
            "metric",
            metric,
            f"a {task} scorer such as {EXAMPLE_SCORERS[task]}: {short_repr(metric)} scores "
            f"{serves}, and target {target} is a {task} target ({prepared.task_reason}; set "
            f"task={other!r} if that is wrong)",
        )
    from sklearn.dummy import DummyClassifier, DummyRegressor
    from sklearn.metrics import get_scorer

    y = _sample(prepared)
    X = np.zeros((len(y), 1))
    model = DummyClassifier() if task == "classification" else DummyRegressor()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            get_scorer(metric)(model.fit(X, y), X, y)
    except Exception as error:
        classes = "" if prepared.classes is None else f" with {len(prepared.classes)} classes"
        raise ConfigError(
            "metric",
            metric,
            f"a scorer target {target} ({task}{classes}) can be scored with, such as "
            f"{EXAMPLE_SCORERS[task]}: scoring a constant model with {short_repr(metric)} "
            f"raised {_reason(error)}",
        ) from None


def _sample(prepared: PreparedData) -> np.ndarray:
    """The target as the search sees it; at most :data:`METRIC_CHECK_ROWS` rows, every class
    kept."""
    y = np.asarray(prepared.y)
    if len(y) <= METRIC_CHECK_ROWS:
        return y
    rng = np.random.default_rng(0)
    picked = rng.choice(len(y), METRIC_CHECK_ROWS, replace=False)
    if prepared.task == "classification":
        firsts = np.unique(y, return_index=True)[1]
        picked = np.union1d(picked, firsts)
    return y[np.sort(picked)]


# --- the machine, the cluster -----------------------------------------------------------------


def _check_machine(config: TrainerConfig) -> None:
    if config.parallel_mode != "local":
        return
    cores = os.cpu_count() or 1
    if config.n_jobs > cores:
        raise ConfigError(
            "n_jobs",
            config.n_jobs,
            f"at most this machine's {cores} cores (os.cpu_count()): each local worker is a "
            "process evaluating one pipeline at a time, so more workers than cores only slow "
            "every evaluation down",
        )
    if config.memory_limit_mb is not None:
        import psutil

        total = psutil.virtual_memory().total // 2**20
        if config.memory_limit_mb > total:
            raise ConfigError(
                "memory_limit_mb",
                config.memory_limit_mb,
                f"at most this machine's {total} MiB of memory (the limit is per worker)",
            )
    if not config.uses_worker_threads:  # threads do not run the main script again
        check_main_guard()


def _check_scheduler_file(config: TrainerConfig) -> None:
    """With the fallback off, a scheduler file that cannot be one is an input error (with it
    on, the session falls back and raises a ``parallel_fallback`` alert; a file that does not
    exist yet is the cluster's business either way)."""
    if config.parallel_mode != "distributed" or config.parallel_fallback:
        return
    problem = scheduler_file_problem(config.scheduler_file or "")
    if problem is not None and problem != "does not exist":
        raise ConfigError(
            "scheduler_file",
            config.scheduler_file,
            f"a Dask scheduler file (JSON with the scheduler's 'address'); this one {problem}",
        )


def _reason(error: BaseException) -> str:
    return f"{type(error).__name__}: {shorten(str(error))}"
