"""The MLflow backend: each training run becomes an MLflow run, with its configuration as
parameters, its progress as metrics per generation, its stored files as artifacts and its model
in MLflow's scikit-learn flavour, so ``mlflow.pyfunc.load_model("runs:/ID/model")`` predicts on
raw rows.

Why an explicit ``MlflowClient`` rather than MLflow's ``start_run`` / ``log_*`` functions: those
keep the active run and the tracking URI in process-wide state, and a host may train several
jobs at once in threads of one process; the client names its store and its run in every call.
Install with the ``mlflow`` extra (``mlflow-skinny``, plus SQLAlchemy and Alembic for a local
``sqlite:///`` store).
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..records.events import Alert, GenerationProgress

__all__ = ["MLflowMetrics"]

log = logging.getLogger(__name__)

#: The model's folder in the MLflow run's artifacts.
MODEL_PATH = "model"
#: The folder of the stored run's own files in the MLflow run's artifacts.
FILES_PATH = "automl_tpot"
#: The packages a served model needs, pinned to the versions the run used.
_REQUIREMENTS = ("automl-tpot", "tpot", "scikit-learn", "pandas", "numpy", "cloudpickle")
#: MLflow's status for each end of a run.
_STATUS = {
    "complete": "FINISHED",
    "failed": "FAILED",
    "cancelled": "KILLED",
    "interrupted": "KILLED",
}
#: MLflow's limits: characters of a parameter's value, entries of one batch.
_MAX_VALUE = 6000
_BATCH = 100


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _requirements() -> list[str]:
    return [
        package if _version(package) is None else f"{package}=={_version(package)}"
        for package in _REQUIREMENTS
    ]


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    return text[:_MAX_VALUE]


class MLflowMetrics:
    """Logs every training run to an MLflow tracking store.

    Args:
        tracking_uri: the tracking store: a server (``http://mlflow:5000``), a database
            (``sqlite:///mlflow.db``) or a folder; ``None`` for MLflow's default (the
            ``MLFLOW_TRACKING_URI`` variable).
        experiment_name: the experiment runs go to (created when missing).
        artifact_location: where a newly created experiment stores artifacts (MLflow's
            default when omitted).
        tags: tags set on every run.
        log_model: log the model in the scikit-learn flavour (with a signature and an input
            example of raw rows).

    Raises:
        ConfigError: MLflow is not installed.

    What a run holds: the parameters (every ``TrainerConfig`` field), the metrics
    ``best_score``, ``evaluations``, ``failures`` and ``elapsed_seconds`` per generation (the
    step), the run's final figures (``final_best_score``, ``generations_completed``, phase
    timings, ...), the tags ``automl_tpot.run_id``, ``automl_tpot.location``, the alerts and
    the status, the stored files under ``automl_tpot/`` and the model under ``model/``.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment_name: str = "automl-tpot",
        *,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
        log_model: bool = True,
    ):
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            allowed = "an installed MLflow (pip install 'automl-tpot[mlflow]')"
            raise ConfigError("metrics", "mlflow", allowed) from None
        self.tracking_uri = tracking_uri
        self.experiment_name = experiment_name
        self.artifact_location = artifact_location
        self.tags = dict(tags or {})
        self.log_model = log_model
        self.client = MlflowClient(tracking_uri=tracking_uri)
        self._lock = threading.Lock()
        self._run_id: str | None = None
        self._alerts = 0
        #: The MLflow run id of the last run logged (for :meth:`log_file` after it ended).
        self.last_run_id: str | None = None

    @classmethod
    def from_options(cls, **options: Any) -> MLflowMetrics:
        """The entry-point constructor :func:`~automl_tpot.metrics.metrics_from_name` calls."""
        return cls(**options)

    def __repr__(self) -> str:
        return f"MLflowMetrics({self.tracking_uri!r}, experiment={self.experiment_name!r})"

    # -- the MLflow run ------------------------------------------------------------------------

    def _experiment_id(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment_name)
        if found is not None:
            return str(found.experiment_id)
        try:
            return str(
                self.client.create_experiment(
                    self.experiment_name, artifact_location=self.artifact_location
                )
            )
        except Exception:  # another process or thread created it meanwhile
            again = self.client.get_experiment_by_name(self.experiment_name)
            if again is None:
                raise
            return str(again.experiment_id)

    def _run(self) -> str:
        """The MLflow run of the current training run, created on its first event."""
        with self._lock:
            if self._run_id is None:
                tags = {"automl_tpot.version": _version("automl-tpot") or "unknown", **self.tags}
                run = self.client.create_run(self._experiment_id(), tags=tags)
                self._run_id = self.last_run_id = run.info.run_id
                self._alerts = 0
            return self._run_id

    def _metrics(self, values: Mapping[str, float | None], step: int) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        batch = [
            Metric(key, float(value), stamp, step)
            for key, value in values.items()
            if value is not None
        ]
        if batch:
            self.client.log_batch(self._run(), metrics=batch)

    # -- the backend's events ------------------------------------------------------------------

    def on_progress(self, progress: GenerationProgress) -> None:
        """Log a finished generation's figures, the generation as the step."""
        self._metrics(
            {
                "best_score": progress.best_score,
                "evaluations": progress.evaluations,
                "failures": progress.failures,
                "elapsed_seconds": progress.elapsed,
            },
            step=progress.generation,
        )

    def on_alert(self, alert: Alert) -> None:
        """Tag the run with the alert (``automl_tpot.alert.N.KIND``: the reason)."""
        run_id = self._run()
        with self._lock:
            self._alerts += 1
            key = f"automl_tpot.alert.{self._alerts}.{alert.kind}"
        self.client.set_tag(run_id, key, alert.reason[:_MAX_VALUE])

    def on_run_stored(
        self,
        run_id: str,
        location: str,
        artifacts: Mapping[str, bytes],
        model: Any,
        input_example: Any,
    ) -> None:
        """Log the configuration, the final figures, the stored files and the model."""
        from mlflow.entities import Param, RunTag

        mlflow_run = self._run()
        manifest = json.loads(artifacts["run.json"])
        params = [Param(k, _param(v)) for k, v in sorted(manifest.get("config", {}).items())]
        tags = [
            RunTag("mlflow.runName", run_id),
            RunTag("automl_tpot.run_id", run_id),
            RunTag("automl_tpot.location", location[:_MAX_VALUE]),
            RunTag("automl_tpot.best_pipeline", _param(manifest["summary"].get("best_pipeline"))),
        ]
        for start in range(0, len(params), _BATCH):
            self.client.log_batch(mlflow_run, params=params[start : start + _BATCH])
        self.client.log_batch(mlflow_run, tags=tags)
        summary = manifest.get("summary", {})
        final = {
            "final_best_score": summary.get("best_score"),
            "generations_completed": summary.get("generations_completed"),
            "evaluations_total": summary.get("evaluations"),
            "successful_evaluations": summary.get("successful_evaluations"),
            "pareto_front_size": summary.get("pareto_front_size"),
            **{f"seconds_{k}": v for k, v in (summary.get("timings") or {}).items()},
        }
        self._metrics(final, step=int(summary.get("generations_completed") or 0))
        with tempfile.TemporaryDirectory(prefix="automl-tpot-mlflow-") as scratch:
            files = Path(scratch) / FILES_PATH
            files.mkdir()
            for name, data in artifacts.items():
                (files / name).write_bytes(data)
            self.client.log_artifacts(mlflow_run, str(files), FILES_PATH)
            if self.log_model:
                folder = Path(scratch) / MODEL_PATH
                _save_model(model, input_example, folder)
                self.client.log_artifacts(mlflow_run, str(folder), MODEL_PATH)

    def on_run_finished(self, summary: dict[str, Any]) -> None:
        """End the MLflow run: ``FINISHED``, ``FAILED`` (with the error as a tag) or ``KILLED``."""
        run_id = self._run()
        status = str(summary.get("status", "complete"))
        if summary.get("error"):
            self.client.set_tag(run_id, "automl_tpot.error", str(summary["error"])[:_MAX_VALUE])
        self.client.set_tag(run_id, "automl_tpot.status", status)
        self.client.set_terminated(run_id, _STATUS.get(status, "FAILED"))
        with self._lock:
            self._run_id = None

    def log_file(self, path: str | Path, artifact_path: str = FILES_PATH) -> None:
        """Add a file (the HTML report, say) to the last run logged, after it ended."""
        if self.last_run_id is None:
            raise ConfigError("run", None, "a run logged by this backend before log_file")
        self.client.log_artifact(self.last_run_id, str(path), artifact_path)


def _save_model(model: Any, input_example: Any, folder: Path) -> None:
    """``model`` in MLflow's scikit-learn flavour, its signature inferred from raw rows."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    signature = infer_signature(input_example, model.predict(input_example))
    mlflow.sklearn.save_model(
        model,
        str(folder),
        signature=signature,
        input_example=input_example,
        serialization_format="cloudpickle",  # the model's own classes; skops would refuse them
        pip_requirements=_requirements(),
    )
