"""The run writer: a :class:`~automl_tpot.run.result.TrainingResult` into storage as the
standard artifact set, artifacts first and ``run.json`` last, with each artifact's hash.

The Trainer and the AutoML fallback both store through :func:`write_result`, so every run has
the same artifacts whatever produced its model.
"""

from __future__ import annotations

import io
import platform
import time
from importlib.metadata import PackageNotFoundError, version

import attrs

from ..records.documents import (
    ArtifactDigest,
    RunManifest,
    evaluated_document,
    leaderboard_document,
    pareto_front_document,
)
from ..records.explanations import diagnostics_document, importance_document
from ..storage import Storage, write_run
from ..storage.base import (
    DIAGNOSTICS,
    EVALUATED,
    IMPORTANCE,
    LEADERBOARD,
    MODEL,
    MODEL_SKOPS,
    PARETO_FRONT,
    SIGNATURE,
)
from ..utils.jsonio import dumps_json
from .result import TrainingResult

__all__ = ["package_versions", "serialise_artifacts", "write_result"]

#: The packages whose versions ``run.json`` records.
VERSIONED_PACKAGES = (
    "automl-tpot",
    "tpot",
    "scikit-learn",
    "dask",
    "distributed",
    "pandas",
    "numpy",
)


def package_versions() -> dict[str, str]:
    """Python's and the run's main packages' versions."""
    found = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return found


def serialise_artifacts(result: TrainingResult) -> dict[str, bytes]:
    """The artifacts of ``result`` (without the manifest), name -> bytes."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(result.model, buffer, compress=3)
    run_id, metric = result.run_id, result.metric
    model = result.model
    extra = {}
    if result.config.skops:
        from ..model.persistence import dumps_skops

        extra[MODEL_SKOPS] = dumps_skops(model)
    artifacts = {
        MODEL: buffer.getvalue(),
        **extra,
        SIGNATURE: dumps_json(model.signature_.to_dict(run_id, model.invalid_values)),
        LEADERBOARD: dumps_json(
            leaderboard_document(
                run_id, metric, result.config.leaderboard_k, result.leaderboard_entries
            )
        ),
        PARETO_FRONT: dumps_json(pareto_front_document(run_id, metric, result.pareto_points)),
        EVALUATED: dumps_json(evaluated_document(run_id, metric, result.evaluations)),
    }
    explanations = result.explanations
    if explanations is not None and explanations.computed:  # optional: a run may lack them
        artifacts[IMPORTANCE] = dumps_json(importance_document(run_id, explanations))
        artifacts[DIAGNOSTICS] = dumps_json(diagnostics_document(run_id, explanations))
    return artifacts


def write_result(
    storage: Storage,
    result: TrainingResult,
    run_id: str,
    *,
    status: str = "complete",
    started: float | None = None,
) -> TrainingResult:
    """Store ``result`` as run ``run_id``; return it with its ``run_id``, ``location`` and the
    ``store`` and ``total`` timings (``started``: the run's ``time.monotonic()`` start).

    Raises:
        StorageError: the run could not be written (nothing of it is left) or already exists.
    """
    store_started = time.monotonic()
    result = attrs.evolve(result, run_id=run_id)
    artifacts = serialise_artifacts(result)
    if MODEL_SKOPS in artifacts:
        from ..model.persistence import untrusted_types

        untrusted = untrusted_types(artifacts[MODEL_SKOPS])
        if untrusted:  # said now, not first when someone loads it
            result = attrs.evolve(
                result,
                notes=[
                    *result.notes,
                    f"{MODEL_SKOPS} holds types outside the trusted list: {untrusted[:10]}; "
                    "load_model(..., format='skops') needs them in trusted=[...]",
                ],
            )
    timings = dict(result.timings)
    timings["store"] = round(time.monotonic() - store_started, 3)
    if started is not None:
        timings["total"] = round(time.monotonic() - started, 3)
    result = attrs.evolve(result, timings=timings)
    manifest = RunManifest(
        run_id=run_id,
        status=status,
        config=result.config.to_dict(),
        summary=result.summary(),
        versions=package_versions(),
        artifacts={name: ArtifactDigest.of(data) for name, data in artifacts.items()},
    )
    location = write_run(storage, run_id, artifacts, dumps_json(manifest.to_dict()))
    return attrs.evolve(result, location=location)
