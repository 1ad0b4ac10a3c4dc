"""The command line as its peers behave: --version, a live progress bar on a terminal (plain
lines elsewhere), --json, runs list / runs show on the same storage, help with every default,
and the old --metrics spelling still working with a note."""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import os
import pty
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest

from automl_tpot.cli import build_parser, main
from automl_tpot.cli.progress import ProgressDisplay
from automl_tpot.records.events import EvaluationProgress, GenerationProgress

SMALL = ["--time-left", "60", "--generations", "2", "--population-size", "4", "--n-jobs", "1",
         "--cv", "3", "--random-state", "0"]  # fmt: skip


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``automl-tpot train --demo --json`` as a user runs it: its standard error a terminal
    (a pseudo-terminal), its standard output a pipe."""
    runs = tmp_path_factory.mktemp("runs")
    controller, terminal = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    process = subprocess.Popen(
        [sys.executable, "-m", "automl_tpot", "train", "--demo", "--out", str(runs),
         "--run-id", "peer", "--json", *SMALL],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, env=env,
    )  # fmt: skip
    os.close(terminal)
    screen = bytearray()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed with the process
                return
            if not chunk:
                return
            screen.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    stdout, _ = process.communicate(timeout=300)
    reader.join(timeout=30)
    os.close(controller)
    text = screen.decode("utf-8", "replace")
    assert process.returncode == 0, text[-3000:]
    return SimpleNamespace(runs=runs, stdout=stdout.decode(), terminal=text)


def test_version_names_the_installed_release():
    completed = subprocess.run(
        [sys.executable, "-m", "automl_tpot", "--version"], capture_output=True, text=True
    )
    assert completed.returncode == 0
    assert completed.stdout.strip() == f"automl-tpot {importlib.metadata.version('automl-tpot')}"


def test_json_prints_the_summary_with_run_id_and_location(trained):
    document = json.loads(trained.stdout)
    manifest = json.loads((trained.runs / "peer" / "run.json").read_text())
    assert document["run_id"] == "peer" and document["status"] == "complete"
    assert document["location"] == str(trained.runs / "peer")
    summary = {k: v for k, v in document.items() if k not in ("run_id", "location", "status")}
    assert summary == manifest["summary"]


def test_a_terminal_gets_a_bar_redrawn_in_place(trained):
    screen = trained.terminal
    assert "\r\x1b[K[" in screen  # the bar, drawn over itself
    assert "s left" in screen and "evaluated" in screen and "best " in screen
    assert "  generation   1  best" in screen and "  generation   2  best" in screen
    assert "Training on demo table" in screen


def test_runs_list_and_show_on_the_same_storage(trained):
    code, out, err = run_cli("runs", "list", "--storage", str(trained.runs))
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split()[:6] == ["RUN", "CREATED", "STATUS", "TASK", "METRIC", "BEST"]
    assert row.startswith("peer ") and "complete" in row and "classification" in row

    code, out, _ = run_cli("runs", "list", "--storage", str(trained.runs), "--json")
    (listed,) = json.loads(out)
    manifest = json.loads((trained.runs / "peer" / "run.json").read_text())
    assert listed["run_id"] == "peer" and listed["best_score"] == manifest["summary"]["best_score"]

    for argv in (["peer", "--storage", str(trained.runs)], [str(trained.runs / "peer")]):
        code, out, err = run_cli("runs", "show", *argv)
        assert code == 0, err
        assert "best CV score" in out and "Leaderboard" in out and "Artifacts" in out
        for name in manifest["artifacts"]:
            assert name in out
    code, out, _ = run_cli("runs", "show", "peer", "--storage", str(trained.runs), "--json")
    shown = json.loads(out)
    assert shown["artifacts"] == manifest["artifacts"] and shown["config"] == manifest["config"]
    assert shown["best_pipeline"] == manifest["summary"]["best_pipeline"]

    code, _, err = run_cli("runs", "show", "nope", "--storage", str(trained.runs))
    assert code == 2 and "nope is not a complete run" in err


def test_runs_list_of_an_empty_storage_says_so(tmp_path):
    code, out, err = run_cli("runs", "list", "--storage", str(tmp_path))
    assert code == 0 and out == "" and "no complete runs" in err


def test_the_report_command_names_a_run_by_id_in_a_storage(trained, tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "peer.html"
    code, _, err = run_cli("report", "peer", "--storage", str(trained.runs), "--output", str(path))
    assert code == 0, err
    assert "<title>automl-tpot run peer</title>" in path.read_text(encoding="utf-8")


def _parsers(parser: argparse.ArgumentParser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def test_every_option_has_help_and_states_its_default():
    for parser in _parsers(build_parser()):
        for action in parser._actions:
            if not action.option_strings or action.help == argparse.SUPPRESS:
                continue
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
                continue
            assert action.help, f"{parser.prog} {action.option_strings} has no help"
            if action.nargs == 0 and not isinstance(action, argparse.BooleanOptionalAction):
                continue  # a plain switch: off unless given
            text = parser._get_formatter()._expand_help(action)
            assert "default" in text or action.required, (parser.prog, action.option_strings)


def test_the_old_metrics_spelling_still_works_with_a_deprecation_note(tmp_path):
    args = build_parser().parse_args(["train", "--demo", "--metrics", "logging"])
    assert args.metrics == "logging"
    assert build_parser().parse_args(["train", "--demo"]).metrics == "none"
    code, _, err = run_cli("train", "--demo", "--out", str(tmp_path), "--metrics", "statsd")
    note, error = err.strip().splitlines()
    assert note == "automl-tpot train: --metrics is deprecated, use --metrics-backend"
    assert code == 2 and "metrics: got 'statsd'" in error
    assert list(tmp_path.iterdir()) == []


def _evaluation(n: int, generation: int = 1) -> EvaluationProgress:
    return EvaluationProgress(generation, n, n // 4, 0.5 + n / 100, float(n), 60.0 - n, "roc_auc")


def test_plain_lines_when_not_a_terminal_one_per_generation():
    stream = io.StringIO()
    display = ProgressDisplay(stream, 60.0)
    assert not display.live
    for n in range(1, 40):
        display.on_evaluation(_evaluation(n))  # within one generation: throttled away
    display(GenerationProgress(1, 4.0, 0.91, 39, 9, "roc_auc", 4))
    display.close()
    lines = stream.getvalue().splitlines()
    assert lines == ["  generation   1  best 0.9100  evaluated   39  failed   9     4.0s / 60s"]
    assert "\r" not in stream.getvalue()


def test_the_bar_shows_evaluations_best_score_and_time_left():
    stream = io.StringIO()
    display = ProgressDisplay(stream, 60.0, live=True)
    display.on_evaluation(_evaluation(12))
    text = stream.getvalue()
    assert text.startswith("\r\x1b[K[") and "20%" in text
    assert "12s used, 48s left" in text and "12 evaluated, 3 failed" in text
    assert "best 0.6200" in text
    display(GenerationProgress(1, 13.0, 0.62, 12, 3, "roc_auc", 4))
    display.close()
    assert stream.getvalue().endswith("13.0s / 60s\n")
