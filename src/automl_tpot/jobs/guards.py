"""Stopping a job: the host's cancel event or the job's timeout, and a storage that refuses
writes once the job is stopped (so a cancelled job never leaves a ``run.json``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import ConfigError, StorageError, TrainingCancelled
from ..storage import Storage

__all__ = ["GuardedStorage", "Stopper"]


class Stopper:
    """``should_stop`` for the Trainer: the host's cancel event or the job's timeout."""

    def __init__(self, cancel: Any, timeout: float | None, started: float):
        if cancel is not None and not callable(getattr(cancel, "is_set", None)):
            raise ConfigError("cancel", cancel, "a threading.Event (with is_set()) or None")
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0
        ):
            raise ConfigError("timeout", timeout, "a number of seconds > 0 or None")
        self._cancel = cancel
        self._timeout = timeout
        self._deadline = None if timeout is None else started + timeout
        self._lock = threading.Lock()
        self.reason: str | None = None

    def __call__(self) -> bool:
        with self._lock:
            if self.reason is not None:
                return True
            if self._cancel is not None and self._cancel.is_set():
                self.reason = "the job was cancelled"
            elif self._deadline is not None and time.monotonic() > self._deadline:
                self.reason = f"the job ran past its timeout of {self._timeout:g}s"
            return self.reason is not None

    def error(self) -> TrainingCancelled:
        return TrainingCancelled(self.reason or "the job was stopped")


class GuardedStorage:
    """A storage that refuses writes once the job is stopped.

    :func:`~automl_tpot.storage.write_run` then removes what it had written, so a job cancelled
    while its artifacts were being written never leaves a ``run.json``. A cancel that comes after
    the manifest was written is too late: the job is complete.
    """

    def __init__(self, storage: Storage, should_stop: Callable[[], bool]):
        self._storage = storage
        self._should_stop = should_stop

    def __repr__(self) -> str:
        return repr(self._storage)

    def location(self, run_id: str) -> str:
        return self._storage.location(run_id)

    def check_writable(self) -> None:
        check = getattr(self._storage, "check_writable", None)
        if check is not None:
            check()

    def write_bytes(self, run_id: str, name: str, data: bytes) -> None:
        if self._should_stop():
            raise StorageError(f"the job was stopped; not writing {name!r} of run {run_id!r}")
        self._storage.write_bytes(run_id, name, data)

    def read_bytes(self, run_id: str, name: str) -> bytes:
        return self._storage.read_bytes(run_id, name)

    def exists(self, run_id: str, name: str) -> bool:
        return self._storage.exists(run_id, name)

    def list_runs(self) -> list[str]:
        return self._storage.list_runs()

    def delete_run(self, run_id: str) -> None:
        self._storage.delete_run(run_id)

    def __getattr__(self, name: str) -> Any:
        # the backend's optional methods (list_unfinished, delete_bytes, ...) pass through
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._storage, name)
