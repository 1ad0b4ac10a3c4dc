"""The JSON documents of a stored run, each built in one place from typed records.

``leaderboard.json``, ``tp_pareto_front.json`` and ``evaluated_individuals.json`` share a header
(``schema``, ``schema_version``, ``run_id``, ``metric``); ``run.json`` is the
:class:`RunManifest`. The published JSON Schemas (:mod:`automl_tpot.records.schemas`) describe
them; ``docs/artifacts.md`` documents every field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import define, field

from ..utils.clock import utc_timestamp
from .evaluation import EvaluationRecord, LeaderboardEntry, ParetoPoint

__all__ = [
    "COMPLEXITY",
    "SCHEMA_VERSION",
    "ArtifactDigest",
    "RunManifest",
    "evaluated_document",
    "leaderboard_document",
    "pareto_front_document",
]

#: Version of every JSON artifact this release writes; bumped on any incompatible change.
SCHEMA_VERSION = 1
#: The name of the complexity objective in the Pareto front.
COMPLEXITY = "complexity"


def _header(schema: str, run_id: str | None, metric: str) -> dict[str, Any]:
    return {
        "schema": f"automl-tpot/{schema}",
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "metric": metric,
    }


def leaderboard_document(
    run_id: str | None, metric: str, k: int, entries: Sequence[LeaderboardEntry]
) -> dict[str, Any]:
    """``leaderboard.json``: the ``k`` best pipelines, best first."""
    return {
        **_header("leaderboard", run_id, metric),
        "greater_is_better": True,
        "k": k,
        "entries": [entry.to_dict() for entry in entries],
    }


def pareto_front_document(
    run_id: str | None, metric: str, front: Sequence[ParetoPoint]
) -> dict[str, Any]:
    """``tp_pareto_front.json``: score against complexity, the non-dominated pipelines."""
    return {
        **_header("pareto-front", run_id, metric),
        "objectives": [
            {"name": metric, "direction": "maximize"},
            {"name": COMPLEXITY, "direction": "minimize"},
        ],
        "front": [point.to_dict() for point in front],
    }


def evaluated_document(
    run_id: str | None, metric: str, records: Sequence[EvaluationRecord]
) -> dict[str, Any]:
    """``evaluated_individuals.json``: every evaluation of the run."""
    return {
        **_header("evaluated-individuals", run_id, metric),
        "count": len(records),
        "individuals": [record.to_dict() for record in records],
    }


@define(frozen=True)
class ArtifactDigest:
    """The size and SHA-256 of one stored artifact, as the manifest lists it."""

    size: int
    sha256: str

    @classmethod
    def of(cls, data: bytes) -> ArtifactDigest:
        """The digest of ``data``."""
        return cls(len(data), hashlib.sha256(data).hexdigest())

    def matches(self, data: bytes) -> bool:
        """Whether ``data`` is what was stored."""
        return len(data) == self.size and hashlib.sha256(data).hexdigest() == self.sha256

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``bytes`` is the size)."""
        return {"bytes": self.size, "sha256": self.sha256}


@define(frozen=True)
class RunManifest:
    """``run.json``: written last, it marks a run as complete and lists what it holds.

    Attributes:
        run_id: the run's identifier.
        status: ``complete``, ``fallback`` (the AutoML fallback's baseline) or ``stopped``.
        config: the run's configuration (``TrainerConfig.to_dict()``).
        summary: the run's summary (``TrainingResult.summary()``).
        versions: Python's and the packages' versions the run used.
        artifacts: each stored artifact's size and SHA-256.
        created_at: when the manifest was made (UTC, ISO 8601).
    """

    run_id: str
    status: str
    config: Mapping[str, Any]
    summary: Mapping[str, Any]
    versions: Mapping[str, str]
    artifacts: Mapping[str, ArtifactDigest]
    created_at: str = field(factory=utc_timestamp)

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``run.json``)."""
        return {
            "schema": "automl-tpot/run",
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "status": self.status,
            "created_at": self.created_at,
            "config": dict(self.config),
            "summary": dict(self.summary),
            "versions": dict(self.versions),
            "artifacts": {name: digest.to_dict() for name, digest in self.artifacts.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunManifest:
        """The manifest of a parsed ``run.json``."""
        return cls(
            run_id=data["run_id"],
            status=data["status"],
            config=data.get("config", {}),
            summary=data.get("summary", {}),
            versions=data.get("versions", {}),
            artifacts={
                name: ArtifactDigest(int(item["bytes"]), str(item["sha256"]))
                for name, item in data.get("artifacts", {}).items()
            },
            created_at=data.get("created_at", ""),
        )
