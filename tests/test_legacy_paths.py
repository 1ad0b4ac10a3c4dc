"""Old import paths keep working after the 0.1.0 layout, and a model stored before it loads.

The flat modules (``automl_tpot.trainer``, ``automl_tpot.results``, ...) moved into packages;
their old names import with a DeprecationWarning. ``tests/data/model-before-0.1.0.joblib`` was
written by the code before the move (a TabularModel holding a WeightedEnsemble with a
CategoryCodes step, the preprocessing's FunctionTransformers), with the predictions it made then.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest

from automl_tpot import DataError

DATA = Path(__file__).parent / "data"

OLD_NAMES = {
    "automl_tpot.trainer": ["Trainer", "default_metric"],
    "automl_tpot.results": ["TrainingResult", "describe_pipeline", "SCHEMA_VERSION", "dumps_json"],
    "automl_tpot.progress": ["Alert", "GenerationProgress", "ALERT_KINDS"],
    "automl_tpot.fallback": ["train_baseline", "fallback_enabled", "FALLBACK_ENV"],
    "automl_tpot.objectives": ["pipeline_complexity", "iter_operators"],
    "automl_tpot.budget": ["SearchDeadline"],
    "automl_tpot.parallel": ["open_dask_session", "DaskSession", "memory_kills"],
    "automl_tpot.evaluation": ["EvaluationLoop", "call_with_time_limit", "evaluate_on_worker"],
    "automl_tpot.transformers": ["CategoryCodes", "CappedFeatureAgglomeration"],
    # packages that kept their old module's names
    "automl_tpot.ensemble": ["WeightedEnsemble", "build_ensemble", "greedy_selection"],
    "automl_tpot.jobs": ["run_for_job", "details_json", "read_failure", "DETAILS_LIMIT"],
    "automl_tpot.config": ["TrainerConfig", "ENV_VARIABLES", "default_n_jobs"],
    "automl_tpot.data": ["prepare_training_data", "build_preprocessor", "as_category_strings"],
    "automl_tpot.model": ["TabularModel"],
    "automl_tpot.plugins": ["SearchSpaceDefinition", "hookimpl", "load_registry"],
    "automl_tpot.cli": ["main", "build_parser", "demo_table"],
    "automl_tpot.cluster": ["scheduler_command", "worker_command", "WORKER_ENVIRONMENT"],
}


@pytest.mark.parametrize("module", sorted(OLD_NAMES))
def test_an_old_module_path_still_imports_its_names(module):
    imported = importlib.import_module(module)
    for name in OLD_NAMES[module]:
        assert getattr(imported, name) is not None, f"{module}.{name}"


def test_a_moved_module_warns_once_it_is_imported():
    code = (
        "import warnings; warnings.simplefilter('error', DeprecationWarning)\n"
        "try:\n    import automl_tpot.trainer\nexcept DeprecationWarning as w:\n    print(w)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert "automl_tpot.trainer moved to automl_tpot.run.trainer" in completed.stdout


def test_an_unknown_name_of_a_moved_module_is_an_attribute_error():
    import automl_tpot.budget as budget

    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        budget.nothing_here  # noqa: B018


def test_a_model_stored_before_the_move_loads_and_predicts_as_it_did():
    model = joblib.load(DATA / "model-before-0.1.0.joblib")
    rows = pd.read_csv(DATA / "model-before-0.1.0-rows.csv")
    expected = pd.read_csv(DATA / "model-before-0.1.0-predictions.csv")["prediction"]
    assert list(model.predict(rows)) == list(expected)
    probabilities = model.predict_proba(rows)
    assert np.allclose(probabilities.sum(axis=1), 1.0)


def test_a_model_stored_before_the_estimator_contract_is_a_fitted_classifier_that_refits():
    from sklearn.base import clone, is_classifier
    from sklearn.utils.validation import check_is_fitted

    model = joblib.load(DATA / "model-before-0.1.0.joblib")
    rows = pd.read_csv(DATA / "model-before-0.1.0-rows.csv")
    check_is_fitted(model)
    check_is_fitted(model.estimator_)  # its WeightedEnsemble, migrated too
    assert is_classifier(model) and list(model.feature_names_in_) == list(rows.columns)
    assert model.signature_.required == tuple(rows.columns)
    with pytest.raises(DataError, match="'ash'"):
        model.predict(rows.drop(columns="ash"))
    # refit on the kind of table it was trained on: wine's first columns, a category, a flag
    from sklearn.datasets import load_wine

    wine = load_wine(as_frame=True)
    table = wine.frame[list(rows.columns[:4])].copy()
    rng = np.random.default_rng(0)
    table["region"] = rng.choice(["north", "south", "east", None], size=len(table))
    table["member"] = rng.choice([True, False], size=len(table))
    labels = np.asarray(["a", "b", "c"])[wine.target.to_numpy()]
    refitted = clone(model).fit(table, labels)
    assert list(refitted.classes_) == ["a", "b", "c"]
    assert refitted.score(table, labels) > 0.8
