"""The exported model is a scikit-learn estimator: scikit-learn's own checks, and a model from a
real run cloned, refitted, cross-validated, searched over, explained, calibrated and put in a
Pipeline on the raw table; the stored file is verified before it is unpickled, and the optional
skops file loads with an explicit list of trusted types.

Which of scikit-learn's checks do not apply to an estimator that takes raw tables:

- ``check_array_api_input``: skipped by scikit-learn itself (``array_api_support`` is false):
  the model reads pandas tables, not array-API arrays.
- The sample-weight checks are not run: ``fit`` takes no ``sample_weight``.
- ``check_dataframe_column_names_consistency`` (scikit-learn's own test of its column-name
  rules, not part of ``check_estimator``) asserts that reordered or unknown column names raise.
  The model's documented policy differs on purpose: columns are matched by name in any order and
  unknown ones are ignored (``test_the_column_name_check_does_not_apply``). Everything else in
  ``check_estimator`` runs and passes, on NumPy input, for classifiers and regressors alike.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, TransformerMixin, clone, is_classifier, is_regressor
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    parametrize_with_checks,
)
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from automl_tpot import FilesystemStorage, StorageError, TabularModel, Trainer, TrainerConfig
from automl_tpot import load_model as load_stored_model
from automl_tpot.model.ensemble import WeightedEnsemble
from automl_tpot.model.persistence import dumps_skops, loads_skops, skops_available
from automl_tpot.run.fallback import train_baseline

TARGET = "diagnosis"

pytestmark = pytest.mark.usefixtures("no_leaked_processes")


# --- scikit-learn's checks ------------------------------------------------------------------


@parametrize_with_checks(
    [
        TabularModel(LogisticRegression(max_iter=1000)),
        TabularModel(Ridge()),
        WeightedEnsemble(
            [LogisticRegression(max_iter=1000), DecisionTreeClassifier(random_state=0)], [2, 1]
        ),
        WeightedEnsemble([Ridge(), DecisionTreeRegressor(random_state=0)], [1, 1]),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_the_column_name_check_does_not_apply():
    model = TabularModel(LogisticRegression(max_iter=1000))
    with pytest.raises(AssertionError, match="predict did not raise"):
        check_dataframe_column_names_consistency("TabularModel", model)
    # what happens instead: names are matched in any order, unknown ones ignored
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = (X["a"] > 0).astype(int)
    model = TabularModel(LogisticRegression()).fit(X, y)
    expected = model.predict_proba(X)
    np.testing.assert_allclose(model.predict_proba(X[["c", "a", "b"]].assign(d=1)), expected)


# --- a model from a real run ------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory, cancer_table):
    """One real run, stored (with model.skops where skops is installed)."""
    storage = FilesystemStorage(tmp_path_factory.mktemp("runs"))
    config = TrainerConfig(
        target_column=TARGET,
        time_left=90,
        per_run_limit=20,
        generations=2,
        population_size=4,
        cv=3,
        n_jobs=1,
        random_state=0,
        skops=skops_available(),
    )
    result = Trainer(config, storage=storage).train(cancer_table)
    return storage, result


@pytest.fixture
def data(cancer_table):
    return cancer_table.drop(columns=TARGET), cancer_table[TARGET]


@pytest.fixture(autouse=True)
def _one_blas_thread():
    # the boosting models' OpenMP threads spin on a busy machine; one thread keeps tests quick
    with threadpool_limits(1):
        yield


def test_the_stored_model_says_what_it_is_and_that_it_is_fitted(run, data):
    storage, result = run
    X, _ = data
    model = load_stored_model(storage, result.run_id)
    assert is_classifier(model) and not is_regressor(model)
    tags = get_tags(model)
    assert tags.input_tags.allow_nan and tags.input_tags.string and tags.target_tags.required
    check_is_fitted(model)
    assert list(model.feature_names_in_) == list(X.columns)
    assert model.n_features_in_ == X.shape[1]
    assert list(model.classes_) == ["benign", "malignant"]
    assert hasattr(model, "predict_proba")
    unfitted = clone(model)
    with pytest.raises(NotFittedError):
        check_is_fitted(unfitted)
    with pytest.raises(NotFittedError):
        unfitted.predict(X)
    assert set(unfitted.get_params(deep=False)) == {
        "estimator",
        "preprocessor",
        "task",
        "encoded_columns",
        "invalid_values",
    }


def test_the_stored_model_is_cloned_refitted_and_cross_validated_on_the_raw_table(run, data):
    storage, result = run
    X, y = data
    model = load_stored_model(storage, result.run_id)
    refitted = clone(model).fit(X, y)
    assert refitted.score(X, y) > 0.85
    assert refitted.signature_ == model.signature_
    scores = cross_val_score(model, X, y, cv=3, error_score="raise")
    assert scores.shape == (3,) and np.all(scores > 0.8)
    search = GridSearchCV(
        model, {"preprocessor__numeric__strategy": ["median", "mean"]}, cv=3, error_score="raise"
    ).fit(X, y)
    assert search.best_params_["preprocessor__numeric__strategy"] in ("median", "mean")
    assert list(search.predict(X.head(5))) == list(search.best_estimator_.predict(X.head(5)))


def test_the_stored_model_is_explained_and_calibrated(run, data):
    storage, result = run
    X, y = data
    model = load_stored_model(storage, result.run_id)
    importance = permutation_importance(model, X, y, n_repeats=2, random_state=0)
    assert importance.importances_mean.shape == (X.shape[1],)
    noise = importance.importances_mean[list(X.columns).index("region")]  # random words
    assert noise == pytest.approx(0, abs=0.05)
    calibrated = CalibratedClassifierCV(FrozenEstimator(model)).fit(X, y)
    probabilities = calibrated.predict_proba(X.head(10))
    assert list(calibrated.classes_) == list(model.classes_)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)


def _with_area_ratio(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(area_ratio=frame["mean area"] / frame["mean radius"] ** 2)


def test_the_stored_model_is_the_last_step_of_a_pipeline(run, data):
    storage, result = run
    X, y = data
    model = load_stored_model(storage, result.run_id)
    pipeline = make_pipeline(FunctionTransformer(_with_area_ratio), clone(model)).fit(X, y)
    assert "area_ratio" in pipeline[-1].feature_names_in_
    assert set(pipeline.predict(X.head(20))) <= {"benign", "malignant"}
    assert pipeline.predict_proba(X.head(3)).shape == (3, 2)


def test_a_regression_model_has_no_predict_proba_and_refits(diabetes_table):
    config = TrainerConfig(target_column="target", cv=3, n_jobs=1, random_state=0)
    model = train_baseline(diabetes_table, config, reason="an exported regression model").model
    X, y = diabetes_table.drop(columns="target"), diabetes_table["target"]
    assert is_regressor(model) and not hasattr(model, "predict_proba")
    assert not hasattr(model, "classes_")
    check_is_fitted(model)
    refitted = clone(model).fit(X, y)
    assert refitted.score(X, y) > 0.5
    np.testing.assert_allclose(refitted.predict(X), model.predict(X))


def test_the_run_records_its_seed(run):
    storage, result = run
    manifest = json.loads(storage.read_bytes(result.run_id, "run.json"))
    assert result.seed == 0 == manifest["summary"]["seed"]


# --- the verified load ------------------------------------------------------------------------


@pytest.fixture
def copied_run(run, tmp_path):
    """The stored run copied into a storage of its own, to be damaged."""
    storage, result = run
    shutil.copytree(storage.run_path(result.run_id), tmp_path / result.run_id)
    return FilesystemStorage(tmp_path), result.run_id


def test_a_truncated_model_file_is_refused_before_it_is_unpickled(copied_run):
    storage, run_id = copied_run
    path = storage.run_path(run_id) / "model.joblib"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(StorageError, match=r"has \d+ bytes where run.json records \d+"):
        load_stored_model(storage, run_id)


def test_an_altered_model_file_is_refused(copied_run, data):
    storage, run_id = copied_run
    path = storage.run_path(run_id) / "model.joblib"
    data_bytes = bytearray(path.read_bytes())
    data_bytes[len(data_bytes) // 2] ^= 0xFF  # same size, one byte changed
    path.write_bytes(bytes(data_bytes))
    with pytest.raises(StorageError, match="does not match the SHA-256 run.json records"):
        load_stored_model(storage, run_id)
    # the URL form the CLI uses checks the same
    with pytest.raises(StorageError, match="does not match"):
        load_stored_model(str(storage.run_path(run_id)))


def test_a_model_without_a_recorded_hash_loads_only_unverified(copied_run, data):
    storage, run_id = copied_run
    manifest_path = storage.run_path(run_id) / "run.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["artifacts"]["model.joblib"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(StorageError, match="records no hash for model.joblib"):
        load_stored_model(storage, run_id)
    X, _ = data
    assert len(load_stored_model(storage, run_id, verify=False).predict(X.head(3))) == 3


def test_the_url_form_loads_the_same_model(run, data):
    storage, result = run
    X, _ = data
    by_url = load_stored_model(str(storage.run_path(result.run_id)))
    direct = load_stored_model(storage, result.run_id)
    assert list(by_url.predict(X)) == list(direct.predict(X))


# --- the skops format -------------------------------------------------------------------------


class Sneaky(TransformerMixin, BaseEstimator):
    """A step of a module no trusted list names."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


def test_the_skops_file_round_trips_with_trusted_types_only(run, data, copied_run):
    pytest.importorskip("skops")
    storage, result = run
    X, _ = data
    manifest = json.loads(storage.read_bytes(result.run_id, "run.json"))
    assert "model.skops" in manifest["artifacts"]
    safe = load_stored_model(storage, result.run_id, format="skops")
    pickled = load_stored_model(storage, result.run_id)
    assert type(safe) is TabularModel
    np.testing.assert_allclose(safe.predict_proba(X), pickled.predict_proba(X))
    assert safe.signature_ == pickled.signature_

    damaged, run_id = copied_run
    path = damaged.run_path(run_id) / "model.skops"
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(StorageError, match="truncated"):
        load_stored_model(damaged, run_id, format="skops")


def test_skops_refuses_a_type_nobody_trusted(data):
    pytest.importorskip("skops")
    X, y = data
    model = TabularModel(make_pipeline(Sneaky(), LogisticRegression(max_iter=5000))).fit(X, y)
    blob = dumps_skops(model)
    name = f"{__name__}.Sneaky"
    with pytest.raises(StorageError, match=rf"types that are not trusted: \['{name}'\]"):
        loads_skops(blob)
    loaded = loads_skops(blob, trusted=[name])
    assert list(loaded.predict(X.head(5))) == list(model.predict(X.head(5)))


def test_a_run_whose_skops_file_needs_more_trust_says_so(data, tmp_path):
    pytest.importorskip("skops")
    import attrs

    from automl_tpot.run.writer import write_result

    X, y = data
    config = TrainerConfig(target_column=TARGET, cv=3, n_jobs=1, random_state=0, skops=True)
    baseline = train_baseline(X.assign(**{TARGET: y}), config, reason="a stored run")
    model = TabularModel(make_pipeline(Sneaky(), LogisticRegression(max_iter=5000))).fit(X, y)
    stored = write_result(
        FilesystemStorage(tmp_path), attrs.evolve(baseline, model=model), "sneaky"
    )
    (note,) = [n for n in stored.notes if "outside the trusted list" in n]
    assert f"{__name__}.Sneaky" in note
    manifest = json.loads((tmp_path / "sneaky" / "run.json").read_text())
    assert note in manifest["summary"]["notes"]
    with pytest.raises(StorageError, match="not trusted"):
        load_stored_model(FilesystemStorage(tmp_path), "sneaky", format="skops")


@pytest.mark.parametrize("package", ["xgboost", "lightgbm"])
def test_skops_trusts_the_boosters_config_dicts_may_name(package):
    pytest.importorskip("skops")
    pytest.importorskip(package)
    from sklearn.datasets import load_breast_cancer
    from tpot.builtin_modules import ZeroCount

    X, y = load_breast_cancer(return_X_y=True)
    if package == "xgboost":
        from xgboost import XGBClassifier as Booster
    else:
        from lightgbm import LGBMClassifier as Booster
    fitted = make_pipeline(ZeroCount(), Booster(n_estimators=5, n_jobs=1)).fit(X, y)
    loaded = loads_skops(dumps_skops(fitted))
    np.testing.assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X))
