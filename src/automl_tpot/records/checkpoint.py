"""``checkpoint.json``: the small pointer that names a run's newest checkpoint payload.

A checkpoint is written in two steps so a crash never leaves a half-written one in use: the
payload first, as a new object named after its generation (``checkpoint-0003.pkl``), then this
pointer naming it with its SHA-256, and the payload before it as the fallback. A reader that
finds the newest payload missing or damaged uses the previous one. The pointer also says how
far the run got and how much of its budget it spent, so listing unfinished runs reads only it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import attrs
from attrs import define, field

from .documents import SCHEMA_VERSION

__all__ = [
    "ATTEMPT_OUTCOMES",
    "CHECKPOINT_SCHEMA",
    "AttemptRecord",
    "CheckpointFile",
    "CheckpointPointer",
    "payload_name",
]

#: The pointer's ``schema``.
CHECKPOINT_SCHEMA = "automl-tpot/checkpoint"
#: How an attempt of a run ended: ``unfinished`` (still running when its checkpoint was taken),
#: ``interrupted`` (it ended without storing the run: killed, crashed or aborted), ``complete``
#: or ``stopped`` (it stored the run; ``stopped`` when asked to finish early).
ATTEMPT_OUTCOMES = ("unfinished", "interrupted", "complete", "stopped")


def payload_name(generations_completed: int) -> str:
    """The artifact name of the payload written after ``generations_completed`` generations."""
    return f"checkpoint-{int(generations_completed):04d}.pkl"


@define(frozen=True)
class AttemptRecord:
    """One attempt of a run: the first training, or one resume.

    Attributes:
        attempt: its number (1 is the first training).
        started_at: when it started (UTC, ISO 8601).
        budget: the seconds it was given (``time_left``, less what earlier attempts spent).
        from_generation: generations done when it started (0 for the first attempt).
        generations_completed: generations done at its last checkpoint (or its end).
        seconds: the budget it spent: from its start to its last checkpoint (an attempt that
            ended without storing the run), or to its result.
        timings: its seconds per phase, as far as it got.
        outcome: one of :data:`ATTEMPT_OUTCOMES`.
    """

    attempt: int
    started_at: str
    budget: float
    from_generation: int
    generations_completed: int
    seconds: float
    timings: Mapping[str, float]
    outcome: str = field(validator=attrs.validators.in_(ATTEMPT_OUTCOMES))

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (an item of ``run.json``'s ``summary.resume.attempts``)."""
        return {
            "attempt": self.attempt,
            "started_at": self.started_at,
            "budget": round(self.budget, 3),
            "from_generation": self.from_generation,
            "generations_completed": self.generations_completed,
            "seconds": round(self.seconds, 3),
            "timings": dict(self.timings),
            "outcome": self.outcome,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AttemptRecord:
        """The record of a JSON view."""
        return cls(
            attempt=int(data["attempt"]),
            started_at=str(data["started_at"]),
            budget=float(data["budget"]),
            from_generation=int(data["from_generation"]),
            generations_completed=int(data["generations_completed"]),
            seconds=float(data["seconds"]),
            timings={str(k): float(v) for k, v in dict(data["timings"]).items()},
            outcome=str(data["outcome"]),
        )


@define(frozen=True)
class CheckpointFile:
    """One stored checkpoint payload: its name, how far the search was, its size and hash."""

    name: str
    generations_completed: int
    size: int
    sha256: str

    @classmethod
    def of(cls, generations_completed: int, data: bytes) -> CheckpointFile:
        """The file that stores ``data`` as the payload after ``generations_completed``."""
        return cls(
            payload_name(generations_completed),
            int(generations_completed),
            len(data),
            hashlib.sha256(data).hexdigest(),
        )

    def matches(self, data: bytes) -> bool:
        """Whether ``data`` is what was written."""
        return len(data) == self.size and hashlib.sha256(data).hexdigest() == self.sha256

    def to_dict(self) -> dict[str, Any]:
        """The JSON view."""
        return {
            "name": self.name,
            "generations_completed": self.generations_completed,
            "bytes": self.size,
            "sha256": self.sha256,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckpointFile:
        """The file of a parsed JSON view."""
        return cls(
            str(data["name"]),
            int(data["generations_completed"]),
            int(data["bytes"]),
            str(data["sha256"]),
        )


@define(frozen=True)
class CheckpointPointer:
    """``checkpoint.json``.

    Attributes:
        run_id: the run.
        payload: the newest payload.
        previous: the payload before it (the fallback), if any.
        saved_at: when the newest payload was taken (UTC, ISO 8601).
        attempt: the attempt that wrote it (1 for the first run, 2 after one resume, ...).
        seconds_spent: the budget the run has spent so far, all attempts together (each up to
            its last checkpoint).
        metric: the optimised metric's name.
        best_score: the best cross-validated score so far (``None`` before any).
        evaluations: evaluations with an outcome so far.
        fingerprint: the SHA-256 of the prepared training data.
    """

    run_id: str
    payload: CheckpointFile
    previous: CheckpointFile | None
    saved_at: str
    attempt: int
    seconds_spent: float
    metric: str
    best_score: float | None
    evaluations: int
    fingerprint: str

    @property
    def generations_completed(self) -> int:
        """Generations the newest payload holds (the initial population counts as 1)."""
        return self.payload.generations_completed

    def to_dict(self) -> dict[str, Any]:
        """The JSON view (``checkpoint.json``)."""
        return {
            "schema": CHECKPOINT_SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "run_id": self.run_id,
            "generations_completed": self.generations_completed,
            "saved_at": self.saved_at,
            "payload": self.payload.to_dict(),
            "previous": None if self.previous is None else self.previous.to_dict(),
            "attempt": self.attempt,
            "seconds_spent": self.seconds_spent,
            "metric": self.metric,
            "best_score": self.best_score,
            "evaluations": self.evaluations,
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckpointPointer:
        """The pointer of a parsed ``checkpoint.json``.

        Raises:
            KeyError, TypeError, ValueError: the document is not a checkpoint pointer.
        """
        if data.get("schema") != CHECKPOINT_SCHEMA:
            raise ValueError(f"not a checkpoint pointer (schema {data.get('schema')!r})")
        previous = data.get("previous")
        best = data.get("best_score")
        return cls(
            run_id=str(data["run_id"]),
            payload=CheckpointFile.from_dict(data["payload"]),
            previous=None if previous is None else CheckpointFile.from_dict(previous),
            saved_at=str(data["saved_at"]),
            attempt=int(data["attempt"]),
            seconds_spent=float(data["seconds_spent"]),
            metric=str(data["metric"]),
            best_score=None if best is None else float(best),
            evaluations=int(data["evaluations"]),
            fingerprint=str(data["fingerprint"]),
        )
