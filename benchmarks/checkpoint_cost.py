"""What checkpoints cost: the time the search thread spends taking one after every generation,
against the length of a generation, on the tables of a suite at a time budget.

Each table trains once with the defaults (``Trainer`` storing into a temporary folder, so it
checkpoints as every stored run does), in a fresh process. The search thread's time per
checkpoint is measured around ``Attempt.save`` (snapshot, payload, hand-over to the writer); the
background thread's time (compressing and storing) and the payload's size come from the run's
``summary.checkpoints``. A generation's length is the search time over the generations it ran.

Usage::

    python benchmarks/checkpoint_cost.py --budget 60 --out benchmarks/results/checkpoints.json
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


def measure(entry: dict, budget: float) -> dict:
    """Train on one table and return what its checkpoints cost (run in a child process)."""
    sys.path.insert(0, str(HERE))
    from suite_data import load_dataset, task_of

    from automl_tpot import FilesystemStorage, Trainer, TrainerConfig
    from automl_tpot.run.resume import Attempt

    seconds: list[float] = []
    save = Attempt.save

    def timed(self, event, state, timings):
        started = time.perf_counter()
        save(self, event, state, timings)
        seconds.append(time.perf_counter() - started)

    Attempt.save = timed  # type: ignore[method-assign]
    table = load_dataset(entry)
    config = TrainerConfig(
        target_column=entry["target"], task=task_of(entry), time_left=budget, random_state=0
    )
    with tempfile.TemporaryDirectory() as folder:
        result = Trainer(config, storage=FilesystemStorage(folder)).train(table)
    generations = max(result.generations_completed, 1)
    generation = result.timings["search"] / generations
    stats = dict(result.checkpoints or {})
    written = max(int(stats.get("written", 0)), 1)
    return {
        "dataset": entry["id"],
        "rows": len(table),
        "generations": result.generations_completed,
        "evaluations": len(result.evaluations),
        "generation_seconds": round(generation, 3),
        "checkpoint_seconds_mean": round(statistics.fmean(seconds), 4) if seconds else 0.0,
        "checkpoint_seconds_max": round(max(seconds), 4) if seconds else 0.0,
        "share_of_a_generation": round(statistics.fmean(seconds) / generation, 4)
        if seconds
        else 0.0,
        "write_seconds_mean": round(float(stats.get("write_seconds", 0.0)) / written, 4),
        "payload_bytes_last": int(stats.get("bytes", 0)),
        "checkpoints": int(stats.get("written", 0)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default=str(HERE / "suite.json"))
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--datasets", nargs="*", help="ids of the suite (default: all)")
    parser.add_argument("--out", default=str(HERE / "results" / "checkpoints.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(json.loads(args.child), args.budget)))
        return 0
    entries = json.loads(Path(args.suite).read_text())["datasets"]
    if args.datasets:
        entries = [e for e in entries if e["id"] in args.datasets]
    rows = []
    for entry in entries:
        command = [sys.executable, __file__, "--budget", str(args.budget)]
        done = subprocess.run(
            [*command, "--child", json.dumps(entry)],
            capture_output=True,
            text=True,
            timeout=args.budget * 4 + 120,
        )
        if done.returncode != 0:
            print(f"{entry['id']}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{row['dataset']:<12} {row['generations']:>3} gen"
            f"  {row['generation_seconds']:7.2f}s/gen"
            f"  checkpoint {row['checkpoint_seconds_mean'] * 1000:7.1f} ms"
            f" (max {row['checkpoint_seconds_max'] * 1000:6.1f})"
            f" = {row['share_of_a_generation'] * 100:5.2f}% of a generation;"
            f" written in {row['write_seconds_mean'] * 1000:6.1f} ms,"
            f" {row['payload_bytes_last'] / 2**20:6.2f} MiB",
            flush=True,
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"budget": args.budget, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
