"""automl-tpot: a production training engine around TPOT 1.x.

The public API is re-exported here. Heavy modules (TPOT, scikit-learn, Dask) load on first use,
so ``import automl_tpot`` stays fast.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import TYPE_CHECKING, Any

from . import _legacy
from .config import TrainerConfig
from .errors import (
    AutoMLTPOTError,
    ClusterError,
    ConfigError,
    DataError,
    JobCancelled,
    JobError,
    JobFailed,
    JobRejected,
    ResumeError,
    RunAborted,
    SearchSpaceConfigError,
    SearchSpaceError,
    StorageConfigError,
    StorageError,
    TPOTCompatibilityError,
    TrainingCancelled,
    TrainingError,
)

try:
    # One version source: pyproject.toml's, as installed (run.json and --version read it too).
    __version__ = importlib.metadata.version("automl-tpot")
except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a source tree on sys.path
    __version__ = "0+unknown"

_legacy.install()

__all__ = [
    "Alert",
    "AutoMLClassifier",
    "AutoMLRegressor",
    "AutoMLTPOTError",
    "ClusterError",
    "ConfigError",
    "DataError",
    "EvaluationProgress",
    "FeatureTypes",
    "FilesystemStorage",
    "FsspecStorage",
    "GenerationProgress",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobRejected",
    "LoggingMetrics",
    "MLflowMetrics",
    "MetricsBackend",
    "NullMetrics",
    "SearchContext",
    "SearchSpaceDefinition",
    "PrometheusMetrics",
    "SearchSpaceConfigError",
    "ResumeError",
    "RunAborted",
    "SearchSpaceError",
    "Storage",
    "StorageConfigError",
    "StorageError",
    "StoredRun",
    "TPOTCompatibilityError",
    "TabularModel",
    "Trainer",
    "TrainingCancelled",
    "TrainerConfig",
    "TrainingError",
    "TrainingResult",
    "UnfinishedRun",
    "load_model",
    "load_run",
    "load_unfinished",
    "metrics_from_name",
    "run_for_job",
    "storage_from_url",
    "write_report",
    "unfinished_runs",
]

# name -> module that defines it, imported on first access.
_LAZY = {
    "Alert": "records.events",
    "AutoMLClassifier": "estimators",
    "AutoMLRegressor": "estimators",
    "EvaluationProgress": "records.events",
    "FeatureTypes": "data",
    "FilesystemStorage": "storage",
    "FsspecStorage": "storage",
    "GenerationProgress": "records.events",
    "LoggingMetrics": "metrics",
    "MLflowMetrics": "metrics.mlflow",
    "MetricsBackend": "metrics",
    "NullMetrics": "metrics",
    "SearchContext": "search_spaces",
    "SearchSpaceDefinition": "plugins",
    "PrometheusMetrics": "metrics",
    "Storage": "storage",
    "StoredRun": "storage",
    "TabularModel": "model",
    "Trainer": "run.trainer",
    "TrainingResult": "run.result",
    "UnfinishedRun": "storage",
    "load_model": "storage",
    "load_run": "storage",
    "load_unfinished": "storage",
    "metrics_from_name": "metrics",
    "run_for_job": "jobs",
    "storage_from_url": "storage",
    "write_report": "report",
    "unfinished_runs": "storage",
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .data import FeatureTypes
    from .estimators import AutoMLClassifier, AutoMLRegressor
    from .jobs.entry import run_for_job
    from .metrics import (
        LoggingMetrics,
        MetricsBackend,
        NullMetrics,
        PrometheusMetrics,
        metrics_from_name,
    )
    from .metrics.mlflow import MLflowMetrics
    from .model import TabularModel
    from .plugins import SearchSpaceDefinition
    from .records.events import Alert, EvaluationProgress, GenerationProgress
    from .report import write_report
    from .run.result import TrainingResult
    from .run.trainer import Trainer
    from .search_spaces import SearchContext
    from .storage import (
        FilesystemStorage,
        FsspecStorage,
        Storage,
        StoredRun,
        UnfinishedRun,
        load_model,
        load_run,
        load_unfinished,
        storage_from_url,
        unfinished_runs,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automl_tpot' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
