"""Reading the training table: a DataFrame as it is, or a CSV / Parquet file."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TypeAlias

import pandas as pd

from ..errors import DataError
from ..utils.text import short_repr, shorten

__all__ = ["DataSource", "load_table"]

#: What a run trains on: a DataFrame, or the path of a CSV or Parquet file.
DataSource: TypeAlias = pd.DataFrame | str | os.PathLike

_READERS = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet}


def load_table(source: DataSource) -> pd.DataFrame:
    """Return ``source`` as a DataFrame: a DataFrame as is, or a CSV / Parquet file read.

    Raises:
        DataError: not a DataFrame or a path; a URL; not a ``.csv``, ``.parquet`` or ``.pq``
            file; a missing file or a folder; a CSV whose header repeats a column name; a file
            the reader cannot parse. The path is quoted as given (URLs intact), cut to a
            bounded length.
    """
    if isinstance(source, pd.DataFrame):
        return source
    if not isinstance(source, (str, os.PathLike)):
        raise DataError(
            f"training data must be a pandas DataFrame or a CSV / Parquet path, "
            f"not {type(source).__name__}"
        )
    text = os.fspath(source)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    quoted = short_repr(text)
    if "://" in text:
        raise DataError(
            f"cannot read {quoted}: only local files are read (or pass a DataFrame); "
            "download the table first"
        )
    path = Path(text)
    suffix = path.suffix.lower()
    if suffix not in _READERS:
        raise DataError(f"cannot read {quoted}: expected a .csv, .parquet or .pq file")
    try:
        is_dir, is_file = path.is_dir(), path.is_file()
    except (OSError, ValueError) as error:  # a name too long, a NUL byte
        raise DataError(f"cannot read {quoted}: {shorten(str(error))}") from None
    if is_dir:
        raise DataError(f"cannot read {quoted}: it is a directory, not a file")
    if not is_file:
        raise DataError(f"cannot read {quoted}: no such file")
    if suffix == ".csv":
        _check_csv_header(path, quoted)
    try:
        return _READERS[suffix](path)
    except Exception as error:  # the readers raise many unrelated types
        raise DataError(
            f"cannot read {quoted}: {type(error).__name__}: {shorten(str(error))}"
        ) from error


def _check_csv_header(path: Path, quoted: str) -> None:
    """A header that repeats a column name is an error (pandas would rename it ``name.1``)."""
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            header = next(csv.reader(stream), None)
    except (OSError, UnicodeDecodeError, csv.Error):
        return  # the reader reports what is wrong with the file
    if not header:
        return
    seen: set[str] = set()
    repeated: list[str] = []
    for name in header:
        if not name:  # pandas names empty headers "Unnamed: N", which never collide
            continue
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    if repeated:
        raise DataError(
            f"cannot read {quoted}: its header repeats the column name(s) "
            f"{short_repr(repeated)}; give every column a unique name"
        )
