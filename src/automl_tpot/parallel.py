"""Dask clients for TPOT's evaluations: a local cluster started for the run, or an existing one.

Whatever this module opens it closes, on every path (errors and KeyboardInterrupt included);
a cluster the library did not start is never shut down.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from attrs import define

from .config import TrainerConfig
from .errors import TrainingError

__all__ = ["DaskSession", "memory_kills", "open_dask_session", "wait_for_warm_up", "warm_up_workers"]

log = logging.getLogger(__name__)


@define
class DaskSession:
    """An open client and what it runs on.

    Attributes:
        client: the client to hand to TPOT.
        mode: ``"local"`` or ``"distributed"``.
        n_workers: workers available when the session opened.
        started_in: seconds it took to open.
    """

    client: Any
    mode: str
    n_workers: int
    started_in: float


class _WorkersView:
    """What TPOT 1.1 reads from ``client.cluster``: a live mapping of the scheduler's workers.

    A client connected through a scheduler file has no ``cluster`` object, and TPOT's evaluation
    loop sizes its queue with ``len(client.cluster.workers)``.
    """

    def __init__(self, client: Any):
        self._client = client

    @property
    def workers(self) -> dict[str, Any]:
        return dict(self._client.scheduler_info(n_workers=-1).get("workers", {}))


class _SchedulerClient:
    """Delegates everything to a ``distributed.Client`` but adds the ``cluster`` view TPOT needs."""

    def __init__(self, client: Any):
        self._client = client
        self.cluster = _WorkersView(client)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _import_search_modules() -> None:
    """Import what every evaluation needs (TPOT, scikit-learn's estimators) in a worker."""
    import sklearn.ensemble  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    import sklearn.neighbors  # noqa: F401
    import tpot  # noqa: F401


def warm_up_workers(client: Any) -> list[Any]:
    """Start the heavy imports on every worker now, without waiting for them.

    A fresh worker spends seconds importing TPOT and scikit-learn when its first evaluation
    arrives; that time would count against the evaluation's time limit. Started here, it overlaps
    with the preparation of the search in the main process. Keep the returned futures until the
    search ends.
    """
    try:
        workers = list(client.scheduler_info(n_workers=-1).get("workers", {}))
        return [
            client.submit(_import_search_modules, pure=False, workers=[w], allow_other_workers=False)
            for w in workers
        ]
    except Exception:  # an optimisation only: never a reason to fail the run
        log.debug("worker warm-up failed", exc_info=True)
        return []


def wait_for_warm_up(futures: list[Any], timeout: float) -> None:
    """Wait (at most ``timeout`` seconds) until the warm-up imports are done on every worker.

    TPOT 1.1 measures an evaluation's time limit from its submission, so an evaluation queued
    behind a worker's imports could be cancelled as timed out before it ever ran.
    """
    from dask.distributed import wait

    if not futures:
        return
    try:
        wait(futures, timeout=timeout)
    except Exception:  # a slow or lost worker: the search copes with it
        log.debug("workers still warming up after %.1fs", timeout, exc_info=True)


@contextmanager
def open_dask_session(config: TrainerConfig, *, connect_timeout: float = 10.0) -> Iterator[DaskSession]:
    """Open the Dask client the run's ``parallel_mode`` asks for; close what was opened on exit."""
    from dask.distributed import Client, LocalCluster

    started = time.monotonic()
    if config.parallel_mode == "distributed":
        try:
            client = Client(scheduler_file=config.scheduler_file, timeout=connect_timeout)
        except (OSError, TimeoutError, ValueError) as error:
            raise TrainingError(
                f"cannot reach the Dask scheduler of {config.scheduler_file!r}: {error}"
            ) from error
        try:
            n_workers = len(client.scheduler_info(n_workers=-1).get("workers", {}))
            yield DaskSession(_SchedulerClient(client), "distributed", n_workers, time.monotonic() - started)
        finally:
            client.close()  # never the cluster: it is not ours
        return

    memory_limit: Any = f"{config.memory_limit_mb}MiB" if config.memory_limit_mb else 0
    cluster = None
    client = None
    try:
        cluster = LocalCluster(
            n_workers=config.n_jobs,
            threads_per_worker=1,
            processes=True,
            memory_limit=memory_limit,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
        yield DaskSession(client, "local", config.n_jobs, time.monotonic() - started)
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            _close_local_cluster(cluster)


#: Seconds a busy local worker gets to stop before its process is killed at shutdown.
WORKER_CLOSE_GRACE = 0.5


def _close_local_cluster(cluster: Any) -> None:
    """Close a LocalCluster without waiting for evaluations still running on its workers.

    ``LocalCluster.close`` gives each busy worker seconds to finish its task; the result of that
    task is no longer wanted once the search has ended, and the wait would count against the
    time budget. All nannies are closed at once with a short grace period, then the cluster.
    """
    import asyncio

    async def close_workers() -> None:
        nannies = list(cluster.workers.values())
        await asyncio.gather(*(n.close(timeout=WORKER_CLOSE_GRACE) for n in nannies), return_exceptions=True)

    try:
        cluster.sync(close_workers)
    except Exception:  # the cluster is closed below whatever happened here
        log.debug("fast worker shutdown failed; falling back to LocalCluster.close", exc_info=True)
    cluster.close()


def memory_kills(client: Any, since: float) -> list[dict[str, Any]]:
    """Workers the Dask nanny restarted for exceeding their memory limit since ``since`` (Unix
    time), read from the scheduler's ``worker-restart-memory`` events.

    Each item has ``worker``, ``pid``, ``rss`` (bytes) and ``time``. Works for local and
    distributed clusters alike, since nannies report to the scheduler; an unreachable scheduler
    gives an empty list (the caller is reporting, not deciding).
    """
    try:
        events = client.get_events("worker-restart-memory")
    except Exception:  # a lost scheduler must not turn a finished search into a failure
        log.debug("cannot read memory events from the scheduler", exc_info=True)
        return []
    kills = []
    for timestamp, message in events or ():
        if timestamp >= since and isinstance(message, dict):
            kills.append({**message, "time": float(timestamp)})
    return kills
