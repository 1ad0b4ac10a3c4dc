"""The cluster commands, the compose file and the image recipe, tested without Docker."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from automl_tpot.cli import main

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"


def _run(argv):
    out, err = io.StringIO(), io.StringIO()
    status = main(argv, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


def test_scheduler_command_is_dasks_with_the_idle_timeout():
    status, out, _ = _run(["scheduler", "--scheduler-file", "/var/run/tpot/s.json", "--print"])
    assert status == 0
    assert out.split()[1:] == [
        "-m",
        "dask",
        "scheduler",
        "--scheduler-file",
        "/var/run/tpot/s.json",
        "--idle-timeout",
        "300",
    ]


def test_worker_command_has_one_thread_a_memory_limit_and_no_daemon():
    status, out, _ = _run(
        ["worker", "--scheduler-file", "/var/run/tpot/s.json", "--memory-limit", "2GiB", "--print"]
    )
    assert status == 0
    words = out.split()
    assert words[0] == "DASK_DISTRIBUTED__WORKER__DAEMON=False"
    assert words[2:5] == ["-m", "dask", "worker"]
    line = " ".join(words)
    assert "--nthreads 1" in line and "--memory-limit 2GiB" in line
    assert "--scheduler-file /var/run/tpot/s.json" in line


def test_the_scheduler_command_really_starts_a_scheduler(tmp_path):
    """exec's Dask: the file appears, a client connects, and the process is Dask's own."""
    from dask.distributed import Client

    scheduler_file = tmp_path / "scheduler.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "automl_tpot",
            "scheduler",
            "--scheduler-file",
            str(scheduler_file),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        with Client(scheduler_file=str(scheduler_file), timeout=30) as client:
            assert client.scheduler_info()["type"] == "Scheduler"
        import psutil

        assert "dask" in " ".join(psutil.Process(process.pid).cmdline())
    finally:
        os.killpg(process.pid, 9)
        process.wait(timeout=30)


def test_compose_file_describes_scheduler_and_worker_sharing_the_run_volume():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) >= {"tpot-scheduler", "tpot-worker"}
    scheduler, worker = services["tpot-scheduler"], services["tpot-worker"]
    assert scheduler["command"][:2] == ["automl-tpot", "scheduler"]
    assert "/var/run/tpot/scheduler.json" in scheduler["command"]
    assert scheduler["command"][scheduler["command"].index("--idle-timeout") + 1] == "300"
    assert worker["command"][:2] == ["automl-tpot", "worker"]
    assert "/var/run/tpot/scheduler.json" in worker["command"]
    assert "--memory-limit" in worker["command"]
    assert worker["environment"]["DASK_DISTRIBUTED__WORKER__DAEMON"] == "False"
    for service in (scheduler, worker):
        assert any(v.endswith(":/var/run/tpot") for v in service["volumes"])
        assert service["healthcheck"]["test"][0] == "CMD"
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    assert worker["depends_on"]["tpot-scheduler"]["condition"] == "service_healthy"


def test_dockerfile_has_the_system_packages_and_installs_from_the_lock():
    text = (DEPLOY / "Dockerfile").read_text()
    apt = next(line for line in text.splitlines() if "apt-get install" in line)
    for package in ("graphviz", "swig", "build-essential"):
        assert package in apt
    assert "pip install --require-hashes --requirement deploy/requirements.lock" in text
    assert "pip install --no-deps ." in text


# The lock's own checks (hashes, every dependency, a hashed install): tests/test_packaging.py


def test_train_with_fallback_off_and_no_scheduler_fails_with_the_reason(tmp_path):
    status, _, err = _run(
        [
            "train",
            "--demo",
            "--parallel-mode",
            "distributed",
            "--scheduler-file",
            str(tmp_path / "none.json"),
            "--no-parallel-fallback",
            "--cluster-wait",
            "1",
            "--out",
            str(tmp_path / "runs"),
            "--quiet",
        ]
    )
    assert status == 1
    assert "Dask cluster cannot be used" in err and "none.json" in err
    assert not (tmp_path / "runs").exists()
