"""TabularModel: the exported model, raw table rows in, the target's own labels out.

``model.joblib`` holds one of these. It bundles the preprocessing fitted on the training table
with the pipeline TPOT found, so ``joblib.load("model.joblib").predict(rows)`` works on rows
shaped like the training table (missing values and unseen categories included) with nothing
else from this library called by hand.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from ..errors import DataError
from ..utils.pipelines import iter_steps

__all__ = ["TabularModel"]


class TabularModel(BaseEstimator):
    """A fitted preprocessing + pipeline pair that predicts on raw rows.

    Parameters:
        preprocessor: the fitted transformer from :func:`automl_tpot.data.build_preprocessor`.
        estimator: the fitted pipeline chosen by the search (it sees preprocessed features).
        feature_columns: the input columns, in training order.
        task: ``"classification"`` or ``"regression"``.
        classes: the class labels, in the target's own values (classification only).
        target_column: the name of the predicted column.
    """

    def __init__(
        self,
        preprocessor: Any,
        estimator: Any,
        feature_columns: list[str],
        task: str,
        classes: np.ndarray | None = None,
        target_column: str | None = None,
    ):
        self.preprocessor = preprocessor
        self.estimator = estimator
        self.feature_columns = feature_columns
        self.task = task
        self.classes = classes
        self.target_column = target_column

    # -- scikit-learn conventions ----------------------------------------------------------------

    @property
    def classes_(self) -> np.ndarray:
        """Class labels in the order of :meth:`predict_proba`'s columns."""
        if self.classes is None:
            raise AttributeError("a regression model has no classes_")
        return self.classes

    @property
    def feature_names_in_(self) -> np.ndarray:
        """The columns :meth:`predict` reads."""
        return np.asarray(self.feature_columns, dtype=object)

    @property
    def _estimator_type(self) -> str:
        return "classifier" if self.task == "classification" else "regressor"

    def fit(self, X: pd.DataFrame, y: Any) -> TabularModel:
        """Refit preprocessing and pipeline (same structure, same parameters) on new data."""
        features = self._select_columns(X)
        target = np.asarray(y)
        if self.task == "classification":
            self.classes, encoded = np.unique(target, return_inverse=True)
        else:
            encoded = target.astype(float)
        from ..data import output_columns

        preprocessor = clone(self.preprocessor)
        # fit_transform, not fit then transform: target encodings of the training rows are
        # cross-fitted, so the pipeline never learns from a row's own target
        matrix = preprocessor.fit_transform(features, encoded)
        estimator = clone(self.estimator)
        # new data can encode differently (other categories, other missing-value indicators):
        # steps that name preprocessed columns follow their raw columns to the new positions
        _follow_columns(
            estimator,
            output_columns(self.preprocessor, one_hot_only=True),
            output_columns(preprocessor, one_hot_only=True),
        )
        self.preprocessor = preprocessor
        self.estimator = estimator.fit(matrix, encoded)
        return self

    def transform_features(self, X: pd.DataFrame) -> np.ndarray:
        """The preprocessed matrix the inner pipeline sees for rows ``X``."""
        return self.preprocessor.transform(self._select_columns(X))

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predict for raw rows; classification returns the target's own labels."""
        predictions = self.estimator.predict(self.transform_features(X))
        if self.task == "classification":
            return self.classes_[np.asarray(predictions).astype(int)]
        return np.asarray(predictions, dtype=float)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities for raw rows, columns in the order of :attr:`classes_`."""
        if self.task != "classification":
            raise AttributeError("predict_proba is only available for classification models")
        if not hasattr(self.estimator, "predict_proba"):
            raise AttributeError(
                f"the chosen pipeline ({type(self.estimator).__name__}) has no predict_proba"
            )
        return self.estimator.predict_proba(self.transform_features(X))

    def score(self, X: pd.DataFrame, y: Any) -> float:
        """Accuracy (classification) or R² (regression) on raw rows."""
        from sklearn.metrics import accuracy_score, r2_score

        predictions = self.predict(X)
        if self.task == "classification":
            return float(accuracy_score(np.asarray(y), predictions))
        return float(r2_score(np.asarray(y, dtype=float), predictions))

    # -- input checks ----------------------------------------------------------------------------

    def _select_columns(self, X: Any) -> pd.DataFrame:
        if not isinstance(X, pd.DataFrame):
            array = np.asarray(X, dtype=object)
            if array.ndim != 2 or array.shape[1] != len(self.feature_columns):
                raise DataError(
                    f"expected a DataFrame with columns {self.feature_columns} "
                    f"(or a 2-D array of {len(self.feature_columns)} columns), got shape "
                    f"{getattr(array, 'shape', None)}"
                )
            return pd.DataFrame(array, columns=self.feature_columns)
        missing = [c for c in self.feature_columns if c not in X.columns]
        if missing:
            raise DataError(f"the rows lack column(s) the model was trained on: {missing}")
        return X.loc[:, list(self.feature_columns)]


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
