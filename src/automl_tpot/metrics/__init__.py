"""Metrics backends: where a run's progress, alerts and final figures are reported.

A backend implements :class:`MetricsBackend`; every method must return quickly and must not
raise (the Trainer logs and ignores errors a backend raises, so monitoring never breaks
training). A backend that also wants the stored run (its artifacts and model, as a tracking
server does) implements :class:`RunStoredHook` besides. The package ships :class:`NullMetrics`,
:class:`~.log.LoggingMetrics`, :class:`~.prometheus.PrometheusMetrics` and (with the ``mlflow``
extra) :class:`~.mlflow.MLflowMetrics`, registered under the ``automl_tpot.metrics`` entry
points as ``none``, ``logging``, ``prometheus`` and ``mlflow``; :func:`metrics_from_name` builds
one by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from ..errors import ConfigError
from ..records.events import Alert, GenerationProgress
from .log import LoggingMetrics
from .prometheus import PrometheusMetrics

__all__ = [
    "ENTRY_POINT_GROUP",
    "LoggingMetrics",
    "MetricsBackend",
    "NullMetrics",
    "PrometheusMetrics",
    "RunStoredHook",
    "available_metrics_backends",
    "metrics_from_name",
]

ENTRY_POINT_GROUP = "automl_tpot.metrics"


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
        """The run ended; ``summary`` is the JSON-safe run summary (``status`` included:
        ``complete`` or ``failed``, the latter with ``error``)."""
        ...


@runtime_checkable
class RunStoredHook(Protocol):
    """The optional hook of a metrics backend: the run was stored.

    Called once per stored run, after its ``run.json`` was written and before
    :meth:`MetricsBackend.on_run_finished`; backends without it are not called. A failure is
    logged, never fails the run.
    """

    def on_run_stored(
        self,
        run_id: str,
        location: str,
        artifacts: Mapping[str, bytes],
        model: Any,
        input_example: Any,
    ) -> None:
        """``artifacts``: every stored file by name (``run.json`` included), as read back from
        storage; ``model``: the :class:`~automl_tpot.model.TabularModel`; ``input_example``: a
        few raw training rows (a DataFrame without the target), for model signatures."""
        ...


class NullMetrics:
    """A backend that records nothing."""

    @classmethod
    def from_options(cls, **options: Any) -> NullMetrics:
        """The entry-point constructor; a no-op backend takes no options."""
        return cls()

    def __repr__(self) -> str:
        return "NullMetrics()"

    def on_progress(self, progress: GenerationProgress) -> None:
        """Ignore the event."""

    def on_alert(self, alert: Alert) -> None:
        """Ignore the event."""

    def on_run_finished(self, summary: dict[str, Any]) -> None:
        """Ignore the event."""


def available_metrics_backends() -> list[str]:
    """Backend names registered by installed packages (the package's own included)."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def metrics_from_name(name: str, **options: Any) -> MetricsBackend:
    """Build the backend registered as ``name`` with its ``from_options(**options)``, e.g.
    ``metrics_from_name("prometheus", port=9100)``.

    Raises:
        ConfigError: no installed package registers ``name``.
    """
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == name:
            return entry_point.load().from_options(**options)
    names = ", ".join(map(repr, available_metrics_backends()))
    raise ConfigError("metrics", name, f"one of {names}")
