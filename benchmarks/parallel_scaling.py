"""Successful pipeline evaluations per minute against the number of Dask workers.

Compares raw TPOT 1.1 (its own evaluation loop, data scattered by TPOT) with automl-tpot's
evaluation loop, on local clusters of 1..N workers and through a real ``dask scheduler`` with
N ``dask worker`` processes (started with ``automl-tpot scheduler`` / ``worker``).

The issue's benchmark (the defaults): a 45 s search window, population 50, ``linear-light``,
``cv=5``, a 20,000 x 40 ``make_classification`` table. Cluster start-up is outside the window for
both contenders; the rate is successful evaluations (finite score, no error) over the window.

    python benchmarks/parallel_scaling.py --workers 1 2 --distributed 2
    python benchmarks/parallel_scaling.py --workers 1 4 8 15 --distributed 15   # 16 cores
    python benchmarks/parallel_scaling.py --window 20 --population 20 --rows 5000  # quick
    python benchmarks/parallel_scaling.py --synthetic --workers 1 4 8  # few cores: see synthetic.py

Writes ``parallel_scaling.json`` and ``parallel_scaling.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any


def make_table(rows: int, features: int, seed: int = 0):
    from sklearn.datasets import make_classification

    return make_classification(
        n_samples=rows, n_features=features, n_informative=max(2, features // 2), random_state=seed
    )


def tpot_estimator(args: argparse.Namespace, client: Any, scatter: bool, n_jobs: int):
    from tpot import TPOTEstimator

    search_space: Any = args.search_space
    if args.synthetic:
        from synthetic import search_space as synthetic_space

        search_space = synthetic_space(args.cv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TPOTEstimator(
            search_space=search_space,
            scorers=["roc_auc"],
            scorers_weights=[1.0],
            classification=True,
            cv=args.cv,
            population_size=args.population,
            generations=None,
            max_time_mins=args.window / 60,
            max_eval_time_mins=args.per_run_limit / 60,
            n_jobs=n_jobs,
            client=client,
            scatter=scatter,
            random_state=args.seed,
            verbose=0,
        )


def count(estimator: Any, search_started: float, window: float) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    frame = estimator.evaluated_individuals
    score = pd.to_numeric(frame["roc_auc_score"], errors="coerce")
    error = frame["Eval Error"]
    finished = pd.to_numeric(frame["Completed Timestamp"], errors="coerce")
    inside = finished <= search_started + window + 1.0
    ok = int((score.notna() & error.isna() & inside).sum())
    failed = int((error.notna()).sum())
    return {
        "successful": ok,
        "failed": failed,
        "rows": len(frame),
        "generations": int(estimator._evolver_instance.generation),
        "per_minute": round(ok / (window / 60), 1),
        "best_roc_auc": None if score.isna().all() else round(float(np.nanmax(score)), 4),
    }


def run_raw(args: argparse.Namespace, X, y, workers: int) -> dict[str, Any]:
    from dask.distributed import Client, LocalCluster

    started = time.monotonic()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=0,
            dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
            host="127.0.0.1",
        ) as cluster,
        Client(cluster) as client,
    ):
        startup = time.monotonic() - started
        estimator = tpot_estimator(args, client, scatter=True, n_jobs=workers)
        search_started = time.time()
        fit_started = time.monotonic()
        estimator.fit(X, y)
        fit_seconds = time.monotonic() - fit_started
    return {
        "startup_s": round(startup, 1),
        "fit_s": round(fit_seconds, 1),
        **count(estimator, search_started, args.window),
    }


class _LoopHooks:
    """The boundary's evolver hooks with nothing but our evaluation loop and a fixed end (no
    budget replanning), so both loops run under identical TPOT settings."""

    def __init__(self, loop: Any, channel: Any):
        self.loop, self.channel = loop, channel

    def search_end(self) -> float:
        return self.channel.end

    def evaluate(self, request: Any) -> Any:
        return self.loop.evaluate(request)

    def generation_evaluated(self, state: Any) -> None:
        pass


def run_ours(args: argparse.Namespace, X, y, workers: int, scheduler_file: str | None = None):
    from automl_tpot import TrainerConfig
    from automl_tpot.cluster.loop import EvaluationLoop
    from automl_tpot.cluster.session import open_dask_session
    from automl_tpot.search.channel import SearchChannel
    from automl_tpot.tpot_boundary.evolver import HookedEvolver

    if scheduler_file:
        config = TrainerConfig(
            parallel_mode="distributed", scheduler_file=scheduler_file, parallel_fallback=False
        )
    else:
        config = TrainerConfig(n_jobs=workers)
    started = time.monotonic()
    with open_dask_session(config) as session:
        startup = time.monotonic() - started
        estimator = tpot_estimator(args, session.current, scatter=False, n_jobs=session.n_workers)
        channel = SearchChannel(end=time.time() + args.window, generations=None)
        loop = EvaluationLoop(session, channel)
        estimator._evolver = functools.partial(HookedEvolver, hooks=_LoopHooks(loop, channel))
        search_started = time.time()
        fit_started = time.monotonic()
        try:
            estimator.fit(X, y)
        finally:
            loop.close()
        fit_seconds = time.monotonic() - fit_started
        workers = session.n_workers
    return {
        "startup_s": round(startup, 1),
        "fit_s": round(fit_seconds, 1),
        **count(estimator, search_started, args.window),
    }


class _Cluster:
    """``automl-tpot scheduler`` plus N ``automl-tpot worker`` processes on 127.0.0.1."""

    def __init__(self, workers: int):
        self.folder = Path(tempfile.mkdtemp(prefix="tpot-bench-"))
        self.scheduler_file = str(self.folder / "scheduler.json")
        self.processes: list[subprocess.Popen] = []
        self.n = workers

    def __enter__(self) -> _Cluster:
        from dask.distributed import Client

        base = [sys.executable, "-m", "automl_tpot"]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(__file__).parent), *filter(None, [env.get("PYTHONPATH")])]
        )
        self.env = env
        self._spawn(
            [
                *base,
                "scheduler",
                "--scheduler-file",
                self.scheduler_file,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
            ]
        )
        while not os.path.exists(self.scheduler_file):
            time.sleep(0.1)
        for i in range(self.n):
            self._spawn(
                [
                    *base,
                    "worker",
                    "--scheduler-file",
                    self.scheduler_file,
                    "--host",
                    "127.0.0.1",
                    "--name",
                    f"w{i}",
                ]
            )
        with Client(scheduler_file=self.scheduler_file, timeout=60) as client:
            client.wait_for_workers(self.n, timeout=180)
        return self

    def _spawn(self, command: list[str]) -> None:
        log = open(self.folder / f"{len(self.processes)}.log", "wb")  # noqa: SIM115
        self.processes.append(
            subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=self.env
            )
        )

    def __exit__(self, *exc: Any) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def markdown(report: dict[str, Any]) -> str:
    s = report["settings"]
    lines = [
        "# Parallel scaling: successful evaluations per minute",
        "",
        f"{report['machine']['cpu_count']} CPUs ({report['machine']['platform']}), "
        f"tpot {report['versions']['tpot']}, distributed {report['versions']['distributed']}. "
        f"Window {s['window']:g} s, population {s['population']}, "
        f"`{'synthetic' if s.get('synthetic') else s['search_space']}`, "
        f"cv={s['cv']}, {s['rows']} x {s['features']} make_classification, "
        f"per-run limit {s['per_run_limit']:g} s."
        + (" Synthetic evaluations (sleeping, see synthetic.py)." if s.get("synthetic") else ""),
        "",
        "| path | workers | successful / min | successful | failed | generations | start-up s "
        "| fit s | speed-up vs 1 worker |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    base: dict[str, float] = {}
    for row in report["results"]:
        if row["workers"] == 1:
            base[row["path"]] = row["per_minute"]
    for row in report["results"]:
        reference = base.get(row["path"]) or base.get("automl-tpot local")
        speedup = "-" if not reference else f"{row['per_minute'] / reference:.2f}x"
        lines.append(
            f"| {row['path']} | {row['workers']} | {row['per_minute']} | {row['successful']} "
            f"| {row['failed']} | {row['generations']} | {row['startup_s']} | {row['fit_s']} "
            f"| {speedup} |"
        )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--distributed",
        type=int,
        nargs="*",
        default=[2],
        help="worker counts for the dask scheduler/worker path (none: skip)",
    )
    parser.add_argument("--paths", nargs="+", default=["raw", "ours"], choices=["raw", "ours"])
    parser.add_argument("--window", type=float, default=45.0, help="search seconds")
    parser.add_argument("--population", type=int, default=50)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=40)
    parser.add_argument("--cv", type=int, default=5)
    parser.add_argument("--search-space", default="linear-light")
    parser.add_argument("--per-run-limit", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="evaluations that sleep instead of computing (see synthetic.py)",
    )
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    import dask
    import distributed
    import sklearn
    import tpot

    X, y = make_table(args.rows, args.features, args.seed)
    results = []

    def note(row: dict[str, Any]) -> None:
        results.append(row)
        print(json.dumps(row), flush=True)

    for workers in args.workers:
        if "raw" in args.paths:
            note({"path": "raw TPOT local", "workers": workers, **run_raw(args, X, y, workers)})
        if "ours" in args.paths:
            note({"path": "automl-tpot local", "workers": workers, **run_ours(args, X, y, workers)})
    for workers in args.distributed or []:
        with _Cluster(workers) as cluster:
            row = run_ours(args, X, y, workers, scheduler_file=cluster.scheduler_file)
            note({"path": "automl-tpot distributed", "workers": workers, **row})

    report = {
        "settings": {k: v for k, v in vars(args).items() if k != "out"},
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": {
            "tpot": tpot.__version__,
            "dask": dask.__version__,
            "distributed": distributed.__version__,
            "scikit-learn": sklearn.__version__,
        },
        "results": results,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "parallel_scaling" + ("_synthetic" if args.synthetic else "")
    (out / f"{stem}.json").write_text(json.dumps(report, indent=2))
    (out / f"{stem}.md").write_text(markdown(report))
    print(markdown(report))
    return 0 if all(math.isfinite(r["per_minute"]) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
