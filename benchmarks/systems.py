"""The systems compared, each fitted on one split in the child process that ``run.py`` starts.

Every fit returns the held-out scores, ``wall_seconds`` (the fit call alone, cluster start and
stop included) and ``time_to_final_seconds``: how long after the fit started the system had
trained what its final model is made of. Per system:

- ``ours``: the latest ``completed_at`` among the evaluations of the final model's pipelines
  (each ensemble member, or the single chosen pipeline), taking each pipeline's first
  successful evaluation; the ensemble stage and the final refit come after it.
- ``ours_threads``, ``ours_processes``: as ``ours``, with ``worker_threads`` ``True`` (one
  in-process Dask worker) or ``False`` (worker processes); ``ours`` leaves it to the default.
- ``tpot``: the ``Completed Timestamp`` of the row TPOT selected (``selected_best_score``).
- ``flaml``: FLAML's own ``time_to_find_best_model``.
- ``hgb``: the fit itself (one model, final when its fit ends).
- ``autogluon``: see ``autogluon_worker.py``.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Sequence
from typing import Any

from scoring import score

#: What ``ours``' evaluation records call a successful evaluation.
STATUS_OK = "ok"


def final_pipeline_descriptions(model: Any) -> list[str]:
    """The one-line descriptions of the pipelines a TabularModel's final estimator is made of."""
    from automl_tpot.utils.pipelines import describe_pipeline

    estimator = getattr(model, "estimator", model)
    members = getattr(estimator, "members", None)
    if type(estimator).__name__ == "WeightedEnsemble" and members is not None:
        return [describe_pipeline(member) for member in members]
    return [describe_pipeline(estimator)]


def time_to_final_from_records(
    records: Sequence[dict[str, Any]],
    descriptions: Sequence[str],
    started_at: float,
    leaderboard: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Seconds from ``started_at`` (Unix) until the last of ``descriptions`` was first scored.

    A description no successful record has (should not happen) falls back, for a single
    pipeline, to the leaderboard's best record; otherwise the time is ``None``. ``source``
    says which way it was found.
    """
    first_done: dict[str, float] = {}
    by_id: dict[int, dict[str, Any]] = {}
    for record in records:
        by_id[record["id"]] = record
        completed = record.get("completed_at")
        if record.get("status") != STATUS_OK or completed is None:
            continue
        pipeline = record.get("pipeline")
        first_done[pipeline] = min(first_done.get(pipeline, math.inf), completed)
    times = [first_done.get(description) for description in descriptions]
    if times and all(t is not None for t in times):
        return {
            "time_to_final_seconds": round(max(times) - started_at, 2),
            "time_to_final_source": "members" if len(times) > 1 else "pipeline",
        }
    if len(descriptions) == 1 and leaderboard:
        best = by_id.get(leaderboard[0]["id"], {})
        if best.get("completed_at") is not None:
            return {
                "time_to_final_seconds": round(best["completed_at"] - started_at, 2),
                "time_to_final_source": "leaderboard",
            }
    unmatched = sum(t is None for t in times)
    return {
        "time_to_final_seconds": None,
        "time_to_final_source": f"{unmatched} of {len(times)} pipelines not among the records",
    }


def status_counts(records: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Evaluations per status (``ok``, ``timeout``, ``failed``, ``not_finished``)."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    return counts


def fit_ours(
    train,
    test,
    target: str,
    task: str,
    budget: float,
    n_jobs: int,
    seed: int,
    threads: bool | None = None,
):
    """Our Trainer with its defaults (``threads``: its ``worker_threads``), nothing stored."""
    from automl_tpot import Trainer, TrainerConfig

    config = TrainerConfig(
        target_column=target,
        task=task,
        time_left=budget,
        n_jobs=n_jobs,
        random_state=seed,
        worker_threads=threads,
    )
    started_at, started = time.time(), time.monotonic()
    result = Trainer(config, store=False).train(train)
    wall = time.monotonic() - started
    records = result.evaluated_individuals
    info = {
        "cv_score": result.best_score,
        "pipeline": result.best_pipeline[:400],
        "generations": result.generations_completed,
        "evaluations": len(records),
        "statuses": status_counts(records),
        "stopped_by": result.stopped_by,
        "timings": result.timings,
        "notes": list(result.notes),
        "ensemble": result.ensemble_summary.to_dict() if result.ensemble_summary else None,
        **time_to_final_from_records(
            records, final_pipeline_descriptions(result.model), started_at, result.leaderboard
        ),
    }
    return result.model, test.drop(columns=target), wall, info


def fit_tpot(train, test, target: str, task: str, budget: float, n_jobs: int, seed: int):
    """Raw TPOT's estimator with its defaults (its own preprocessing where a table needs it)."""
    import numpy as np
    import tpot

    X_train, y_train = train.drop(columns=target), train[target]
    estimator_class = tpot.TPOTClassifier if task == "classification" else tpot.TPOTRegressor
    needs_preprocessing = bool(X_train.isna().any().any()) or any(
        not np.issubdtype(dtype, np.number) for dtype in X_train.dtypes
    )
    model = estimator_class(
        max_time_mins=budget / 60,
        n_jobs=n_jobs,
        random_state=seed,
        verbose=0,
        preprocessing=needs_preprocessing,
    )
    started_at, started = time.time(), time.monotonic()
    model.fit(X_train, y_train)
    wall = time.monotonic() - started
    history = model.evaluated_individuals
    completed = float(model.selected_best_score["Completed Timestamp"])
    info = {
        "pipeline": str(model.fitted_pipeline_)[:400],
        "evaluations": len(history),
        "statuses": {"ok": int(history["Eval Error"].isna().sum())},
        "time_to_final_seconds": round(completed - started_at, 2)
        if math.isfinite(completed)
        else None,
    }
    return model, test.drop(columns=target), wall, info


def fit_flaml(train, test, target: str, task: str, budget: float, n_jobs: int, seed: int):
    """FLAML's AutoML with its defaults; text columns as pandas categories."""
    import pandas as pd
    from flaml import AutoML
    from suite_data import with_categories

    X_train, X_test = with_categories(train.drop(columns=target), test.drop(columns=target))
    y_train = train[target]
    if task == "classification" and not pd.api.types.is_numeric_dtype(y_train):
        y_train = y_train.astype(object)  # FLAML 2.7 cannot read pandas 3's string dtype
    model = AutoML()
    started = time.monotonic()
    model.fit(
        X_train=X_train,
        y_train=y_train,
        task=task,
        time_budget=budget,
        n_jobs=n_jobs,
        seed=seed,
        verbose=0,
    )
    wall = time.monotonic() - started
    info = {
        "pipeline": str(model.best_estimator),
        "time_to_final_seconds": round(float(model.time_to_find_best_model), 2),
        "best_config_train_seconds": round(float(model.best_config_train_time), 2),
    }
    return model, X_test, wall, info


def fit_hgb(train, test, target: str, task: str, budget: float, n_jobs: int, seed: int):
    """A default HistGradientBoosting model on ``n_jobs`` threads (native categories; a column
    of more than 255 levels as its level codes)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from suite_data import with_categories
    from threadpoolctl import threadpool_limits

    X_train, X_test = with_categories(
        train.drop(columns=target), test.drop(columns=target), max_levels=255
    )
    estimator_class = (
        HistGradientBoostingClassifier
        if task == "classification"
        else HistGradientBoostingRegressor
    )
    model = estimator_class(random_state=seed)
    started = time.monotonic()
    with threadpool_limits(limits=n_jobs):
        model.fit(X_train, train[target])
    wall = time.monotonic() - started
    return model, X_test, wall, {"time_to_final_seconds": round(wall, 2)}


FITS = {
    "ours": fit_ours,
    "ours_threads": functools.partial(fit_ours, threads=True),
    "ours_processes": functools.partial(fit_ours, threads=False),
    "tpot": fit_tpot,
    "flaml": fit_flaml,
    "hgb": fit_hgb,
}


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Fit ``job["system"]`` on the split files of the job; the result record's fields."""
    from suite_data import read_split
    from threadpoolctl import threadpool_limits

    train, test = read_split(job["train"], job["test"])
    target, task = job["target"], job["task"]
    fit = FITS[job["system"]]
    model, X_test, wall, info = fit(
        train, test, target, task, job["budget"], job["n_jobs"], job["seed"]
    )
    with threadpool_limits(limits=job["n_jobs"]):
        scores = score(model, X_test, test[target], task)
    return {**scores, "wall_seconds": round(wall, 2), **info}
