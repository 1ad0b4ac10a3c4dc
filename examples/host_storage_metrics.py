"""A host application wiring its own storage and metrics backends into the Trainer.

The host owns a Prometheus registry (its /metrics endpoint would serve it) and a storage
backend chosen by URL; here ``memory://`` stands in for ``s3://bucket/prefix``.

    python examples/host_storage_metrics.py
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from sklearn.datasets import load_breast_cancer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TINY  # noqa: E402

from automl_tpot import (  # noqa: E402
    PrometheusMetrics,
    Trainer,
    TrainerConfig,
    load_run,
    storage_from_url,
)

WATCHED = (
    "training_duration_seconds",
    "training_best_score",
    "tp_generations",
    "tp_population_size",
    "tp_pareto_front_size",
    "tp_evaluations",
    "training_runs_total",
)


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    table = load_breast_cancer(as_frame=True).frame

    registry = CollectorRegistry()  # the host's registry; the default one works too
    metrics = PrometheusMetrics(registry=registry)
    storage = storage_from_url("memory://example-runs")  # or "s3://models/tpot", a folder, ...

    config = TrainerConfig(target_column="target", metric="roc_auc", **TINY)
    result = Trainer(config, storage=storage, metrics=metrics).train(table)

    print("what Prometheus would scrape (selected series):")
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith(WATCHED):
            print(" ", line)

    print("runs in storage:", storage.list_runs())
    run = load_run(storage, result.run_id)
    print("manifest status:", run.manifest["status"], "| schema:", run.manifest["schema"])
    print("alerts:", [alert["kind"] for alert in run.manifest["summary"]["alerts"]] or "none")


if __name__ == "__main__":
    main()
