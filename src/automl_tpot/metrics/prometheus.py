"""The Prometheus backend: run metrics on a prometheus-client registry, optionally served over HTTP.

Metric names are a contract with the host's dashboards and alert rules (see the mission's
monitoring block); gauges are updated live at every generation, so a scrape during a run shows
where the search stands.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from ..errors import ConfigError
from ..records.events import Alert, GenerationProgress

__all__ = ["PrometheusMetrics"]

log = logging.getLogger(__name__)


class _Instruments:
    """The metric objects of one registry (prometheus-client refuses to register a name twice)."""

    def __init__(self, registry: Any):
        from prometheus_client import Counter, Gauge

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
            return Gauge(name, doc, labels, registry=registry)

        def counter(name: str, doc: str, labels: tuple[str, ...] = ()) -> Any:
            return Counter(name, doc, labels, registry=registry)

        self.duration = gauge(
            "training_duration_seconds",
            "Wall time of the current or last training run, in seconds (updated every generation).",
            ("mode",),
        )
        self.best_score = gauge(
            "training_best_score",
            "Best cross-validated score so far (bigger is better).",
            ("metric",),
        )
        self.generations = gauge("tp_generations", "Generations the TPOT search has finished.")
        self.population_size = gauge("tp_population_size", "Population size of the TPOT search.")
        self.pareto_front_size = gauge(
            "tp_pareto_front_size", "Pipelines on the last run's Pareto front (score, complexity)."
        )
        self.evaluations = gauge("tp_evaluations", "Pipelines evaluated so far in the current run.")
        self.failures = gauge(
            "tp_evaluation_failures", "Evaluations that failed or timed out so far in this run."
        )
        self.in_progress = gauge("training_in_progress", "1 while a training run is going on.")
        self.fallbacks = counter(
            "tpot_parallel_fallbacks", "Times the parallel backend fell back to a simpler mode."
        )
        self.runs = counter("training_runs", "Finished training runs by status.", ("status",))
        self.alerts = counter("tpot_alerts", "Alerts raised, by kind.", ("kind",))


_INSTRUMENTS: weakref.WeakKeyDictionary[Any, _Instruments] = weakref.WeakKeyDictionary()
_INSTRUMENTS_LOCK = threading.Lock()


def _instruments(registry: Any) -> _Instruments:
    with _INSTRUMENTS_LOCK:
        found = _INSTRUMENTS.get(registry)
        if found is None:
            found = _INSTRUMENTS[registry] = _Instruments(registry)
        return found


class PrometheusMetrics:
    """Reports runs as Prometheus metrics.

    Args:
        registry: the ``prometheus_client.CollectorRegistry`` to register on; the process-wide
            default registry when omitted. Several backends on one registry share its metrics.
        port: serve ``/metrics`` over HTTP on this port (``0`` picks a free one, see
            :attr:`port`); no server when omitted (the host exposes the registry itself).
        addr: the address the HTTP server listens on.
        mode: the ``mode`` label of ``training_duration_seconds``.

    Exposed: ``training_duration_seconds{mode}``, ``training_best_score{metric}``,
    ``tp_generations``, ``tp_population_size``, ``tp_pareto_front_size``, ``tp_evaluations``,
    ``tp_evaluation_failures``, ``training_in_progress``, ``tpot_parallel_fallbacks_total``,
    ``training_runs_total{status}`` and ``tpot_alerts_total{kind}``.

    Use :meth:`close` (or a ``with`` block) to stop the HTTP server.
    """

    def __init__(
        self,
        registry: Any = None,
        *,
        port: int | None = None,
        addr: str = "127.0.0.1",
        mode: str = "tpot",
    ):
        import prometheus_client

        self.registry = registry if registry is not None else prometheus_client.REGISTRY
        self.mode = mode
        self._m = _instruments(self.registry)
        self._server: Any = None
        self._thread: Any = None
        self.port: int | None = None
        if port is not None:
            self.port = self._serve(port, addr)

    @classmethod
    def from_options(cls, **options: Any) -> PrometheusMetrics:
        """The entry-point constructor :func:`~automl_tpot.metrics.metrics_from_name` calls."""
        return cls(**options)

    def _serve(self, port: int, addr: str) -> int:
        from prometheus_client import start_http_server

        try:
            self._server, self._thread = start_http_server(port, addr=addr, registry=self.registry)
        except (OSError, OverflowError, ValueError) as error:  # busy, privileged, out of range
            allowed = f"a free TCP port (0-65535) on {addr} ({error})"
            raise ConfigError("metrics_port", port, allowed) from error
        return int(self._server.server_address[1])

    def __repr__(self) -> str:
        served = f", port={self.port}" if self.port is not None else ""
        return f"PrometheusMetrics(mode={self.mode!r}{served})"

    # -- the MetricsBackend protocol -------------------------------------------------------------

    def on_progress(self, progress: GenerationProgress) -> None:
        """Update the live gauges."""
        m = self._m
        m.in_progress.set(1)
        m.duration.labels(mode=self.mode).set(progress.elapsed)
        m.generations.set(progress.generation)
        m.evaluations.set(progress.evaluations)
        m.failures.set(progress.failures)
        if progress.population_size is not None:
            m.population_size.set(progress.population_size)
        if progress.best_score is not None:
            m.best_score.labels(metric=progress.metric or "score").set(progress.best_score)

    def on_alert(self, alert: Alert) -> None:
        """Count the alert (and the fallback, for ``parallel_fallback``)."""
        self._m.alerts.labels(kind=alert.kind).inc()
        if alert.kind == "parallel_fallback":
            self._m.fallbacks.inc()

    def on_run_finished(self, summary: dict[str, Any]) -> None:
        """Set the final figures and count the run by status."""
        m = self._m
        m.in_progress.set(0)
        m.runs.labels(status=str(summary.get("status", "unknown"))).inc()
        total = (summary.get("timings") or {}).get("total")
        if total is not None:
            m.duration.labels(mode=str(summary.get("mode", self.mode))).set(total)
        if summary.get("best_score") is not None and summary.get("metric"):
            m.best_score.labels(metric=summary["metric"]).set(summary["best_score"])
        for key, gauge in (
            ("generations_completed", m.generations),
            ("population_size", m.population_size),
            ("pareto_front_size", m.pareto_front_size),
            ("evaluations", m.evaluations),
        ):
            if summary.get(key) is not None:
                gauge.set(summary[key])

    # -- the HTTP server -------------------------------------------------------------------------

    def close(self) -> None:
        """Stop the HTTP server, if one was started (the metrics stay on the registry)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = self._thread = None

    def __enter__(self) -> PrometheusMetrics:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
