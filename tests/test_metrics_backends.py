"""Metrics backends: Prometheus on its own registry and over real HTTP, structured logging,
the no-op backend, entry points, and the alert kinds."""

from __future__ import annotations

import logging
import socket
import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from automl_tpot import ConfigError
from automl_tpot.metrics import (
    LoggingMetrics,
    MetricsBackend,
    NullMetrics,
    PrometheusMetrics,
    available_metrics_backends,
    metrics_from_name,
)
from automl_tpot.records.events import ALERT_KINDS, Alert, GenerationProgress

PROGRESS = GenerationProgress(
    generation=2,
    elapsed=3.5,
    best_score=0.93,
    evaluations=12,
    failures=1,
    metric="roc_auc",
    population_size=6,
)
SUMMARY = {
    "status": "complete",
    "run_id": "r1",
    "metric": "roc_auc",
    "best_score": 0.95,
    "generations_completed": 3,
    "population_size": 6,
    "pareto_front_size": 2,
    "evaluations": 18,
    "timings": {"total": 9.25},
    "alerts": [{"kind": "timeout", "reason": "budget"}],
}


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """GET /metrics and parse it: {(sample name, sorted labels): value}."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        assert response.status == 200
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_every_backend_satisfies_the_protocol():
    for backend in (NullMetrics(), LoggingMetrics(), PrometheusMetrics(CollectorRegistry())):
        assert isinstance(backend, MetricsBackend)


def test_backends_are_registered_as_entry_points():
    assert {"none", "logging", "prometheus"} <= set(available_metrics_backends())
    assert isinstance(metrics_from_name("none"), NullMetrics)
    assert isinstance(metrics_from_name("logging"), LoggingMetrics)
    registry = CollectorRegistry()
    backend = metrics_from_name("prometheus", registry=registry)
    assert isinstance(backend, PrometheusMetrics) and backend.registry is registry
    with pytest.raises(ConfigError, match="metrics.*'prometheus'"):
        metrics_from_name("statsd")


def test_prometheus_gauges_follow_progress_and_the_final_summary():
    registry = CollectorRegistry()
    metrics = PrometheusMetrics(registry)
    value = registry.get_sample_value
    metrics.on_progress(PROGRESS)
    assert value("tp_generations") == 2
    assert value("tp_population_size") == 6
    assert value("tp_evaluations") == 12 and value("tp_evaluation_failures") == 1
    assert value("training_best_score", {"metric": "roc_auc"}) == pytest.approx(0.93)
    assert value("training_duration_seconds", {"mode": "tpot"}) == pytest.approx(3.5)
    assert value("training_in_progress") == 1
    metrics.on_alert(Alert("timeout", "budget"))
    metrics.on_alert(Alert("parallel_fallback", "scheduler gone"))
    metrics.on_run_finished(SUMMARY)
    assert value("training_runs_total", {"status": "complete"}) == 1
    assert value("tpot_alerts_total", {"kind": "timeout"}) == 1
    assert value("tpot_alerts_total", {"kind": "parallel_fallback"}) == 1
    assert value("tpot_parallel_fallbacks_total") == 1
    assert value("tp_pareto_front_size") == 2
    assert value("tp_generations") == 3
    assert value("training_best_score", {"metric": "roc_auc"}) == pytest.approx(0.95)
    assert value("training_duration_seconds", {"mode": "tpot"}) == pytest.approx(9.25)
    assert value("training_in_progress") == 0
    metrics.on_run_finished({"status": "failed", "error": "TrainingError: x", "timings": {}})
    assert value("training_runs_total", {"status": "failed"}) == 1


def test_backends_on_one_registry_share_its_metrics():
    registry = CollectorRegistry()
    first, second = PrometheusMetrics(registry), PrometheusMetrics(registry)
    first.on_run_finished(SUMMARY)
    second.on_run_finished(SUMMARY)
    assert registry.get_sample_value("training_runs_total", {"status": "complete"}) == 2


def test_prometheus_serves_the_registry_over_http_and_stops():
    registry = CollectorRegistry()
    with PrometheusMetrics(registry, port=0) as metrics:
        assert metrics.port
        metrics.on_progress(PROGRESS)
        metrics.on_alert(Alert("oom", "worker restarted"))
        samples = scrape(metrics.port)
        assert samples[("tp_generations", ())] == 2
        assert samples[("training_best_score", (("metric", "roc_auc"),))] == pytest.approx(0.93)
        assert samples[("tpot_alerts_total", (("kind", "oom"),))] == 1
        port = metrics.port
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_a_busy_port_is_a_config_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match="metrics_port"):
            PrometheusMetrics(CollectorRegistry(), port=port)


def test_logging_backend_writes_structured_records(caplog):
    metrics = LoggingMetrics()
    with caplog.at_level(logging.INFO, logger="automl_tpot.metrics"):
        metrics.on_progress(PROGRESS)
        metrics.on_alert(Alert("oom", "worker tcp://w exceeded 95% memory budget"))
        metrics.on_run_finished(SUMMARY)
        metrics.on_run_finished({"status": "failed", "error": "TrainingError: none fitted"})
    progress, alert, finished, failed = caplog.records
    assert progress.levelno == logging.INFO
    assert progress.automl_tpot == {"event": "training.generation", **PROGRESS.to_dict()}
    assert "generation=2" in progress.getMessage() and "best_score=0.93" in progress.getMessage()
    assert alert.levelno == logging.WARNING
    assert alert.automl_tpot["kind"] == "oom"
    assert "exceeded 95% memory budget" in alert.getMessage()
    assert finished.automl_tpot["duration_seconds"] == 9.25
    assert finished.automl_tpot["alerts"] == ["timeout"]
    assert failed.levelno == logging.ERROR and "none fitted" in failed.getMessage()


def test_alert_kinds_are_the_documented_ones():
    assert ALERT_KINDS == ("timeout", "oom", "parallel_fallback", "automl_fallback")
    assert Alert("automl_fallback", "TPOT failed").to_dict() == {
        "kind": "automl_fallback",
        "reason": "TPOT failed",
    }
    with pytest.raises(ConfigError, match="kind"):
        Alert("disk_full", "no")
