"""Checking a job before any training: the payload, the search space it names, the dataset.

Everything here fails with :class:`~automl_tpot.errors.ConfigError` or
:class:`~automl_tpot.errors.DataError`, which the job API turns into ``JobRejected``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..config import TrainerConfig
from ..data import load_table
from ..errors import ConfigError, DataError
from ..run.preflight import check_search_space, preflight
from ..utils.text import short_repr, shorten

__all__ = ["LoadDataset", "check_search_space", "read_dataset", "validate_payload"]

# check_search_space lives in the preflight (automl_tpot.run.preflight) now; imported here too.

#: The host's loader: ``load_dataset(dataset_id) -> DataFrame`` (or a CSV / Parquet path).
LoadDataset = Callable[[Any], Any]


def validate_payload(
    payload: Any, *, env: Mapping[str, str] | None = None, **overrides: Any
) -> tuple[TrainerConfig, Any]:
    """Check a job payload without loading data; return its configuration and ``dataset_id``.

    Checks what can be checked from the payload alone: known keys and their types (through
    :meth:`TrainerConfig.from_payload`), a ``dataset_id`` and a ``target_column``, that a
    search space named by the payload is registered, that a config dict's classes and
    parameters resolve (for the task, when it is given), and this machine's limits (the
    preflight without a table: :func:`automl_tpot.run.preflight.preflight`).

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
    preflight(config)
    return config, dataset_id


def read_dataset(load_dataset: LoadDataset, dataset_id: Any) -> Any:
    """The host's table for ``dataset_id``; any loader failure is a :class:`DataError`."""
    import pandas as pd

    try:
        table = load_dataset(dataset_id)
    except (LookupError, FileNotFoundError) as error:  # the host's "no such dataset"
        raise DataError(
            f"dataset {short_repr(dataset_id)} does not exist: {shorten(str(error))}"
        ) from error
    except Exception as error:  # a loader may raise anything; the job cannot go on either way
        raise DataError(
            f"dataset {short_repr(dataset_id)} could not be loaded: {type(error).__name__}: "
            f"{shorten(str(error))}"
        ) from error
    if table is None:
        raise DataError(
            f"dataset {short_repr(dataset_id)} does not exist (the loader returned None)"
        )
    if not isinstance(table, pd.DataFrame):
        table = load_table(table)  # a CSV / Parquet path
    return table
