"""The benchmark's helpers (benchmarks/): cleaning, scoring, time to the final score, the
process-tree memory sampler and the hard limit, on real processes and real estimators."""

from __future__ import annotations

import json
import signal
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import processes  # noqa: E402
import scoring  # noqa: E402
import suite_data  # noqa: E402
import summary  # noqa: E402
import systems  # noqa: E402

MIB = 2**20


# --- tables -------------------------------------------------------------------------------------


def test_clean_applies_the_declared_steps_in_order() -> None:
    frame = pd.DataFrame(
        {
            "delay": [30.0, 2.0, np.nan, 15.0, -4.0, 60.0],
            "gate_time": [1, 2, 3, 4, 5, 6],
            "student": [7, 7, 9, np.nan, 11, 12],
            "x": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
        }
    )
    entry = {
        "id": "toy",
        "target": "late",
        "derive_target": {"from": "delay", "at_least": 15, "labels": ["no", "yes"]},
        "drop": ["gate_time"],
        "categorical": ["student"],
        "sample_rows": 4,
    }
    cleaned = suite_data.clean(frame, entry)
    assert list(cleaned.columns) == ["student", "x", "late"]
    assert len(cleaned) == 4  # 5 rows with a known delay, then sampled
    full = suite_data.clean(frame, {**entry, "sample_rows": None})
    assert full["late"].tolist() == ["yes", "no", "yes", "no", "yes"]
    assert full["student"].tolist() == ["7", "7", None, "11", "12"]
    assert suite_data.clean(frame, entry).equals(cleaned)  # the sample does not depend on the split


def test_clean_names_a_column_it_cannot_drop() -> None:
    frame = pd.DataFrame({"y": [1, 2], "x": [3, 4]})
    with pytest.raises(ValueError, match="nope"):
        suite_data.clean(frame, {"id": "toy", "target": "y", "drop": ["nope"]})


def test_with_categories_codes_both_parts_alike() -> None:
    train = pd.DataFrame({"c": ["b", "a", "c", "a"], "n": [1, 2, 3, 4]}, dtype=object)
    test = pd.DataFrame({"c": ["c", "z", "a"], "n": [5, 6, 7]}, dtype=object)
    test["n"] = test["n"].astype(int)
    train["n"] = train["n"].astype(int)
    a, b = suite_data.with_categories(train, test)
    assert list(a["c"].cat.categories) == ["a", "b", "c"]
    assert list(b["c"].cat.categories) == ["a", "b", "c"]
    assert b["c"].isna().tolist() == [False, True, False]  # a level unseen in training
    assert b["n"].tolist() == [5, 6, 7]
    wide_a, wide_b = suite_data.with_categories(train, test, max_levels=2)
    assert wide_a["c"].tolist() == [1.0, 0.0, 2.0, 0.0]
    assert wide_b["c"].isna().tolist() == [False, True, False]


def test_suites_name_their_tables_and_targets() -> None:
    for name in ("suite.json", "suite_unseen.json", "suite_large.json"):
        entries = json.loads((BENCHMARKS / name).read_text())["datasets"]
        assert len({e["id"] for e in entries}) == len(entries)
        for entry in entries:
            assert {"id", "source", "name", "target"} <= set(entry)
    large = json.loads((BENCHMARKS / "suite_large.json").read_text())["datasets"]
    assert all(entry["description"] for entry in large)
    assert {suite_data.task_of(e) for e in large} == {"classification", "regression"}


# --- scoring ------------------------------------------------------------------------------------


def test_scores_follow_the_task() -> None:
    binary = scoring.score_predictions(
        "classification",
        ["n", "y", "y", "n"],
        None,
        [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.7, 0.3]],
        ["n", "y"],
    )
    assert binary == {"score": 1.0, "score_name": "roc_auc"}
    multi = scoring.score_predictions(
        "classification",
        ["a", "b", "c"],
        np.array([0, 1, 1]),  # encoded labels, as raw TPOT returns them
        np.eye(3)[[0, 1, 1]] * 0.97 + 0.01,
        ["a", "b", "c"],
    )
    assert multi["score_name"] == "balanced_accuracy"
    assert multi["score"] == pytest.approx(2 / 3)
    assert multi["log_loss"] > 0
    regression = scoring.score_predictions("regression", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert regression == {"score": 1.0, "score_name": "r2"}


# --- time to the final score ------------------------------------------------------------------


def _record(id_: int, pipeline: str, completed: float | None, status: str = "ok") -> dict:
    return {"id": id_, "pipeline": pipeline, "status": status, "completed_at": completed}


def test_time_to_final_takes_the_last_member_first_scored() -> None:
    records = [
        _record(0, "A", 1010.0),
        _record(1, "B", 1030.0),
        _record(2, "A", 1050.0),  # a later duplicate of A
        _record(3, "C", 1040.0, status="timeout"),
        _record(4, "C", 1045.0),
    ]
    single = systems.time_to_final_from_records(records, ["A"], started_at=1000.0)
    assert single == {"time_to_final_seconds": 10.0, "time_to_final_source": "pipeline"}
    ensemble = systems.time_to_final_from_records(records, ["A", "C"], started_at=1000.0)
    assert ensemble == {"time_to_final_seconds": 45.0, "time_to_final_source": "members"}


def test_time_to_final_without_a_match() -> None:
    records = [_record(0, "A", 1010.0), _record(1, "B", 1030.0)]
    fallback = systems.time_to_final_from_records(
        records, ["unknown"], 1000.0, leaderboard=[{"id": 1}]
    )
    assert fallback == {"time_to_final_seconds": 30.0, "time_to_final_source": "leaderboard"}
    missing = systems.time_to_final_from_records(records, ["A", "unknown"], 1000.0)
    assert missing["time_to_final_seconds"] is None
    assert missing["time_to_final_source"].startswith("1 of 2")


def test_final_pipelines_of_a_real_ensemble_match_their_records() -> None:
    from automl_tpot.results import describe_pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from automl_tpot.ensemble import WeightedEnsemble
    from automl_tpot.model import TabularModel

    X = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7})
    y = np.array(["n", "y"] * 20)
    unfitted = [make_pipeline(StandardScaler(), LogisticRegression(C=0.5)), GaussianNB()]
    records = [_record(i, describe_pipeline(p), 100.0 + 10 * i) for i, p in enumerate(unfitted)]
    members = [make_pipeline(StandardScaler(), LogisticRegression(C=0.5)).fit(X, y)]
    members.append(GaussianNB().fit(X, y))
    model = TabularModel(WeightedEnsemble.from_fitted(members, [0.5, 0.5], "classification"))
    descriptions = systems.final_pipeline_descriptions(model)
    assert descriptions == [r["pipeline"] for r in records]
    found = systems.time_to_final_from_records(records, descriptions, started_at=95.0)
    assert found["time_to_final_seconds"] == 15.0


# --- processes ----------------------------------------------------------------------------------


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(code)]


def test_sampler_sums_the_whole_tree() -> None:
    child = """
        import subprocess, sys, time
        grandchild = "data = b'x' * (150 * 2**20); import time; time.sleep(2)"
        process = subprocess.Popen([sys.executable, "-c", grandchild])
        process.wait()
        print("RESULT {}")
    """
    finished = processes.run_limited(_python(child), timeout=60, interval=0.05)
    assert finished.returncode == 0 and not finished.timed_out
    assert finished.stdout.strip() == "RESULT {}"
    assert finished.memory.peak_processes >= 2
    assert finished.memory.peak_rss >= 150 * MIB
    assert finished.memory.peak_pss is not None and finished.memory.peak_pss >= 140 * MIB
    record = finished.to_record()
    assert record["peak_rss_mb"] >= 150 and record["leftover_processes"] == 0


def test_the_hard_limit_kills_the_whole_tree(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    child = f"""
        import subprocess, sys, time
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pid_file)!r}, "w").write(str(process.pid))
        time.sleep(120)
    """
    finished = processes.run_limited(_python(child), timeout=3, interval=0.05)
    assert finished.timed_out and not finished.over_memory
    assert finished.returncode == -signal.SIGKILL
    grandchild = int(pid_file.read_text())
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == "zombie"


def test_a_tree_over_the_memory_limit_is_killed() -> None:
    child = """
        import subprocess, sys, time
        grandchild = "data = b'x' * (300 * 2**20); import time; time.sleep(120)"
        subprocess.Popen([sys.executable, "-c", grandchild]).wait()
    """
    finished = processes.run_limited(
        _python(child), timeout=120, interval=0.05, memory_limit=200 * MIB
    )
    assert finished.over_memory and not finished.timed_out
    assert finished.returncode == -signal.SIGKILL
    assert finished.memory.peak_rss > 200 * MIB


def test_processes_left_behind_are_counted_and_ended(tmp_path: Path) -> None:
    pid_file = tmp_path / "orphan.pid"
    child = f"""
        import subprocess, sys, time
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        open({str(pid_file)!r}, "w").write(str(process.pid))
        time.sleep(1)
    """
    finished = processes.run_limited(_python(child), timeout=60, interval=0.05, grace=0.5)
    assert finished.returncode == 0 and not finished.timed_out
    assert finished.leftover_processes == 1
    orphan = int(pid_file.read_text())
    assert not psutil.pid_exists(orphan) or psutil.Process(orphan).status() == "zombie"


# --- summary ------------------------------------------------------------------------------------


def test_summary_reports_mean_spread_and_failures() -> None:
    base = {"dataset": "t", "budget": 30.0, "score_name": "r2", "wall_seconds": 31.0}
    records = [
        {**base, "system": "ours", "seed": 0, "score": 0.80, "overrun_seconds": 1.0},
        {**base, "system": "ours", "seed": 1, "score": 0.90, "overrun_seconds": 2.5},
        {**base, "system": "flaml", "seed": 0, "score": 0.85, "overrun_seconds": 0.1},
        {
            "dataset": "t",
            "budget": 30.0,
            "system": "flaml",
            "seed": 1,
            "error": "boom\nValueError: x",
        },
    ]
    rows = {r["system"]: r for r in summary.aggregate(records)}
    assert rows["ours"]["score_mean"] == pytest.approx(0.85)
    assert rows["ours"]["score_sd"] == pytest.approx(np.std([0.8, 0.9], ddof=1))
    assert rows["ours"]["overrun_max"] == 2.5
    assert rows["flaml"]["errors"] == 1 and rows["flaml"]["runs"] == 2
    text = summary.markdown_table(records)
    assert "0.8500 ± 0.0707" in text
    assert "0.8500 (1 failed)" in text
    assert "ValueError: x" in text
