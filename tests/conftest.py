"""Shared fixtures: real tables that ship with scikit-learn, made messier the way real tables are
(categorical and boolean columns, gaps), and the example third-party plugin."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

from automl_tpot import TrainerConfig

TARGET = "target"


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
            time_left=40,
            per_run_limit=10,
            generations=2,
            population_size=6,
            cv=3,
            n_jobs=1,
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


# --- small samples and search contexts for the search-space tests -------------------------------


def _with_category_and_gaps(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Add a categorical column derived from the first feature, and blank out some values."""
    rng = np.random.default_rng(seed)
    first = frame.columns[0]
    frame = frame.copy()
    frame["band"] = pd.qcut(frame[first], 3, labels=["low", "mid", "high"]).astype(object)
    for column in (frame.columns[1], frame.columns[2], "band"):
        frame.loc[rng.random(len(frame)) < 0.08, column] = np.nan
    return frame


def breast_cancer_table(n_rows: int = 200) -> pd.DataFrame:
    """Binary classification: scikit-learn's breast cancer data, 10 columns, labels as words."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.iloc[:, :10].copy()
    frame = _with_category_and_gaps(frame, seed=1)
    frame[TARGET] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    return frame.sample(n=n_rows, random_state=0).reset_index(drop=True)


def diabetes_sample(n_rows: int = 200) -> pd.DataFrame:
    """Regression: scikit-learn's diabetes data."""
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(as_frame=True)
    frame = _with_category_and_gaps(bunch.frame.drop(columns="target"), seed=2)
    frame[TARGET] = bunch.target.to_numpy()
    return frame.sample(n=n_rows, random_state=0).reset_index(drop=True)


TABLES = {"classification": breast_cancer_table, "regression": diabetes_sample}


@pytest.fixture(params=sorted(TABLES))
def task(request) -> str:
    return request.param


def prepared_context(task: str, n_rows: int = 200, **extra):
    """The preprocessed matrix, target and SearchContext the Trainer would build."""
    from automl_tpot.data import build_preprocessor, output_columns, prepare_training_data
    from automl_tpot.search_spaces import SearchContext

    prepared = prepare_training_data(TABLES[task](n_rows), TARGET, task, cv=3)
    preprocessor = build_preprocessor(prepared.feature_types, prepared.target_type)
    X = preprocessor.fit_transform(prepared.features, prepared.y)
    types = prepared.feature_types
    context = SearchContext(
        task=task,
        n_rows=X.shape[0],
        n_features=X.shape[1],
        n_classes=None if prepared.classes is None else len(prepared.classes),
        numeric_columns=tuple(map(str, types.numeric)),
        categorical_columns=tuple(map(str, types.categorical + types.boolean + types.text)),
        random_state=0,
        column_indices=output_columns(preprocessor),
        feature_names=tuple(map(str, preprocessor.get_feature_names_out())),
        cv=prepared.cv,
        **extra,
    )
    return X, prepared.y, context


# --- the example third-party plugin ------------------------------------------------------------

EXAMPLE_PLUGIN = Path(__file__).resolve().parents[1] / "examples" / "plugin_example"
EXAMPLE_DISTRIBUTION = "automl-tpot-example-plugin"


def _installed_plugin_is_current() -> bool:
    """Whether the example plugin is installed from the current source (skip reinstalling)."""
    import importlib.metadata

    try:
        dist = importlib.metadata.distribution(EXAMPLE_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return False
    source = EXAMPLE_PLUGIN / "src" / "automl_tpot_example_plugin"
    for path in source.glob("*.py"):
        installed = dist.locate_file(f"automl_tpot_example_plugin/{path.name}")
        if not Path(installed).is_file() or Path(installed).read_bytes() != path.read_bytes():
            return False
    pyproject = EXAMPLE_PLUGIN / "pyproject.toml"
    return dist.version in pyproject.read_text(encoding="utf-8")


def _can_build_without_isolation() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(p) for p in setuptools.__version__.split(".")[:2])
    if (major, minor) >= (70, 1):
        return True
    try:
        import wheel  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def example_plugin() -> str:
    """Install examples/plugin_example into the running interpreter (idempotent); its name."""
    import importlib

    if not _installed_plugin_is_current():
        command = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet"]
        if _can_build_without_isolation():
            command.append("--no-build-isolation")
        subprocess.run([*command, str(EXAMPLE_PLUGIN)], check=True, timeout=300)
        importlib.invalidate_caches()
    return EXAMPLE_DISTRIBUTION


# --- Dask processes ---------------------------------------------------------------------------

#: Every process this test session starts inherits this variable, so the end-of-session check
#: finds them even after they were re-parented (and ignores other people's Dask processes).
SESSION_MARK = ("AUTOML_TPOT_TEST_SESSION", uuid.uuid4().hex)
os.environ[SESSION_MARK[0]] = SESSION_MARK[1]

_DASK_WORDS = (
    "dask scheduler",
    "dask worker",
    "distributed.cli",
    "-m dask",
    "multiprocessing.spawn",
    "multiprocessing.forkserver",
    "distributed",
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
            [sys.executable, "-m", "automl_tpot", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
            start_new_session=True,
        )
        process._log = log  # type: ignore[attr-defined]
        return process

    def start_scheduler(self) -> None:
        self.scheduler = self._start(
            [
                "scheduler",
                "--scheduler-file",
                self.scheduler_file,
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--idle-timeout",
                "600",
            ],
            "scheduler.log",
        )
        deadline = time.monotonic() + 60
        while not Path(self.scheduler_file).exists():
            assert self.scheduler.poll() is None, (self.folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "the scheduler did not write its file in 60s"
            time.sleep(0.1)

    def start_worker(self, name: str, memory_limit: str = "0") -> None:
        self.workers[name] = self._start(
            [
                "worker",
                "--scheduler-file",
                self.scheduler_file,
                "--host",
                "127.0.0.1",
                "--name",
                name,
                "--memory-limit",
                memory_limit,
            ],
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


# --- what the fault tests measure ----------------------------------------------------------------


@pytest.fixture
def fault_report(request):
    """``report(**figures)`` prints what a fault test measured (``pytest -s`` shows it, as
    ``[fault] test: name=12.3s, ...``); docs/operations.md's table of faults quotes these."""

    def report(**figures) -> None:
        text = ", ".join(
            f"{key}={value:.1f}s" if isinstance(value, float) else f"{key}={value}"
            for key, value in figures.items()
        )
        print(f"\n[fault] {request.node.name}: {text}", flush=True)

    return report
