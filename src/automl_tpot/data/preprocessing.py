"""The preprocessing that becomes the exported model's first step: imputation and encoding.

Stored models refer to :func:`as_category_strings` and :func:`as_float_booleans` (their
``FunctionTransformer`` steps) by import path, so those names are part of the artifact contract;
:mod:`automl_tpot.data` re-exports them where models stored before 0.1.0 look for them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from .preparation import TOP_CATEGORIES, FeatureTypes

__all__ = ["as_category_strings", "as_float_booleans", "build_preprocessor", "output_columns"]


def as_category_strings(values: Any) -> np.ndarray:
    """Cast a 2-D block of categorical values to strings, keeping missing values as NaN.

    One-hot encoding needs one value type per column; mixed ``int``/``str``/``bool`` cells in a
    column (common after CSV round trips) would otherwise make it fail.
    """
    frame = pd.DataFrame(values)
    out = frame.astype(object).where(frame.notna(), np.nan)
    out = out.map(lambda v: v if (isinstance(v, float) and np.isnan(v)) else str(v))
    return out.to_numpy(dtype=object)


def as_float_booleans(values: Any) -> np.ndarray:
    """Cast a 2-D block of booleans (possibly with missing values) to floats 0.0 / 1.0 / NaN."""
    frame = pd.DataFrame(values)
    return frame.apply(
        lambda col: col.map(lambda v: np.nan if pd.isna(v) else float(bool(v)))
    ).to_numpy(dtype=float)


def _cross_fitting(target_type: str) -> Any:
    """The folds a target encoder cross-fits the training rows' encodings on."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if target_type in ("binary", "multiclass"):
        return StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    return KFold(n_splits=5, shuffle=True, random_state=0)


def build_preprocessor(feature_types: FeatureTypes, target_type: str = "auto"):
    """The unfitted scikit-learn transformer that turns raw rows into a numeric matrix.

    Unseen categories at prediction time are encoded as all zeros (or as "infrequent" for
    high-cardinality columns); missing values anywhere are imputed. High-cardinality columns
    are also target-encoded, so fitting needs the target when there are any; ``target_type``
    (``"continuous"``, ``"binary"``, ``"multiclass"``; see
    :attr:`~automl_tpot.data.PreparedData.target_type`) says what it is: left to ``"auto"``,
    scikit-learn takes an integer-valued regression target for classes.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, TargetEncoder

    def one_hot(encoder: OneHotEncoder):
        # Strings first (one type per column), missing values as a category of their own.
        return make_pipeline(
            FunctionTransformer(as_category_strings, feature_names_out="one-to-one"),
            SimpleImputer(strategy="constant", fill_value="(missing)"),
            encoder,
        )

    target_encoded = make_pipeline(
        FunctionTransformer(as_category_strings, feature_names_out="one-to-one"),
        SimpleImputer(strategy="constant", fill_value="(missing)"),
        TargetEncoder(target_type=target_type, cv=_cross_fitting(target_type)),
    )
    booleans = make_pipeline(
        FunctionTransformer(as_float_booleans, feature_names_out="one-to-one"),
        SimpleImputer(strategy="most_frequent"),
    )
    candidates = [
        ("numeric", SimpleImputer(strategy="median", add_indicator=True), feature_types.numeric),
        ("boolean", booleans, feature_types.boolean),
        (
            "categorical",
            one_hot(OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
            feature_types.categorical,
        ),
        (
            "text",
            one_hot(
                OneHotEncoder(
                    handle_unknown="infrequent_if_exist",
                    max_categories=TOP_CATEGORIES + 1,
                    sparse_output=False,
                )
            ),
            feature_types.text,
        ),
        # many-valued columns also as the target's mean per value (cross-fitted on the
        # training rows, so a row's own target never leaks into its encoding)
        ("text_target", target_encoded, feature_types.text),
    ]
    parts = [
        (name, transformer, list(columns)) for name, transformer, columns in candidates if columns
    ]
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)


def output_columns(preprocessor: Any, *, one_hot_only: bool = False) -> dict[str, tuple[int, ...]]:
    """Map each raw column to the columns it became in the fitted preprocessor's output.

    The search sees the preprocessed matrix, so anything that names raw columns (feature groups
    for ``FSSNode``) must be translated to these indices. Missing-value indicators belong to the
    column they flag; one-hot columns (including the "infrequent" one) and target encodings to
    their source column. ``one_hot_only`` keeps only the one-hot blocks of categorical columns
    (what :class:`~automl_tpot.model.transformers.CategoryCodes` folds back).
    Derived from the fitted transformers' public attributes, never from parsed feature names.
    """
    from sklearn.preprocessing import OneHotEncoder, TargetEncoder

    out: dict[str, list[int]] = {}
    for name, transformer, columns in preprocessor.transformers_:
        if name == "remainder" or transformer == "drop":
            continue
        start = preprocessor.output_indices_[name].start
        columns = [str(c) for c in columns]
        final = transformer.steps[-1][1] if hasattr(transformer, "steps") else transformer
        if isinstance(final, TargetEncoder):
            if one_hot_only:
                continue
            width = len(final.classes_) if final.target_type_ == "multiclass" else 1
            for i, column in enumerate(columns):
                out.setdefault(column, []).extend(range(start + i * width, start + (i + 1) * width))
            continue
        if isinstance(final, OneHotEncoder):
            infrequent = getattr(final, "infrequent_categories_", [None] * len(columns))
            offset = start
            blocks = zip(columns, final.categories_, infrequent, strict=True)
            for column, categories, rare in blocks:
                width = len(categories) if rare is None else len(categories) - len(rare) + 1
                out.setdefault(column, []).extend(range(offset, offset + width))
                offset += width
            continue
        if one_hot_only:
            continue
        # imputers (numeric, boolean): one output per input, then the missing-value indicators
        for i, column in enumerate(columns):
            out.setdefault(column, []).append(start + i)
        indicator = getattr(final, "indicator_", None)
        if indicator is not None:
            for j, feature in enumerate(indicator.features_):
                out.setdefault(columns[int(feature)], []).append(start + len(columns) + j)
    width = sum(s.stop - s.start for s in preprocessor.output_indices_.values())
    traced = sorted(i for indices in out.values() for i in indices)
    if not one_hot_only and traced != list(range(width)):
        raise DataError("internal: the preprocessed columns could not be traced to the raw columns")
    return {column: tuple(indices) for column, indices in out.items()}
