"""What a run tells the outside while it runs: alerts, per-generation progress and its end.

Everything goes to the log and to the metrics backend, whose failures never fail the run.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import TrainingCancelled
from ..metrics import MetricsBackend, RunStoredHook
from ..records.events import Alert, GenerationProgress
from ..storage import MANIFEST, Storage
from ..utils.notify import notify

if TYPE_CHECKING:
    import pandas as pd

    from .result import TrainingResult

__all__ = ["RunReporter"]

log = logging.getLogger("automl_tpot.run")

ProgressCallback = Callable[[GenerationProgress], None]


class RunReporter:
    """The alerts of the current run and the calls that report to ``metrics``.

    Safe to use from any thread (the Dask session's fallback and the search thread both raise
    alerts).
    """

    def __init__(self, metrics: MetricsBackend):
        self.metrics = metrics
        self._alerts: list[Alert] = []
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget the previous run's alerts."""
        with self._lock:
            self._alerts = []

    @property
    def alerts(self) -> list[Alert]:
        """The alerts raised so far in the current (or last) run."""
        with self._lock:
            return list(self._alerts)

    def alert(self, kind: str, reason: str) -> Alert:
        """Record an alert, log it (WARNING) and tell the metrics backend.

        Raises:
            ConfigError: ``kind`` is not one of :data:`~automl_tpot.records.events.ALERT_KINDS`.
        """
        event = Alert(kind, reason)
        with self._lock:
            self._alerts.append(event)
        log.warning("alert %s: %s", event.kind, event.reason)
        notify(self.metrics.on_alert, event, what="the metrics backend on an alert")
        return event

    def progress(self, event: GenerationProgress, callback: ProgressCallback | None) -> None:
        """A finished generation: to the metrics backend, then to the caller's callback."""
        notify(self.metrics.on_progress, event, what="the metrics backend on progress")
        if callback is not None:
            notify(callback, event, what="the progress callback")

    def memory_kills(self, kills: list[dict[str, Any]], memory_limit_mb: int | None) -> None:
        """Raise the ``oom`` alert for Dask workers restarted for their memory, if any."""
        if not kills:
            return
        limit = f"{memory_limit_mb} MiB" if memory_limit_mb else "its limit"
        peak = max(int(k.get("rss") or 0) for k in kills) / 2**20
        workers = sorted({str(k.get("worker")) for k in kills})
        self.alert(
            "oom",
            f"{len(kills)} Dask worker restart(s) for exceeding the memory limit ({limit}; peak "
            f"{peak:.0f} MiB) on {', '.join(workers)}: the pipelines they ran count as failed; "
            f"raise memory_limit_mb or use a lighter search space",
        )

    def completed(
        self,
        result: TrainingResult,
        storage: Storage | None,
        rows: pd.DataFrame,
        status: str = "complete",
    ) -> None:
        """The run ended with a model (``status``: ``complete`` or ``stopped``): a backend with
        :class:`RunStoredHook` gets the stored run (``storage`` is ``None`` when nothing was
        stored), then every backend the end."""
        if storage is not None and result.run_id and isinstance(self.metrics, RunStoredHook):
            notify(
                self._stored, storage, result, rows, what="the metrics backend on the stored run"
            )
        self.finished({"status": status, "run_id": result.run_id, **result.summary()})

    def _stored(self, storage: Storage, result: TrainingResult, rows: pd.DataFrame) -> None:
        assert result.run_id is not None and isinstance(self.metrics, RunStoredHook)
        run_id = result.run_id
        manifest = storage.read_bytes(run_id, MANIFEST)
        listed = json.loads(manifest).get("artifacts", {})
        artifacts = {name: storage.read_bytes(run_id, name) for name in listed}
        artifacts[MANIFEST] = manifest
        location = result.location or storage.location(run_id)
        self.metrics.on_run_stored(run_id, location, artifacts, result.model, rows.head(5))

    def finished(self, summary: dict[str, Any]) -> None:
        """The run ended with a model (``summary`` holds its ``status``)."""
        notify(self.metrics.on_run_finished, summary, what="the metrics backend on the run's end")

    def failed(
        self,
        error: BaseException,
        *,
        run_id: str | None,
        started: float,
        metric: str | None,
        status: str | None = None,
    ) -> None:
        """The run ended without a model: ``failed``, ``cancelled`` or ``interrupted`` (when
        ``status`` is not given, what ``error`` says: a cancellation, an interruption such as
        Ctrl-C, or a failure)."""
        if status is None:
            status = (
                "cancelled"
                if isinstance(error, TrainingCancelled)
                else "failed"
                if isinstance(error, Exception)
                else "interrupted"
            )
        self.finished(
            {
                "status": status,
                "run_id": run_id,
                "metric": metric,
                "error": f"{type(error).__name__}: {error}",
                "timings": {"total": round(time.monotonic() - started, 3)},
                "alerts": [alert.to_dict() for alert in self.alerts],
            }
        )
