"""Reading the training table: a DataFrame as it is, or a CSV / Parquet file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeAlias

import pandas as pd

from ..errors import DataError

__all__ = ["DataSource", "load_table"]

#: What a run trains on: a DataFrame, or the path of a CSV or Parquet file.
DataSource: TypeAlias = pd.DataFrame | str | os.PathLike


def load_table(source: DataSource) -> pd.DataFrame:
    """Return ``source`` as a DataFrame: a DataFrame as is, or a CSV / Parquet file read."""
    if isinstance(source, pd.DataFrame):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise DataError(
            f"training data must be a pandas DataFrame or a CSV / Parquet path, "
            f"not {type(source).__name__}"
        )
    path = Path(source)
    suffix = path.suffix.lower()
    readers = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}
    if suffix not in readers:
        raise DataError(f"cannot read {str(path)!r}: expected a .csv, .parquet or .pq file")
    if not path.is_file():
        raise DataError(f"cannot read {str(path)!r}: no such file")
    try:
        return readers[suffix](path)
    except Exception as error:  # the readers raise many unrelated types
        raise DataError(f"cannot read {str(path)!r}: {error}") from error
