"""The command line's backend options fail early, in one line, before any training starts."""

from __future__ import annotations

import io
import socket

import pytest

from automl_tpot.cli import build_parser, main


def run(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, err.getvalue()


def test_help_lists_the_registered_metrics_backends():
    text = build_parser()._subparsers._group_actions[0].choices["train"].format_help()
    for name in ("logging", "none", "prometheus"):
        assert name in text
    assert "--storage" in text and "s3://bucket/prefix" in text


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--metrics-backend", "statsd"], 2, "metrics: got 'statsd'; expected one of"),
        (
            ["--metrics-backend", "logging", "--metrics-port", "9100"],
            2,
            "--metrics-port needs --metrics-backend prometheus",
        ),
        (
            ["--mlflow-experiment", "e"],
            2,
            "--mlflow-tracking-uri and --mlflow-experiment need --metrics-backend mlflow",
        ),
        (["--storage", "nosuchscheme://x/y"], 2, "no storage backend for nosuchscheme://"),
    ],
)
def test_bad_backend_options_exit_before_training(tmp_path, extra, code, message):
    status, err = run("train", "--demo", "--out", str(tmp_path), "--quiet", *extra)
    assert status == code
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_busy_metrics_port_is_a_usage_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, err = run(
            "train",
            "--demo",
            "--out",
            str(tmp_path),
            "--metrics-backend",
            "prometheus",
            "--metrics-port",
            str(port),
        )
    assert status == 2 and "metrics_port" in err and str(port) in err


def test_predict_refuses_an_unknown_run_url(tmp_path):
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n")
    status, err = run("predict", "memory://nowhere/runs/missing", str(rows))
    assert status == 2 and "memory://nowhere/runs/missing is not a complete run" in err
