"""AutoGluon on one split, run by ``run.py`` with the Python of ``benchmarks/.venv-autogluon``.

AutoGluon 1.6 pins pandas and pyarrow below what this project uses, so it lives in a virtual
environment of its own (``setup_autogluon.sh``). This script imports nothing of the project:
it reads the split from the Parquet files the job names, fits a ``TabularPredictor`` and prints
one ``RESULT {json}`` line scored by ``scoring.py`` (the module every system is scored with).

Settings: AutoGluon's defaults (``presets`` unset, which AutoGluon 1.6 documents as
``medium_quality``, unless the job names presets), ``time_limit`` = the budget,
``num_cpus`` = ``n_jobs``, ``num_gpus=0``, and ``eval_metric`` = the metric the held-out score
uses (``roc_auc``, ``balanced_accuracy`` or ``r2``), as our Trainer optimises that one too.
Each model keeps AutoGluon's own random seed (0); the job's seed changes the split only.

``time_to_final_seconds``: from the start of ``fit`` until the last model the final model
needs was saved (the modification time of its ``model.pkl``): for the default weighted ensemble,
its last base model with a non-zero weight; the ensemble's own weighting comes after it.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scoring import score_predictions  # noqa: E402

METRICS = {"binary": "roc_auc", "multiclass": "balanced_accuracy", "regression": "r2"}


def final_members(predictor: Any) -> list[str]:
    """The models the best model is built from (itself when it is not an ensemble)."""
    trainer = predictor._trainer
    best = predictor.model_best
    model = trainer.load_model(best)
    weights = getattr(model, "_get_model_weights", None)
    if callable(weights):
        chosen = [name for name, weight in weights().items() if weight > 0]
        if chosen:
            return chosen
    below = trainer.get_minimum_model_set(best, include_self=False)
    return below or [best]


def saved_at(predictor: Any, name: str) -> float | None:
    """When the model's file was written (Unix seconds)."""
    path = Path(predictor.path) / "models" / name / "model.pkl"
    return path.stat().st_mtime if path.exists() else None


def fit(job: dict[str, Any], folder: str) -> dict[str, Any]:
    import pandas as pd
    from autogluon.tabular import TabularPredictor

    train, test = pd.read_parquet(job["train"]), pd.read_parquet(job["test"])
    target, task = job["target"], job["task"]
    if task == "regression":
        problem_type = "regression"
    else:
        problem_type = "binary" if train[target].nunique() == 2 else "multiclass"
    predictor = TabularPredictor(
        label=target,
        problem_type=problem_type,
        eval_metric=METRICS[problem_type],
        path=folder,
        verbosity=job.get("verbosity", 0),
    )
    options: dict[str, Any] = {}
    if job.get("presets"):
        options["presets"] = job["presets"]
    started_at, started = time.time(), time.monotonic()
    predictor.fit(train, time_limit=job["budget"], num_cpus=job["n_jobs"], num_gpus=0, **options)
    wall = time.monotonic() - started

    X_test = test.drop(columns=[target])
    if task == "regression":
        scores = score_predictions(task, test[target], predictor.predict(X_test))
    else:
        probabilities = predictor.predict_proba(X_test)
        classes = list(probabilities.columns)
        predictions = predictor.predict(X_test) if len(classes) > 2 else None
        scores = score_predictions(
            task, test[target], predictions, probabilities.to_numpy(), classes
        )
    members = final_members(predictor)
    times = [saved_at(predictor, name) for name in members]
    board = predictor.leaderboard(silent=True)
    return {
        **scores,
        "wall_seconds": round(wall, 2),
        "time_to_final_seconds": (
            round(max(times) - started_at, 2) if times and None not in times else None
        ),
        "pipeline": f"{predictor.model_best}: {', '.join(members)}"[:400],
        "evaluations": int(len(board)),
        "presets": job.get("presets") or "default (medium_quality)",
    }


def main() -> int:
    job = json.loads(sys.argv[1])
    folder = tempfile.mkdtemp(prefix="autogluon-")
    try:
        result = fit(job, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
