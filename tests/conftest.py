"""Shared fixtures: real tables that ship with scikit-learn, made messier the way real tables are
(categorical and boolean columns, gaps), and the example third-party plugin."""

from __future__ import annotations

import subprocess
import sys
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
    preprocessor = build_preprocessor(prepared.feature_types)
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
