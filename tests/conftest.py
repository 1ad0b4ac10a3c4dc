"""Shared fixtures: real datasets from scikit-learn, made messier the way real tables are."""

from __future__ import annotations

import numpy as np
import pandas as pd
import psutil
import pytest

from automl_tpot import TrainerConfig


def _messy(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Add a categorical column, a boolean column and missing values to a real table."""
    rng = np.random.default_rng(seed)
    frame = frame.copy()
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])][:3]
    for column in numeric:
        frame.loc[rng.random(len(frame)) < 0.08, column] = np.nan
    frame["region"] = rng.choice(["north", "south", "east", "west", None], size=len(frame))
    frame["member"] = rng.choice([True, False], size=len(frame))
    return frame


@pytest.fixture(scope="session")
def cancer_table() -> pd.DataFrame:
    """Breast cancer (binary) with word labels, a categorical and a boolean column, gaps."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    table = bunch.frame.drop(columns="target").iloc[:, :8]
    table["diagnosis"] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return _messy(table)


@pytest.fixture(scope="session")
def diabetes_table() -> pd.DataFrame:
    """Diabetes (regression) with a categorical and a boolean column, gaps."""
    from sklearn.datasets import load_diabetes

    return _messy(load_diabetes(as_frame=True).frame, seed=1)


@pytest.fixture(scope="session")
def wine_table() -> pd.DataFrame:
    """Wine (three classes, integer labels)."""
    from sklearn.datasets import load_wine

    return load_wine(as_frame=True).frame


@pytest.fixture
def small_config():
    """A configuration small enough for CI: one worker, a tiny population, two generations."""

    def make(**overrides) -> TrainerConfig:
        values = dict(
            time_left=40, per_run_limit=10, generations=2, population_size=6, cv=3, n_jobs=1,
            random_state=0,
        )
        values.update(overrides)
        return TrainerConfig(**values)

    return make


def _is_python_helper(process: psutil.Process) -> bool:
    """multiprocessing's resource tracker lives as long as the interpreter by design."""
    try:
        return any("resource_tracker" in part for part in process.cmdline())
    except psutil.Error:
        return True  # already gone


@pytest.fixture
def no_leaked_processes():
    """Fail the test if it leaves child processes (Dask workers, nannies) running."""
    yield
    children = [p for p in psutil.Process().children(recursive=True) if not _is_python_helper(p)]
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, f"processes left running: {[p.cmdline() for p in alive]}"


# --- Dask processes ---------------------------------------------------------------------------

import contextlib  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

#: Every process this test session starts inherits this variable, so the end-of-session check
#: finds them even after they were re-parented (and ignores other people's Dask processes).
SESSION_MARK = ("AUTOML_TPOT_TEST_SESSION", uuid.uuid4().hex)
os.environ[SESSION_MARK[0]] = SESSION_MARK[1]

_DASK_WORDS = (
    "dask scheduler", "dask worker", "distributed.cli", "-m dask", "multiprocessing.spawn",
    "multiprocessing.forkserver", "distributed",
)


def _ours(process: psutil.Process) -> bool:
    try:
        if process.pid == os.getpid():
            return False
        return process.environ().get(SESSION_MARK[0]) == SESSION_MARK[1]
    except psutil.Error:
        return False


def dask_processes_left() -> list[str]:
    """Command lines of Dask (or Dask-spawned) processes this session started that still run."""
    left = []
    for process in psutil.process_iter():
        if not _ours(process) or _is_python_helper(process):
            continue
        try:
            line = " ".join(process.cmdline())
        except psutil.Error:
            continue
        if any(word in line for word in _DASK_WORDS):
            left.append(f"{process.pid}: {line}")
    return left


@pytest.fixture(scope="session", autouse=True)
def no_dask_process_left_after_the_session():
    """After the whole suite no Dask scheduler, worker or nanny started by it may be running."""
    yield
    deadline = time.monotonic() + 15
    while dask_processes_left() and time.monotonic() < deadline:
        time.sleep(0.5)
    left = dask_processes_left()
    assert not left, f"Dask processes left running after the test session: {left}"


TESTS_DIR = Path(__file__).parent
SRC_DIR = TESTS_DIR.parent / "src"


class DaskCluster:
    """A real scheduler and workers, started through ``automl-tpot scheduler`` / ``worker``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.scheduler_file = str(folder / "scheduler.json")
        self.scheduler: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        self.env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS_DIR), str(SRC_DIR)]))

    def _start(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.folder / log_name, "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "automl_tpot", *args], stdout=log, stderr=subprocess.STDOUT,
            env=self.env, start_new_session=True,
        )
        process._log = log  # type: ignore[attr-defined]
        return process

    def start_scheduler(self) -> None:
        self.scheduler = self._start(
            ["scheduler", "--scheduler-file", self.scheduler_file, "--host", "127.0.0.1",
             "--port", "0", "--no-dashboard", "--idle-timeout", "600"],
            "scheduler.log",
        )
        deadline = time.monotonic() + 60
        while not Path(self.scheduler_file).exists():
            assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not write its file in 60s"
            time.sleep(0.1)

    def start_worker(self, name: str, memory_limit: str = "0") -> None:
        self.workers[name] = self._start(
            ["worker", "--scheduler-file", self.scheduler_file, "--host", "127.0.0.1",
             "--name", name, "--memory-limit", memory_limit],
            f"worker-{name}.log",
        )

    def wait_for_workers(self, n: int, timeout: float = 90) -> None:
        from dask.distributed import Client

        with Client(scheduler_file=self.scheduler_file, timeout=30) as client:
            client.wait_for_workers(n, timeout=timeout)

    def kill(self, process: subprocess.Popen | None) -> None:
        """SIGKILL a process group: the command, Dask's nanny and its worker process."""
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process._log.close()  # type: ignore[attr-defined]

    def kill_worker(self, name: str) -> None:
        self.kill(self.workers[name])

    def stop(self) -> None:
        for process in self.workers.values():
            self.kill(process)
        self.kill(self.scheduler)


@pytest.fixture
def dask_cluster(tmp_path):
    """A started scheduler and two workers (``w1``, ``w2``) on 127.0.0.1, killed afterwards."""
    cluster = DaskCluster(tmp_path)
    try:
        cluster.start_scheduler()
        cluster.start_worker("w1")
        cluster.start_worker("w2")
        cluster.wait_for_workers(2)
        yield cluster
    finally:
        cluster.stop()
