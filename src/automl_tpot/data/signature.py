"""The input signature of a model, built from its training table, and the checks every row it
predicts on goes through.

One policy, the same for :meth:`TabularModel.predict <automl_tpot.model.TabularModel.predict>`,
``predict_proba`` and the CLI's ``predict`` (``docs/artifacts.md#signature-json``):

- a column the model reads that the rows lack is a :class:`~automl_tpot.errors.DataError`
  naming it (a column dropped in training may be absent);
- columns the model does not know are ignored (the model logs them once);
- a value of the wrong type for its column (text that is not a number, or an infinity, in a
  numeric column; anything but true/false/1/0 in a boolean column) is counted per column and,
  as ``invalid_values`` says, treated as missing (``"missing"``, the default: imputed like any
  gap, and reported) or refused (``"error"``: a ``DataError`` naming the column and the count);
- rows with no rows at all are fine: the model returns empty predictions.

Category levels unseen in training are not errors: the encoders handle them.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from attrs import define

from ..errors import ConfigError, DataError
from ..records.signature import (
    INVALID_VALUE_POLICIES,
    MAX_LEVELS,
    ColumnSignature,
    InputSignature,
    TargetSignature,
)
from .preparation import FeatureTypes, PreparedData

__all__ = [
    "CheckedRows",
    "InvalidValues",
    "build_signature",
    "check_rows",
    "legacy_signature",
    "part_kinds",
    "signature_from_prepared",
]

#: How a boolean column's text may spell its values at prediction time.
_TRUE_TEXT = frozenset({"true", "1", "1.0"})
_FALSE_TEXT = frozenset({"false", "0", "0.0"})
#: Examples of invalid values a message quotes, and how long each may be.
_EXAMPLES, _EXAMPLE_CHARS = 3, 40
_PART_KINDS = ("numeric", "boolean", "categorical", "text")


def _json_value(value: Any) -> Any:
    """A class label or level as a JSON value (NumPy scalars as Python ones)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _column(name: str, series: pd.Series, kind: str, reason: str | None) -> ColumnSignature:
    present = series.dropna()
    stats: dict[str, Any] = {}
    if kind == "numeric":
        values = pd.to_numeric(present.astype(object), errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size:
            stats = {"minimum": _finite(values.min()), "maximum": _finite(values.max())}
    elif kind in ("categorical", "text"):
        counts = present.map(str).value_counts()
        stats = {"levels": sorted(counts.index[:MAX_LEVELS]), "n_levels": int(counts.size)}
    return ColumnSignature(
        name=name,
        kind=kind,
        dtype=str(series.dtype),
        missing=int(series.isna().sum()),
        reason=reason,
        **stats,
    )


def build_signature(
    features: pd.DataFrame,
    feature_types: FeatureTypes,
    *,
    task: str,
    target: pd.Series | None = None,
    classes: Sequence[Any] | np.ndarray | None = None,
) -> InputSignature:
    """The signature of a model trained on ``features`` encoded as ``feature_types``.

    Args:
        features: the raw feature columns of the training table (dropped ones included).
        feature_types: how each column is encoded.
        task: ``"classification"`` or ``"regression"``.
        target: the raw target column (its name and dtype are recorded), when known.
        classes: the class labels (classification).
    """
    kinds = {str(c): kind for kind in _PART_KINDS for c in getattr(feature_types, kind)}
    columns = []
    for label in features.columns:
        name = str(label)
        reason = feature_types.dropped.get(name)
        kind = kinds.get(name, "dropped")
        if kind == "dropped" and reason is None:
            reason = "not read by the model's preprocessing"
        columns.append(_column(name, features[label], kind, reason))
    return InputSignature(
        columns=tuple(columns),
        target=TargetSignature(
            name=None if target is None or target.name is None else str(target.name),
            task=task,
            dtype=None if target is None else str(target.dtype),
            classes=None if classes is None else [_json_value(c) for c in classes],
        ),
        n_rows=len(features),
    )


def signature_from_prepared(prepared: PreparedData) -> InputSignature:
    """The signature of a model trained on ``prepared`` (what the Trainer stores)."""
    return build_signature(
        prepared.features,
        prepared.feature_types,
        task=prepared.task,
        target=prepared.target,
        classes=prepared.classes,
    )


def part_kinds(preprocessor: Any, columns: Sequence[Hashable]) -> dict[str, str] | None:
    """Column name -> kind, read from a preprocessor :func:`build_preprocessor` made (its parts
    are named for the kinds); ``None`` for a preprocessor built otherwise.

    ``columns`` are the table's columns in order, for parts that select columns by position.
    """
    parts = getattr(preprocessor, "transformers", None)
    if not isinstance(parts, list) or any(part[0] not in _PART_KINDS for part in parts):
        return None
    kinds: dict[str, str] = {}
    for name, _transformer, selected in parts:
        for item in selected:
            positional = isinstance(item, (int, np.integer)) and not isinstance(item, bool)
            if positional and item not in columns and 0 <= item < len(columns):
                item = columns[int(item)]
            kinds[str(item)] = name
    return kinds


def legacy_signature(
    preprocessor: Any, columns: Sequence[Hashable], task: str, classes: Any, target: Any
) -> InputSignature:
    """The signature of a model stored before signatures existed: the kinds its fitted
    preprocessor shows, nothing about the values."""
    kinds = part_kinds(preprocessor, columns) or {}
    entries = []
    for label in columns:
        kind = kinds.get(str(label), "dropped")
        reason = "not read by the model's preprocessing" if kind == "dropped" else None
        entries.append(ColumnSignature(name=str(label), kind=kind, reason=reason))
    return InputSignature(
        columns=tuple(entries),
        target=TargetSignature(
            name=None if target is None else str(target),
            task=task,
            classes=None if classes is None else [_json_value(c) for c in classes],
        ),
    )


# --- the checks at prediction time -------------------------------------------------------------


@define(frozen=True)
class InvalidValues:
    """Values of one column that do not fit its kind.

    Attributes:
        column: the column's name.
        kind: its kind (``numeric`` or ``boolean``).
        count: rows holding such a value.
        rows: rows checked.
        examples: a few of the values, as text.
    """

    column: str
    kind: str
    count: int
    rows: int
    examples: tuple[str, ...]

    def describe(self) -> str:
        """One phrase naming the column, the count and examples."""
        what = "numbers" if self.kind == "numeric" else "true/false (or 1/0)"
        examples = ", ".join(self.examples)
        return (
            f"column {self.column!r}: {self.count} of {self.rows} row(s) hold values that are "
            f"not {what} (e.g. {examples})"
        )


@define(frozen=True, eq=False)
class CheckedRows:
    """Rows that passed :func:`check_rows`.

    Attributes:
        frame: every signature column in training order (numeric columns as floats, invalid
            values as missing; a dropped column the rows lack as missing values).
        extra: columns of the rows the model does not know (ignored).
        invalid: the columns that held values of the wrong type, treated as missing.
    """

    frame: pd.DataFrame
    extra: tuple[str, ...]
    invalid: tuple[InvalidValues, ...]


def _as_frame(rows: Any, signature: InputSignature) -> pd.DataFrame:
    if isinstance(rows, pd.DataFrame):
        return rows
    if hasattr(rows, "tocsr") or type(rows).__module__.startswith("scipy.sparse"):
        raise TypeError(
            "sparse input is not supported: pass the rows as a pandas DataFrame of raw values"
        )
    array = np.asarray(rows)
    if array.dtype.kind not in "biuf":
        array = np.asarray(rows, dtype=object)
    width = len(signature.columns)
    shown = ", ".join(repr(name) for name in signature.names[:10]) + (", ..." if width > 10 else "")
    if array.ndim != 2:
        raise DataError(
            f"expected 2-D rows (a DataFrame with the training columns: {shown}); got "
            f"{type(rows).__name__} of shape {array.shape}. Reshape your data: one row is a "
            "one-row DataFrame or a 2-D array"
        )
    if array.shape[1] != width:
        raise DataError(
            f"X has {array.shape[1]} features, but TabularModel is expecting {width} features "
            f"as input (an array must hold the training columns in order: {shown}; a DataFrame "
            "may hold them in any order)"
        )
    return pd.DataFrame(array, columns=list(signature.names))


def _examples(values: pd.Series) -> tuple[str, ...]:
    unique = pd.unique(values.astype(object).to_numpy())[:_EXAMPLES]
    return tuple(repr(v)[:_EXAMPLE_CHARS] for v in unique)


def _numeric(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_numeric_dtype(series.dtype) and not isinstance(
        series.dtype, pd.CategoricalDtype
    ):
        values = pd.Series(series.to_numpy(dtype=float, na_value=np.nan), index=series.index)
    else:
        values = pd.to_numeric(series.astype(object), errors="coerce").astype(float)
    bad = (values.isna() & series.notna()) | np.isinf(values)
    return values.mask(bad), bad


def _boolean_value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return np.nan
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE_TEXT or text in _FALSE_TEXT:
            return text in _TRUE_TEXT
    return _INVALID


_INVALID = object()


def _boolean(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series, pd.Series(False, index=series.index)
    values = series.astype(object).map(_boolean_value)
    bad = values.map(lambda v: v is _INVALID).astype(bool)
    return values.mask(bad, np.nan), bad


def check_rows(
    rows: Any, signature: InputSignature, invalid_values: str = "missing"
) -> CheckedRows:
    """Check ``rows`` (a DataFrame, or a 2-D array in training column order) against
    ``signature`` under the policy in this module's docstring.

    Raises:
        DataError: a column the model reads is missing or duplicated, the array has the wrong
            shape, or (with ``invalid_values="error"``) a value has the wrong type.
        ConfigError: ``invalid_values`` is not one of ``"missing"``, ``"error"``.
        TypeError: ``rows`` is a sparse matrix.
    """
    if invalid_values not in INVALID_VALUE_POLICIES:
        allowed = " or ".join(map(repr, INVALID_VALUE_POLICIES))
        raise ConfigError("invalid_values", invalid_values, allowed)
    frame = _as_frame(rows, signature)
    labels: dict[str, list[Hashable]] = {}
    for label in frame.columns:
        labels.setdefault(str(label), []).append(label)
    known = set(signature.names)
    duplicated = sorted(name for name, found in labels.items() if len(found) > 1 and name in known)
    if duplicated:
        raise DataError(f"the rows hold these columns more than once: {duplicated[:10]}")
    missing = [name for name in signature.required if name not in labels]
    if missing:
        raise DataError(
            f"the rows lack {len(missing)} column(s) the model reads: {missing[:10]}"
            + (" ..." if len(missing) > 10 else "")
        )
    columns: dict[str, pd.Series] = {}
    invalid: list[InvalidValues] = []
    for column in signature.columns:
        if column.name not in labels:  # a dropped column: the preprocessing never reads it
            columns[column.name] = pd.Series(np.nan, index=frame.index, dtype=float)
            continue
        series = frame[labels[column.name][0]]
        if column.kind in ("numeric", "boolean"):
            checker = _numeric if column.kind == "numeric" else _boolean
            series, bad = checker(series)
            count = int(bad.sum())
            if count:
                examples = _examples(frame[labels[column.name][0]][bad.to_numpy()])
                invalid.append(InvalidValues(column.name, column.kind, count, len(frame), examples))
        columns[column.name] = series
    if invalid and invalid_values == "error":
        raise DataError(
            "; ".join(item.describe() for item in invalid[:10])
            + " (invalid_values='error' refuses them; 'missing' treats them as missing values)"
        )
    checked = pd.DataFrame(columns, index=frame.index)
    extra = tuple(name for name in labels if name not in known)
    return CheckedRows(frame=checked, extra=extra, invalid=tuple(invalid))
