"""Dask execution: the session (local or distributed, watched, with its fallback), the
evaluation loop on its workers, and the commands that start a cluster."""

from .commands import (
    DEFAULT_IDLE_TIMEOUT,
    WORKER_ENVIRONMENT,
    exec_command,
    scheduler_command,
    worker_command,
)

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "WORKER_ENVIRONMENT",
    "exec_command",
    "scheduler_command",
    "worker_command",
]
