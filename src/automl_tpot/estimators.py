"""One-call estimators: ``AutoMLClassifier().fit(X, y)`` runs a whole search and then predicts
like the exported model.

For notebooks and scikit-learn code that wants an estimator rather than a run: the settings are
keyword arguments (those of :class:`~automl_tpot.TrainerConfig`; ``None`` keeps its default),
``fit`` trains with the :class:`~automl_tpot.Trainer` on ``X`` plus ``y``, and nothing is stored
unless ``storage`` names where. The estimators follow scikit-learn's contract (``get_params``,
``clone``, fitted attributes ending in ``_``), so they sit in a ``Pipeline`` or
``cross_val_score`` like any other (each fit is a full search: budget accordingly).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import Tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .config import TrainerConfig
from .errors import ConfigError, DataError
from .records.signature import INVALID_VALUE_POLICIES
from .run.result import TrainingResult
from .run.trainer import Trainer
from .storage import Storage, storage_from_url

__all__ = ["AutoMLClassifier", "AutoMLRegressor"]

#: Constructor parameters passed to :class:`TrainerConfig` under the same name.
_SETTINGS = (
    "time_left",
    "generations",
    "population_size",
    "metric",
    "cv",
    "per_run_limit",
    "n_jobs",
    "memory_limit_mb",
    "parallel_mode",
    "scheduler_file",
    "search_space",
    "ensemble",
    "leaderboard_k",
)


class _AutoMLEstimator(BaseEstimator):
    """What both estimators share; ``_task`` says which one a subclass is."""

    _task = "classification"

    def __init__(
        self,
        *,
        time_left: float | None = None,
        generations: int | None = None,
        population_size: int | None = None,
        metric: str | Callable[..., float] | None = None,
        cv: int | None = None,
        per_run_limit: float | None = None,
        n_jobs: int | None = None,
        memory_limit_mb: int | None = None,
        parallel_mode: str | None = None,
        scheduler_file: str | None = None,
        search_space: Any = None,
        ensemble: bool | None = None,
        leaderboard_k: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        storage: Storage | str | os.PathLike[str] | None = None,
        invalid_values: str = "missing",
    ):
        self.time_left = time_left
        self.generations = generations
        self.population_size = population_size
        self.metric = metric
        self.cv = cv
        self.per_run_limit = per_run_limit
        self.n_jobs = n_jobs
        self.memory_limit_mb = memory_limit_mb
        self.parallel_mode = parallel_mode
        self.scheduler_file = scheduler_file
        self.search_space = search_space
        self.ensemble = ensemble
        self.leaderboard_k = leaderboard_k
        self.random_state = random_state
        self.storage = storage
        self.invalid_values = invalid_values

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.non_deterministic = self.random_state is None
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def config_for(self, target_column: str) -> TrainerConfig:
        """The :class:`TrainerConfig` :meth:`fit` trains with, for a target named so."""
        settings = {name: getattr(self, name) for name in _SETTINGS}
        settings = {name: value for name, value in settings.items() if value is not None}
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = int(seed.randint(0, 2**31 - 1))
        return TrainerConfig(
            task=self._task,
            target_column=target_column,
            random_state=seed,
            **settings,
        )

    def fit(self, X: Any, y: Any) -> _AutoMLEstimator:
        """Search for the best pipeline on rows ``X`` (a DataFrame of raw columns, or a 2-D
        array) and target ``y``; store the run when ``storage`` is set.

        Raises:
            ConfigError: a setting is invalid (before anything runs).
            DataError: ``X`` or ``y`` cannot be used.
            TrainingError: the search produced no usable pipeline.
        """
        if self.invalid_values not in INVALID_VALUE_POLICIES:
            allowed = " or ".join(map(repr, INVALID_VALUE_POLICIES))
            raise ConfigError("invalid_values", self.invalid_values, allowed)
        table, target_column = _training_table(X, y)
        config = self.config_for(target_column)
        storage = self.storage
        if isinstance(storage, (str, os.PathLike)):
            storage = storage_from_url(os.fspath(storage))
        trainer = Trainer(config, storage=storage, store=storage is not None)
        result = trainer.train(table)
        model = result.model
        if model.invalid_values != self.invalid_values:
            model.set_params(invalid_values=self.invalid_values)
        self.result_: TrainingResult = result
        self.model_ = model
        self.best_score_ = result.best_score
        self.best_pipeline_ = result.best_pipeline
        self.leaderboard_ = result.leaderboard
        self.seed_ = result.seed
        self.run_id_ = result.run_id
        self.n_features_in_ = model.n_features_in_
        if isinstance(X, pd.DataFrame) and hasattr(model, "feature_names_in_"):
            self.feature_names_in_ = model.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        if hasattr(model, "classes_"):
            self.classes_ = model.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predict for raw rows, as :meth:`TabularModel.predict <automl_tpot.TabularModel.
        predict>` does (rows are checked against the model's input signature)."""
        check_is_fitted(self)
        return self.model_.predict(X)

    def _score(self, X: Any, y: Any) -> float:
        check_is_fitted(self)
        return float(self.model_.score(X, y))


def _can_predict_proba(estimator: AutoMLClassifier) -> bool:
    return not hasattr(estimator, "model_") or hasattr(estimator.model_, "predict_proba")


class AutoMLClassifier(ClassifierMixin, _AutoMLEstimator):
    """A classifier whose ``fit`` runs a whole automl-tpot search.

    Parameters are those of :class:`~automl_tpot.TrainerConfig` (``time_left``,
    ``generations``, ``population_size``, ``metric``, ``cv``, ``per_run_limit``, ``n_jobs``,
    ``memory_limit_mb``, ``parallel_mode``, ``scheduler_file``, ``search_space``, ``ensemble``,
    ``leaderboard_k``, ``random_state``); ``None`` keeps the configuration's default. Also:

    - ``storage``: where to store the run (a backend, a folder or a URL); ``None`` (default)
      stores nothing.
    - ``invalid_values``: the exported model's policy for values of the wrong type at predict
      time (``"missing"`` or ``"error"``, see :class:`~automl_tpot.TabularModel`).

    Attributes:
        model_: the fitted :class:`~automl_tpot.TabularModel`.
        result_: the run's :class:`~automl_tpot.TrainingResult`.
        classes_: the class labels, in the target's own values.
        best_score_: the chosen model's cross-validated score.
        best_pipeline_: a one-line description of the chosen model.
        leaderboard_: the best pipelines, best first.
        seed_: the seed the run used (pass it as ``random_state`` to repeat the search).
        run_id_: the stored run's id (``None`` when nothing was stored).
        n_features_in_, feature_names_in_: the training columns.

    Example:
        >>> from sklearn.datasets import load_breast_cancer
        >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        >>> model = AutoMLClassifier(time_left=60, n_jobs=2).fit(X, y)  # doctest: +SKIP
        >>> model.predict(X.head())  # doctest: +SKIP
    """

    _task = "classification"

    def score(self, X: Any, y: Any) -> float:
        """Accuracy of :meth:`predict` on raw rows."""
        return self._score(X, y)

    @available_if(_can_predict_proba)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for raw rows, columns in the order of :attr:`classes_`."""
        check_is_fitted(self)
        return self.model_.predict_proba(X)


class AutoMLRegressor(RegressorMixin, _AutoMLEstimator):
    """A regressor whose ``fit`` runs a whole automl-tpot search.

    Parameters and attributes as :class:`AutoMLClassifier`'s, without ``classes_`` and
    ``predict_proba``; ``score`` is R².
    """

    _task = "regression"

    def score(self, X: Any, y: Any) -> float:
        """R² of :meth:`predict` on raw rows."""
        return self._score(X, y)


def _training_table(X: Any, y: Any) -> tuple[pd.DataFrame, str]:
    """``X`` with ``y`` as one more column, and that column's name."""
    if isinstance(X, pd.DataFrame):
        table = X.copy()
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise DataError(f"X must be a DataFrame or a 2-D array, got shape {array.shape}")
        table = pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    if y is None:
        raise DataError("fit requires y to be passed, but the target y is None")
    values = y.to_numpy() if isinstance(y, (pd.Series, pd.DataFrame)) else np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.ravel()
    if values.ndim != 1 or len(values) != len(table):
        raise DataError(f"y must hold one value per row of X: got shape {np.shape(y)}")
    name = str(y.name) if isinstance(y, pd.Series) and y.name is not None else "target"
    taken = {str(c) for c in table.columns}
    while name in taken:
        name = f"_{name}"
    table[name] = values
    return table, name
