"""From a table to training data: loading, the target, the task, feature types, preprocessing.

Everything here runs before any search starts, so bad input fails fast with a
:class:`~automl_tpot.errors.DataError` and leaves nothing on disk. The preprocessing built here
(imputation and encoding) becomes the first step of the exported model, so the model predicts on
raw rows shaped like the training table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from attrs import define, field

from ..errors import DataError
from ..utils.text import short_repr
from .loading import DataSource, load_table

__all__ = [
    "FeatureTypes",
    "PreparedData",
    "infer_task",
    "detect_feature_types",
    "prepare_table",
    "prepare_training_data",
]

#: Distinct values up to which an integer target is taken as class labels by ``task="auto"``.
MAX_CLASSES_FOR_AUTO = 20
#: String columns with more distinct values than this are "high-cardinality" (text-like):
#: only their most frequent values are one-hot encoded, the rest share one "infrequent" column.
HIGH_CARDINALITY = 50
#: How many of a high-cardinality column's values get a column of their own.
TOP_CATEGORIES = 20


@define(frozen=True)
class FeatureTypes:
    """The columns of a table by how they are encoded.

    Attributes:
        numeric: imputed with the median, with a missing-value indicator where values are missing.
        categorical: one-hot encoded; missing values are a category of their own.
        boolean: mapped to 0 / 1 and imputed with the most frequent value.
        text: high-cardinality strings: the most frequent values one-hot, the rest "infrequent".
        dropped: columns left out, each with the reason.
    """

    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    boolean: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    dropped: dict[str, str] = field(factory=dict)

    @property
    def used(self) -> tuple[str, ...]:
        """Every column the model reads."""
        return self.numeric + self.boolean + self.categorical + self.text

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe view."""
        return {
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "boolean": list(self.boolean),
            "text": list(self.text),
            "dropped": dict(self.dropped),
        }


@define(frozen=True, eq=False)
class PreparedData:
    """A validated training table, ready for the search.

    Attributes:
        features: the raw feature columns (the target removed).
        target: the raw target column.
        y: the target as the search sees it: class indices for classification, floats otherwise.
        task: ``"classification"`` or ``"regression"``.
        task_reason: why that task was chosen.
        feature_types: how each column is encoded.
        classes: the class labels in the target's own values (classification only).
        cv: the number of folds to use (lowered when a class is too small for the asked-for cv).
        notes: adjustments made to the input, in words.
    """

    features: pd.DataFrame
    target: pd.Series
    y: np.ndarray
    task: str
    task_reason: str
    feature_types: FeatureTypes
    classes: np.ndarray | None
    cv: int
    notes: tuple[str, ...] = ()

    @property
    def target_type(self) -> str:
        """``"continuous"`` (regression), ``"binary"`` or ``"multiclass"``, as scikit-learn's
        target encoders name the kinds of target."""
        if self.classes is None:
            return "continuous"
        return "binary" if len(self.classes) == 2 else "multiclass"


def _is_text_like(series: pd.Series) -> bool:
    return (
        pd.api.types.is_object_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
        or isinstance(series.dtype, pd.CategoricalDtype)
    )


def _is_boolean(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series.dtype):
        return True
    if pd.api.types.is_object_dtype(series.dtype):
        values = series.dropna()
        return len(values) > 0 and all(isinstance(v, (bool, np.bool_)) for v in values)
    return False


def infer_task(target: pd.Series, requested: str = "auto") -> tuple[str, str]:
    """Decide the task for ``target``; return ``(task, reason)``.

    ``requested`` other than ``"auto"`` is kept (and checked). For ``"auto"``: non-numeric
    targets are classification; integer-valued targets with at most
    :data:`MAX_CLASSES_FOR_AUTO` distinct values are classification; the rest is regression.
    """
    name = short_repr(target.name, 100)
    values = target.dropna()
    n_distinct = _distinct(values, name)
    numeric = pd.api.types.is_numeric_dtype(target.dtype) and not _is_boolean(target)
    if requested == "regression":
        if not numeric:
            raise DataError(
                f"task 'regression' needs a numeric target, but column {name} holds "
                f"{target.dtype} values such as {short_repr(values.iloc[0], 60)}"
            )
        return "regression", "task given as 'regression'"
    if requested == "classification":
        return "classification", "task given as 'classification'"
    if not numeric:
        return "classification", f"target {name} holds non-numeric values ({target.dtype})"
    integral = bool(np.all(np.mod(values.to_numpy(dtype=float), 1) == 0))
    if integral and n_distinct <= MAX_CLASSES_FOR_AUTO:
        return "classification", (
            f"target {name} holds {n_distinct} distinct integer values "
            f"(at most {MAX_CLASSES_FOR_AUTO} are taken as classes)"
        )
    kind = "integer" if integral else "non-integer"
    return "regression", f"target {name} holds {n_distinct} distinct {kind} numeric values"


def _distinct(values: pd.Series, name: str) -> int:
    """Distinct values of a column; values that cannot be hashed (lists, dicts) are an error."""
    try:
        return int(values.nunique())
    except TypeError as error:
        raise DataError(
            f"column {name} holds values that are not plain scalars ({error}); give it "
            "numbers, strings or booleans"
        ) from None


def detect_feature_types(features: pd.DataFrame) -> FeatureTypes:
    """Sort the columns of ``features`` into numeric, boolean, categorical, text and dropped."""
    numeric: list[str] = []
    categorical: list[str] = []
    boolean: list[str] = []
    text: list[str] = []
    dropped: dict[str, str] = {}
    n_rows = len(features)
    for column in features.columns:
        series = features[column]
        label = str(column)
        non_missing = series.dropna()
        if non_missing.empty:
            dropped[label] = "every value is missing"
            continue
        n_distinct = _distinct(non_missing, short_repr(column, 100))
        if n_distinct == 1 and len(non_missing) == n_rows:
            dropped[label] = "constant: a single value in every row"
        elif _is_boolean(series):
            boolean.append(column)
        elif pd.api.types.is_datetime64_any_dtype(series.dtype) or isinstance(
            series.dtype, pd.PeriodDtype
        ):
            dropped[label] = "date/time columns are not encoded yet: derive numeric features"
        elif pd.api.types.is_numeric_dtype(series.dtype):
            if np.isinf(non_missing.to_numpy(dtype=float)).any():
                raise DataError(
                    f"column {short_repr(column, 100)} holds infinite values; replace them "
                    "(with a large number, or with NaN to have them imputed)"
                )
            numeric.append(column)
        elif _is_text_like(series):
            if n_distinct == len(non_missing) and n_rows > TOP_CATEGORIES:
                dropped[label] = "identifier-like: every value is different"
            elif n_distinct > HIGH_CARDINALITY:
                text.append(column)
            else:
                categorical.append(column)
        else:
            dropped[label] = f"unsupported column type {series.dtype}"
    return FeatureTypes(
        numeric=tuple(numeric),
        categorical=tuple(categorical),
        boolean=tuple(boolean),
        text=tuple(text),
        dropped=dropped,
    )


def prepare_training_data(
    table: pd.DataFrame, target_column: str | None, task: str = "auto", cv: int = 5
) -> PreparedData:
    """Validate ``table`` and split it into features and target for the search.

    Raises :class:`DataError` for an empty table, a missing target column, rows without a
    target, a target with a single class, a non-numeric regression target, or no usable feature.
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError(f"training data must be a pandas DataFrame, not {type(table).__name__}")
    if target_column is None:
        raise DataError("no target column given: set target_column (CLI: --target)")
    if table.shape[0] == 0:
        raise DataError("the training table is empty: it has no rows")
    if target_column not in table.columns:
        columns = ", ".join(short_repr(str(c), 60) for c in table.columns[:20])
        more = ", ..." if len(table.columns) > 20 else ""
        raise DataError(
            f"target column {short_repr(target_column)} is not in the table ({columns}{more})"
        )
    if table.columns.duplicated().any():
        duplicated = sorted(set(map(str, table.columns[table.columns.duplicated()])))
        raise DataError(f"the table has duplicated column names: {short_repr(duplicated)}")

    target = table[target_column]
    quoted = short_repr(target_column, 100)
    missing = target.isna()
    if missing.any():
        rows = list(table.index[missing][:5])
        raise DataError(
            f"{int(missing.sum())} of {len(table)} rows have no value in target column "
            f"{quoted} (first at index {short_repr(rows, 100)}); drop or fill them before training"
        )
    features = table.drop(columns=[target_column])
    if features.shape[1] == 0:
        raise DataError(f"the table has no feature columns besides the target {quoted}")
    min_rows = 2 * cv
    if len(table) < min_rows:
        raise DataError(
            f"the table has {len(table)} rows; {cv}-fold cross-validation needs >= {min_rows}"
        )

    resolved_task, reason = infer_task(target, task)
    feature_types = detect_feature_types(features)
    if not feature_types.used:
        reasons = [f"{short_repr(c, 60)}: {r}" for c, r in feature_types.dropped.items()]
        more = f"; and {len(reasons) - 10} more" if len(reasons) > 10 else ""
        raise DataError("no usable feature column: " + "; ".join(reasons[:10]) + more)

    notes: list[str] = []
    classes: np.ndarray | None = None
    effective_cv = cv
    if resolved_task == "classification":
        try:
            classes, y = np.unique(target.to_numpy(), return_inverse=True)
        except TypeError:
            kinds = sorted({type(v).__name__ for v in target})
            raise DataError(
                f"target {quoted} mixes values of types {', '.join(kinds)}, which cannot be "
                "ordered as class labels; make them all strings or all numbers"
            ) from None
        if len(classes) < 2:
            raise DataError(
                f"target {quoted} has a single class ({short_repr(classes[0], 60)}): "
                "classification needs at least two"
            )
        counts = np.bincount(y)
        smallest = int(counts.min())
        if smallest < 2:
            lonely = [classes[i] for i in np.flatnonzero(counts < 2)][:5]
            raise DataError(
                f"target {quoted} has classes with a single row ({short_repr(lonely, 100)}); "
                "each class needs at least two rows for cross-validation"
            )
        if smallest < cv:
            effective_cv = smallest
            notes.append(
                f"cv lowered from {cv} to {smallest}: the smallest class has {smallest} rows"
            )
    else:
        y = target.to_numpy(dtype=float)
        if not np.all(np.isfinite(y)):
            raise DataError(f"target {quoted} holds infinite values")

    if feature_types.dropped:
        notes.extend(f"column {c!r} dropped: {r}" for c, r in feature_types.dropped.items())

    return PreparedData(
        features=features,
        target=target,
        y=np.asarray(y),
        task=resolved_task,
        task_reason=reason,
        feature_types=feature_types,
        classes=classes,
        cv=effective_cv,
        notes=tuple(notes),
    )


def prepare_table(
    data: DataSource | PreparedData, target_column: str | None, task: str = "auto", cv: int = 5
) -> PreparedData:
    """``data`` loaded and prepared; data prepared already (for the same target) as it is, so a
    job prepares its table once.

    Raises:
        DataError: the table cannot be used, or was prepared for another target.
    """
    if isinstance(data, PreparedData):
        if str(data.target.name) != str(target_column):
            raise DataError(
                f"the data was prepared for target {short_repr(data.target.name, 100)}, "
                f"not {short_repr(target_column, 100)}"
            )
        return data
    return prepare_training_data(load_table(data), target_column, task, cv)
