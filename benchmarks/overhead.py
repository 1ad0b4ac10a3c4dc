"""Overhead benchmark: our Trainer against raw TPOT with identical TPOT settings, and import time.

Both sides run the same ``TPOTEstimator`` search (same search space, population, generations,
folds, objectives, workers and seed) on the same data; raw TPOT gets the already-encoded matrix
and starts its own Dask cluster, our Trainer does everything it does for a user (validation,
preprocessing, cluster start and warm-up, reports, artifacts). The difference is our overhead.
Each measurement runs in a fresh process; the runs alternate to spread machine noise.

Usage::

    python benchmarks/overhead.py --repeats 3 --generations 3 --population-size 12
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def table():
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    return bunch.frame


def run_ours(settings: dict) -> float:
    from automl_tpot import FilesystemStorage, Trainer, TrainerConfig

    data = table()
    config = TrainerConfig(
        target_column="target",
        task="classification",
        metric="roc_auc",
        search_space="linear-light",
        generations=settings["generations"],
        population_size=settings["population_size"],
        cv=settings["cv"],
        n_jobs=settings["n_jobs"],
        random_state=0,
        time_left=3600,
        per_run_limit=600,
        # the ensemble stage is extra work after the search, not overhead on TPOT's own
        ensemble=False,
    )
    with tempfile.TemporaryDirectory() as folder:
        started = time.monotonic()
        Trainer(config, storage=FilesystemStorage(folder)).train(data)
        return time.monotonic() - started


def run_raw(settings: dict) -> float:
    from tpot import TPOTEstimator

    from automl_tpot.utils.pipelines import pipeline_complexity

    data = table()
    X, y = data.drop(columns="target").to_numpy(), data["target"].to_numpy()
    started = time.monotonic()
    TPOTEstimator(
        search_space="linear-light",
        scorers=["roc_auc"],
        scorers_weights=[1.0],
        classification=True,
        cv=settings["cv"],
        other_objective_functions=[pipeline_complexity],
        other_objective_functions_weights=[-1.0],
        objective_function_names=["complexity"],
        population_size=settings["population_size"],
        generations=settings["generations"],
        max_time_mins=60,
        max_eval_time_mins=10,
        n_jobs=settings["n_jobs"],
        random_state=0,
        verbose=0,
    ).fit(X, y)
    return time.monotonic() - started


def import_seconds() -> float:
    """Wall time of ``import automl_tpot`` in a fresh interpreter (minus a bare interpreter's)."""

    def timed(code: str) -> float:
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.monotonic() - started

    bare = min(timed("pass") for _ in range(3))
    return max(0.0, min(timed("import automl_tpot") for _ in range(3)) - bare)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--population-size", type=int, default=12)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    settings = {
        "generations": args.generations,
        "population_size": args.population_size,
        "cv": args.cv,
        "n_jobs": args.n_jobs,
    }

    if args.one:
        seconds = run_ours(settings) if args.one == "ours" else run_raw(settings)
        print(f"SECONDS {seconds}")
        return 0

    walls: dict[str, list[float]] = {"raw": [], "ours": []}
    for _ in range(args.repeats):
        for side in ("raw", "ours"):
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--one",
                    side,
                    "--generations",
                    str(args.generations),
                    "--population-size",
                    str(args.population_size),
                    "--cv",
                    str(args.cv),
                    "--n-jobs",
                    str(args.n_jobs),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            walls[side].append(float(done.stdout.split("SECONDS ")[-1]))
            print(f"{side:<4} {walls[side][-1]:.2f}s", flush=True)
    raw, ours = statistics.median(walls["raw"]), statistics.median(walls["ours"])
    report = {
        "settings": settings,
        "walls": walls,
        "median_raw_seconds": round(raw, 2),
        "median_ours_seconds": round(ours, 2),
        "overhead_percent": round(100 * (ours - raw) / raw, 1),
        "import_automl_tpot_seconds": round(import_seconds(), 3),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "overhead.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
