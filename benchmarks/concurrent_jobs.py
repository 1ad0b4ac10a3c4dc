"""How many concurrent jobs of a given budget one machine holds before any budget overruns.

Each round starts ``k`` jobs at the same moment, each in its own process (as a host with ``k``
job workers runs them), each one ``run_for_job`` with ``time_left=BUDGET`` and one local Dask
worker, all storing into one shared folder. A job overruns when its own ``durations.total``
(from ``run_for_job``'s start to its record) passes ``BUDGET`` by more than the tolerance. The
rounds go ``k = start, start + step, ...`` until a round has an overrun or a failed job (or
``--max-jobs`` is reached); the answer is the largest ``k`` whose round had neither.

The figures depend on everything else the machine does: run it on an otherwise idle machine.

Usage::

    python benchmarks/concurrent_jobs.py                       # 60 s jobs, k = 1, 2, 3, ...
    python benchmarks/concurrent_jobs.py --budget 15 --max-jobs 2   # a small smoke run
    python benchmarks/concurrent_jobs.py --budget 60 --start 2 --step 2 --max-jobs 16

Results (every job's record summary, per round) go to ``--out`` (default
``benchmarks/results/concurrent_jobs.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def one_job(root: str, budget: float, seed: int) -> dict:
    """Run one job (in this process) and return what the benchmark needs from its record."""
    from automl_tpot import FilesystemStorage, JobError
    from automl_tpot.cli import DEMO_TARGET, demo_table
    from automl_tpot.jobs import run_for_job

    payload = {
        "dataset_id": f"demo-{seed}",
        "target_column": DEMO_TARGET,
        "time_left": budget,
        "random_state": seed,
    }
    started = time.monotonic()
    try:
        record = run_for_job(
            payload,
            load_dataset=lambda _: demo_table(),
            storage=FilesystemStorage(root),
            env={},
            n_jobs=1,
        )
    except JobError as error:
        record = error.record
    wall = time.monotonic() - started
    return {
        "run_id": record["run_id"],
        "status": record["status"],
        "total": record["durations"].get("total", wall),
        "search": (record["durations"].get("phases") or {}).get("search"),
        "generations": record.get("tp_generations"),
        "evaluations": record.get("tp_evaluations"),
        "best_score": record.get("best_score"),
        "error": (record.get("error") or {}).get("message"),
    }


def run_round(k: int, budget: float, root: Path) -> list[dict]:
    """``k`` jobs at once, one process each; their summaries."""
    processes = [
        subprocess.Popen(
            [sys.executable, __file__, "--one-job", str(root), str(budget), str(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        for seed in range(k)
    ]
    jobs = []
    for process in processes:
        out, _ = process.communicate(timeout=3 * budget + 300)
        lines = out.strip().splitlines()
        if process.returncode != 0 or not lines:
            jobs.append({"status": "crashed", "returncode": process.returncode})
        else:
            jobs.append(json.loads(lines[-1]))
    return jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=60.0, help="each job's time_left (s)")
    parser.add_argument("--start", type=int, default=1, help="jobs in the first round")
    parser.add_argument("--step", type=int, default=1, help="jobs added per round")
    parser.add_argument("--max-jobs", type=int, default=4 * (os.cpu_count() or 1))
    parser.add_argument(
        "--tolerance",
        type=float,
        default=5.0,
        help="seconds a job may pass its budget before it counts as an overrun (default 5)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "concurrent_jobs.json")
    parser.add_argument(
        "--one-job", nargs=3, metavar=("ROOT", "BUDGET", "SEED"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.one_job:
        root, budget, seed = args.one_job
        print(json.dumps(one_job(root, float(budget), int(seed))), flush=True)
        return 0

    machine = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": list(os.getloadavg()),
    }
    rounds = []
    held = 0
    k = args.start
    with tempfile.TemporaryDirectory(prefix="concurrent-jobs-") as folder:
        while k <= args.max_jobs:
            started = time.monotonic()
            jobs = run_round(k, args.budget, Path(folder) / f"k{k}")
            overruns = [
                job["total"] - args.budget
                for job in jobs
                if "total" in job and job["total"] > args.budget + args.tolerance
            ]
            failed = [job for job in jobs if job["status"] not in ("complete", "fallback")]
            ids = [job.get("run_id") for job in jobs]
            summary = {
                "jobs": k,
                "wall": round(time.monotonic() - started, 1),
                "max_total": round(max(job.get("total", 0) for job in jobs), 1),
                "max_overrun": round(max(job.get("total", 0) for job in jobs) - args.budget, 1),
                "overruns": len(overruns),
                "failed": len(failed),
                "distinct_run_ids": len(set(ids)) == len(ids),
                "generations": [job.get("generations") for job in jobs],
                "load_average_after": list(os.getloadavg()),
                "job_records": jobs,
            }
            rounds.append(summary)
            print(
                f"{k:>3} job(s): longest {summary['max_total']:.1f}s for a {args.budget:g}s "
                f"budget (overrun {summary['max_overrun']:+.1f}s), {len(overruns)} over the "
                f"tolerance, {len(failed)} failed, generations {summary['generations']}",
                flush=True,
            )
            if overruns or failed:
                break
            held = k
            k += args.step
    result = {
        "budget": args.budget,
        "tolerance": args.tolerance,
        "held": held,
        "machine": machine,
        "rounds": rounds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(
        f"held {held} concurrent {args.budget:g}s job(s) without an overrun "
        f"(tolerance {args.tolerance:g}s) on {os.cpu_count()} cores; results in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
