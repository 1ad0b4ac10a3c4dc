"""The MLflow backend against a real local tracking store (SQLite, artifacts in a folder): one
real training logs its parameters, metrics per generation, artifacts and model, and
``mlflow.pyfunc.load_model`` predicts with the model on raw rows."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

import numpy as np
import pytest

from automl_tpot import DataError, FilesystemStorage, Trainer, TrainerConfig, metrics_from_name

mlflow = pytest.importorskip("mlflow")

from automl_tpot.metrics.mlflow import MLflowMetrics  # noqa: E402
from automl_tpot.run.events import RunReporter  # noqa: E402

pytestmark = pytest.mark.usefixtures("no_leaked_processes")


def _config(**overrides) -> TrainerConfig:
    values = dict(
        target_column="diagnosis",
        time_left=60,
        generations=2,
        population_size=4,
        n_jobs=1,
        cv=3,
        random_state=0,
    )
    return TrainerConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    return SimpleNamespace(
        uri=f"sqlite:///{root / 'mlflow.db'}", artifacts=(root / "artifacts").as_uri(), root=root
    )


@pytest.fixture(scope="module")
def logged(store, cancer_table):
    backend = MLflowMetrics(store.uri, "automl-tpot-tests", artifact_location=store.artifacts)
    storage = FilesystemStorage(store.root / "runs")
    result = Trainer(_config(), storage=storage, metrics=backend).train(
        cancer_table, run_id="tracked"
    )
    (run,) = backend.client.search_runs(
        [backend.client.get_experiment_by_name("automl-tpot-tests").experiment_id]
    )
    return SimpleNamespace(backend=backend, result=result, run=run, storage=storage)


def test_the_run_holds_the_parameters_metrics_per_generation_and_the_artifacts(logged):
    run, result, client = logged.run, logged.result, logged.backend.client
    assert run.info.status == "FINISHED"
    assert run.data.tags["automl_tpot.run_id"] == "tracked"
    assert run.data.tags["mlflow.runName"] == "tracked"
    assert run.data.tags["automl_tpot.location"] == result.location
    config = result.config.to_dict()
    assert run.data.params["population_size"] == "4"
    assert run.data.params["target_column"] == "diagnosis"
    assert set(run.data.params) == set(config)

    history = sorted(client.get_metric_history(run.info.run_id, "best_score"), key=lambda m: m.step)
    assert [m.step for m in history] == list(range(1, result.generations_completed + 1))
    scores = [m.value for m in history]
    assert scores == sorted(scores)  # the best so far never falls
    evaluations = client.get_metric_history(run.info.run_id, "evaluations")
    assert max(m.value for m in evaluations) == len(result.evaluations)
    assert run.data.metrics["final_best_score"] == pytest.approx(result.best_score)
    assert run.data.metrics["seconds_total"] == pytest.approx(result.timings["total"])

    names = {item.path for item in client.list_artifacts(run.info.run_id, "automl_tpot")}
    stored = json.loads(logged.storage.read_bytes("tracked", "run.json"))
    expected = {f"automl_tpot/{name}" for name in [*stored["artifacts"], "run.json"]}
    assert names == expected
    local = client.download_artifacts(run.info.run_id, "automl_tpot/run.json")
    with open(local, encoding="utf-8") as handle:
        assert json.load(handle) == stored


def test_mlflow_pyfunc_loads_the_model_and_predicts_on_raw_rows(
    logged, store, cancer_table, monkeypatch
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.uri)
    uri = f"runs:/{logged.run.info.run_id}/model"
    model = mlflow.pyfunc.load_model(uri)
    rows = cancer_table.drop(columns="diagnosis").iloc[100:140]
    assert rows.isna().any().any()  # gaps and a categorical column with missing values
    predictions = np.asarray(model.predict(rows))
    np.testing.assert_array_equal(predictions, logged.result.model.predict(rows))
    assert set(predictions) <= {"benign", "malignant"}

    info = mlflow.models.Model.load(uri)
    assert info.flavors.keys() >= {"sklearn", "python_function"}
    assert info.signature.inputs.input_names() == list(rows.columns)
    assert info.saved_input_example_info is not None


def test_the_report_can_join_the_run_afterwards(logged, tmp_path):
    pytest.importorskip("matplotlib")
    logged.backend.log_file(logged.result.report(tmp_path / "report.html"))
    client, run_id = logged.backend.client, logged.run.info.run_id
    names = {item.path for item in client.list_artifacts(run_id, "automl_tpot")}
    assert "automl_tpot/report.html" in names


def test_the_backend_is_chosen_by_name_like_the_others(store):
    backend = metrics_from_name("mlflow", tracking_uri=store.uri, experiment_name="by-name")
    assert isinstance(backend, MLflowMetrics) and backend.experiment_name == "by-name"


def test_a_failed_run_ends_failed_with_its_error(store, cancer_table):
    backend = MLflowMetrics(store.uri, "failures", artifact_location=store.artifacts)
    with pytest.raises(DataError):
        Trainer(_config(target_column="no_such_column"), metrics=backend, store=False).train(
            cancer_table
        )
    (run,) = backend.client.search_runs(
        [backend.client.get_experiment_by_name("failures").experiment_id]
    )
    assert run.info.status == "FAILED"
    assert "no_such_column" in run.data.tags["automl_tpot.error"]


class _BrokenTracker:
    """A backend whose tracking server is down when the run is stored."""

    def __init__(self):
        self.finished: list[dict] = []

    def on_progress(self, progress):
        pass

    def on_alert(self, alert):
        pass

    def on_run_stored(self, run_id, location, artifacts, model, input_example):
        raise ConnectionError("tracking server unreachable")

    def on_run_finished(self, summary):
        self.finished.append(summary)


def test_a_failing_stored_run_hook_is_logged_and_never_fails_the_run(logged, cancer_table, caplog):
    backend = _BrokenTracker()
    with caplog.at_level(logging.WARNING, logger="automl_tpot"):
        RunReporter(backend).completed(logged.result, logged.storage, cancer_table)
    assert "the metrics backend on the stored run failed" in caplog.text
    assert backend.finished and backend.finished[0]["status"] == "complete"
