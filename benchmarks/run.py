"""Quality, time and memory: our Trainer against AutoGluon, FLAML, raw TPOT and a default
HistGradientBoosting, side by side in one run.

For every table of the suite, every seed and every budget, each system trains on the same 75/25
split (stratified for classification; each seed draws its own split) with the same number of
cores, and we record the held-out score (ROC AUC for binary, balanced accuracy and log loss for
multiclass, R² for regression), the wall time of the fit (cluster start and stop included), the
overrun against the budget, the time to the final score (see ``systems.py`` and
``autogluon_worker.py`` for each system's definition) and the peak memory of the whole process
tree (the fitting process and all its descendants, Dask workers included; ``processes.py``).

Each (table, budget, system, seed) runs in a fresh process with a hard limit of
``3 * budget + 120`` seconds and a memory ceiling (``--memory-limit-mb``, default 85 % of the
machine's memory, over the RSS of its process tree); a system that fails, or is killed at either
limit, gets a record with the error and the run goes on. AutoGluon runs with the Python of its
own virtual environment (``setup_autogluon.sh``); without it, its records say so.

Usage::

    python benchmarks/run.py                          # 60 s, suite.json, all systems, seed 0
    python benchmarks/run.py --suite benchmarks/suite_large.json --budgets 30 60 120 \\
        --seeds 0 1 2
    python benchmarks/run.py --budgets 30 --datasets wine diabetes --systems ours hgb

Writes ``results.json`` (raw records, rewritten after every job), ``results.md`` (the tables)
and ``score_vs_budget.png`` under ``--out`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from processes import run_limited  # noqa: E402
from suite_data import task_of, write_split  # noqa: E402
from summary import SYSTEMS, markdown_table, plot  # noqa: E402

AUTOGLUON_PYTHON = HERE / ".venv-autogluon" / "bin" / "python"
#: Systems without a time budget of their own: no overrun is reported for them.
UNBUDGETED = ("hgb",)


def hard_limit(budget: float) -> float:
    """Seconds after which a job's process tree is killed."""
    return 3 * budget + 120


def command_for(job: dict[str, Any], autogluon_python: Path) -> list[str]:
    """The child process of one job: AutoGluon's worker in its own environment, or this
    script's ``--one`` mode with this Python."""
    if job["system"] == "autogluon":
        return [str(autogluon_python), str(HERE / "autogluon_worker.py"), json.dumps(job)]
    return [sys.executable, str(Path(__file__).resolve()), "--one", json.dumps(job)]


def run_job(
    job: dict[str, Any],
    record: dict[str, Any],
    autogluon_python: Path,
    interval: float,
    memory_limit_mb: float | None = None,
) -> dict[str, Any]:
    """Run one job in a fresh process tree; its record, with an ``error`` when it failed."""
    if job["system"] == "autogluon" and not autogluon_python.exists():
        return {
            **record,
            "error": f"no AutoGluon environment at {autogluon_python}: "
            "run benchmarks/setup_autogluon.sh",
        }
    limit = hard_limit(job["budget"])
    memory_limit = None if memory_limit_mb is None else int(memory_limit_mb * 2**20)
    finished = run_limited(
        command_for(job, autogluon_python), limit, interval=interval, memory_limit=memory_limit
    )
    record = {**record, "process_seconds": finished.wall_seconds, **finished.to_record()}
    if finished.over_memory:
        return {**record, "error": f"killed above the memory limit ({memory_limit_mb:.0f} MB RSS)"}
    if finished.timed_out:
        return {**record, "error": f"killed after {limit:.0f}s (3 x budget + 120 s)"}
    lines = [line for line in finished.stdout.splitlines() if line.startswith("RESULT ")]
    if finished.returncode != 0 or not lines:
        tail = (finished.stderr or finished.stdout)[-800:]
        return {**record, "error": f"exit code {finished.returncode}: {tail}"}
    result = json.loads(lines[-1][len("RESULT ") :])
    overrun = None
    if job["system"] not in UNBUDGETED:
        overrun = round(result["wall_seconds"] - job["budget"], 2)
    return {**record, **result, "overrun_seconds": overrun}


def split_shape(train: Path, test: Path) -> dict[str, int]:
    """Rows of both parts and the number of features (the target excluded)."""
    import pyarrow.parquet as pq

    first, second = pq.read_metadata(train), pq.read_metadata(test)
    return {
        "train_rows": first.num_rows,
        "test_rows": second.num_rows,
        "features": first.num_columns - 1,
    }


def one_line(record: dict[str, Any]) -> str:
    """A progress line for the console."""
    head = (
        f"[{record['budget']:g}s seed {record['seed']}] {record['dataset']:<14} "
        f"{record['system']:<9}"
    )
    memory = f"peak {record.get('peak_rss_mb') or 0:.0f} MB"
    if "error" in record:
        return f"{head} error ({memory}): {record['error'][-300:]}"
    final = record.get("time_to_final_seconds")
    final = f", final at {final:.1f}s" if final is not None else ""
    return f"{head} {record['score']:.4f} in {record['wall_seconds']:.1f}s{final}, {memory}"


def machine() -> str:
    """The machine in a line, with its load when the run started."""
    import psutil

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GiB, Python {platform.python_version()}, "
        f"load average at start {load}"
    )


def write_outputs(out: Path, header: str, records: list[dict[str, Any]], final: bool) -> None:
    (out / "results.json").write_text(json.dumps({"machine": header, "records": records}, indent=2))
    if final and records:
        (out / "results.md").write_text(f"Machine: {header}\n" + markdown_table(records))
        plot(records, out / "score_vs_budget.png")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suite", default=str(HERE / "suite.json"))
    parser.add_argument("--datasets", nargs="*", help="dataset ids (default: the whole suite)")
    parser.add_argument("--budgets", nargs="*", type=float, default=[60.0])
    parser.add_argument(
        "--systems",
        nargs="*",
        default=[s for s in SYSTEMS if s not in ("ours_threads", "ours_processes")],
        choices=SYSTEMS,
        help="systems to run (default: all but ours_threads and ours_processes)",
    )
    parser.add_argument("--seeds", nargs="*", type=int, default=None, help="default: 0")
    parser.add_argument("--seed", type=int, default=None, help="one seed (same as --seeds N)")
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", default=str(HERE / "results"))
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the records of --out/results.json and skip the jobs that succeeded there",
    )
    parser.add_argument("--autogluon-python", default=str(AUTOGLUON_PYTHON))
    parser.add_argument(
        "--autogluon-presets", default=None, help="default: AutoGluon's own (medium_quality)"
    )
    parser.add_argument(
        "--sample-interval", type=float, default=0.2, help="seconds between memory samples"
    )
    parser.add_argument(
        "--memory-limit-mb",
        type=float,
        default=None,
        help="kill a job whose process tree's RSS exceeds this (default: 85%% of the memory)",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seeds is None:
        args.seeds = [0 if args.seed is None else args.seed]
    if args.memory_limit_mb is None:
        import psutil

        args.memory_limit_mb = 0.85 * psutil.virtual_memory().total / 2**20
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.one:  # the child process: one system on one split
        from systems import run_job as fit_job

        print("RESULT " + json.dumps(fit_job(json.loads(args.one))), flush=True)
        return 0

    suite = json.loads(Path(args.suite).read_text())["datasets"]
    entries = [e for e in suite if not args.datasets or e["id"] in args.datasets]
    unknown = sorted(set(args.datasets or []) - {e["id"] for e in suite})
    if unknown:
        raise SystemExit(f"--datasets: {unknown} not in {args.suite}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = machine()
    records: list[dict[str, Any]] = []
    if args.resume and (out / "results.json").exists():
        records = json.loads((out / "results.json").read_text())["records"]
    done = {
        (r["dataset"], r["budget"], r["system"], r["seed"]) for r in records if "error" not in r
    }
    records = [r for r in records if "error" not in r]
    autogluon_python = Path(args.autogluon_python)
    with tempfile.TemporaryDirectory(prefix="bench-splits-") as scratch:
        for seed in args.seeds:
            for entry in entries:
                todo = [
                    (budget, system)
                    for budget in args.budgets
                    for system in args.systems
                    if (entry["id"], budget, system, seed) not in done
                ]
                if not todo:
                    continue
                train, test = write_split(entry, seed, Path(scratch) / f"{entry['id']}-{seed}")
                shape = split_shape(train, test)
                for budget, system in todo:
                    job = {
                        "system": system,
                        "train": str(train),
                        "test": str(test),
                        "target": entry["target"],
                        "task": task_of(entry),
                        "budget": budget,
                        "n_jobs": args.n_jobs,
                        "seed": seed,
                        "presets": args.autogluon_presets,
                    }
                    record = {
                        "dataset": entry["id"],
                        "system": system,
                        "budget": budget,
                        "n_jobs": args.n_jobs,
                        "seed": seed,
                        **shape,
                    }
                    record = run_job(
                        job, record, autogluon_python, args.sample_interval, args.memory_limit_mb
                    )
                    records.append(record)
                    print(one_line(record), flush=True)
                    write_outputs(out, header, records, final=False)
                for path in (train, test):
                    path.unlink()
    write_outputs(out, header, records, final=True)
    print(markdown_table(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
