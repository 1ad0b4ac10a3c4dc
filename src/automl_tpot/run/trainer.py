"""Trainer: one training run, from a table to a stored model and its reports.

The Trainer only orchestrates: data preparation (``data``), the search space
(``search_spaces``), the Dask session (``parallel``), TPOT's search, the reports (``results``),
storage and metrics. Each of those knows nothing about the others.
"""

from __future__ import annotations

import io
import logging
import math
import platform
import threading
import time
import warnings
from collections.abc import Callable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from attrs import define

from ..config import TrainerConfig
from ..data import (
    DataSource,
    PreparedData,
    build_preprocessor,
    load_table,
    output_columns,
    prepare_training_data,
)
from ..errors import ClusterError, ConfigError, StorageError, TrainingCancelled, TrainingError
from ..metrics import MetricsBackend, NullMetrics
from ..records.evaluations import (
    SCHEMA_VERSION,
    TrainingResult,
    describe_pipeline,
    dumps_json,
    evaluated_records,
    leaderboard_from_records,
    pareto_front_from_records,
)
from ..records.events import Alert, GenerationProgress
from ..search.budget import SearchDeadline
from ..search.watcher import GenerationWatcher
from ..search_spaces import SearchContext, resolve_search_space
from ..storage import FilesystemStorage, Storage, new_run_id, validate_run_id, write_run
from ..storage.base import EVALUATED, LEADERBOARD, MANIFEST, MODEL, PARETO_FRONT

if TYPE_CHECKING:
    from ..ensemble.stage import EnsembleOutcome

__all__ = ["Trainer", "default_metric"]

log = logging.getLogger(__name__)

COMPLEXITY = "complexity"
#: Seconds kept back from the search for closing the Dask cluster.
CLOSE_RESERVE = 1.0
#: Share of the budget kept back for refitting the chosen pipeline on all rows.
REFIT_SHARE = 0.1
#: Share of the budget kept back for averaging the best pipelines (``TrainerConfig.ensemble``).
ENSEMBLE_SHARE = 0.1
#: Seconds the refit and the ensemble stage leave before the closing reserve, for storing the run.
STORE_MARGIN = 0.5
#: The search needs at least this many seconds to be worth starting.
MIN_SEARCH_SECONDS = 1.0
#: At most this share of the search time goes to one evaluation, whatever per_run_limit says:
#: a pipeline slower than that cannot be improved on within the budget anyway, and a generation
#: of such pipelines would leave no time for a second one.
PER_RUN_SHARE = 0.25
#: ... but never less than this many seconds.
MIN_PER_RUN_SECONDS = 8.0


def default_metric(task: str, n_classes: int | None) -> str:
    """The metric used when none is configured: ROC AUC, balanced accuracy or R²."""
    if task == "regression":
        return "r2"
    return "roc_auc" if n_classes == 2 else "balanced_accuracy"


def _class_balance(y: Any) -> float:
    """The smallest class's rows over the largest's."""
    import numpy as np

    counts = np.bincount(np.asarray(y, dtype=int))
    counts = counts[counts > 0]
    return float(counts.min() / counts.max())


def _metric_name(metric: Any) -> str:
    if isinstance(metric, str):
        return metric
    score_function = getattr(metric, "_score_func", None)  # objects made by make_scorer
    if score_function is not None:
        return getattr(score_function, "__name__", type(metric).__name__)
    return getattr(metric, "__name__", None) or type(metric).__name__


@define(frozen=True, eq=False)
class _SearchPlan:
    """What the search needs besides the data: fitted preprocessing, metric, search space."""

    preprocessor: Any
    features: Any
    metric: Any
    search_space: Any


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
        self.config = config if config is not None else TrainerConfig()
        if not isinstance(self.config, TrainerConfig):
            raise ConfigError("config", self.config, "a TrainerConfig")
        self.storage = storage if storage is not None else FilesystemStorage("runs")
        self.metrics = metrics if metrics is not None else NullMetrics()
        self.store = store
        self._alerts: list[Alert] = []
        self._alerts_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Trainer({self.config!r}, storage={self.storage!r}, metrics={self.metrics!r})"

    # -- the run ---------------------------------------------------------------------------------

    def train(
        self,
        data: DataSource,
        *,
        run_id: str | None = None,
        progress: Callable[[GenerationProgress], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> TrainingResult:
        """Search for the best pipeline on ``data`` and return (and store) the result.

        Args:
            data: a DataFrame, or the path of a CSV or Parquet file, holding the target column.
            run_id: the stored run's identifier; a fresh one when omitted.
            progress: called after every generation with a :class:`GenerationProgress`.
            should_stop: polled during the run (a few times a second, from another thread);
                once it returns true the search ends at TPOT's next budget check and the run
                raises :class:`TrainingCancelled` instead of storing anything. A host cancels
                a job this way (``should_stop=event.is_set``).

        Raises:
            DataError: the table cannot be used (nothing is stored).
            SearchSpaceError: the search space cannot be resolved (nothing is stored).
            TrainingError: the search produced no usable pipeline (nothing is stored).
            ClusterError: the Dask cluster failed and ``parallel_fallback`` is off (a
                ``TrainingError``; nothing is stored).
            KeyboardInterrupt: Ctrl-C during the run (the cluster is closed, nothing is stored).
            TrainingCancelled: ``should_stop`` asked the run to stop (nothing is stored).
            StorageError: the artifacts could not be written (no complete run is left).

        Whatever the outcome, the metrics backend hears of the run's end: ``complete``,
        ``failed`` (with the error), ``cancelled`` or ``interrupted``.
        """
        started = time.monotonic()
        with self._alerts_lock:
            self._alerts = []
        try:
            return self._train(data, run_id, progress, started, should_stop)
        except TrainingCancelled as error:
            self._notify_failed(run_id, started, "cancelled", error)
            raise
        except Exception as error:
            self._notify_failed(run_id, started, "failed", error)
            raise
        except KeyboardInterrupt as error:
            self._notify_failed(run_id, started, "interrupted", error)
            raise

    def alert(self, kind: str, reason: str) -> Alert:
        """Raise an operational alert for the current run.

        The alert goes to the log (WARNING) and the metrics backend at once, and into the run's
        :attr:`TrainingResult.alerts` and ``run.json``. The Trainer raises ``timeout`` and
        ``oom`` itself; the parallel and AutoML fallbacks call this with ``parallel_fallback``
        and ``automl_fallback``. Safe to call from any thread.

        Raises:
            ConfigError: ``kind`` is not one of :data:`~automl_tpot.progress.ALERT_KINDS`.
        """
        event = Alert(kind, reason)
        with self._alerts_lock:
            self._alerts.append(event)
        log.warning("alert %s: %s", event.kind, event.reason)
        try:
            self.metrics.on_alert(event)
        except Exception:
            log.warning("metrics backend failed on alert; ignoring", exc_info=True)
        return event

    @property
    def alerts(self) -> list[Alert]:
        """The alerts raised so far in the current (or last) run."""
        return self._current_alerts()

    def _current_alerts(self) -> list[Alert]:
        with self._alerts_lock:
            return list(self._alerts)

    def save(
        self, result: TrainingResult, run_id: str, *, status: str = "complete"
    ) -> TrainingResult:
        """Store ``result`` as run ``run_id`` with the standard artifact set; return it with its
        ``run_id`` and ``location``.

        :meth:`train` stores its own results; this serves results made elsewhere, such as the
        AutoML fallback's baseline (``status="fallback"`` in ``run.json``), so every run has the
        same artifacts whatever produced its model.
        """
        import attrs

        validate_run_id(run_id)
        provisional = attrs.evolve(result, run_id=run_id)
        artifacts = self._artifacts(provisional)
        manifest = self._manifest(provisional, artifacts, status)
        location = write_run(self.storage, run_id, artifacts, manifest)
        return attrs.evolve(provisional, location=location)

    def _train(
        self,
        data: DataSource,
        run_id: str | None,
        progress: Callable[[GenerationProgress], None] | None,
        started: float,
        should_stop: Callable[[], bool] | None = None,
    ) -> TrainingResult:
        config = self.config
        timings: dict[str, float] = {}

        if run_id is not None:
            validate_run_id(run_id)
        if self.store and run_id is not None and self.storage.exists(run_id, MANIFEST):
            raise StorageError(f"run {run_id!r} already exists at {self.storage.location(run_id)}")

        prepared = prepare_training_data(
            load_table(data), config.target_column, config.task, config.cv
        )
        timings["validate"] = round(time.monotonic() - started, 3)
        estimator, plan, session_info, ensemble = self._search(
            prepared, started, timings, progress, should_stop
        )
        preprocessor, metric = plan.preprocessor, plan.metric

        records = evaluated_records(
            estimator.evaluated_individuals,
            score_column=estimator.objective_names[0],
            complexity_column=COMPLEXITY,
            metric=_metric_name(metric),
        )
        best_row = estimator.selected_best_score
        best_score = float(best_row[estimator.objective_names[0]])
        chosen = estimator.fitted_pipeline_
        notes = list(prepared.notes)
        if ensemble is not None and ensemble.error is not None:
            notes.append(f"the ensemble stage failed, the best pipeline stays: {ensemble.error}")
        if ensemble is not None and ensemble.model is not None:
            chosen, best_score = ensemble.model, float(ensemble.score)
            notes.append(
                f"the model averages {len(ensemble.weights)} pipelines: cross-validated "
                f"{_metric_name(metric)} {ensemble.score:.4f} against {ensemble.best_single:.4f} "
                f"for the best single pipeline"
            )
        from ..model import TabularModel

        model = TabularModel(
            preprocessor=preprocessor,
            estimator=chosen,
            feature_columns=list(prepared.features.columns),
            task=prepared.task,
            classes=prepared.classes,
            target_column=config.target_column,
        )
        generations_done = int(estimator._evolver_instance.generation)
        finished_all = config.generations is not None and generations_done >= config.generations
        if session_info.get("fallback_reason"):
            notes.append(
                f"parallel fallback: ran on a local 1-worker cluster because "
                f"{session_info['fallback_reason']}"
            )
        if not finished_all:
            notes.append(f"the time budget ended the search after {generations_done} generation(s)")
        if config.generations is not None and not finished_all:
            self.alert(
                "timeout",
                f"the time budget (time_left={config.time_left:g}s) ended the search after "
                f"{generations_done} of {config.generations} generations",
            )
        result_fields = dict(
            model=model,
            task=prepared.task,
            task_reason=prepared.task_reason,
            metric=_metric_name(metric),
            best_score=best_score,
            best_pipeline=describe_pipeline(chosen),
            leaderboard=leaderboard_from_records(records, config.leaderboard_k),
            pareto_front=pareto_front_from_records(records),
            evaluated_individuals=records,
            generations_completed=generations_done,
            population_size=config.population_size,
            stopped_by="generations" if finished_all else "time_left",
            timings=timings,
            feature_types=prepared.feature_types,
            parallel=session_info,
            config=config,
            notes=notes,
            alerts=self._current_alerts(),
        )
        if not self.store:
            timings["total"] = round(time.monotonic() - started, 3)
            result = TrainingResult(**result_fields)
            self._notify_finished(result, "complete")
            return result

        run_id = run_id or new_run_id()
        store_started = time.monotonic()
        provisional = TrainingResult(**result_fields, run_id=run_id)
        artifacts = self._artifacts(provisional)
        timings["store"] = round(time.monotonic() - store_started, 3)
        timings["total"] = round(time.monotonic() - started, 3)
        manifest = self._manifest(provisional, artifacts)
        location = write_run(self.storage, run_id, artifacts, manifest)
        result = TrainingResult(**result_fields, run_id=run_id, location=location)
        self._notify_finished(result, "complete")
        return result

    # -- pieces ----------------------------------------------------------------------------------

    def _plan(self, prepared: PreparedData) -> _SearchPlan:
        """Fit the preprocessing and resolve the metric and the search space for this table."""
        config = self.config
        preprocessor = build_preprocessor(prepared.feature_types)
        features = preprocessor.fit_transform(prepared.features, prepared.y)
        n_classes = None if prepared.classes is None else len(prepared.classes)
        metric = (
            config.metric if config.metric is not None else default_metric(prepared.task, n_classes)
        )
        types = prepared.feature_types
        context = SearchContext(
            task=prepared.task,
            n_rows=features.shape[0],
            n_features=features.shape[1],
            n_classes=n_classes,
            numeric_columns=tuple(map(str, types.numeric)),
            categorical_columns=tuple(map(str, types.categorical + types.boolean + types.text)),
            random_state=config.random_state,
            column_indices=output_columns(preprocessor),
            feature_names=tuple(map(str, preprocessor.get_feature_names_out())),
            feature_groups=config.feature_groups,
            cv=prepared.cv,
            population_size=config.population_size,
            metric=metric if isinstance(metric, str) else None,
            class_balance=None if prepared.classes is None else _class_balance(prepared.y),
        )
        search_space = resolve_search_space(config.search_space, context)
        return _SearchPlan(preprocessor, features, metric, search_space)

    def _search(
        self,
        prepared: PreparedData,
        started: float,
        timings: dict[str, float],
        progress: Callable[[GenerationProgress], None] | None,
        should_stop: Callable[[], bool] | None = None,
    ) -> tuple[Any, _SearchPlan, dict[str, Any], EnsembleOutcome | None]:
        """Open the Dask session, plan the search while the workers warm up, run TPOT, then
        try an ensemble of the best pipelines on the same workers."""
        from tpot import TPOTEstimator

        from ..cluster.loop import install as install_evaluation_loop
        from ..cluster.session import memory_kills, open_dask_session
        from ..utils.pipelines import pipeline_complexity

        config = self.config
        deadline = started + config.time_left
        # TPOT's folds and the ensemble stage's must be the same draw, also for a fresh seed
        seed = config.random_state if config.random_state is not None else _fresh_seed()
        listener = self._progress_listener(progress)
        install_evaluation_loop()
        with open_dask_session(config, on_fallback=self._parallel_fallback) as session:
            timings["cluster_start"] = round(session.started_in, 3)
            plan_started = time.monotonic()
            plan = self._plan(prepared)
            features, metric, search_space = plan.features, plan.metric, plan.search_space
            timings["prepare"] = round(time.monotonic() - plan_started, 3)
            remaining = deadline - time.monotonic()
            refit_reserve = REFIT_SHARE * config.time_left
            search_seconds = remaining - CLOSE_RESERVE - refit_reserve
            ensemble_reserve = ENSEMBLE_SHARE * config.time_left if config.ensemble else 0.0
            if search_seconds - ensemble_reserve >= MIN_SEARCH_SECONDS:
                search_seconds -= ensemble_reserve
            else:  # a slow start leaves the ensemble only what the search does not use
                ensemble_reserve = 0.0
            if search_seconds < MIN_SEARCH_SECONDS:
                raise TrainingError(
                    f"time_left={config.time_left:g}s leaves {max(search_seconds, 0):.1f}s for the "
                    f"search after preparing the data and starting Dask; raise time_left"
                )
            per_run = min(
                config.per_run_limit, max(MIN_PER_RUN_SECONDS, PER_RUN_SHARE * search_seconds)
            )
            with warnings.catch_warnings():
                warnings.filterwarnings(
                    "ignore", message="Both generations and max_time_mins are set"
                )
                estimator = TPOTEstimator(
                    search_space=search_space,
                    scorers=[metric],
                    scorers_weights=[1.0],
                    classification=prepared.task == "classification",
                    cv=prepared.cv,
                    other_objective_functions=[pipeline_complexity],
                    other_objective_functions_weights=[-1.0],
                    objective_function_names=[COMPLEXITY],
                    population_size=config.population_size,
                    generations=config.generations,
                    max_time_mins=search_seconds / 60,
                    max_eval_time_mins=per_run / 60,
                    n_jobs=session.n_workers,
                    client=session.client,
                    # the evaluation loop broadcasts the data itself, once per cluster
                    scatter=False,
                    random_state=seed,
                    verbose=0,
                )
            session.may_defer = lambda: _before_last_generation(estimator, config.generations)
            # the reserves above are upper bounds: once pipelines are scored, the search gets
            # what the refit and the ensemble stage will not need
            wall_now = time.time()
            search_deadline = SearchDeadline(
                run_end=wall_now + (deadline - time.monotonic()) - CLOSE_RESERVE - STORE_MARGIN,
                planned_end=wall_now + search_seconds,
                refit_reserve=refit_reserve,
                ensemble_reserve=ensemble_reserve,
                cv=prepared.cv,
                n_workers=session.n_workers,
                score_column=estimator.objective_names[0],
            )
            session.search_end = lambda: getattr(
                estimator._evolver_instance, "scheduled_timeout_time", None
            )
            search_started = time.monotonic()
            search_started_at = time.time()
            interrupt = _InterruptLatch()
            _raise_if_stopped(should_stop)
            try:
                with (
                    interrupt,
                    GenerationWatcher(
                        estimator,
                        listener,
                        score_column=estimator.objective_names[0],
                        started_at=started,
                        metric=_metric_name(metric),
                        population_size=config.population_size,
                        should_stop=should_stop,
                        deadline=search_deadline,
                    ),
                ):
                    estimator.fit(features, prepared.y)
            except ClusterError:
                raise
            except Exception as error:
                if interrupt.fired:
                    raise KeyboardInterrupt from error
                _raise_if_stopped(should_stop)
                self._alert_memory_kills(memory_kills(session.client, search_started_at))
                outcomes = _evaluation_outcomes(estimator, per_run)
                raise TrainingError(f"the TPOT search failed: {error}{outcomes}") from error
            if interrupt.fired:
                # TPOT 1.1 swallows KeyboardInterrupt and returns what it has; the caller asked
                # the run to stop, so nothing is reported or stored.
                raise KeyboardInterrupt
            _raise_if_stopped(should_stop)
            self._alert_memory_kills(memory_kills(session.client, search_started_at))
            timings["search"] = round(time.monotonic() - search_started, 3)
            if getattr(estimator, "fitted_pipeline_", None) is None:
                raise TrainingError("the search found no pipeline that could be fitted on all rows")
            ensemble = None
            if config.ensemble:
                stage_started_at = time.time()
                ensemble = self._ensemble(
                    estimator, plan, prepared, session, deadline, seed, should_stop
                )
                timings["ensemble"] = ensemble.seconds
                _raise_if_stopped(should_stop)
                self._alert_memory_kills(memory_kills(session.client, stage_started_at))
            session_info = session.info()
            reasons = dict(getattr(session, "failure_reasons", {}))
            close_started = time.monotonic()
        timings["cluster_stop"] = round(time.monotonic() - close_started, 3)
        _attach_reasons(estimator.evaluated_individuals, reasons)
        return estimator, plan, session_info, ensemble

    def _ensemble(
        self,
        estimator: Any,
        plan: _SearchPlan,
        prepared: PreparedData,
        session: Any,
        deadline: float,
        seed: int,
        should_stop: Callable[[], bool] | None,
    ) -> EnsembleOutcome:
        """Average the best pipelines when that scores better; never fails the run."""
        from ..ensemble.stage import EnsembleOutcome, build_ensemble

        try:
            outcome = build_ensemble(
                client=session.current,
                n_workers=session.n_workers,
                frame=estimator.evaluated_individuals,
                score_column=estimator.objective_names[0],
                best_row=estimator.selected_best_score.name,
                best_fitted=estimator.fitted_pipeline_,
                X=plan.features,
                y=prepared.y,
                task=prepared.task,
                metric=plan.metric,
                cv=prepared.cv,
                random_state=seed,
                deadline=deadline - CLOSE_RESERVE - STORE_MARGIN,
                describe=describe_pipeline,
                should_stop=should_stop,
            )
        except Exception as error:  # the single best pipeline is a complete result on its own
            text = f"{type(error).__name__}: {error}"
            log.warning("ensemble stage failed: %s", text)
            return EnsembleOutcome(reason=text, error=text)
        if outcome.model is None:
            log.info("single pipeline kept: %s", outcome.reason)
        return outcome

    def _parallel_fallback(self, reason: str) -> None:
        """The watchdog gave up on the Dask cluster and the run goes on locally: raise the alert."""
        self.alert("parallel_fallback", reason)

    def _progress_listener(
        self, progress: Callable[[GenerationProgress], None] | None
    ) -> Callable[[GenerationProgress], None]:
        def listener(event: GenerationProgress) -> None:
            try:
                self.metrics.on_progress(event)
            except Exception:
                log.warning("metrics backend failed on progress; ignoring", exc_info=True)
            if progress is not None:
                progress(event)

        return listener

    def _alert_memory_kills(self, kills: list[dict[str, Any]]) -> None:
        if not kills:
            return
        limit = f"{self.config.memory_limit_mb} MiB" if self.config.memory_limit_mb else "its limit"
        peak = max(int(k.get("rss") or 0) for k in kills) / 2**20
        workers = sorted({str(k.get("worker")) for k in kills})
        self.alert(
            "oom",
            f"{len(kills)} Dask worker restart(s) for exceeding the memory limit ({limit}; peak "
            f"{peak:.0f} MiB) on {', '.join(workers)}: the pipelines they ran count as failed; "
            f"raise memory_limit_mb or use a lighter search space",
        )

    def _notify_failed(
        self, run_id: str | None, started: float, status: str, error: BaseException
    ) -> None:
        summary = {
            "status": status,
            "run_id": run_id,
            "metric": _metric_name(self.config.metric) if self.config.metric is not None else None,
            "error": f"{type(error).__name__}: {error}",
            "timings": {"total": round(time.monotonic() - started, 3)},
            "alerts": [alert.to_dict() for alert in self._current_alerts()],
        }
        try:
            self.metrics.on_run_finished(summary)
        except Exception:
            log.warning("metrics backend failed on run end; ignoring", exc_info=True)

    def _notify_finished(self, result: TrainingResult, status: str) -> None:
        try:
            self.metrics.on_run_finished(
                {"status": status, "run_id": result.run_id, **result.summary()}
            )
        except Exception:
            log.warning("metrics backend failed on run end; ignoring", exc_info=True)

    @staticmethod
    def _artifacts(result: TrainingResult) -> dict[str, bytes]:
        import joblib

        buffer = io.BytesIO()
        joblib.dump(result.model, buffer, compress=3)
        header = {
            "schema_version": SCHEMA_VERSION,
            "run_id": result.run_id,
            "metric": result.metric,
        }
        return {
            MODEL: buffer.getvalue(),
            LEADERBOARD: dumps_json(
                {
                    "schema": "automl-tpot/leaderboard",
                    **header,
                    "greater_is_better": True,
                    "k": result.config.leaderboard_k,
                    "entries": result.leaderboard,
                }
            ),
            PARETO_FRONT: dumps_json(
                {
                    "schema": "automl-tpot/pareto-front",
                    **header,
                    "objectives": [
                        {"name": result.metric, "direction": "maximize"},
                        {"name": COMPLEXITY, "direction": "minimize"},
                    ],
                    "front": result.pareto_front,
                }
            ),
            EVALUATED: dumps_json(
                {
                    "schema": "automl-tpot/evaluated-individuals",
                    **header,
                    "count": len(result.evaluated_individuals),
                    "individuals": result.evaluated_individuals,
                }
            ),
        }

    @staticmethod
    def _manifest(
        result: TrainingResult, artifacts: dict[str, bytes], status: str = "complete"
    ) -> bytes:
        import hashlib

        summary = result.summary()
        if not math.isfinite(summary["best_score"]):
            summary["best_score"] = None
        return dumps_json(
            {
                "schema": "automl-tpot/run",
                "schema_version": SCHEMA_VERSION,
                "run_id": result.run_id,
                "status": status,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "config": result.config.to_dict(),
                "summary": summary,
                "versions": _versions(),
                "artifacts": {
                    name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                    for name, data in artifacts.items()
                },
            }
        )


def _before_last_generation(estimator: Any, generations: int | None) -> bool:
    """Whether TPOT is evaluating a generation other than its last (a generation may then leave
    its stragglers running for the next one to collect)."""
    if generations is None:
        return True
    evolver = getattr(estimator, "_evolver_instance", None)
    # TPOT evaluates its generation g (0 = the initial population) while evolver.generation == g
    return evolver is not None and int(evolver.generation) < generations - 1


class _InterruptLatch:
    """Notes a Ctrl-C (SIGINT) during the search, which TPOT 1.1 would otherwise swallow.

    Only installed from the main thread, and it chains to the handler it replaces.
    """

    def __init__(self) -> None:
        self.fired = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _InterruptLatch:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            if callable(self._previous):  # not when the host ignores SIGINT or set it to default
                signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.fired = True
        self._previous(signum, frame)
        raise KeyboardInterrupt

    def __exit__(self, *exc_info: Any) -> None:
        import signal

        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


def _attach_reasons(frame: Any, reasons: dict[Any, tuple[str, str]]) -> None:
    """Copy each failed evaluation's reason into TPOT's history, keyed by the individual."""
    from ..cluster.loop import EVAL_REASON

    if frame is None or "Individual" not in frame:
        return

    def lookup(individual: Any) -> Any:
        try:
            return reasons.get(individual.unique_id())
        except Exception:  # an individual TPOT could not identify: no reason to show
            return None

    frame[EVAL_REASON] = frame["Individual"].map(lookup)


def _evaluation_outcomes(estimator: Any, per_run: float) -> str:
    """What the evaluations of a failed search came to, for its error message: whether every
    pipeline failed or ran out of time tells the operator what to change."""
    try:
        errors = estimator._evolver_instance.population.evaluated_individuals["Eval Error"]
    except Exception:  # the search failed before evaluating anything
        return ""
    timeouts = int((errors == "TIMEOUT").sum())
    invalid = int((errors == "INVALID").sum())
    return (
        f" ({len(errors)} pipeline(s) evaluated: {invalid} failed, {timeouts} over the "
        f"{per_run:g}s evaluation limit)"
    )


def _fresh_seed() -> int:
    import secrets

    return secrets.randbelow(2**32)


def _raise_if_stopped(should_stop: Callable[[], bool] | None) -> None:
    if should_stop is not None and should_stop():
        raise TrainingCancelled("the run was cancelled before it finished")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for package in (
        "automl-tpot",
        "tpot",
        "scikit-learn",
        "dask",
        "distributed",
        "pandas",
        "numpy",
    ):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return found
