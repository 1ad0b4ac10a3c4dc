"""Distributed training against a scheduler file: start a Dask scheduler and one worker with
``automl-tpot scheduler`` / ``automl-tpot worker``, train with ``parallel_mode="distributed"``,
then stop both. In production the cluster runs as services (see deploy/docker-compose.yml).

    python examples/distributed_training.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sklearn.datasets import load_breast_cancer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TINY  # noqa: E402

from automl_tpot import Trainer, TrainerConfig  # noqa: E402

CLI = [sys.executable, "-m", "automl_tpot"]


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the scheduler wrote no {path} in {seconds} s")
        time.sleep(0.2)


def main() -> None:
    table = load_breast_cancer(as_frame=True).frame
    with tempfile.TemporaryDirectory() as folder:
        scheduler_file = Path(folder) / "scheduler.json"
        common = ["--scheduler-file", str(scheduler_file)]
        scheduler = subprocess.Popen(
            [*CLI, "scheduler", *common, "--host", "127.0.0.1", "--port", "0", "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        worker = None
        try:
            wait_for(scheduler_file)
            worker = subprocess.Popen(
                [*CLI, "worker", *common, "--memory-limit", "2GiB", "--name", "example-worker"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )
            print("scheduler and one worker started; scheduler file:", scheduler_file.name)

            settings = dict(TINY, n_jobs=1)
            config = TrainerConfig(
                target_column="target", parallel_mode="distributed",
                scheduler_file=str(scheduler_file), cluster_wait=60, **settings,
            )
            result = Trainer(config, store=False).train(table)
            parallel = result.parallel
            print(f"parallel mode asked: {parallel['mode_requested']}, "
                  f"used: {parallel['mode_used']}, workers: {parallel['n_workers']}")
            print(f"fallback: {parallel.get('fallback_reason') or 'none'}")
            print(f"best {result.metric} {result.best_score:.4f}: {result.best_pipeline}")
        finally:
            for process in (worker, scheduler):
                if process is not None:
                    process.terminate()
            for process in (worker, scheduler):
                if process is not None:
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
        print("scheduler and worker stopped")


if __name__ == "__main__":
    main()
