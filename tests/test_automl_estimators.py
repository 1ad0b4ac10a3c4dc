"""AutoMLClassifier / AutoMLRegressor: the Trainer inside ``fit(X, y)``, keyword settings,
nothing stored unless asked, predictions like the exported model's, and scikit-learn's contract
(parameters, clone, tags, unfitted errors)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import (
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimators_unfitted,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

from automl_tpot import (
    AutoMLClassifier,
    AutoMLRegressor,
    ConfigError,
    FilesystemStorage,
    TabularModel,
    load_model,
)

pytestmark = pytest.mark.usefixtures("no_leaked_processes")

SMALL = dict(time_left=60, per_run_limit=15, generations=2, population_size=4, cv=3, n_jobs=1)


@pytest.mark.parametrize(
    "check",
    [
        check_parameters_default_constructible,
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_set_params,
        check_estimator_repr,
        check_estimator_cloneable,
        check_estimators_unfitted,
    ],
    ids=lambda check: check.__name__,
)
@pytest.mark.parametrize("estimator", [AutoMLClassifier(), AutoMLRegressor(n_jobs=1)], ids=repr)
def test_the_cheap_scikit_learn_checks(estimator, check):
    # the others fit dozens of times: each fit here is a whole search
    check(type(estimator).__name__, estimator)


def test_settings_become_the_trainer_configuration_and_are_checked_before_any_search():
    estimator = AutoMLClassifier(time_left=30, metric="accuracy", search_space="linear-light")
    assert is_classifier(estimator) and is_regressor(AutoMLRegressor())
    config = estimator.config_for("label")
    assert (config.task, config.target_column, config.time_left) == ("classification", "label", 30)
    assert (config.metric, config.search_space) == ("accuracy", "linear-light")
    assert config.population_size == 24  # None keeps TrainerConfig's default
    assert clone(estimator).get_params() == estimator.get_params()
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    with pytest.raises(ConfigError, match="population_size"):
        AutoMLClassifier(population_size=1).fit(X, y)
    with pytest.raises(ConfigError, match="invalid_values"):
        AutoMLClassifier(invalid_values="ignore").fit(X, y)
    with pytest.raises(NotFittedError):
        AutoMLClassifier().predict_proba(X)


def test_the_classifier_trains_stores_when_asked_and_predicts(tmp_path):
    bunch = load_breast_cancer(as_frame=True)
    X = bunch.data.iloc[:, :10]
    y = pd.Series(np.asarray(bunch.target_names)[bunch.target], name="diagnosis")
    model = AutoMLClassifier(**SMALL, random_state=0, storage=tmp_path / "runs").fit(X, y)
    assert list(model.classes_) == ["benign", "malignant"]
    assert isinstance(model.model_, TabularModel) and model.seed_ == 0
    assert model.best_score_ == model.result_.best_score and model.leaderboard_
    assert list(model.feature_names_in_) == list(X.columns) and model.n_features_in_ == 10
    predictions = model.predict(X)
    assert set(predictions) <= {"benign", "malignant"}
    assert model.score(X, y) > 0.85
    probabilities = model.predict_proba(X.head(7))
    assert probabilities.shape == (7, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    # stored because asked: the run is there, its model predicts the same
    storage = FilesystemStorage(tmp_path / "runs")
    assert storage.list_runs() == [model.run_id_]
    manifest = json.loads(storage.read_bytes(model.run_id_, "run.json"))
    assert manifest["config"]["target_column"] == "diagnosis"
    stored = load_model(storage, model.run_id_)
    assert list(stored.predict(X)) == list(predictions)
    assert list(pickle.loads(pickle.dumps(model)).predict(X)) == list(predictions)


def test_the_regressor_trains_on_arrays_stores_nothing_and_predicts(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    X, y = load_diabetes(return_X_y=True)
    model = AutoMLRegressor(**{**SMALL, "generations": 1}, ensemble=False).fit(X, y)
    assert list(tmp_path.iterdir()) == []  # nothing stored, not even a runs/ folder
    assert model.run_id_ is None and isinstance(model.seed_, int)
    assert not hasattr(model, "feature_names_in_") and not hasattr(model, "predict_proba")
    predictions = model.predict(X)
    assert predictions.shape == (len(y),) and predictions.dtype == float
    assert model.score(X, y) > 0.3
    assert model.model_.signature_.target.task == "regression"
