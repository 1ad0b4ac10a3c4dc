"""The automl-tpot command line: the demo run, predict, and one-line errors with exit 2."""

from __future__ import annotations

import importlib.metadata
import io
import json
import shutil
import subprocess

import pandas as pd
import pytest

import automl_tpot
from automl_tpot.cli import DEMO_TARGET, demo_table, main

pytestmark = pytest.mark.usefixtures("no_leaked_processes")

SMALL = [
    "--time-left",
    "40",
    "--generations",
    "1",
    "--population-size",
    "4",
    "--n-jobs",
    "1",
    "--cv",
    "3",
    "--random-state",
    "0",
]


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_demo_train_then_predict(tmp_path):
    code, out, err = run_cli(
        "train", "--demo", "--out", str(tmp_path / "runs"), "--run-id", "demo", *SMALL
    )
    assert code == 0, err
    assert "best CV score" in out and "Leaderboard" in out
    assert "generation   1" in err  # the progress display
    run_dir = tmp_path / "runs" / "demo"
    manifest = json.loads((run_dir / "run.json").read_text())
    assert manifest["status"] == "complete"
    # one version source: the installed metadata, also behind __version__ and --version
    assert manifest["versions"]["automl-tpot"] == importlib.metadata.version("automl-tpot")
    assert manifest["versions"]["automl-tpot"] == automl_tpot.__version__

    rows = tmp_path / "rows.csv"
    demo_table().drop(columns=DEMO_TARGET).head(15).to_csv(rows, index=False)
    predictions = tmp_path / "predictions.csv"
    code, _, err = run_cli("predict", str(run_dir), str(rows), "--output", str(predictions))
    assert code == 0, err
    frame = pd.read_csv(predictions)
    assert len(frame) == 15
    assert set(frame["prediction"]) <= {"malignant", "benign"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "{missing}", "--target", "y"], "no such file"),
        (["train", "{csv}", "--target", "nope"], "not in the table"),
        (["train", "{csv}", "--target", "diagnosis", "--time-left", "-3"], "time_left"),
        (["train", "{csv}", "--target", "diagnosis", "--time-left", "0"], "time_left"),
        (["train", "{csv}", "--target", "diagnosis", "--task", "regression"], "numeric target"),
        (["train", "{csv}", "--demo"], "either DATA or --demo"),
        (["predict", "{out}/nothing", "{csv}"], "not a complete run folder"),
    ],
)
def test_bad_input_prints_one_line_exits_2_and_writes_nothing(tmp_path, argv, message):
    csv = tmp_path / "table.csv"
    demo_table().to_csv(csv, index=False)
    out_dir = tmp_path / "runs"
    values = {"missing": str(tmp_path / "missing.csv"), "csv": str(csv), "out": str(out_dir)}
    argv = [a.format(**values) for a in argv]
    if argv[0] == "train":
        argv += ["--out", str(out_dir)]
    code, _, err = run_cli(*argv)
    assert code == 2
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 1 and message in lines[0]
    assert not out_dir.exists()


def test_console_script_is_installed():
    executable = shutil.which("automl-tpot")
    assert executable, "the automl-tpot console script is not on PATH"
    done = subprocess.run(
        [executable, "train", "--help"], capture_output=True, text=True, check=True
    )
    assert "--time-left" in done.stdout and "--demo" in done.stdout
    version = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout == f"automl-tpot {automl_tpot.__version__}\n"
