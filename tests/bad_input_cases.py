"""The corpus of bad inputs the bad-input suites try (tests/test_bad_inputs.py through the
library's entry points, tests/test_bad_inputs_cli.py through the command line).

Each case is what a new user would plausibly write, with the field the error must name and,
where the command line can say it, the flags that say it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pandas as pd

from automl_tpot.utils.text import MESSAGE_LIMIT

#: Longest message any error may have: the limit plus its "... (N characters)" tail.
MESSAGE_BOUND = MESSAGE_LIMIT + 30
HUGE = "x" * 1_000_000


@attrs.define(frozen=True)
class ConfigCase:
    """A configuration value the input alone shows to be wrong (``TrainerConfig`` refuses it).

    ``cli``: the ``train`` flags that give it (``None``: the command line cannot say it).
    ``flag``: what the CLI's one-line error must contain (the flag, by default the first).
    """

    id: str
    kwargs: dict[str, Any]
    field: str
    cli: tuple[str, ...] | None = None
    flag: str | None = None


def _c(id, kwargs, field, cli=None, flag=None) -> ConfigCase:
    return ConfigCase(id, kwargs, field, None if cli is None else tuple(cli), flag)


RF = "sklearn.ensemble.RandomForestClassifier"
LOGREG = "sklearn.linear_model.LogisticRegression"

CONFIG_CASES = [
    _c("time_left-1e12", {"time_left": 1e12}, "time_left", ["--time-left", "1e12"]),
    _c("time_left-inf", {"time_left": float("inf")}, "time_left", ["--time-left", "inf"]),
    _c("time_left-nan", {"time_left": float("nan")}, "time_left", ["--time-left", "nan"]),
    _c("time_left-negative", {"time_left": -3}, "time_left", ["--time-left", "-3"]),
    _c("time_left-zero", {"time_left": 0}, "time_left", ["--time-left", "0"]),
    _c("time_left-text", {"time_left": "soon"}, "time_left", ["--time-left", "soon"]),
    _c("time_left-bool", {"time_left": True}, "time_left"),
    _c("time_left-huge-text", {"time_left": "9" * 1_000_000}, "time_left"),
    _c("per_run_limit-1e9", {"per_run_limit": 1e9}, "per_run_limit", ["--per-run-limit", "1e9"]),
    _c("per_run_limit-negative", {"per_run_limit": -1}, "per_run_limit", ["--per-run-limit", "-1"]),
    _c("n_jobs-10000", {"n_jobs": 10000}, "n_jobs", ["--n-jobs", "10000"]),
    _c("n_jobs-zero", {"n_jobs": 0}, "n_jobs", ["--n-jobs", "0"]),
    _c("n_jobs-float", {"n_jobs": 2.5}, "n_jobs", ["--n-jobs", "2.5"]),
    _c("population-1", {"population_size": 1}, "population_size", ["--population-size", "1"]),
    _c("population-10M", {"population_size": 10**7}, "population_size"),
    _c("generations-zero", {"generations": 0}, "generations", ["--generations", "0"]),
    _c("generations-text", {"generations": "many"}, "generations", ["--generations", "many"]),
    _c("cv-1", {"cv": 1}, "cv", ["--cv", "1"]),
    _c("memory-1mb", {"memory_limit_mb": 1}, "memory_limit_mb", ["--memory-limit-mb", "1"]),
    _c("memory-negative", {"memory_limit_mb": -5}, "memory_limit_mb"),
    _c("parallel_mode", {"parallel_mode": "cluster"}, "parallel_mode", ["--parallel-mode", "x"]),
    _c("task", {"task": "clustering"}, "task", ["--task", "clustering"]),
    _c("metric-unknown", {"metric": "accuracy_score"}, "metric", ["--metric", "accuracy_score"]),
    _c("metric-number", {"metric": 5}, "metric"),
    _c("metric-huge", {"metric": HUGE}, "metric", ["--metric", HUGE], "--metric"),
    _c(
        "metric-roc_auc-regression-task",
        {"metric": "roc_auc", "task": "regression"},
        "metric",
        ["--metric", "roc_auc", "--task", "regression"],
    ),
    _c(
        "metric-r2-classification-task",
        {"metric": "r2", "task": "classification"},
        "metric",
        ["--metric", "r2", "--task", "classification"],
    ),
    _c("search_space-empty-name", {"search_space": " "}, "search_space", ["--search-space", " "]),
    _c("search_space-number", {"search_space": 42}, "search_space"),
    _c("search_space-empty-dict", {"search_space": {}}, "search_space"),
    _c(
        "search_space-misspelt-class",
        {"search_space": {"sklearn.ensemble.RandomForrestClassifier": {}}},
        "search_space",
        ["--search-space", json.dumps({"sklearn.ensemble.RandomForrestClassifier": {}})],
    ),
    _c(
        "search_space-unknown-parameter",
        {"search_space": {LOGREG: {"nope": [1, 2]}}},
        "search_space",
        ["--search-space", json.dumps({LOGREG: {"nope": [1, 2]}})],
    ),
    _c(
        "search_space-empty-range",
        {"search_space": {LOGREG: {"C": {"low": 5.0, "high": 1.0}}}},
        "search_space",
    ),
    _c("search_space-private-class", {"search_space": {"sklearn.tree._Foo": {}}}, "search_space"),
    _c("search_space-bad-json", {"search_space": "{not json"}, "search_space"),
    _c(
        "search_space-missing-file",
        {"search_space": "missing-space.json"},
        "search_space",
        ["--search-space", "missing-space.json"],
    ),
    _c("search_space-bad-values", {"search_space": {RF: {"n_estimators": [[1]]}}}, "search_space"),
    _c("random_state-negative", {"random_state": -1}, "random_state", ["--random-state", "-1"]),
    _c("random_state-2**40", {"random_state": 2**40}, "random_state"),
    _c("leaderboard_k-zero", {"leaderboard_k": 0}, "leaderboard_k", ["--leaderboard-k", "0"]),
    _c("cluster_wait-zero", {"cluster_wait": 0}, "cluster_wait", ["--cluster-wait", "0"]),
    _c("cluster_wait-1e9", {"cluster_wait": 1e9}, "cluster_wait", ["--cluster-wait", "1e9"]),
    _c("parallel_fallback-text", {"parallel_fallback": "yes"}, "parallel_fallback"),
    _c("ensemble-text", {"ensemble": "no"}, "ensemble"),
    _c("feature_groups-empty-group", {"feature_groups": {"g": []}}, "feature_groups['g']"),
    _c("feature_groups-list", {"feature_groups": ["a", "b"]}, "feature_groups"),
    _c(
        "distributed-without-scheduler-file",
        {"parallel_mode": "distributed"},
        "scheduler_file",
        ["--parallel-mode", "distributed"],
        "scheduler_file",
    ),
    _c("target-empty", {"target_column": " "}, "target_column", ["--target", " "]),
    _c("scheduler_file-empty", {"scheduler_file": ""}, "scheduler_file"),
]
# "--parallel-mode x" is refused by argparse's choices: the flag is named all the same.

#: The same kinds of values through the ``TPOT__*`` variables: (id, env, field).
ENV_CASES = [
    ("time_left-1e12", {"TPOT__TIME_LEFT": "1e12"}, "time_left"),
    ("time_left-inf", {"TPOT__TIME_LEFT": "inf"}, "time_left"),
    ("time_left-nan", {"TPOT__TIME_LEFT": "nan"}, "time_left"),
    ("time_left-text", {"TPOT__TIME_LEFT": "soon"}, "time_left"),
    ("time_left-huge", {"TPOT__TIME_LEFT": "9" * 1_000_000}, "time_left"),
    ("n_jobs-10000", {"TPOT__N_JOBS": "10000"}, "n_jobs"),
    ("n_jobs-words", {"TPOT__N_JOBS": "two"}, "n_jobs"),
    ("n_jobs-float", {"TPOT__N_JOBS": "2.5"}, "n_jobs"),
    ("generations-zero", {"TPOT__GENERATIONS": "0"}, "generations"),
    ("population-1", {"TPOT__POPULATION_SIZE": "1"}, "population_size"),
    ("memory-1", {"TPOT__MEMORY_LIMIT_MB": "1"}, "memory_limit_mb"),
    ("parallel_mode", {"TPOT_PARALLEL_MODE": "cluster"}, "parallel_mode"),
    ("fallback", {"TPOT__PARALLEL_FALLBACK": "maybe"}, "parallel_fallback"),
    ("cluster_wait", {"TPOT__CLUSTER_WAIT": "0"}, "cluster_wait"),
    ("ensemble", {"TPOT__ENSEMBLE": "perhaps"}, "ensemble"),
    ("config_dict-bad-json", {"TPOT__CONFIG_DICT": "{bad"}, "search_space"),
    ("config_dict-missing-file", {"TPOT__CONFIG_DICT": "nope.json"}, "search_space"),
    (
        "config_dict-misspelt-class",
        {"TPOT__CONFIG_DICT": json.dumps({"sklearn.ensemble.RandomForrestClassifier": {}})},
        "search_space",
    ),
]


@attrs.define(frozen=True)
class TableCase:
    """A setting that only the table (or this machine) shows to be wrong: the preflight's.

    ``table``: which of the suite's tables (``cancer``: binary, ``wine``: three classes,
    ``diabetes``: regression, ``signed``: regression with negative targets).
    """

    id: str
    kwargs: dict[str, Any]
    field: str
    table: str = "cancer"
    cli: tuple[str, ...] | None = None
    flag: str | None = None


def _t(id, kwargs, field, table="cancer", cli=None, flag=None) -> TableCase:
    return TableCase(id, kwargs, field, table, None if cli is None else tuple(cli), flag)


def _cores() -> int:
    return os.cpu_count() or 1


TABLE_CASES = [
    _t(
        "search_space-unknown",
        {"search_space": "nope"},
        "search_space",
        cli=["--search-space", "nope"],
    ),
    _t("search_space-huge-name", {"search_space": HUGE}, "search_space"),
    _t(
        "estimator-no-name",
        {"search_space": "estimator:"},
        "search_space",
        cli=["--search-space", "estimator:"],
    ),
    _t(
        "estimator-unknown",
        {"search_space": "estimator:NoSuchModel"},
        "search_space",
        cli=["--search-space", "estimator:NoSuchModel"],
    ),
    _t("space-wrong-task", {"search_space": "symbolic-regression"}, "search_space"),
    _t(
        "space-wrong-task-regression",
        {"search_space": "symbolic-classification"},
        "search_space",
        "diabetes",
    ),
    _t("config_dict-outside-allowlist", {"search_space": {"os.system": {}}}, "search_space"),
    _t(
        "config_dict-regressor-for-classes",
        {"search_space": {"sklearn.linear_model.LinearRegression": {}}},
        "search_space",
    ),
    _t(
        "roc_auc-regression-target",
        {"metric": "roc_auc"},
        "metric",
        "diabetes",
        cli=["--metric", "roc_auc"],
    ),
    _t("r2-class-target", {"metric": "r2"}, "metric", cli=["--metric", "r2"]),
    _t("accuracy-regression-target", {"metric": "accuracy"}, "metric", "diabetes"),
    _t("roc_auc-multiclass", {"metric": "roc_auc"}, "metric", "wine", cli=["--metric", "roc_auc"]),
    _t("f1-multiclass", {"metric": "f1"}, "metric", "wine"),
    _t("gamma-deviance-negative-target", {"metric": "neg_mean_gamma_deviance"}, "metric", "signed"),
    _t("precision_samples-binary", {"metric": "precision_samples"}, "metric"),
    _t(
        "n_jobs-over-cores",
        {"n_jobs": min(_cores() + 1, 256)},
        "n_jobs",
        cli=["--n-jobs", str(min(_cores() + 1, 256))],
    ),
    _t("memory-over-machine", {"memory_limit_mb": 10**9}, "memory_limit_mb"),
    _t(
        "feature_groups-unknown-column",
        {"feature_groups": {"g": ["no_such_column"]}},
        "feature_groups['g']",
    ),
]


def write_tables(folder: Path) -> dict[str, Path]:
    """The suite's small tables as CSV files (target column ``y``)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

    folder.mkdir(parents=True, exist_ok=True)
    frames = {}
    cancer = load_breast_cancer(as_frame=True)
    frame = cancer.frame.drop(columns="target").iloc[:80, :5]
    frame["y"] = np.asarray(cancer.target_names)[cancer.target.to_numpy()[:80]]
    frames["cancer"] = frame
    wine = load_wine(as_frame=True).frame.iloc[::2].reset_index(drop=True)
    frames["wine"] = wine.rename(columns={"target": "y"}).iloc[:, -6:]
    diabetes = load_diabetes(as_frame=True).frame.iloc[:80]
    frames["diabetes"] = diabetes.rename(columns={"target": "y"})
    signed = frames["diabetes"].copy()
    signed["y"] = signed["y"] - 150.0
    frames["signed"] = signed
    paths = {}
    for name, table in frames.items():
        paths[name] = folder / f"{name}.csv"
        table.to_csv(paths[name], index=False)
    return paths


@attrs.define(frozen=True)
class DataCase:
    """A table (or a source) that cannot be trained on: a :class:`DataError`.

    ``source(folder, cancer)`` returns a DataFrame or a path; ``cli``: whether the command
    line can be given it (a path); ``message``: a word the message must contain.
    """

    id: str
    source: Callable[[Path, pd.DataFrame], Any]
    message: str
    target: str = "y"
    task: str | None = None
    cli: bool = True


def _file(name: str, content: str | bytes) -> Callable[[Path, pd.DataFrame], Path]:
    def make(folder: Path, _cancer: pd.DataFrame) -> Path:
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return make


def _frame(change: Callable[[pd.DataFrame], pd.DataFrame]):
    def make(folder: Path, cancer: pd.DataFrame) -> pd.DataFrame:
        return change(cancer.copy())

    return make


def _as_csv(name: str, change: Callable[[pd.DataFrame], pd.DataFrame]):
    def make(folder: Path, cancer: pd.DataFrame) -> Path:
        path = folder / name
        change(cancer.copy()).to_csv(path, index=False)
        return path

    return make


def _directory(folder: Path, _cancer: pd.DataFrame) -> Path:
    path = folder / "dir.csv"
    path.mkdir(exist_ok=True)
    return path


def _set(column: str, values: Any):
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = values if not callable(values) else values(frame)
        return frame

    return change


def _mixed_target(frame: pd.DataFrame) -> pd.DataFrame:
    frame["y"] = [1 if i % 2 else "b" for i in range(len(frame))]
    return frame


DATA_CASES = [
    DataCase("missing-file", lambda f, c: f / "missing.csv", "no such file"),
    DataCase("directory-named-csv", _directory, "directory"),
    DataCase("wrong-suffix", _file("table.txt", "a,y\n1,2\n"), ".csv"),
    DataCase("empty-file", _file("empty.csv", ""), "cannot read"),
    DataCase("header-only", _file("header.csv", "a,b,y\n"), "no rows"),
    DataCase("repeated-header", _file("repeated.csv", "a,a,y\n1,2,x\n3,4,z\n"), "repeats"),
    DataCase(
        "binary-garbage", _file("garbage.parquet", b"\x00\x01not parquet" * 10), "cannot read"
    ),
    DataCase("url", lambda f, c: "s3://bucket/table.csv", "s3://bucket/table.csv"),
    DataCase("nul-byte", lambda f, c: str(f / "a\x00b.csv"), "cannot read", cli=False),
    DataCase("name-too-long", lambda f, c: str(f / ("a" * 5000 + ".csv")), "cannot read"),
    DataCase("not-a-table", lambda f, c: [[1, 2], [3, 4]], "DataFrame", cli=False),
    DataCase("target-missing", _as_csv("t.csv", lambda t: t), "not in the table", target="nope"),
    DataCase("target-huge-name", _as_csv("t.csv", lambda t: t), "not in the table", target=HUGE),
    DataCase(
        "target-gaps",
        _as_csv("gaps.csv", _set("y", lambda t: t["y"].where(t.index % 3 > 0))),
        "no value",
    ),
    DataCase("single-class", _as_csv("one.csv", _set("y", "benign")), "single class"),
    DataCase(
        "class-of-one-row",
        _as_csv("lonely.csv", _set("y", lambda t: ["a"] + ["b"] * (len(t) - 1))),
        "single row",
    ),
    DataCase("five-rows", _as_csv("five.csv", lambda t: t.head(5)), "rows"),
    DataCase("no-features", _as_csv("only.csv", lambda t: t[["y"]]), "no feature"),
    DataCase(
        "constant-features",
        _as_csv("const.csv", lambda t: t.assign(**{c: 1.0 for c in t.columns if c != "y"})),
        "no usable feature",
    ),
    DataCase(
        "regression-on-words", _as_csv("t.csv", lambda t: t), "numeric target", task="regression"
    ),
    DataCase(
        "infinite-target",
        _frame(_set("y", lambda t: np.where(t.index == 3, np.inf, t.index.to_numpy() * 1.5))),
        "infinite",
        task="regression",
        cli=False,
    ),
    DataCase(
        "infinite-feature",
        _frame(lambda t: t.assign(**{t.columns[0]: t[t.columns[0]].where(t.index != 2, np.inf)})),
        "infinite",
        cli=False,
    ),
    DataCase("mixed-target", _frame(_mixed_target), "mixes", cli=False),
    DataCase(
        "unhashable-cells",
        _frame(_set("extra", lambda t: [[i] for i in range(len(t))])),
        "scalar",
        cli=False,
    ),
]

#: Run ids nobody may store a run under: (id, run id, allowed-message word).
BAD_RUN_IDS = [
    ("parent-path", "../../etc/x"),
    ("empty", ""),
    ("500-characters", "a" * 500),
    ("slash", "a/b"),
    ("dot-start", ".hidden"),
    ("space", "my run"),
]
