"""Metrics backends: where a run's progress, alerts and final figures are reported.

A backend implements :class:`MetricsBackend`; every method must return quickly and must not
raise (the Trainer logs and ignores errors a backend raises, so monitoring never breaks
training).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..progress import Alert, GenerationProgress

__all__ = ["MetricsBackend", "NullMetrics"]


@runtime_checkable
class MetricsBackend(Protocol):
    """Receives events from a running :class:`~automl_tpot.Trainer`."""

    def on_progress(self, progress: GenerationProgress) -> None:
        """A generation finished (called during the search)."""
        ...

    def on_alert(self, alert: Alert) -> None:
        """Something an operator may need to know (timeout, out of memory, fallback)."""
        ...

    def on_run_finished(self, summary: dict[str, Any]) -> None:
        """The run ended; ``summary`` is the JSON-safe run summary (``status`` included)."""
        ...


class NullMetrics:
    """A backend that records nothing."""

    def on_progress(self, progress: GenerationProgress) -> None:
        """Ignore the event."""

    def on_alert(self, alert: Alert) -> None:
        """Ignore the event."""

    def on_run_finished(self, summary: dict[str, Any]) -> None:
        """Ignore the event."""
