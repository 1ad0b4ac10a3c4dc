"""Trainer: one training run, from a table to a stored model and its reports.

The Trainer only conducts; each step lives in the module that owns it: the data
(:mod:`automl_tpot.data`), the time budget (:mod:`automl_tpot.search.budget`), the Dask session
(:mod:`automl_tpot.cluster`), the search plan and the TPOT search (:mod:`automl_tpot.search`),
the ensemble stage (:mod:`automl_tpot.ensemble`), the result (:mod:`.assemble`) and the run
writer (:mod:`.writer`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..cluster.session import memory_kills, opening_dask_session
from ..config import TrainerConfig
from ..data import DataSource, PreparedData, prepare_table
from ..ensemble import run_ensemble_stage
from ..errors import AutoMLTPOTError, ConfigError, RunAborted, TrainingCancelled, TrainingError
from ..explain import run_explain_stage
from ..metrics import MetricsBackend, NullMetrics
from ..records.events import Alert, EvaluationProgress, GenerationProgress
from ..search.budget import RunBudget
from ..search.plan import metric_name, plan_search
from ..search.runner import raise_if_stopped, run_search
from ..storage import FilesystemStorage, Storage, validate_run_id
from ..tpot_boundary import GenerationState
from ..utils.text import shorten
from .assemble import assemble_result
from .events import RunReporter
from .preflight import check_storage_backend, preflight
from .result import TrainingResult
from .resume import Attempt
from .writer import write_result

__all__ = ["Trainer"]

ProgressCallback = Callable[[GenerationProgress], None]


def _budget(config: TrainerConfig, attempt: Attempt) -> RunBudget:
    """The attempt's clock (a resumed run's is what earlier attempts left), with reserves for
    the stages the configuration turns on."""
    seconds = max(attempt.budget, 0.0)
    return RunBudget(
        seconds, attempt.started, config.per_run_limit, config.ensemble, config.explain
    )


class Trainer:
    """Trains a TPOT model on a table and stores the model and its reports.

    Args:
        config: the run's settings; ``TrainerConfig()`` defaults when omitted.
        storage: where runs are written; a :class:`~automl_tpot.storage.FilesystemStorage` under
            ``./runs`` when omitted. ``store=False`` writes nothing.
        metrics: receives progress, alerts and the final summary; none when omitted.
        store: whether :meth:`train` writes the run's artifacts.

    Backends can also be chosen by name and URL, as the command line does:
    ``storage_from_url("s3://bucket/prefix")`` and ``metrics_from_name("prometheus", port=9100)``.

    Example:
        >>> from automl_tpot import Trainer, TrainerConfig
        >>> trainer = Trainer(TrainerConfig(target_column="label", time_left=60))
        >>> result = trainer.train("table.csv")  # doctest: +SKIP
        >>> result.model.predict(new_rows)  # doctest: +SKIP
    """

    def __init__(
        self,
        config: TrainerConfig | None = None,
        *,
        storage: Storage | None = None,
        metrics: MetricsBackend | None = None,
        store: bool = True,
    ):
        self.config, self.storage = _checked(config, storage)
        self.metrics = metrics if metrics is not None else NullMetrics()
        self.store = store
        self._reporter = RunReporter(self.metrics)

    def __repr__(self) -> str:
        return f"Trainer({self.config!r}, storage={self.storage!r}, metrics={self.metrics!r})"

    def train(
        self,
        data: DataSource | PreparedData,
        *,
        run_id: str | None = None,
        progress: ProgressCallback | None = None,
        should_stop: Callable[[], bool] | None = None,
        on_evaluation: Callable[[EvaluationProgress], None] | None = None,
        resume: str | None = None,
        fresh_budget: bool = False,
        should_finish: Callable[[], bool] | None = None,
    ) -> TrainingResult:
        """Search for the best pipeline on ``data`` and return (and store) the result.

        Args:
            data: a DataFrame, or the path of a CSV or Parquet file, holding the target column;
                or a :class:`~automl_tpot.data.PreparedData` made from one for this
                configuration's target (so a host that validated the table does not prepare
                it twice).
            run_id: the stored run's identifier; a fresh one when omitted.
            progress: called after every generation with a :class:`GenerationProgress`.
            should_stop: polled during the run (a few times a second, from another thread);
                once it returns true the search ends at TPOT's next budget check and the run
                raises :class:`TrainingCancelled` instead of storing anything. A host cancels
                a job this way (``should_stop=event.is_set``).
            on_evaluation: called after every finished evaluation with an
                :class:`~automl_tpot.records.events.EvaluationProgress` (for a live display;
                from the search's thread).
            resume: continue this unfinished run from its last checkpoint, on the same data,
                with ``time_left`` less what it spent (``fresh_budget``: a whole one again).
            should_finish: like ``should_stop``, but the run is stored with the best pipeline
                so far (status ``stopped``).

        Raises:
            ConfigError: a setting cannot work with this table or machine (the metric, the
                search space, ``n_jobs``, the run id, the storage; see
                :mod:`~automl_tpot.run.preflight`), found before any worker starts.
            DataError: the table cannot be used (nothing is stored).
            SearchSpaceError: the search space cannot be resolved (nothing is stored).
            TrainingError: the search produced no usable pipeline, or failed in a way the
                library did not foresee (the original error is ``__cause__``; nothing is
                stored).
            ClusterError: the Dask cluster failed and ``parallel_fallback`` is off (a
                ``TrainingError``; nothing is stored).
            KeyboardInterrupt, RunAborted: Ctrl-C (the cluster is closed; a checkpoint stays).
            TrainingCancelled: ``should_stop`` asked the run to stop (nothing is stored).
            StorageError: the artifacts could not be written (no complete run is left).
            ResumeError: ``resume`` cannot be resumed, or ``run_id`` is an unfinished run's.

        A stored run checkpoints after each generation (``docs/resume.md``). The metrics
        backend hears of the run's end: ``complete``, ``stopped``, ``failed``, ``cancelled``
        or ``interrupted``.
        """
        started = time.monotonic()
        _check_callables(
            progress=progress,
            should_stop=should_stop,
            on_evaluation=on_evaluation,
            should_finish=should_finish,
        )
        self._reporter.reset()
        metric = None if self.config.metric is None else metric_name(self.config.metric)
        try:
            storage = self.storage if self.store else None
            attempt = Attempt.begin(storage, self.config, run_id, resume, fresh_budget, started)
            return self._run(data, attempt, progress, should_stop, on_evaluation, should_finish)
        except (Exception, KeyboardInterrupt, RunAborted) as error:
            self._reporter.failed(error, run_id=run_id or resume, started=started, metric=metric)
            if isinstance(error, AutoMLTPOTError) or not isinstance(error, Exception):
                raise
            raise TrainingError(
                f"the run failed: {type(error).__name__}: {shorten(str(error), 1000)}"
            ) from error

    def alert(self, kind: str, reason: str) -> Alert:
        """Raise an operational alert for the current run.

        The alert goes to the log (WARNING) and the metrics backend at once, and into the run's
        :attr:`TrainingResult.alerts` and ``run.json``. The Trainer raises ``timeout`` and
        ``oom`` itself; the parallel and AutoML fallbacks call this with ``parallel_fallback``
        and ``automl_fallback``. Safe to call from any thread.

        Raises:
            ConfigError: ``kind`` is not one of :data:`~automl_tpot.records.events.ALERT_KINDS`.
        """
        return self._reporter.alert(kind, reason)

    @property
    def alerts(self) -> list[Alert]:
        """The alerts raised so far in the current (or last) run."""
        return self._reporter.alerts

    def save(
        self, result: TrainingResult, run_id: str, *, status: str = "complete"
    ) -> TrainingResult:
        """Store ``result`` as run ``run_id`` with the standard artifact set; return it with its
        ``run_id`` and ``location``.

        :meth:`train` stores its own results; this serves results made elsewhere, such as the
        AutoML fallback's baseline (``status="fallback"`` in ``run.json``), so every run has the
        same artifacts whatever produced its model.
        """
        validate_run_id(run_id)
        return write_result(self.storage, result, run_id, status=status)

    # -- the run, step by step ---------------------------------------------------------------

    def _run(
        self,
        data: DataSource | PreparedData,
        attempt: Attempt,
        progress: ProgressCallback | None,
        should_stop: Callable[[], bool] | None,
        on_evaluation: Callable[[EvaluationProgress], None] | None,
        should_finish: Callable[[], bool] | None,
    ) -> TrainingResult:
        config, reporter, started = self.config, self._reporter, attempt.started
        prepared = prepare_table(data, config.target_column, config.task, config.cv)
        storage = self.storage if self.store else None
        preflight(config, prepared, storage=storage, run_id=attempt.run_id)
        timings = {"validate": round(time.monotonic() - started, 3)}
        attempt.check_data(prepared)

        def on_generation(event: GenerationProgress, state: GenerationState) -> None:
            attempt.save(event, state, timings)  # before the listeners: one may abort the run
            reporter.progress(event, progress)

        with attempt:
            stages = _on_workers(
                config,
                prepared,
                _budget(config, attempt),
                attempt,
                reporter,
                timings,
                on_generation,
                (should_stop, should_finish, on_evaluation),
            )
        result = assemble_result(
            config=config,
            prepared=prepared,
            timings=timings,
            reporter=reporter,
            seed=attempt.seed,
            **stages,
        )
        result, end = attempt.finish(result)  # "complete" or "stopped"
        if storage is not None:
            result = write_result(storage, result, attempt.run_id, status=end, started=started)
            attempt.discard()  # a complete run cannot be resumed
        else:
            result.timings["total"] = round(time.monotonic() - started, 3)
        reporter.completed(result, storage, prepared.features, end)
        return result


def _on_workers(
    config: TrainerConfig,
    prepared: PreparedData,
    budget: RunBudget,
    attempt: Attempt,
    reporter: RunReporter,
    timings: dict[str, float],
    on_generation: Callable[[GenerationProgress, GenerationState], None],
    callbacks: tuple[
        Callable[[], bool] | None,
        Callable[[], bool] | None,
        Callable[[EvaluationProgress], None] | None,
    ],
) -> dict[str, Any]:
    """The part of a run that needs the Dask workers: the search (from the attempt's
    checkpoint when it resumes), the ensemble stage and the explanations, with the cluster
    started while the search is planned; returns what
    :func:`~automl_tpot.run.assemble.assemble_result` takes besides the data. ``callbacks``
    are the host's ``should_stop``, ``should_finish`` and ``on_evaluation``."""
    should_stop, should_finish, on_evaluation = callbacks
    seed = attempt.seed  # TPOT's folds and the later stages' are the same draw

    def fallback(reason: str) -> None:
        reporter.alert("parallel_fallback", reason)

    with opening_dask_session(config, on_fallback=fallback) as wait_for_session:
        mark = time.monotonic()
        plan = plan_search(config, prepared, seed)  # while the workers start
        timings["prepare"] = round(time.monotonic() - mark, 3)
        session = wait_for_session()
        timings["cluster_start"] = round(session.started_in, 3)
        search_started_at = time.time()
        try:
            search = run_search(
                config=config,
                prepared=prepared,
                plan=plan,
                session=session,
                budget=budget,
                seed=seed,
                listener=on_generation,
                should_stop=should_stop,
                on_evaluation=on_evaluation,
                start=attempt.search_start,
                should_finish=should_finish,
            )
            timings["search"] = search.seconds
            ensemble = None
            # after a search on a sample TPOT's refit was left to the stage: the final choice
            if config.ensemble or search.fitted.refit_deferred:
                ensemble = run_ensemble_stage(
                    session=session,
                    search=search.fitted,
                    plan=plan,
                    prepared=prepared,
                    random_state=seed,
                    deadline=budget.stages_deadline,
                    should_stop=should_stop,
                    combine=config.ensemble,
                )
                timings["ensemble"] = ensemble.seconds
                raise_if_stopped(should_stop)
            explanations = run_explain_stage(
                config, session, plan, prepared, search, ensemble, seed, budget, should_stop
            )
        finally:
            kills = memory_kills(session.current, search_started_at)
            reporter.memory_kills(kills, config.memory_limit_mb)
        parallel = session.info()
        closing = time.monotonic()
    timings["cluster_stop"] = round(time.monotonic() - closing, 3)
    return {
        "plan": plan,
        "search": search,
        "ensemble": ensemble,
        "parallel": parallel,
        "explanations": explanations,
    }


def _status(error: BaseException) -> str:
    """How a run that raised ``error`` ended, for the metrics backend."""
    if isinstance(error, TrainingCancelled):
        return "cancelled"
    return "interrupted" if isinstance(error, KeyboardInterrupt) else "failed"


def _checked(
    config: TrainerConfig | None, storage: Storage | None
) -> tuple[TrainerConfig, Storage]:
    """The Trainer's configuration and storage, defaults filled in, types checked."""
    config = config if config is not None else TrainerConfig()
    if not isinstance(config, TrainerConfig):
        raise ConfigError("config", config, "a TrainerConfig")
    storage = storage if storage is not None else FilesystemStorage("runs")
    return config, check_storage_backend(storage)


def _check_callables(**callbacks: object) -> None:
    for name, callback in callbacks.items():
        if callback is not None and not callable(callback):
            raise ConfigError(name, callback, "a callable or None")
