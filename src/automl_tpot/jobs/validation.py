"""Checking a job before any training: the payload, the search space it names, the dataset.

Everything here fails with :class:`~automl_tpot.errors.ConfigError` or
:class:`~automl_tpot.errors.DataError`, which the job API turns into ``JobRejected``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..config import TrainerConfig
from ..data import load_table
from ..errors import ConfigError, DataError, SearchSpaceError

__all__ = ["LoadDataset", "check_search_space", "read_dataset", "validate_payload"]

#: The host's loader: ``load_dataset(dataset_id) -> DataFrame`` (or a CSV / Parquet path).
LoadDataset = Callable[[Any], Any]


def validate_payload(
    payload: Any, *, env: Mapping[str, str] | None = None, **overrides: Any
) -> tuple[TrainerConfig, Any]:
    """Check a job payload without loading data; return its configuration and ``dataset_id``.

    Checks what can be checked from the payload alone: known keys and their types (through
    :meth:`TrainerConfig.from_payload`), a ``dataset_id`` and a ``target_column``, that a
    search space named by the payload is registered, and that a config dict's classes and
    parameters resolve (for the task, when it is given).

    Raises:
        ConfigError: naming the payload key, the value and what is allowed.
    """
    if not isinstance(payload, Mapping):
        raise ConfigError("payload", payload, "a mapping of payload keys to values")
    dataset_id = payload.get("dataset_id")
    if (
        dataset_id is None
        or isinstance(dataset_id, bool)
        or not isinstance(dataset_id, (str, int))
        or (isinstance(dataset_id, str) and not dataset_id.strip())
    ):
        raise ConfigError(
            "dataset_id", dataset_id, "a dataset identifier (a non-empty string or an integer)"
        )
    config = TrainerConfig.from_payload(payload, env=env, **overrides)
    if config.target_column is None:
        raise ConfigError("target_column", None, "the name of the column to predict")
    check_search_space(config.search_space, config.task)
    return config, dataset_id


def check_search_space(spec: Any, task: str) -> None:
    """Check a named or config-dict search space for ``task`` (``"auto"``: for either task)
    without any data: the name is registered, the config dict's classes and parameters resolve.
    Search-space objects are taken as they are."""
    from ..plugins import load_registry
    from ..search_spaces import SearchContext
    from ..search_spaces.config_dict import config_dict_search_space

    if not isinstance(spec, (str, Mapping)):
        return
    try:
        registry = load_registry()
    except SearchSpaceError as error:
        raise ConfigError("search_space", spec, f"installed search spaces ({error})") from None
    tasks = ("classification", "regression") if task == "auto" else (task,)
    if isinstance(spec, str):
        try:
            space, _argument = registry.get(spec.strip())
        except SearchSpaceError as error:
            allowed = f"a registered search space ({error})"
            raise ConfigError("search_space", spec, allowed) from None
        if not set(tasks) & set(space.definition.tasks):
            raise ConfigError(
                "search_space",
                spec,
                f"a search space serving {task} ({spec!r} serves "
                f"{' and '.join(space.definition.tasks)})",
            )
        return
    first_error: SearchSpaceError | None = None
    for candidate in tasks:
        context = SearchContext(
            task=candidate,
            n_rows=0,
            n_features=0,
            n_classes=None,
            numeric_columns=(),
            categorical_columns=(),
            random_state=None,
        )
        try:
            config_dict_search_space(spec, context, extra_classes=registry.estimators)
            return
        except SearchSpaceError as error:
            first_error = first_error or error
    raise ConfigError("search_space", spec, f"a valid config dict ({first_error})") from None


def read_dataset(load_dataset: LoadDataset, dataset_id: Any) -> Any:
    """The host's table for ``dataset_id``; any loader failure is a :class:`DataError`."""
    import pandas as pd

    try:
        table = load_dataset(dataset_id)
    except LookupError as error:  # KeyError, IndexError: the host's "no such dataset"
        raise DataError(f"dataset {dataset_id!r} does not exist: {error}") from error
    except FileNotFoundError as error:
        raise DataError(f"dataset {dataset_id!r} does not exist: {error}") from error
    except Exception as error:  # a loader may raise anything; the job cannot go on either way
        raise DataError(
            f"dataset {dataset_id!r} could not be loaded: {type(error).__name__}: {error}"
        ) from error
    if table is None:
        raise DataError(f"dataset {dataset_id!r} does not exist (the loader returned None)")
    if not isinstance(table, pd.DataFrame):
        table = load_table(table)  # a CSV / Parquet path
    return table
