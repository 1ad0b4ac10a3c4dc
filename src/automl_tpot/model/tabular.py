"""TabularModel: the exported model, raw table rows in, the target's own labels out.

``model.joblib`` holds one of these. It bundles the preprocessing fitted on the training table
with the pipeline the search found, so ``predict(rows)`` works on rows shaped like the training
table (missing values and unseen categories included) with nothing else from this library called
by hand. Rows are checked against the model's input signature first
(:mod:`automl_tpot.data.signature` states the policy).

It is a scikit-learn estimator like any other: the constructor only stores its parameters (the
unfitted pipeline and preprocessing), :meth:`TabularModel.fit` learns everything held in
attributes ending in ``_``, so ``clone(model).fit(X, y)``, ``cross_val_score``, ``GridSearchCV``
and ``Pipeline`` work on raw tables. The Trainer builds its model from parts it has fitted
already, through :meth:`TabularModel.from_fitted`.
"""

from __future__ import annotations

import logging
import weakref
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.utils import ClassifierTags, RegressorTags, Tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ..data import build_preprocessor, detect_feature_types, output_columns
from ..data.preparation import FeatureTypes, PreparedData
from ..data.signature import (
    build_signature,
    check_rows,
    part_kinds,
    signature_from_prepared,
)
from ..errors import ConfigError, DataError
from ..records.signature import INVALID_VALUE_POLICIES, InputSignature
from ..utils.pipelines import iter_steps
from .legacy import migrate_state

__all__ = ["TabularModel"]

log = logging.getLogger(__name__)

TASKS = ("classification", "regression")
#: The extra columns each model has already logged, so a serving loop logs them once.
_LOGGED_EXTRA: weakref.WeakKeyDictionary[TabularModel, set[tuple[str, ...]]] = (
    weakref.WeakKeyDictionary()
)


class TabularModel(BaseEstimator):
    """Preprocessing and a pipeline that predict on raw table rows.

    Parameters:
        estimator: the pipeline that sees the preprocessed matrix (unfitted, or fitted: only
            its parameters are used by :meth:`fit`).
        preprocessor: the preprocessing, as :func:`automl_tpot.data.build_preprocessor` makes
            it; ``None`` builds one from the training table's column types in :meth:`fit`.
        task: ``"classification"``, ``"regression"``, or ``None`` to follow ``estimator``.
        encoded_columns: for each raw categorical column, the one-hot columns it had when
            ``estimator``'s column-naming steps (:class:`~automl_tpot.model.transformers.
            CategoryCodes`) were set; :meth:`fit` moves those steps to the columns the new
            preprocessing gives. ``None``: the steps are used as they are.
        invalid_values: what :meth:`predict` does with a value of the wrong type for its column
            (a string in a numeric column): ``"missing"`` treats it as missing and logs a
            warning naming the column and the rows; ``"error"`` raises
            :class:`~automl_tpot.errors.DataError`.

    Attributes:
        preprocessor_: the fitted preprocessing.
        estimator_: the fitted pipeline.
        classes_: the class labels, in the target's own values (classifiers only).
        feature_names_in_: the training columns (when trained on a DataFrame).
        n_features_in_: the number of training columns.
        signature_: the :class:`~automl_tpot.records.signature.InputSignature` rows are
            checked against (``signature.json`` is its JSON view).
    """

    def __init__(
        self,
        estimator: Any,
        *,
        preprocessor: Any = None,
        task: str | None = None,
        encoded_columns: dict[str, tuple[int, ...]] | None = None,
        invalid_values: str = "missing",
    ):
        self.estimator = estimator
        self.preprocessor = preprocessor
        self.task = task
        self.encoded_columns = encoded_columns
        self.invalid_values = invalid_values

    @classmethod
    def from_fitted(
        cls,
        preprocessor: Any,
        estimator: Any,
        prepared: PreparedData,
        *,
        invalid_values: str = "missing",
    ) -> TabularModel:
        """A fitted model from a preprocessor and a pipeline already fitted on ``prepared``
        (what the Trainer and the AutoML fallback export); nothing is refitted.

        The parameters are unfitted copies of the parts, so a clone refits the same structure
        and ``set_params`` never touches what was fitted.
        """
        model = cls(
            clone(estimator),
            preprocessor=clone(preprocessor),
            task=prepared.task,
            encoded_columns=output_columns(preprocessor, one_hot_only=True),
            invalid_values=invalid_values,
        )
        model._set_fitted(preprocessor, estimator, signature_from_prepared(prepared))
        if prepared.classes is not None:
            model.classes_ = prepared.classes
        model._set_feature_names(prepared.features)
        return model

    # -- scikit-learn conventions ----------------------------------------------------------------

    def _task(self) -> str | None:
        if self.task is not None:
            return self.task
        if is_classifier(self.estimator):
            return "classification"
        if is_regressor(self.estimator):
            return "regression"
        return None

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        task = self._task()
        tags.estimator_type = {"classification": "classifier", "regression": "regressor"}.get(
            task or ""
        )
        tags.classifier_tags = ClassifierTags() if task == "classification" else None
        tags.regressor_tags = RegressorTags() if task == "regression" else None
        tags.target_tags.required = True
        # raw tables: gaps, text and categories are the preprocessing's business
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "estimator_")

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "estimator_" not in state and "feature_columns" in state:
            state = migrate_state(state)
        super().__setstate__(state)

    # -- fitting ---------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> TabularModel:
        """Fit the preprocessing and the pipeline (same structure, same parameters) on the raw
        rows ``X`` (a DataFrame, or a 2-D array) and the target ``y``."""
        task = self._task()
        if task not in TASKS:
            raise ConfigError(
                "task",
                self.task,
                "'classification', 'regression', or None with an estimator "
                "that is a scikit-learn classifier or regressor",
            )
        if self.invalid_values not in INVALID_VALUE_POLICIES:
            allowed = " or ".join(map(repr, INVALID_VALUE_POLICIES))
            raise ConfigError("invalid_values", self.invalid_values, allowed)
        features = _training_frame(X)
        target = _training_target(y, len(features))
        classes = None
        if task == "classification":
            kind = type_of_target(target.to_numpy())
            if kind.startswith("continuous"):
                raise DataError(
                    f"Unknown label type: {kind}: a classifier needs class labels, and y holds "
                    f"non-integer numbers such as {target.iloc[0]!r} (use task='regression')"
                )
            classes, encoded = np.unique(target.to_numpy(), return_inverse=True)
        else:
            encoded = pd.to_numeric(target, errors="raise").to_numpy(dtype=float)
        template = self.preprocessor
        if template is None:
            feature_types = detect_feature_types(features)
            template = build_preprocessor(feature_types, _target_type(task, classes))
        else:
            feature_types = _feature_types(template, features)
        preprocessor = clone(template)
        # fit_transform, not fit then transform: target encodings of the training rows are
        # cross-fitted, so the pipeline never learns from a row's own target
        matrix = preprocessor.fit_transform(features, encoded)
        estimator = clone(self.estimator)
        before = self.encoded_columns
        if before is None and hasattr(self.preprocessor, "transformers_"):
            before = output_columns(self.preprocessor, one_hot_only=True)
        if before is not None:
            # new data can encode differently (other categories, other missing-value
            # indicators): steps that name preprocessed columns follow their raw columns
            _follow_columns(estimator, before, output_columns(preprocessor, one_hot_only=True))
        estimator.fit(matrix, encoded)
        signature = build_signature(
            features, feature_types, task=task, target=target, classes=classes
        )
        self._set_fitted(preprocessor, estimator, signature)
        if classes is not None:
            self.classes_ = classes
        elif hasattr(self, "classes_"):
            del self.classes_
        self._set_feature_names(X)
        return self

    def _set_fitted(self, preprocessor: Any, estimator: Any, signature: InputSignature) -> None:
        self.preprocessor_ = preprocessor
        self.estimator_ = estimator
        self.signature_ = signature
        self.n_features_in_ = len(signature.columns)

    def _set_feature_names(self, X: Any) -> None:
        names = getattr(X, "columns", None)
        if names is not None and all(isinstance(name, str) for name in names):
            self.feature_names_in_ = np.asarray(list(names), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    # -- predicting ------------------------------------------------------------------------------

    def transform_features(self, X: Any) -> np.ndarray:
        """The preprocessed matrix the inner pipeline sees for rows ``X`` (checked first)."""
        check_is_fitted(self)
        return self.preprocessor_.transform(self._checked(X))

    def predict(self, X: Any) -> np.ndarray:
        """Predict for raw rows; classification returns the target's own labels.

        ``X`` is checked against :attr:`signature_` first (missing columns, values of the
        wrong type, see :mod:`automl_tpot.data.signature`); no rows give an empty array.
        """
        check_is_fitted(self)
        rows = self._checked(X)
        classifier = self._task() == "classification"
        if len(rows) == 0:
            return np.empty(0, dtype=self.classes_.dtype if classifier else float)
        predictions = self.estimator_.predict(self.preprocessor_.transform(rows))
        if classifier:
            return self.classes_[np.asarray(predictions).astype(int)]
        return np.asarray(predictions, dtype=float)

    def _has_predict_proba(self) -> bool:
        inner = self.estimator_ if hasattr(self, "estimator_") else self.estimator
        return self._task() == "classification" and hasattr(inner, "predict_proba")

    @available_if(_has_predict_proba)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for raw rows, columns in the order of :attr:`classes_`
        (classifiers whose pipeline has ``predict_proba`` only)."""
        check_is_fitted(self)
        rows = self._checked(X)
        if len(rows) == 0:
            return np.empty((0, len(self.classes_)), dtype=float)
        return self.estimator_.predict_proba(self.preprocessor_.transform(rows))

    def score(self, X: Any, y: Any) -> float:
        """Accuracy (classification) or R² (regression) on raw rows."""
        from sklearn.metrics import accuracy_score, r2_score

        predictions = self.predict(X)
        if self._task() == "classification":
            return float(accuracy_score(np.asarray(y), predictions))
        return float(r2_score(np.asarray(y, dtype=float), predictions))

    def _checked(self, X: Any) -> pd.DataFrame:
        checked = check_rows(X, self.signature_, self.invalid_values)
        if checked.extra:
            seen = _LOGGED_EXTRA.setdefault(self, set())
            if checked.extra not in seen:
                seen.add(checked.extra)
                log.info(
                    "ignoring %d column(s) the model was not trained on: %s",
                    len(checked.extra),
                    list(checked.extra[:10]),
                )
        for item in checked.invalid:
            log.warning("%s; treated as missing values", item.describe())
        return checked.frame


# --- helpers --------------------------------------------------------------------------------------


def _training_frame(X: Any) -> pd.DataFrame:
    """``X`` as a DataFrame with text column names (arrays get ``x0``, ``x1``, ...)."""
    if hasattr(X, "tocsr") or type(X).__module__.startswith("scipy.sparse"):
        raise TypeError("sparse input is not supported: pass a pandas DataFrame of raw values")
    if isinstance(X, pd.DataFrame):
        frame = X.copy()
        frame.columns = [str(c) for c in X.columns]
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise DataError(
                f"expected a DataFrame or a 2-D array of training rows, got shape {array.shape}"
            )
        frame = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if frame.shape[1] == 0:
        raise DataError(
            f"Found array with 0 feature(s) (shape={frame.shape}) while a minimum of 1 is "
            "required: the training rows have no columns"
        )
    if frame.shape[0] < 2:
        raise DataError(f"cannot fit on n_samples={frame.shape[0]}: training needs at least 2 rows")
    if frame.columns.duplicated().any():
        duplicated = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise DataError(f"the training rows have duplicated column names: {duplicated[:10]}")
    return frame


def _training_target(y: Any, n_rows: int) -> pd.Series:
    """``y`` as a Series of one value per training row."""
    if y is None:
        raise DataError("TabularModel requires y to be passed, but the target y is None")
    if isinstance(y, pd.DataFrame) and y.shape[1] == 1:
        y = y.iloc[:, 0]
    if isinstance(y, pd.Series):
        target = y
    else:
        array = np.asarray(y)
        if array.ndim == 2 and array.shape[1] == 1:
            array = column_or_1d(array, warn=True)
        target = pd.Series(array) if array.ndim == 1 else None
    if target is None or len(target) != n_rows:
        raise DataError(f"y must hold one value per row: got shape {np.shape(y)} for {n_rows} rows")
    if target.isna().any():
        raise DataError(f"y holds {int(target.isna().sum())} missing value(s); drop those rows")
    return target


def _feature_types(preprocessor: Any, features: pd.DataFrame) -> FeatureTypes:
    """The column types a given preprocessing encodes ``features`` as."""
    detected = detect_feature_types(features)
    kinds = part_kinds(preprocessor, list(features.columns))
    if kinds is None:
        return detected
    groups: dict[str, list[str]] = {"numeric": [], "boolean": [], "categorical": [], "text": []}
    for column in features.columns:
        if column in kinds:
            groups[kinds[column]].append(column)
    dropped = {c: r for c, r in detected.dropped.items() if c not in kinds}
    return FeatureTypes(
        numeric=tuple(groups["numeric"]),
        boolean=tuple(groups["boolean"]),
        categorical=tuple(groups["categorical"]),
        text=tuple(groups["text"]),
        dropped=dropped,
    )


def _target_type(task: str, classes: np.ndarray | None) -> str:
    """The target's kind as the preprocessing's target encoders name it."""
    if task != "classification" or classes is None:
        return "continuous"
    return "binary" if len(classes) == 2 else "multiclass"


def _follow_columns(
    estimator: Any, before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]]
) -> None:
    """Point the :class:`~automl_tpot.transformers.CategoryCodes` steps of an unfitted
    ``estimator`` from the columns raw columns had (``before``) to those they have now."""
    from .transformers import CategoryCodes

    column_of = {tuple(indices): column for column, indices in before.items()}
    for step in iter_steps(estimator):
        if not isinstance(step, CategoryCodes):
            continue
        try:
            blocks = tuple(tuple(after[column_of[tuple(block)]]) for block in step.blocks)
        except KeyError as error:
            raise DataError(
                "cannot refit: a categorical step of the model names columns the "
                "preprocessing no longer produces"
            ) from error
        step.set_params(blocks=blocks)
