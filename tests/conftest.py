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
