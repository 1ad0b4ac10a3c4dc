"""Bad input on the command line: ``automl-tpot train`` / ``predict`` through ``main([...])``,
and once through a real process.

Every case must exit with status 2 and print exactly one line on stderr (no banner before
it), name the flag (``--time-left``, not "keyword argument"), stay within the message bound,
start no Dask process (``open_dask_session`` is a sentinel), and leave ``--out`` unwritten.
The corpus is in ``bad_input_cases.py``.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from bad_input_cases import (
    BAD_RUN_IDS,
    CONFIG_CASES,
    DATA_CASES,
    HUGE,
    MESSAGE_BOUND,
    TABLE_CASES,
    write_tables,
)

from automl_tpot.cli import main

SMALL = ["--time-left", "20", "--generations", "1", "--population-size", "4", "--n-jobs", "1"]
SMALL += ["--cv", "3", "--quiet"]


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    return write_tables(tmp_path_factory.mktemp("cli-tables"))


@pytest.fixture(scope="module")
def cancer(tables) -> pd.DataFrame:
    return pd.read_csv(tables["cancer"])


@pytest.fixture
def no_dask(monkeypatch):
    opened: list[object] = []

    def sentinel(*args, **kwargs):
        opened.append(args)
        raise AssertionError("a Dask session was opened for a bad input")

    monkeypatch.setattr("automl_tpot.run.trainer.opening_dask_session", sentinel)
    yield opened
    assert not opened


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_exit_2(code: int, err: str, *words: str) -> str:
    lines = err.splitlines()
    assert code == 2, err[:2000]
    assert len(lines) == 1, lines[:5]
    line = lines[0]
    assert "error:" in line and len(line) <= MESSAGE_BOUND + 100
    for word in words:
        assert word in line, line[:500]
    return line


def train(tables, out: Path, *extra: str, data: str | None = None) -> tuple[int, str, str]:
    source = str(tables["cancer"]) if data is None else data
    return run_cli("train", source, "--target", "y", "--out", str(out), *SMALL, *extra)


# --- flags --------------------------------------------------------------------------------------


CLI_CONFIG_CASES = [case for case in CONFIG_CASES if case.cli is not None]


@pytest.mark.parametrize("case", CLI_CONFIG_CASES, ids=lambda c: c.id)
def test_a_bad_flag_value_exits_2_naming_the_flag(case, tables, tmp_path, no_dask):
    out = tmp_path / "runs"
    code, stdout, err = train(tables, out, *case.cli)
    line = assert_one_line_exit_2(code, err, case.flag or case.cli[0])
    assert "keyword argument" not in line and not stdout
    assert not out.exists()


CLI_TABLE_CASES = [case for case in TABLE_CASES if case.cli is not None]


@pytest.mark.parametrize("case", CLI_TABLE_CASES, ids=lambda c: c.id)
def test_what_the_table_shows_exits_2_before_the_banner(case, tables, tmp_path, no_dask):
    out = tmp_path / "runs"
    code, _, err = train(tables, out, *case.cli, data=str(tables[case.table]))
    assert_one_line_exit_2(code, err, case.flag or case.cli[0])
    assert "Training on" not in err
    assert not out.exists()


def test_the_environment_is_named_as_the_source(tables, tmp_path, no_dask, monkeypatch):
    monkeypatch.setenv("TPOT__TIME_LEFT", "1e12")
    code, _, err = run_cli("train", str(tables["cancer"]), "--target", "y", "--out", str(tmp_path))
    assert_one_line_exit_2(code, err, "TPOT__TIME_LEFT", "time_left")


@pytest.mark.parametrize(
    ("case_id", "argv", "word"),
    [
        ("unknown-flag", ["train", "t.csv", "--colour", "blue"], "--colour"),
        ("float-for-int", ["train", "t.csv", "--generations", "1.5"], "--generations"),
        ("huge-number-text", ["train", "t.csv", "--time-left", HUGE], "--time-left"),
        ("no-command", [], "COMMAND"),
        ("unknown-command", ["fit", "t.csv"], "fit"),
        ("scheduler-without-file", ["scheduler"], "--scheduler-file"),
        ("no-data-no-demo", ["train", "--target", "y"], "DATA or --demo"),
        ("data-and-demo", ["train", "t.csv", "--demo"], "DATA or --demo"),
        ("metrics-unknown", ["train", "--demo", "--metrics-backend", "statsd"], "metrics"),
        (
            "metrics-port-without-prometheus",
            ["train", "--demo", "--metrics-port", "9"],
            "--metrics-port",
        ),
        ("spaces-show-unknown", ["spaces", "show", "nope"], "nope"),
        ("spaces-show-rows", ["spaces", "show", "auto", "--rows", "1"], "--rows"),
        ("predict-missing-args", ["predict"], "RUN"),
    ],
)
def test_usage_errors_are_one_line(case_id, argv, word, tmp_path, no_dask):
    if argv[:1] == ["train"]:
        argv = [*argv, "--out", str(tmp_path / "runs")]
    code, _, err = run_cli(*argv)
    assert_one_line_exit_2(code, err, word)
    assert not (tmp_path / "runs").exists()


def test_a_port_out_of_range_is_refused(tmp_path, no_dask):
    code, _, err = run_cli(
        "train", "--demo", "--out", str(tmp_path / "runs"), "--metrics-backend", "prometheus",
        "--metrics-port", "99999",
    )  # fmt: skip
    assert_one_line_exit_2(code, err, "metrics_port", "99999")


# --- data ---------------------------------------------------------------------------------------


CLI_DATA_CASES = [case for case in DATA_CASES if case.cli]


@pytest.mark.parametrize("case", CLI_DATA_CASES, ids=lambda c: c.id)
def test_a_bad_table_exits_2_with_one_line(case, tables, cancer, tmp_path, no_dask):
    source = case.source(tmp_path, cancer)
    if not isinstance(source, (str, Path)):
        pytest.skip("not a path")
    out = tmp_path / "runs"
    extra = [] if case.task is None else ["--task", case.task]
    code, _, err = run_cli(
        "train", str(source), "--target", case.target, "--out", str(out), *SMALL, *extra
    )
    assert_one_line_exit_2(code, err, case.message)
    assert not out.exists()


def test_a_folder_named_like_a_csv_is_reported_as_a_folder(tmp_path, tables, no_dask):
    (tmp_path / "dir.csv").mkdir()
    code, _, err = train(tables, tmp_path / "runs", data=str(tmp_path / "dir.csv"))
    line = assert_one_line_exit_2(code, err, "is a directory")
    assert "no such file" not in line


# --- run ids and storage ------------------------------------------------------------------------


@pytest.mark.parametrize(("case_id", "run_id"), BAD_RUN_IDS, ids=[c[0] for c in BAD_RUN_IDS])
def test_a_bad_run_id_exits_2(case_id, run_id, tables, tmp_path, no_dask):
    code, _, err = train(tables, tmp_path / "runs", "--run-id", run_id)
    assert_one_line_exit_2(code, err, "--run-id", "invalid run id")
    assert not (tmp_path / "runs").exists() and not (tmp_path / "etc").exists()


def test_an_existing_run_id_exits_2(tables, tmp_path, no_dask):
    from automl_tpot.storage import FilesystemStorage, write_run

    write_run(FilesystemStorage(tmp_path / "runs"), "taken", {"model.joblib": b"x"}, b"{}")
    code, _, err = train(tables, tmp_path / "runs", "--run-id", "taken")
    assert_one_line_exit_2(code, err, "--run-id", "already exists")


@pytest.mark.parametrize("kind", ["out-is-a-file", "out-under-a-file", "unknown-scheme"])
def test_an_unusable_storage_exits_2_before_training(kind, tables, tmp_path, no_dask):
    if kind == "unknown-scheme":
        extra, flag = ["--storage", "nosuchscheme://bucket/runs"], "--storage"
        out = tmp_path / "runs"
    else:
        (tmp_path / "file").write_text("a file")
        out = tmp_path / "file" if kind == "out-is-a-file" else tmp_path / "file" / "runs"
        extra, flag = [], "--out"
    code, _, err = train(tables, out, *extra)
    line = assert_one_line_exit_2(code, err, flag)
    if kind == "unknown-scheme":
        assert "nosuchscheme://bucket/runs" in line
    assert (tmp_path / "file").read_text() == "a file" if kind != "unknown-scheme" else True


# --- predict ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stored_run(tables, tmp_path_factory) -> Path:
    """A complete, real run (the AutoML fallback's baseline: no search, a second to train)."""
    from automl_tpot import FilesystemStorage, Trainer, TrainerConfig
    from automl_tpot.data import prepare_table
    from automl_tpot.run.fallback import train_baseline

    root = tmp_path_factory.mktemp("stored")
    config = TrainerConfig(target_column="y", cv=3, n_jobs=1)
    prepared = prepare_table(tables["cancer"], "y", "auto", 3)
    result = train_baseline(prepared, config, reason="a stored run for the predict tests")
    Trainer(config, storage=FilesystemStorage(root)).save(result, "base", status="fallback")
    return root / "base"


@pytest.fixture
def rows(tmp_path, cancer) -> Path:
    path = tmp_path / "rows.csv"
    cancer.drop(columns="y").head(5).to_csv(path, index=False)
    return path


def test_the_stored_run_predicts(stored_run, rows, tmp_path):
    code, out, err = run_cli("predict", str(stored_run), str(rows))
    assert code == 0, err
    assert len(pd.read_csv(io.StringIO(out))) == 5


@pytest.mark.parametrize("kind", ["missing-folder", "is-a-folder"])
def test_predict_output_is_checked_before_predicting(kind, stored_run, rows, tmp_path, no_dask):
    target = tmp_path / "nowhere" / "p.csv" if kind == "missing-folder" else tmp_path
    code, _, err = run_cli("predict", str(stored_run), str(rows), "--output", str(target))
    assert_one_line_exit_2(code, err, "--output")
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    ("case_id", "run", "word"),
    [
        ("not-a-run", "{tmp}/nothing", "not a complete run"),
        ("bad-run-id", "{tmp}/..", "invalid run id"),
        ("unknown-scheme", "nosuchscheme://bucket/run", "nosuchscheme://bucket"),
        ("url-without-run", "memory://", "does not name a run"),
    ],
)
def test_predict_refuses_a_bad_run(case_id, run, word, rows, tmp_path, no_dask):
    code, _, err = run_cli("predict", run.format(tmp=tmp_path), str(rows))
    assert_one_line_exit_2(code, err, word)


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_predict_with_a_damaged_model_exits_2(damage, stored_run, rows, tmp_path):
    copy = tmp_path / "runs" / "base"
    shutil.copytree(stored_run, copy)
    model = copy / "model.joblib"
    data = model.read_bytes()
    model.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"\x00" * 64)
    code, _, err = run_cli("predict", str(copy), str(rows))
    assert_one_line_exit_2(code, err, "model.joblib")


@pytest.mark.parametrize("case", ["missing", "dir.csv", "repeated-header", "url"])
def test_predict_refuses_bad_rows(case, stored_run, tmp_path):
    rows = {
        "missing": str(tmp_path / "missing.csv"),
        "dir.csv": str(tmp_path / "dir.csv"),
        "repeated-header": str(tmp_path / "repeated.csv"),
        "url": "s3://bucket/rows.csv",
    }[case]
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "repeated.csv").write_text("a,a\n1,2\n")
    code, _, err = run_cli("predict", str(stored_run), rows)
    assert_one_line_exit_2(code, err, rows if case != "dir.csv" else "directory")


# --- a real process -----------------------------------------------------------------------------


def test_a_real_process_prints_one_line_and_exits_2(tmp_path, tables):
    done = subprocess.run(
        [sys.executable, "-m", "automl_tpot", "train", str(tables["cancer"]), "--target", "y",
         "--time-left", "1e12", "--out", str(tmp_path / "runs")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "--time-left" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "runs").exists()


UNGUARDED = """
import pandas as pd
from automl_tpot import Trainer, TrainerConfig

table = pd.read_csv({table!r})
config = TrainerConfig(
    target_column="y", n_jobs=1, time_left=20, generations=1, cv=3, worker_threads={threads}
)
result = Trainer(config, store=False).train(table)
print(result.parallel)
"""


def test_a_script_without_the_main_guard_fails_fast_with_a_clear_error(tmp_path, tables):
    script = tmp_path / "train_it.py"
    script.write_text(UNGUARDED.format(table=str(tables["cancer"]), threads=False))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("automl_tpot.errors.ClusterError")
    assert 'if __name__ == "__main__":' in last and f"{script}:9" in last
    assert "Nanny failed" not in done.stderr  # no worker was started at all


def test_a_script_without_the_main_guard_trains_when_its_evaluations_are_threads(tmp_path, tables):
    # no worker process runs the script again: nothing to guard against
    script = tmp_path / "train_it.py"
    script.write_text(UNGUARDED.format(table=str(tables["cancer"]), threads=None))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "'worker_threads': True" in done.stdout


def test_the_same_script_with_the_guard_passes_the_check(tmp_path):
    script = tmp_path / "guarded.py"
    script.write_text(
        "from automl_tpot.cluster.session import check_main_guard\n"
        "def main():\n    check_main_guard()\n    print('ok')\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def test_a_setting_from_the_environment_that_the_machine_refuses_names_the_variable(
    tables, tmp_path, no_dask, monkeypatch
):
    import os

    monkeypatch.setenv("TPOT__N_JOBS", str(min((os.cpu_count() or 1) + 1, 256)))
    code, _, err = run_cli("train", str(tables["cancer"]), "--target", "y", "--out", str(tmp_path))
    assert_one_line_exit_2(code, err, "n_jobs (from TPOT__N_JOBS)", "cores")
