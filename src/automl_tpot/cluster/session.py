"""Dask clients for TPOT's evaluations: a local cluster started for the run, or an existing one,
watched for health and replaced by a local one-worker cluster when it fails.

Whatever this module opens it closes, on every path (errors and KeyboardInterrupt included);
a cluster the library did not start is never shut down, only disconnected from.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from ..config import TrainerConfig
from ..errors import ClusterError
from ..utils.notify import notify
from ..utils.text import short_repr, shorten
from .preconditions import scheduler_file_problem, unguarded_main_call
from .threaded import process_settings_held, stop_evaluations_left

__all__ = ["DaskSession", "memory_kills", "open_dask_session", "opening_dask_session"]

log = logging.getLogger(__name__)


def _warm_up() -> bool:
    """Import what every evaluation needs, once per worker and before the search clock runs."""
    import sklearn.model_selection  # noqa: F401
    import tpot  # noqa: F401

    return True


class DaskSession:
    """An open Dask client, what it runs on, and the watchdog's fallback.

    Attributes:
        current: the ``distributed.Client`` in use right now (a fallback replaces it).
        mode_requested: the configured ``parallel_mode``.
        mode: the mode in use now (``"local"`` after a fallback).
        n_workers: workers available when the session (or its fallback) opened.
        started_in: seconds it took to open.
        fallback_reason: why the session fell back to a local cluster, or ``None``.
        threads: whether the local cluster in use runs its evaluations as threads of this
            process (``TrainerConfig.uses_worker_threads``).
    """

    def __init__(
        self,
        config: TrainerConfig,
        stack: ExitStack,
        on_fallback: Callable[[str], None] | None,
    ):
        self.config = config
        self.mode_requested = config.parallel_mode
        self.mode = config.parallel_mode
        self.n_workers = 0
        self.started_in = 0.0
        self.fallback_reason: str | None = None
        self.threads = False
        self.current: Any = None
        self._stack = stack
        self._on_fallback = on_fallback

    def __repr__(self) -> str:
        return (
            f"DaskSession(mode_requested={self.mode_requested!r}, mode={self.mode!r}, "
            f"n_workers={self.n_workers}, fallback_reason={self.fallback_reason!r})"
        )

    # -- health --------------------------------------------------------------------------------

    def worker_threads(self, timeout: float | None = None) -> dict[str, int]:
        """The scheduler's workers and their threads, asked with a bounded wait.

        Raises:
            OSError, TimeoutError: the scheduler did not answer within ``timeout`` seconds.
        """
        wait = self.config.cluster_wait if timeout is None else timeout
        client = self.current
        if client is None or client.status in ("closed", "closing"):
            raise OSError("the Dask client is closed")
        return dict(client.nthreads(callback_timeout=wait))

    def ensure_workers(self) -> int:
        """Wait (at most ``cluster_wait`` seconds) until the scheduler answers and has a worker.

        Returns the number of workers. When the wait fails, falls back (or raises
        :class:`ClusterError` when fallback is off) and returns the fallback's worker count.
        """
        deadline = time.monotonic() + self.config.cluster_wait
        last_error = "it has no workers"
        while True:
            left = deadline - time.monotonic()
            try:
                workers = self.worker_threads(timeout=max(left, 0.5))
            except (OSError, TimeoutError) as error:
                last_error = f"its scheduler does not answer ({type(error).__name__}: {error})"
                workers = {}
            if workers:
                return len(workers)
            if time.monotonic() >= deadline:
                break
            time.sleep(min(0.25, max(left, 0.01)))
        where = self.config.scheduler_file if self.mode == "distributed" else "the local cluster"
        self.fall_back(f"{where}: {last_error} after waiting {self.config.cluster_wait:g}s")
        return self.n_workers

    def fall_back(self, reason: str) -> None:
        """Continue on a local one-worker cluster, or raise :class:`ClusterError` when the
        configuration says so (or when the local cluster is what failed)."""
        if not self.config.parallel_fallback:
            raise ClusterError(reason)
        if self.fallback_reason is not None or self.mode == "local":
            raise ClusterError(f"{reason} (and no further fallback is possible)")
        log.warning("Dask cluster unusable, falling back to a local 1-worker cluster: %s", reason)
        self.fallback_reason = reason
        started = time.monotonic()
        self._start_local(n_workers=1)
        self.started_in += time.monotonic() - started
        if self._on_fallback is not None:
            notify(self._on_fallback, reason, what="the parallel fallback listener")

    def info(self) -> dict[str, Any]:
        """A JSON-safe summary for the run's result."""
        found: dict[str, Any] = {
            "mode_requested": self.mode_requested,
            "mode_used": self.mode,
            "n_workers": self.n_workers,
        }
        if self.threads:
            found["worker_threads"] = True
        if self.fallback_reason is not None:
            found["fallback_reason"] = self.fallback_reason
        return found

    # -- opening -------------------------------------------------------------------------------

    def _start_local(self, n_workers: int) -> None:
        import dask
        from dask.distributed import Client

        limit = self.config.memory_limit_mb
        threads = self.config.uses_worker_threads
        if not threads:  # only worker processes run the main script again
            check_main_guard()
        else:  # entered before the cluster starts, so that they are undone after it closes
            self._stack.enter_context(process_settings_held())
        try:
            with _workers_ignore_ctrl_c():
                cluster = _local_cluster(n_workers, limit, threads)
        except Exception as error:
            method = dask.config.get("distributed.worker.multiprocessing-method", "spawn")
            raise ClusterError(
                f"the local Dask cluster ({n_workers} worker(s)) did not start: "
                f"{type(error).__name__}: {shorten(str(error))} (workers are started with "
                f"multiprocessing's {method!r} method; a worker that fails at start usually "
                "failed to import the main script or ran out of memory)"
            ) from error
        if threads:  # after the cluster has closed: no task starts any more
            self._stack.callback(
                stop_evaluations_left, [w.address for w in cluster.workers.values()]
            )
        self._stack.callback(_close_local_cluster, cluster)
        # not as a context manager: the session may be opened in another thread than the one
        # closing it, and Client.__exit__ resets a context variable of the opening thread
        client = Client(cluster)
        self._stack.callback(client.close)
        client.run(_warm_up)
        self.current = client
        self.mode = "local"
        self.n_workers = n_workers
        self.threads = threads

    def _connect(self, timeout: float) -> None:
        from dask.distributed import Client

        try:
            client = Client(scheduler_file=self.config.scheduler_file, timeout=timeout)
        except Exception as error:  # Dask raises OSError, TimeoutError, AssertionError, ...
            raise OSError(
                f"cannot reach the scheduler: {type(error).__name__}: {shorten(str(error))}"
            ) from error
        # Closing the client disconnects; it never shuts the scheduler or its workers down.
        self._stack.callback(client.close)
        self.current = client


def _local_cluster(n_workers: int, limit: int | None, threads: bool = False) -> Any:
    """A LocalCluster of ``n_workers`` single-threaded worker processes on 127.0.0.1, or with
    ``threads`` one worker in this process with ``n_workers`` threads (Dask's in-process
    transport, which takes no host).

    An in-process worker runs without Dask's sampling profiler: it calls
    ``sys._current_frames()`` every 10 ms, and on Python 3.11 a garbage collection inside that
    call, while another thread of the host starts, deadlocks the whole process (seen in a test
    whose HTTP server starts a thread per request; fixed in later Pythons)."""
    import dask
    from dask.distributed import LocalCluster

    where = {} if threads else {"host": "127.0.0.1"}
    with dask.config.set({"distributed.worker.profile.enabled": not threads}):
        return LocalCluster(
            n_workers=1 if threads else n_workers,
            threads_per_worker=n_workers if threads else 1,
            processes=not threads,
            memory_limit=f"{limit}MiB" if limit else 0,
            dashboard_address=None,
            # Dask's scheduler always serves HTTP (health, metrics); without a dashboard it
            # would still take port 8787 (or warn when that is busy): take any free one.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
            **where,
        )


@contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Worker processes started meanwhile ignore SIGINT (an ignored signal stays ignored in a
    spawned process, and Python then leaves it so). A terminal's Ctrl-C reaches the whole
    process group; the run, not its workers, decides what it means (the command line's first
    Ctrl-C finishes the run on those very workers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


@contextmanager
def open_dask_session(
    config: TrainerConfig,
    *,
    on_fallback: Callable[[str], None] | None = None,
) -> Iterator[DaskSession]:
    """Open the Dask client the run's ``parallel_mode`` asks for; close what was opened on exit.

    In distributed mode the scheduler must answer and have a worker within
    ``config.cluster_wait`` seconds; otherwise the session falls back to a local one-worker
    cluster (calling ``on_fallback(reason)``) or raises :class:`ClusterError`.
    """
    with ExitStack() as stack:
        session = DaskSession(config, stack, on_fallback)
        started = time.monotonic()
        if config.parallel_mode == "distributed":
            scheduler_file = config.scheduler_file or ""
            problem = scheduler_file_problem(scheduler_file)
            if problem is not None:
                session.fall_back(f"the scheduler file {short_repr(scheduler_file)} {problem}")
            else:
                try:
                    session._connect(config.cluster_wait)
                except OSError as error:
                    session.fall_back(f"{scheduler_file}: {error}")
                else:
                    session.n_workers = session.ensure_workers()
                    if session.mode == "distributed":
                        try:
                            session.current.run(_warm_up)
                        except Exception:  # a worker that cannot warm up fails its tasks later
                            log.debug("warm-up failed on the distributed cluster", exc_info=True)
        else:
            session._start_local(n_workers=config.n_jobs)
        session.started_in = time.monotonic() - started
        yield session


@contextmanager
def opening_dask_session(
    config: TrainerConfig,
    *,
    on_fallback: Callable[[str], None] | None = None,
) -> Iterator[Callable[[], DaskSession]]:
    """Start opening the run's Dask session in a thread and yield a function that waits for
    it, so the caller prepares the search while the workers start (seconds a short budget
    cannot spare). Whatever was opened is closed on exit, on every path. Ctrl-C is set aside
    until the workers have started (they ignore it, see :func:`_workers_ignore_ctrl_c`).
    """
    manager = open_dask_session(config, on_fallback=on_fallback)
    opened: dict[str, Any] = {}
    # the workers start in the thread, where Ctrl-C cannot be set aside: set it aside here (a
    # process-wide disposition the workers inherit) until they have started
    ignoring = _workers_ignore_ctrl_c()
    ignoring.__enter__()

    def started() -> None:
        thread.join()
        if not opened.get("restored"):
            opened["restored"] = True
            ignoring.__exit__(None, None, None)

    def enter() -> None:
        try:
            opened["session"] = manager.__enter__()
        except BaseException as error:  # noqa: BLE001 - re-raised by wait() in the caller
            opened["error"] = error

    thread = threading.Thread(target=enter, name="automl-tpot-cluster-start", daemon=True)
    thread.start()

    def wait() -> DaskSession:
        started()
        if "error" in opened:
            raise opened["error"]
        return opened["session"]

    try:
        yield wait
    except BaseException:
        started()
        if "session" in opened and manager.__exit__(*sys.exc_info()):
            return
        raise
    else:
        started()
        if "session" in opened:
            manager.__exit__(None, None, None)


def check_main_guard() -> None:
    """Raise before any local worker starts when the main script calls the training at its
    top level, outside ``if __name__ == "__main__":`` (see :mod:`.preconditions`).

    Raises:
        ClusterError: naming the script and the line.
    """
    import dask

    method = dask.config.get("distributed.worker.multiprocessing-method", "spawn")
    where = unguarded_main_call(method)
    if where is not None:
        raise ClusterError(
            f"local Dask workers are started with multiprocessing's {method!r} method, which "
            f"runs the main script again in every worker, and the training is called at "
            f"{shorten(where)} outside an 'if __name__ == \"__main__\":' block, so every worker "
            "would start a training of its own. Put the call under that guard (any number of "
            "workers needs it)"
        )


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
        await asyncio.gather(
            *(n.close(timeout=WORKER_CLOSE_GRACE) for n in nannies), return_exceptions=True
        )

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
