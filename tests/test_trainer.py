"""The Trainer end to end on real data: models, reports, artifacts, and bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, make_scorer

from automl_tpot import (
    DataError,
    FilesystemStorage,
    StorageError,
    Trainer,
    TrainingError,
    load_model,
    load_run,
)

pytestmark = pytest.mark.usefixtures("no_leaked_processes")

ARTIFACTS = {
    "model.joblib",
    "leaderboard.json",
    "tp_pareto_front.json",
    "evaluated_individuals.json",
    "signature.json",
    "run.json",
}


def test_classification_run_leaves_a_complete_usable_run(tmp_path, cancer_table, small_config):
    storage = FilesystemStorage(tmp_path)
    events, finished = [], []
    config = small_config(target_column="diagnosis", leaderboard_k=3)
    result = Trainer(config, storage=storage).train(
        cancer_table, progress=events.append, on_evaluation=finished.append
    )

    assert result.task == "classification" and "non-numeric" in result.task_reason
    assert result.metric == "roc_auc"
    assert 0.5 < result.best_score <= 1.0
    assert result.generations_completed == 2 and result.stopped_by == "generations"
    assert [e.generation for e in events] == [1, 2]
    outcomes = [r for r in result.evaluations if r.status != "not_finished"]
    assert [e.evaluations for e in finished] == list(range(1, len(outcomes) + 1))
    assert {e.generation for e in finished} == {1, 2}
    assert finished[-1].best_score == max(r.score for r in outcomes if r.ok)
    assert result.parallel == {  # one worker, no memory limit: the default evaluates in a thread
        "mode_requested": "local",
        "mode_used": "local",
        "n_workers": 1,
        "worker_threads": True,
    }

    run_dir = tmp_path / result.run_id
    names = {p.name for p in run_dir.iterdir()}
    assert ARTIFACTS <= names <= ARTIFACTS | {"importance.json", "diagnostics.json"}
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "complete" and manifest["schema_version"] == 1
    for name, facts in manifest["artifacts"].items():
        assert hashlib.sha256((run_dir / name).read_bytes()).hexdigest() == facts["sha256"]
    assert manifest["summary"]["best_pipeline"] == result.best_pipeline
    assert manifest["config"]["target_column"] == "diagnosis"

    stored = load_run(storage, result.run_id)
    board = stored.leaderboard["entries"]
    assert 1 <= len(board) <= 3
    assert [e["score"] for e in board] == sorted((e["score"] for e in board), reverse=True)
    assert _ensemble_ran_cleanly(result)
    if result.best_pipeline.startswith("Ensemble("):  # an average beat the best pipeline in CV
        assert result.best_score > board[0]["score"]
        assert any(note.startswith("the model averages") for note in result.notes)
    else:
        assert board[0]["score"] == pytest.approx(result.best_score)
    for entry in board:
        assert {"pipeline", "score", "scores", "complexity", "eval_seconds", "generation"} <= set(
            entry
        )
    individuals = stored.evaluated_individuals["individuals"]
    assert len(individuals) >= config.population_size
    assert {r["status"] for r in individuals} <= {"ok", "failed", "timeout", "not_finished"}
    front = stored.pareto_front["front"]
    assert front and front[0]["score"] == board[0]["score"]

    rows = cancer_table.drop(columns="diagnosis").head(20).copy()
    rows.loc[rows.index[0], "region"] = "a region never seen"
    rows.loc[rows.index[1], "mean radius"] = np.nan
    predictions = load_model(storage, result.run_id).predict(rows)
    assert set(predictions) <= {"benign", "malignant"}
    assert result.model.score(cancer_table, cancer_table["diagnosis"]) > 0.8


def test_model_joblib_predicts_with_joblib_alone(tmp_path, cancer_table, small_config):
    result = Trainer(
        small_config(target_column="diagnosis", generations=1), storage=FilesystemStorage(tmp_path)
    ).train(cancer_table)
    rows = tmp_path / "rows.csv"
    cancer_table.drop(columns="diagnosis").head(10).to_csv(rows, index=False)
    script = (
        "import joblib, pandas, sys; "
        "m = joblib.load(sys.argv[1]); print(list(m.predict(pandas.read_csv(sys.argv[2]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / result.run_id / "model.joblib"), str(rows)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "benign" in out or "malignant" in out


def _ensemble_ran_cleanly(result) -> bool:
    return "ensemble" in result.timings and not any(
        note.startswith("the ensemble stage failed") for note in result.notes
    )


def test_regression_run(tmp_path, diabetes_table, small_config):
    result = Trainer(
        small_config(target_column="target"), storage=FilesystemStorage(tmp_path)
    ).train(diabetes_table)
    assert result.task == "regression" and result.metric == "r2"
    assert _ensemble_ran_cleanly(result)
    predictions = result.model.predict(diabetes_table.drop(columns="target").head(5))
    assert predictions.dtype == float and predictions.shape == (5,)
    assert result.best_score > 0.0


def test_categorical_columns_reach_hgb_as_native_categories(tmp_path, diabetes_table, small_config):
    table = diabetes_table.copy()
    table["decile"] = pd.qcut(table["bmi"], 10, labels=[f"d{i}" for i in range(10)]).astype(object)
    result = Trainer(
        small_config(target_column="target", generations=1, ensemble=False),
        storage=FilesystemStorage(tmp_path),
    ).train(table)
    described = [entry["pipeline"] for entry in result.evaluated_individuals]
    assert any(
        text and text.startswith("CategoryCodes(2 categorical columns) -> HistGradientBoosting")
        for text in described
    )
    # whatever won, the stored model predicts raw rows, an unseen category included
    rows = table.drop(columns="target").head(3).copy()
    rows.loc[rows.index[0], "decile"] = "never seen"
    model = joblib.load(tmp_path / result.run_id / "model.joblib")
    assert np.isfinite(model.predict(rows)).all()


def test_multiclass_with_a_callable_scorer_and_no_storage(wine_table, small_config):
    macro_f1 = make_scorer(f1_score, average="macro")
    result = Trainer(
        small_config(target_column="target", metric=macro_f1, generations=1), store=False
    ).train(wine_table)
    assert result.run_id is None and result.location is None
    assert result.task == "classification" and list(result.model.classes_) == [0, 1, 2]
    assert result.metric == "f1_score"
    assert 0.5 < result.best_score <= 1.0
    assert _ensemble_ran_cleanly(result)


def test_ensemble_off_returns_the_best_single_pipeline(cancer_table, small_config):
    result = Trainer(
        small_config(target_column="diagnosis", generations=1, ensemble=False), store=False
    ).train(cancer_table)
    assert "ensemble" not in result.timings
    assert not result.best_pipeline.startswith("Ensemble(")
    assert result.leaderboard[0]["score"] == pytest.approx(result.best_score)


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda t: t.iloc[0:0], DataError),
        (lambda t: t.drop(columns="diagnosis"), DataError),
        (lambda t: t.assign(diagnosis="benign"), DataError),
        (lambda t: t.assign(diagnosis=t["diagnosis"].where(t.index % 7 != 0)), DataError),
    ],
)
def test_bad_input_raises_and_leaves_nothing_on_disk(
    tmp_path, cancer_table, small_config, make, error
):
    storage_root = tmp_path / "runs"
    with pytest.raises(error):
        Trainer(
            small_config(target_column="diagnosis"), storage=FilesystemStorage(storage_root)
        ).train(make(cancer_table))
    assert not storage_root.exists()


def test_non_numeric_regression_target_is_rejected(tmp_path, cancer_table, small_config):
    with pytest.raises(DataError, match="numeric target"):
        Trainer(
            small_config(target_column="diagnosis", task="regression"),
            storage=FilesystemStorage(tmp_path / "r"),
        ).train(cancer_table)
    assert not (tmp_path / "r").exists()


def test_a_budget_too_small_for_any_search_fails_fast_and_cleanly(
    tmp_path, cancer_table, small_config
):
    storage_root = tmp_path / "runs"
    with pytest.raises(TrainingError, match="time_left"):
        Trainer(
            small_config(target_column="diagnosis", time_left=0.5),
            storage=FilesystemStorage(storage_root),
        ).train(cancer_table)
    assert not storage_root.exists()


def test_an_existing_run_id_is_refused_before_training(tmp_path, cancer_table, small_config):
    storage = FilesystemStorage(tmp_path)
    storage.write_bytes("taken", "run.json", b"{}")
    with pytest.raises(StorageError, match="already exists"):
        Trainer(small_config(target_column="diagnosis"), storage=storage).train(
            cancer_table, run_id="taken"
        )
