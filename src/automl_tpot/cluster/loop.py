"""The evaluation loop that replaces TPOT 1.1's for the runs this library starts.

TPOT 1.1's ``parallel_eval_objective_list`` does not scale with workers. Reading
``tpot/utils/eval_utils.py`` and ``tpot/evolvers/base_evolver.py`` shows why:

* the data is scattered to *one* worker, and every evaluation depends on it, so Dask's
  scheduler places every evaluation on that worker (``decide_worker`` only considers workers
  that hold a task's dependencies); the others get work only when the scheduler steals it;
* the per-evaluation limit is enforced on the worker only for the first ``n_workers``
  evaluations (later ones pass ``timeout=``, which ends up ignored), and the client-side
  "cancel" of an over-time evaluation leaves the worker computing it, so a straggler keeps a
  worker and holds the whole generation;
* the loop waits up to ``max_eval_time_mins`` for a completion before it looks at the search
  deadline, so the generation overruns the time budget;
* a failed evaluation's reason is thrown away (everything becomes ``INVALID``).

:func:`evaluate_individuals` keeps every worker thread busy with evaluations pinned to it
(data broadcast once per client), enforces the time and memory limits inside the worker,
returns as soon as the deadline passes, keeps each failure's reason, and watches the cluster:
when the scheduler stops answering or loses all its workers the session falls back to a local
cluster (or raises :class:`~automl_tpot.errors.ClusterError`) and the lost evaluations are
submitted again. :func:`install` routes TPOT's calls for a
:class:`~automl_tpot.parallel.RoutedClient` here and leaves every other caller on TPOT's own loop.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

# The reason column and the failure categories belong to the reports.
from ..records.evaluations import ERROR_EXCEPTION as EXCEPTION
from ..records.evaluations import ERROR_MEMORY as MEMORY
from ..records.evaluations import ERROR_TIMEOUT as TIMEOUT
from ..records.evaluations import ERROR_WORKER_LOST as WORKER_LOST
from ..records.evaluations import REASON_COLUMN as EVAL_REASON

__all__ = ["EVAL_REASON", "call_with_time_limit", "evaluate_individuals", "install"]

log = logging.getLogger(__name__)


#: An evaluation is stopped when its worker's memory passes this share of the worker's limit
#: (below Dask's own 95 % "terminate" threshold, so the worker survives).
MEMORY_GUARD_FRACTION = 0.85
#: Seconds between the worker-side guard's checks of time and memory.
GUARD_INTERVAL = 0.05
#: Seconds an interrupted evaluation gets to unwind before the worker moves on.
GUARD_GRACE = 5.0
#: Seconds the client loop waits for a completion before looking at deadlines and health.
POLL_SECONDS = 0.25
#: Seconds between the client loop's checks of the worker list.
REFRESH_SECONDS = 1.0
#: Times one evaluation is submitted again after its worker (or cluster) was lost.
MAX_RESUBMITS = 2
#: A generation stops waiting for its last evaluations when each has run this many times the
#: median evaluation of the generation (and at least STRAGGLER_MIN_SECONDS), once at least
#: STRAGGLER_MIN_DONE of the generation is done: they run on and are collected when TPOT asks
#: for them again (it keeps unscored individuals in its population).
STRAGGLER_FACTOR = 3.0
STRAGGLER_MIN_SECONDS = 2.0
STRAGGLER_MIN_DONE = 0.5
#: Seconds past the search's end (as known when it was submitted) after which an evaluation
#: stops itself on its worker.
END_GRACE = 0.5


# --- on the worker ------------------------------------------------------------------------------


class _EvaluationTimeout(BaseException):
    """Raised inside an evaluation that ran past the per-run limit (a BaseException, so the
    pipeline's own ``except Exception`` handlers cannot swallow it)."""


class _EvaluationMemory(BaseException):
    """Raised inside an evaluation whose worker passed its memory guard."""


def _raise_in(thread: threading.Thread, error: type[BaseException]) -> None:
    import ctypes

    ident = ctypes.c_ulong(thread.ident or 0)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, ctypes.py_object(error))


def call_with_time_limit(function: Any, seconds: float) -> Any:
    """``function()`` in a thread of this worker, with one BLAS/OpenMP thread and warnings
    silenced, interrupted after ``seconds`` (then ``None`` is returned); its exceptions
    propagate. For work other than TPOT's evaluations, such as the ensemble stage's."""
    import warnings

    from threadpoolctl import threadpool_limits

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore")
                outcome["value"] = function()
        except _EvaluationTimeout:
            pass
        except BaseException as error:  # noqa: BLE001 - handed to the caller below
            outcome["error"] = error

    thread = threading.Thread(target=target, name="automl-tpot-guarded", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        _raise_in(thread, _EvaluationTimeout)
        thread.join(GUARD_GRACE)
        return None
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _worker_memory_limit() -> int | None:
    try:
        from distributed import get_worker

        limit = get_worker().memory_manager.memory_limit
    except (ImportError, ValueError, AttributeError):
        return None
    return int(limit) if limit else None


def evaluate_on_worker(
    individual: Any,
    objective_list: list[Any],
    per_run_seconds: float | None,
    objective_kwargs: dict[str, Any],
    search_seconds_left: float | None = None,
) -> dict[str, Any]:
    """Evaluate one pipeline under a time and memory guard; runs on a Dask worker.

    ``search_seconds_left`` (from the submission) also stops it when the search's time is up:
    Dask cannot stop a running task, and a straggler would hold its worker while the refit and
    the ensemble stage need the cores. Returns ``{"scores": [...]}`` or
    ``{"error": category, "reason": text}``.
    """
    import gc
    import warnings

    import psutil
    from threadpoolctl import threadpool_limits

    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            with warnings.catch_warnings(), threadpool_limits(1):
                warnings.simplefilter("ignore")
                values: list[float] = []
                for objective in objective_list:
                    value = objective(individual, **objective_kwargs)
                    values.extend(value if isinstance(value, Iterable) else [value])
            outcome["scores"] = [float(v) for v in values]
        except (_EvaluationTimeout, _EvaluationMemory):
            pass  # the guard has recorded why
        except BaseException as error:  # noqa: BLE001 - any failure is the pipeline's outcome
            outcome["error"] = EXCEPTION
            outcome["reason"] = f"{type(error).__name__}: {error}"[:500]

    memory_limit = _worker_memory_limit()
    memory_budget = memory_limit * MEMORY_GUARD_FRACTION if memory_limit else None
    process = psutil.Process()
    # only an evaluation that itself grew the worker is blamed (not a worker already near its
    # limit from earlier work, which Dask's own memory management handles)
    baseline = process.memory_info().rss + 16 * 2**20
    thread = threading.Thread(target=target, name="automl-tpot-evaluation", daemon=True)
    started = time.monotonic()
    thread.start()
    while thread.is_alive():
        thread.join(GUARD_INTERVAL)
        if not thread.is_alive():
            break
        elapsed = time.monotonic() - started
        if per_run_seconds is not None and elapsed > per_run_seconds:
            reason = f"ran longer than per_run_limit={per_run_seconds:g}s"
            outcome.update(error=TIMEOUT, reason=reason)
            _raise_in(thread, _EvaluationTimeout)
        elif search_seconds_left is not None and elapsed > search_seconds_left:
            reason = "still running when the search's time was up"
            outcome.update(error=TIMEOUT, reason=reason)
            _raise_in(thread, _EvaluationTimeout)
        elif (
            memory_budget is not None
            and (rss := process.memory_info().rss) > memory_budget
            and rss > baseline
        ):
            outcome.update(
                error=MEMORY,
                reason=f"the worker used {rss / 2**20:.0f} MiB, over {MEMORY_GUARD_FRACTION:.0%} "
                f"of its {memory_limit / 2**20:.0f} MiB memory limit",
            )
            _raise_in(thread, _EvaluationMemory)
        else:
            continue
        thread.join(GUARD_GRACE)
        if thread.is_alive():
            outcome["reason"] += f"; it did not stop within {GUARD_GRACE:g}s and runs on"
        break
    if outcome.get("error") in (TIMEOUT, MEMORY):
        outcome.pop("scores", None)
        gc.collect()
    return outcome


# --- on the client ------------------------------------------------------------------------------


class _Job:
    __slots__ = ("index", "submitted", "worker", "tries")

    def __init__(self, index: int, worker: str, tries: int):
        self.index = index
        self.submitted = time.time()
        self.worker = worker
        self.tries = tries


class _DataCache:
    """Objective arguments broadcast to the workers once per client, not once per evaluation."""

    def __init__(self) -> None:
        self._client: Any = None
        self._futures: dict[int, tuple[Any, Any]] = {}

    def resolve(self, client: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        if client is not self._client:
            self._client, self._futures = client, {}
        resolved = {}
        for name, value in kwargs.items():
            if _is_data(value):
                cached = self._futures.get(id(value))
                # scattered data dies with the workers holding it: scatter it again then
                if cached is None or cached[0] is not value or cached[1].status != "finished":
                    cached = (value, client.scatter(value, broadcast=True, hash=True))
                    self._futures[id(value)] = cached
                resolved[name] = cached[1]
            else:
                resolved[name] = value
        return resolved


def _is_data(value: Any) -> bool:
    return isinstance(value, np.ndarray) or type(value).__module__.startswith(("pandas", "scipy"))


def _session_state(
    session: Any,
) -> tuple[_DataCache, dict[Any, tuple[str, str]], dict[Any, tuple[Any, _Job]]]:
    if not hasattr(session, "_evaluation_cache"):
        session._evaluation_cache = _DataCache()
        session.failure_reasons = {}
        session._carried = {}
    return session._evaluation_cache, session.failure_reasons, session._carried


def _free_slots(workers: dict[str, int], running: dict[Any, _Job]) -> list[str]:
    busy: dict[str, int] = {}
    for job in running.values():
        busy[job.worker] = busy.get(job.worker, 0) + 1
    slots = []
    for address, threads in sorted(workers.items(), key=lambda item: busy.get(item[0], 0)):
        slots.extend([address] * max(int(threads) - busy.get(address, 0), 0))
    return slots


def _memory_restart_since(client: Any, since: float) -> str | None:
    try:  # bounded: a scheduler that is gone must not hold the loop
        events = client.sync(
            client.scheduler.events, topic="worker-restart-memory", callback_timeout=5
        )
    except Exception:
        return None
    for stamp, event in events:
        if stamp >= since - 1 and isinstance(event, dict):
            used = event.get("rss", 0) / 2**20
            return f"the worker was restarted by Dask after using {used:.0f} MiB, over its limit"
    return None


def evaluate_individuals(
    individual_list: Iterable[Any],
    objective_list: list[Any],
    verbose: int = 0,
    max_eval_time_mins: float | None = None,
    n_expected_columns: int | None = None,
    client: Any = None,
    scheduled_timeout_time: float | None = None,
    **objective_kwargs: Any,
) -> tuple[list[list[Any]], list[float], list[float], list[str | None]]:
    """Evaluate ``individual_list`` on the session behind ``client``; TPOT's signature and
    return value (scores, start times, end times, ``None``/``"INVALID"``/``"TIMEOUT"``)."""
    session = client.session
    cache, reasons, carried = _session_state(session)
    individuals = list(individual_list)
    n_columns = n_expected_columns or 1
    per_run = None
    if max_eval_time_mins is not None and not math.isinf(max_eval_time_mins):
        per_run = max_eval_time_mins * 60
    outcomes: dict[int, tuple[list[Any], float, float, str | None]] = {}
    # TPOT pops its stack from the end; the same order keeps seeded runs comparable
    pending: deque[tuple[int, int]] = deque((i, 0) for i in reversed(range(len(individuals))))
    running: dict[Any, _Job] = {}
    workers: dict[str, int] = {}
    refreshed = 0.0
    no_workers_since: float | None = None
    scatter_failing_since: float | None = None
    finished = threading.Event()  # set from the client's event loop when a future completes
    durations: list[float] = []
    # the evolver's calls (not TPOT's validation), and not in the last generation
    carry_over = scheduled_timeout_time is not None and session.may_defer()

    # stragglers a previous generation left running: collect them here if TPOT asks again
    wanted = {individuals[i].unique_id(): i for i in range(len(individuals))}
    for uid, (future, job) in list(carried.items()):
        if uid in wanted and future.client is session.current and future.status != "cancelled":
            job.index = wanted[uid]
            running[future] = job
            future.add_done_callback(lambda _future: finished.set())
        else:
            future.cancel()  # dropped by selection, or from a cluster given up
    carried.clear()
    attached = {job.index for job in running.values()}
    pending = deque((i, t) for i, t in pending if i not in attached)

    def record(
        index: int,
        submitted: float,
        scores: list[Any] | None,
        error: str | None,
        category: str | None = None,
        reason: str | None = None,
    ) -> None:
        if scores is None or len(scores) != n_columns:
            scores = [np.nan] * n_columns
        outcomes[index] = (list(scores), submitted, time.time(), error)
        if category is not None:
            reasons[individuals[index].unique_id()] = (category, reason or category)

    def resubmit_all(reason: str) -> None:
        nonlocal workers, refreshed
        for future, job in list(running.items()):
            pending.appendleft((job.index, job.tries))
            future.release()
        running.clear()
        session.fall_back(reason)
        workers, refreshed = {}, 0.0

    try:
        while pending or running:
            now = time.time()
            if scheduled_timeout_time is not None and now > _search_end(
                session, scheduled_timeout_time
            ):
                for future, job in running.items():
                    future.cancel()
                    record(job.index, job.submitted, None, None)  # not finished: may be retried
                for index, _ in pending:
                    record(index, now, None, None)
                running.clear()
                pending.clear()
                break

            if time.monotonic() - refreshed > REFRESH_SECONDS or not workers:
                # unhealthy (no answer, or no workers) for cluster_wait seconds: give it up
                wait = session.config.cluster_wait
                try:
                    workers = session.worker_threads()
                    problem = None if workers else "had no workers"
                except (OSError, TimeoutError) as error:
                    workers = {}
                    problem = f"did not answer ({type(error).__name__}: {error})"
                refreshed = time.monotonic()
                if problem is None:
                    no_workers_since = None
                elif no_workers_since is None:
                    no_workers_since = time.monotonic()
                elif time.monotonic() - no_workers_since > wait:
                    no_workers_since = None
                    resubmit_all(f"the cluster {problem} for {wait:g}s during the search")
                    continue

            current = session.current
            slots = _free_slots(workers, running)
            if slots and pending:
                try:
                    data = cache.resolve(current, objective_kwargs)
                    scatter_failing_since = None
                except (OSError, TimeoutError) as error:
                    # the worker list can lag behind workers that just died: the broadcast finds
                    # none. Look again shortly; give the cluster up as above if it lasts.
                    now_monotonic = time.monotonic()
                    if scatter_failing_since is None:
                        scatter_failing_since = now_monotonic
                    elif now_monotonic - scatter_failing_since > session.config.cluster_wait:
                        scatter_failing_since = None
                        resubmit_all(
                            f"the cluster could not receive the data for "
                            f"{session.config.cluster_wait:g}s during the search ({error})"
                        )
                        continue
                    workers, refreshed = {}, 0.0
                    time.sleep(POLL_SECONDS)
                    continue
                seconds_left = None
                if scheduled_timeout_time is not None:
                    end = _search_end(session, scheduled_timeout_time)
                    seconds_left = max(end - time.time(), 0.0) + END_GRACE
                for address in slots:
                    if not pending:
                        break
                    index, tries = pending.popleft()
                    future = current.submit(
                        evaluate_on_worker,
                        individuals[index],
                        objective_list,
                        per_run,
                        data,
                        seconds_left,
                        pure=False,
                        workers=[address],
                        allow_other_workers=True,
                    )
                    running[future] = _Job(index, address, tries)
                    future.add_done_callback(lambda _future: finished.set())

            if not running:
                time.sleep(POLL_SECONDS)
                continue
            finished.wait(POLL_SECONDS)
            finished.clear()
            for future in [f for f in running if f.done()]:
                job = running.pop(future)
                if future.status == "finished":
                    durations.append(time.time() - job.submitted)
                _collect(future, job, record, pending, current)
                future.release()
            if (
                carry_over
                and not pending
                and running
                and _only_stragglers(running, durations, len(outcomes), len(individuals))
            ):
                for future, job in running.items():
                    carried[individuals[job.index].unique_id()] = (future, job)
                    record(job.index, job.submitted, None, None)  # not scored yet
                running.clear()
                break
            if per_run is not None:  # backstop: the worker's guard did not answer in time
                limit = per_run * 1.5 + GUARD_GRACE + 5
                for future, job in list(running.items()):
                    if time.time() - job.submitted > limit:
                        future.cancel()
                        running.pop(future)
                        record(
                            job.index,
                            job.submitted,
                            None,
                            "TIMEOUT",
                            TIMEOUT,
                            f"no answer from the worker within {limit:g}s",
                        )
    except BaseException:  # errors and KeyboardInterrupt: stop what runs for us, then go on up
        for future in [*running, *(future for future, _ in carried.values())]:
            future.cancel()
        carried.clear()
        raise

    ordered = [outcomes[i] for i in range(len(individuals))]
    return (
        [o[0] for o in ordered],
        [o[1] for o in ordered],
        [o[2] for o in ordered],
        [o[3] for o in ordered],
    )


def _search_end(session: Any, scheduled: float) -> float:
    """The search's end now: it moves while a generation runs (a stop, more time planned)."""
    try:
        live = session.search_end()
    except Exception:  # the end as TPOT passed it is always a safe answer
        return scheduled
    return scheduled if live is None else float(live)


def _only_stragglers(
    running: dict[Any, _Job], durations: list[float], done: int, total: int
) -> bool:
    """Whether everything still running is a straggler the generation should not wait for."""
    if not durations or done < STRAGGLER_MIN_DONE * total:
        return False
    limit = max(STRAGGLER_FACTOR * float(np.median(durations)), STRAGGLER_MIN_SECONDS)
    now = time.time()
    return all(now - job.submitted > limit for job in running.values())


def _collect(
    future: Any, job: _Job, record: Any, pending: deque[tuple[int, int]], client: Any
) -> None:
    status = future.status
    if status == "finished":
        try:
            outcome = future.result(timeout=30)
        except Exception as error:  # the result could not be fetched: treat as lost
            outcome = {"error": WORKER_LOST, "reason": f"{type(error).__name__}: {error}"}
        error = outcome.get("error")
        if error is None:
            record(job.index, job.submitted, outcome.get("scores"), None)
        else:
            code = "TIMEOUT" if error == TIMEOUT else "INVALID"
            record(job.index, job.submitted, None, code, error, outcome.get("reason"))
        return
    if status == "error":
        from distributed import KilledWorker

        exception = future.exception()
        if isinstance(exception, KilledWorker):
            memory = _memory_restart_since(client, job.submitted)
            if memory is not None:
                record(job.index, job.submitted, None, "INVALID", MEMORY, memory)
            else:
                record(
                    job.index,
                    job.submitted,
                    None,
                    "INVALID",
                    WORKER_LOST,
                    "every worker that ran it died (KilledWorker)",
                )
        else:
            record(
                job.index,
                job.submitted,
                None,
                "INVALID",
                EXCEPTION,
                f"{type(exception).__name__}: {exception}"[:500],
            )
        return
    # cancelled or lost: its worker died (and with it, maybe, the data it needed)
    memory = _memory_restart_since(client, job.submitted)
    if memory is not None:  # Dask restarted the worker for memory: do not run it again
        record(job.index, job.submitted, None, "INVALID", MEMORY, memory)
    elif job.tries < MAX_RESUBMITS:
        pending.appendleft((job.index, job.tries + 1))
    else:
        record(
            job.index,
            job.submitted,
            None,
            "INVALID",
            WORKER_LOST,
            f"the evaluation was {status} {job.tries + 1} times",
        )


_ORIGINAL: Any = None


def _dispatch(*args: Any, **kwargs: Any) -> Any:
    from .session import RoutedClient

    if isinstance(kwargs.get("client"), RoutedClient):
        return evaluate_individuals(*args, **kwargs)
    return _ORIGINAL(*args, **kwargs)


def install() -> None:
    """Send TPOT's evaluation calls for our clients to :func:`evaluate_individuals` (idempotent)."""
    global _ORIGINAL
    import tpot.utils.eval_utils as eval_utils

    if eval_utils.parallel_eval_objective_list is _dispatch:
        return
    _ORIGINAL = eval_utils.parallel_eval_objective_list
    eval_utils.parallel_eval_objective_list = _dispatch
