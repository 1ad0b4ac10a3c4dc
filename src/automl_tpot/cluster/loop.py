"""The evaluation loop: each generation's pipelines on the session's Dask workers.

TPOT 1.1's own loop (``parallel_eval_objective_list``) does not scale with workers. Reading
``tpot/utils/eval_utils.py`` and ``tpot/evolvers/base_evolver.py`` shows why: the data is
scattered to *one* worker, so Dask places every evaluation there; the per-evaluation limit is
enforced on the worker only for the first ``n_workers`` evaluations and a "cancelled" straggler
keeps computing; the loop waits up to ``max_eval_time_mins`` before it looks at the search's
deadline; and a failure's reason is thrown away.

:class:`EvaluationLoop` keeps every worker thread busy with evaluations pinned to it (data
broadcast once per client), lets the worker enforce the time and memory limits
(:mod:`.worker`), returns as soon as the search's end passes (read live from the
:class:`~automl_tpot.search.channel.SearchChannel`), keeps each failure's reason, lets a
generation leave its stragglers running for the next one, and watches the cluster: when the
scheduler stops answering or loses all its workers the session falls back to a local cluster
(or raises :class:`~automl_tpot.errors.ClusterError`) and the lost evaluations are submitted
again. The TPOT boundary's evolver calls :meth:`EvaluationLoop.evaluate` once per generation.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..records.evaluation import ERROR_EXCEPTION, ERROR_MEMORY, ERROR_TIMEOUT, ERROR_WORKER_LOST
from ..tpot_boundary import INVALID, TIMEOUT, EvaluationBatch, EvaluationRequest
from ..utils.notify import notify
from .broadcast import DataCache
from .costs import CAP_FACTOR, CostModel
from .restarts import memory_restart_since
from .slots import Job, free_slots, next_job, only_stragglers
from .worker import GUARD_GRACE, evaluate_on_worker

if TYPE_CHECKING:
    from ..search.channel import SearchChannel
    from .session import DaskSession

__all__ = ["EvaluationLoop"]

log = logging.getLogger(__name__)

#: Seconds the loop waits for a completion before looking at deadlines and health.
POLL_SECONDS = 0.25
#: Seconds between the loop's checks of the worker list.
REFRESH_SECONDS = 1.0
#: Times one evaluation is submitted again after its worker (or cluster) was lost.
MAX_RESUBMITS = 2
#: Seconds past the search's end (as known when it was submitted) after which an evaluation
#: stops itself on its worker.
END_GRACE = 0.5


class EvaluationLoop:
    """Evaluates generations on ``session``'s workers until ``channel``'s end.

    Lives as long as one search: it keeps the broadcast data, the failures' reasons and the
    stragglers one generation left for the next.

    Attributes:
        reasons: a failed evaluation's ``(error, reason)``, keyed by the request's key of it.
    """

    def __init__(
        self,
        session: DaskSession,
        channel: SearchChannel,
        on_outcome: Callable[[int, float | None, bool], None] | None = None,
        reasons: dict[str, tuple[str, str]] | None = None,
    ):
        self.session = session
        self.channel = channel
        #: Told of every finished evaluation: ``(generation, score or None, failed)``.
        self.on_outcome = on_outcome
        #: ``reasons`` when given (a resumed search's earlier ones): the caller reads it live.
        self.reasons: dict[str, tuple[str, str]] = {} if reasons is None else reasons
        #: What evaluations cost so far (cheap ones run first; stragglers are capped).
        self.costs = CostModel()
        self._data = DataCache()
        self._carried: dict[str, tuple[Any, Job]] = {}

    def evaluate(self, request: EvaluationRequest) -> EvaluationBatch:
        """Evaluate one generation (the boundary's evolver calls this)."""
        return _Generation(self, request).run()

    def close(self) -> None:
        """Cancel the stragglers nobody will collect."""
        for future, _ in self._carried.values():
            future.cancel()
        self._carried.clear()


class _Generation:
    """One call of :meth:`EvaluationLoop.evaluate`: its queue, its running jobs, its outcomes."""

    def __init__(self, loop: EvaluationLoop, request: EvaluationRequest):
        self.loop = loop
        self.session = loop.session
        self.channel = loop.channel
        self.individuals = list(request.individuals)
        self.request = request
        self.outcomes: dict[int, tuple[list[float], float, float, str | None]] = {}
        # TPOT pops its stack from the end; the same order keeps seeded runs comparable
        self.pending: deque[tuple[int, int]] = deque(
            (i, 0) for i in reversed(range(len(self.individuals)))
        )
        self.running: dict[Any, Job] = {}
        self.workers: dict[str, int] = {}
        self.refreshed = 0.0
        self.unhealthy_since: float | None = None
        self.scatter_failing_since: float | None = None
        self.finished = threading.Event()  # set from the client's event loop on a completion
        self.durations: list[float] = []
        self.may_defer = self.channel.may_defer(request.generation)

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> EvaluationBatch:
        self._adopt_carried()
        self._cheap_first()
        try:
            while self.pending or self.running:
                if self._past_end():
                    break
                if not self._refresh_workers():
                    continue
                if not self._submit():
                    continue
                if not self.running:
                    time.sleep(POLL_SECONDS)
                    continue
                self._collect_finished()
                if self._defer_stragglers():
                    break
                self._enforce_backstop()
        except BaseException:  # errors and KeyboardInterrupt: stop what runs for us, then go on up
            for future in self.running:
                future.cancel()
            self.loop.close()
            raise
        return self._batch()

    # -- its steps -----------------------------------------------------------------------------

    def _adopt_carried(self) -> None:
        """Collect here the stragglers a previous generation left running, if TPOT asks again."""
        wanted = {key: i for i, key in enumerate(self.request.keys)}
        for uid, (future, job) in list(self.loop._carried.items()):
            current = future.client is self.session.current and future.status != "cancelled"
            if uid in wanted and current:
                job.index, job.carried = wanted[uid], True
                self.running[future] = job
                future.add_done_callback(lambda _future: self.finished.set())
            else:
                future.cancel()  # dropped by selection, or from a cluster given up
        self.loop._carried.clear()
        attached = {job.index for job in self.running.values()}
        self.pending = deque((i, t) for i, t in self.pending if i not in attached)

    def _cheap_first(self) -> None:
        """Order the queue by expected cost (stable: TPOT's order among equals), so that a
        generation the budget cuts short has scored as many pipelines as it could."""
        work = self.request.work_share
        families = self.request.families
        self.pending = deque(
            sorted(self.pending, key=lambda item: self.loop.costs.estimate(families[item[0]], work))
        )

    def _past_end(self) -> bool:
        """At the search's end: drop what runs and what waits (unscored, TPOT may retry)."""
        now = time.time()
        if now <= self.channel.end:
            return False
        for future, job in self.running.items():
            future.cancel()
            self._record(job.index, job.submitted, None, None)
        for index, _ in self.pending:
            self._record(index, now, None, None)
        self.running.clear()
        self.pending.clear()
        return True

    def _refresh_workers(self) -> bool:
        """Refresh the worker list; give the cluster up after ``cluster_wait`` seconds of no
        answer or no workers. Returns false when the loop should start over."""
        if time.monotonic() - self.refreshed <= REFRESH_SECONDS and self.workers:
            return True
        wait = self.session.config.cluster_wait
        try:
            self.workers = self.session.worker_threads()
            problem = None if self.workers else "had no workers"
        except (OSError, TimeoutError) as error:
            self.workers = {}
            problem = f"did not answer ({type(error).__name__}: {error})"
        self.refreshed = time.monotonic()
        if problem is None:
            self.unhealthy_since = None
        elif self.unhealthy_since is None:
            self.unhealthy_since = time.monotonic()
        elif time.monotonic() - self.unhealthy_since > wait:
            self.unhealthy_since = None
            self._resubmit_all(f"the cluster {problem} for {wait:g}s during the search")
            return False
        return True

    def _submit(self) -> bool:
        """Fill every free worker thread from the queue. Returns false when the loop should
        start over (the data could not be broadcast)."""
        slots = free_slots(self.workers, self.running)
        if not (slots and self.pending):
            return True
        client = self.session.current
        try:
            data = self.loop._data.resolve(client, self.request.objective_kwargs)
            self.scatter_failing_since = None
        except (OSError, TimeoutError) as error:
            # the worker list can lag behind workers that just died: the broadcast finds none.
            # Look again shortly; give the cluster up as above if it lasts.
            wait = self.session.config.cluster_wait
            now = time.monotonic()
            if self.scatter_failing_since is None:
                self.scatter_failing_since = now
            elif now - self.scatter_failing_since > wait:
                self.scatter_failing_since = None
                self._resubmit_all(
                    f"the cluster could not receive the data for {wait:g}s during the search "
                    f"({error})"
                )
                return False
            self.workers, self.refreshed = {}, 0.0
            time.sleep(POLL_SECONDS)
            return False
        seconds_left = max(self.channel.end - time.time(), 0.0) + END_GRACE
        families = self.request.families
        for address in slots:
            if not self.pending:
                break
            threads = self.workers.get(address, 1)
            taken = next_job(self.pending, families, self.running, address, threads, self.durations)
            if taken is None:  # the thread waits for a GIL-bound evaluation to end
                continue
            index, tries = taken
            family = families[index]
            configured = self.request.per_run_seconds
            limit = self.loop.costs.cap(family, self.request.work_share, configured)
            limit_text = None
            if limit is not None and configured is not None and limit < configured:
                limit_text = (
                    f"the search's limit of {limit:.3g}s ({CAP_FACTOR:g} x its family's typical "
                    f"evaluation; per_run_limit={configured:g}s)"
                )
            future = client.submit(
                evaluate_on_worker,
                self.individuals[index],
                list(self.request.objectives),
                limit,
                data,
                seconds_left,
                limit_text,
                pure=False,
                workers=[address],
                allow_other_workers=True,
            )
            self.running[future] = Job(index, address, tries)
            future.add_done_callback(lambda _future: self.finished.set())
        return True

    def _collect_finished(self) -> None:
        self.finished.wait(POLL_SECONDS)
        self.finished.clear()
        for future in [f for f in self.running if f.done()]:
            job = self.running.pop(future)
            if future.status == "finished":
                self.durations.append(time.time() - job.submitted)
            self._collect(future, job)
            future.release()

    def _defer_stragglers(self) -> bool:
        """Leave the stragglers running for the next generation when only they are left (never
        with one worker thread: nothing would gain, and a seeded run would depend on timing)."""
        single_thread = sum(self.workers.values()) < 2
        if single_thread or not (self.may_defer and not self.pending and self.running):
            return False
        if not only_stragglers(self.running, self.durations, len(self.outcomes), len(self)):
            return False
        for future, job in self.running.items():
            self.loop._carried[self.request.keys[job.index]] = (future, job)
            self._record(job.index, job.submitted, None, None)  # not scored yet
        self.running.clear()
        return True

    def _enforce_backstop(self) -> None:
        """Give up on an evaluation whose worker-side guard did not answer in time."""
        per_run = self.request.per_run_seconds
        if per_run is None:
            return
        limit = per_run * 1.5 + GUARD_GRACE + 5
        for future, job in list(self.running.items()):
            if time.time() - job.submitted > limit:
                future.cancel()
                self.running.pop(future)
                reason = f"no answer from the worker within {limit:g}s"
                self._record(job.index, job.submitted, None, TIMEOUT, ERROR_TIMEOUT, reason)

    # -- helpers -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.individuals)

    def _record(
        self,
        index: int,
        submitted: float,
        scores: list[float] | None,
        code: str | None,
        category: str | None = None,
        reason: str | None = None,
    ) -> None:
        n_columns = self.request.n_columns
        if scores is None or len(scores) != n_columns:
            scores = [np.nan] * n_columns
        self.outcomes[index] = (list(scores), submitted, time.time(), code)
        finished = code is not None or not np.isnan(scores[0])
        if finished and self.loop.on_outcome is not None:
            score = None if code is not None else float(scores[0])
            notify(
                self.loop.on_outcome,
                self.request.generation,
                score,
                code is not None,
                what="the evaluation listener",
            )
        if category is not None:
            self.loop.reasons[self.request.keys[index]] = (category, reason or category)

    def _resubmit_all(self, reason: str) -> None:
        for future, job in list(self.running.items()):
            self.pending.appendleft((job.index, job.tries))
            future.release()
        self.running.clear()
        self.session.fall_back(reason)
        self.workers, self.refreshed = {}, 0.0

    def _collect(self, future: Any, job: Job) -> None:
        status = future.status
        if status == "finished":
            try:
                outcome = future.result(timeout=30)
            except Exception as error:  # the result could not be fetched: treat as lost
                outcome = {"error": ERROR_WORKER_LOST, "reason": f"{type(error).__name__}: {error}"}
            category = outcome.get("error")
            if category is None:
                self._record(job.index, job.submitted, outcome.get("scores"), None)
                seconds = time.time() - job.submitted
                family = self.request.families[job.index]
                self.loop.costs.observe(family, seconds, self.request.work_share)
            else:
                code = TIMEOUT if category == ERROR_TIMEOUT else INVALID
                reason = outcome.get("reason")
                self._record(job.index, job.submitted, None, code, category, reason)
            return
        if status == "error":
            from distributed import KilledWorker

            exception = future.exception()
            if isinstance(exception, KilledWorker):
                memory = memory_restart_since(self.session.current, job.submitted)
                if memory is not None:
                    self._record(job.index, job.submitted, None, INVALID, ERROR_MEMORY, memory)
                else:
                    reason = "every worker that ran it died (KilledWorker)"
                    self._record(job.index, job.submitted, None, INVALID, ERROR_WORKER_LOST, reason)
            else:
                reason = f"{type(exception).__name__}: {exception}"[:500]
                self._record(job.index, job.submitted, None, INVALID, ERROR_EXCEPTION, reason)
            return
        # cancelled or lost: its worker died (and with it, maybe, the data it needed)
        memory = memory_restart_since(self.session.current, job.submitted)
        if memory is not None:  # Dask restarted the worker for memory: do not run it again
            self._record(job.index, job.submitted, None, INVALID, ERROR_MEMORY, memory)
        elif job.tries < MAX_RESUBMITS:
            self.pending.appendleft((job.index, job.tries + 1))
        else:
            reason = f"the evaluation was {status} {job.tries + 1} times"
            self._record(job.index, job.submitted, None, INVALID, ERROR_WORKER_LOST, reason)

    def _batch(self) -> EvaluationBatch:
        ordered = [self.outcomes[i] for i in range(len(self.individuals))]
        return EvaluationBatch(
            scores=[o[0] for o in ordered],
            submitted=[o[1] for o in ordered],
            completed=[o[2] for o in ordered],
            errors=[o[3] for o in ordered],
        )
