"""What runs on a Dask worker: one evaluation (or any other work) under a time and memory guard.

Dask cannot stop a running task, and a pipeline stuck in a slow fit would hold its worker for
the rest of the run. So each evaluation runs in a thread of the worker, watched by the task
itself: past its time limit, past the search's end, or when the worker's memory passes a guard
below Dask's own limit, an exception is raised inside the thread and the worker moves on.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from ..records.evaluation import ERROR_EXCEPTION as EXCEPTION
from ..records.evaluation import ERROR_MEMORY as MEMORY
from ..records.evaluation import ERROR_TIMEOUT as TIMEOUT

if TYPE_CHECKING:
    from distributed import Worker

__all__ = ["GUARD_GRACE", "call_with_time_limit", "evaluate_on_worker", "stop_guarded_threads"]

T = TypeVar("T")

#: An evaluation is stopped when its worker's memory passes this share of the worker's limit
#: (below Dask's own 95 % "terminate" threshold, so the worker survives).
MEMORY_GUARD_FRACTION = 0.85
#: Without a worker memory limit (in-process workers, ``memory_limit_mb=None``), an evaluation
#: that grew its worker is stopped when the machine's available memory falls below this share
#: of its total: in a threaded run the worker is the host's own process, and the kernel's OOM
#: killer would end the host rather than the evaluation.
MACHINE_MEMORY_FLOOR = 0.05
#: Seconds between the worker-side guard's checks of time and memory.
GUARD_INTERVAL = 0.05
#: Seconds an interrupted evaluation gets to unwind before the worker moves on.
GUARD_GRACE = 5.0
#: The names of the threads the guards run work in (one for evaluations, one for other work),
#: followed by ``@`` and the Dask worker's address: a threaded session stops its own at its end.
EVALUATION_THREAD = "automl-tpot-evaluation"
GUARDED_THREAD = "automl-tpot-guarded"


class _EvaluationTimeout(BaseException):
    """Raised inside an evaluation that ran past the per-run limit (a BaseException, so the
    pipeline's own ``except Exception`` handlers cannot swallow it)."""


class _EvaluationMemory(BaseException):
    """Raised inside an evaluation whose worker passed its memory guard."""


def _raise_in(thread: threading.Thread, error: type[BaseException]) -> None:
    import ctypes

    ident = ctypes.c_ulong(thread.ident or 0)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ident, ctypes.py_object(error))


def call_with_time_limit(function: Callable[[], T], seconds: float) -> T | None:
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

    thread = threading.Thread(target=target, name=_thread_name(GUARDED_THREAD), daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        _raise_in(thread, _EvaluationTimeout)
        thread.join(GUARD_GRACE)
        return None
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def _current_worker() -> Worker | None:
    """The Dask worker running this task, or ``None`` outside one."""
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def _thread_name(kind: str) -> str:
    worker = _current_worker()
    return kind if worker is None else f"{kind}@{worker.address}"


def stop_guarded_threads(worker_addresses: Iterable[str], grace: float = GUARD_GRACE) -> int:
    """Interrupt the guarded work still running for the given workers in this process (their
    tasks are no longer wanted) and wait up to ``grace`` seconds for it to unwind.

    For a threaded session's end: cancelling a Dask future does not stop its running task, and
    an in-process worker has no process to end with the cluster. Returns how many threads are
    still running (stuck in compiled code, which an exception cannot reach).
    """
    names = {
        f"{kind}@{address}"
        for address in worker_addresses
        for kind in (EVALUATION_THREAD, GUARDED_THREAD)
    }
    running = [t for t in threading.enumerate() if t.name in names and t.is_alive()]
    for thread in running:
        _raise_in(thread, _EvaluationTimeout)
    deadline = time.monotonic() + grace
    for thread in running:
        thread.join(max(deadline - time.monotonic(), 0.0))
    return sum(thread.is_alive() for thread in running)


def _worker_memory_limit() -> int | None:
    manager = getattr(_current_worker(), "memory_manager", None)
    limit = getattr(manager, "memory_limit", None)
    return int(limit) if limit else None


def _memory_problem(process: Any, memory_limit: int | None, baseline: int) -> str | None:
    """Why the running evaluation must stop for memory, or ``None``: its worker is over the
    guard below its limit or, without a limit, the machine is nearly out of memory; either
    way only when the worker has grown since the evaluation began."""
    import psutil

    rss = process.memory_info().rss
    if rss <= baseline:
        return None
    if memory_limit:
        if rss <= memory_limit * MEMORY_GUARD_FRACTION:
            return None
        return (
            f"the worker used {rss / 2**20:.0f} MiB, over {MEMORY_GUARD_FRACTION:.0%} "
            f"of its {memory_limit / 2**20:.0f} MiB memory limit"
        )
    machine = psutil.virtual_memory()
    if machine.available >= machine.total * MACHINE_MEMORY_FLOOR:
        return None
    return (
        f"the machine had {machine.available / 2**20:.0f} MiB of {machine.total / 2**20:.0f} "
        f"MiB available (under {MACHINE_MEMORY_FLOOR:.0%}) while the worker used "
        f"{rss / 2**20:.0f} MiB"
    )


def evaluate_on_worker(
    individual: Any,
    objective_list: list[Callable[..., Any]],
    per_run_seconds: float | None,
    objective_kwargs: dict[str, Any],
    search_seconds_left: float | None = None,
    limit_text: str | None = None,
) -> dict[str, Any]:
    """Evaluate one pipeline under a time and memory guard; runs on a Dask worker.

    ``search_seconds_left`` (from the submission) also stops it when the search's time is up:
    Dask cannot stop a running task, and a straggler would hold its worker while the refit and
    the ensemble stage need the cores. ``limit_text`` says what ``per_run_seconds`` is in a
    timeout's reason (``per_run_limit=...`` when omitted). Returns ``{"scores": [...]}`` or
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
    process = psutil.Process()
    # only an evaluation that itself grew the worker is blamed (not a worker already near its
    # limit from earlier work, which Dask's own memory management handles)
    baseline = process.memory_info().rss + 16 * 2**20
    thread = threading.Thread(target=target, name=_thread_name(EVALUATION_THREAD), daemon=True)
    started = time.monotonic()
    thread.start()
    while thread.is_alive():
        thread.join(GUARD_INTERVAL)
        if not thread.is_alive():
            break
        elapsed = time.monotonic() - started
        if per_run_seconds is not None and elapsed > per_run_seconds:
            reason = f"ran longer than {limit_text or f'per_run_limit={per_run_seconds:g}s'}"
            outcome.update(error=TIMEOUT, reason=reason)
            _raise_in(thread, _EvaluationTimeout)
        elif search_seconds_left is not None and elapsed > search_seconds_left:
            reason = "still running when the search's time was up"
            outcome.update(error=TIMEOUT, reason=reason)
            _raise_in(thread, _EvaluationTimeout)
        elif (memory_reason := _memory_problem(process, memory_limit, baseline)) is not None:
            outcome.update(error=MEMORY, reason=memory_reason)
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
