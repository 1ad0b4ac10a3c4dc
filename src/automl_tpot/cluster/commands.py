"""The commands that start a Dask cluster for distributed mode: Dask's own scheduler and worker,
with the settings TPOT needs.

``automl-tpot scheduler`` and ``automl-tpot worker`` replace themselves (``exec``) with
``python -m dask scheduler`` / ``python -m dask worker`` from the same environment, so signals,
exit codes and logs are Dask's own; nothing here reimplements Dask.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "WORKER_ENVIRONMENT",
    "exec_command",
    "scheduler_command",
    "worker_command",
]

#: Seconds without clients after which the scheduler exits (the plan's ``--idle-timeout 300``).
DEFAULT_IDLE_TIMEOUT = 300
#: Worker processes must not be daemonic, or TPOT's pipelines cannot start processes of their own.
WORKER_ENVIRONMENT: Mapping[str, str] = {"DASK_DISTRIBUTED__WORKER__DAEMON": "False"}


def _dask() -> list[str]:
    return [sys.executable, "-m", "dask"]


def scheduler_command(
    scheduler_file: str,
    *,
    idle_timeout: float | None = DEFAULT_IDLE_TIMEOUT,
    host: str | None = None,
    port: int | None = None,
    dashboard: bool = True,
) -> list[str]:
    """The ``dask scheduler`` command line; it writes ``scheduler_file`` for clients, workers."""
    command = [*_dask(), "scheduler", "--scheduler-file", scheduler_file]
    if idle_timeout:
        command += ["--idle-timeout", f"{idle_timeout:g}"]
    if host:
        command += ["--host", host]
    if port is not None:
        command += ["--port", str(port)]
    if not dashboard:
        command.append("--no-dashboard")
    return command


def worker_command(
    scheduler_file: str,
    *,
    memory_limit: str = "0",
    name: str | None = None,
    host: str | None = None,
    dashboard: bool = False,
) -> list[str]:
    """The ``dask worker`` command line: one thread per worker (TPOT evaluates one pipeline per
    thread), the given memory limit (``"0"`` for none; ``"2GiB"``, ``"auto"``)."""
    command = [
        *_dask(),
        "worker",
        "--nthreads",
        "1",
        "--memory-limit",
        memory_limit,
        "--scheduler-file",
        scheduler_file,
    ]
    if name:
        command += ["--name", name]
    if host:
        command += ["--host", host]
    if not dashboard:
        command.append("--no-dashboard")
    return command


def exec_command(command: Sequence[str], extra_env: Mapping[str, str] | None = None) -> None:
    """Replace this process with ``command`` (never returns)."""
    env = dict(os.environ)
    env.update(extra_env or {})
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(command[0], list(command), env)
