"""The structured-logging backend: one log record per event, with its fields attached.

Each record's message reads ``event key=value ...`` for people; the same fields travel as
``record.automl_tpot`` (a dict with an ``event`` key) for JSON log formatters, so the host's
log pipeline can index them without parsing text.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..records.events import Alert, GenerationProgress

__all__ = ["LoggingMetrics"]

#: Summary keys logged at the end of a run (the full summary is in ``run.json``).
_SUMMARY_KEYS = (
    "run_id",
    "status",
    "metric",
    "best_score",
    "best_pipeline",
    "generations_completed",
    "population_size",
    "evaluations",
    "successful_evaluations",
    "pareto_front_size",
    "stopped_by",
    "error",
)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str) and (" " in value or not value):
        return json.dumps(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    return str(value)


class LoggingMetrics:
    """Logs progress (INFO), alerts (WARNING) and the run's end (INFO, ERROR when it failed).

    Args:
        logger: the logger, or its name (default ``automl_tpot.metrics``).
    """

    def __init__(self, logger: logging.Logger | str = "automl_tpot.metrics"):
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger

    @classmethod
    def from_options(cls, **options: Any) -> LoggingMetrics:
        """The entry-point constructor :func:`~automl_tpot.metrics.metrics_from_name` calls."""
        return cls(**options)

    def __repr__(self) -> str:
        return f"LoggingMetrics({self.logger.name!r})"

    def _emit(self, level: int, event: str, fields: dict[str, Any]) -> None:
        text = " ".join(f"{k}={_format(v)}" for k, v in fields.items() if v is not None)
        structured = {"event": event, **fields}
        self.logger.log(level, "%s %s", event, text, extra={"automl_tpot": structured})

    def on_progress(self, progress: GenerationProgress) -> None:
        """Log a finished generation."""
        self._emit(logging.INFO, "training.generation", progress.to_dict())

    def on_alert(self, alert: Alert) -> None:
        """Log an alert with its reason."""
        self._emit(logging.WARNING, "training.alert", alert.to_dict())

    def on_run_finished(self, summary: dict[str, Any]) -> None:
        """Log the run's outcome and its alerts."""
        fields = {k: summary[k] for k in _SUMMARY_KEYS if k in summary}
        fields["duration_seconds"] = (summary.get("timings") or {}).get("total")
        fields["alerts"] = [a["kind"] for a in summary.get("alerts", [])] or None
        failed = summary.get("status") != "complete"
        self._emit(logging.ERROR if failed else logging.INFO, "training.finished", fields)
