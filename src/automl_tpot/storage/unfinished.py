"""Unfinished runs: a checkpoint (``checkpoint.json``) and no manifest.

A run that crashed, was killed or aborted leaves its last checkpoint in its storage location
and can be resumed (``Trainer.train(data, resume=RUN_ID)``). Such a run is never listed by
``list_runs()`` and ``load_run`` refuses it; :func:`unfinished_runs` lists it, from the small
pointer alone. Backends list unfinished runs and remove single artifacts through two optional
methods, ``list_unfinished()`` and ``delete_bytes(run_id, name)``, which the built-in
filesystem and fsspec backends have.
"""

from __future__ import annotations

import json

from attrs import define

from ..errors import StorageError
from ..records.checkpoint import CheckpointPointer
from .base import CHECKPOINT, MANIFEST, Storage, validate_run_id

__all__ = ["UnfinishedRun", "delete_artifact", "load_unfinished", "read_pointer", "unfinished_runs"]


@define(frozen=True)
class UnfinishedRun:
    """A run that can be resumed, as its checkpoint pointer describes it.

    Attributes:
        run_id: the run's identifier.
        location: where it is stored.
        generations_completed: generations its newest checkpoint holds.
        saved_at: when that checkpoint was taken (UTC, ISO 8601).
        attempt: the attempt that wrote it (1 until the run was first resumed).
        seconds_spent: the budget spent so far, all attempts together.
        metric: the optimised metric.
        best_score: the best cross-validated score so far.
        evaluations: evaluations with an outcome so far.
    """

    run_id: str
    location: str
    generations_completed: int
    saved_at: str
    attempt: int
    seconds_spent: float
    metric: str
    best_score: float | None
    evaluations: int


def read_pointer(storage: Storage, run_id: str) -> CheckpointPointer | None:
    """The run's checkpoint pointer, or ``None`` when it has none.

    Raises:
        StorageError: the pointer cannot be read or is not a checkpoint pointer.
    """
    validate_run_id(run_id)
    if not storage.exists(run_id, CHECKPOINT):
        return None
    data = storage.read_bytes(run_id, CHECKPOINT)
    try:
        return CheckpointPointer.from_dict(json.loads(data))
    except (KeyError, TypeError, ValueError) as error:
        raise StorageError(
            f"{CHECKPOINT} of run {run_id!r} at {storage.location(run_id)} is damaged: {error}"
        ) from error


def load_unfinished(storage: Storage, run_id: str) -> UnfinishedRun:
    """The unfinished run ``run_id``.

    Raises:
        StorageError: the run is complete, has no checkpoint, or its pointer is damaged.
    """
    if storage.exists(validate_run_id(run_id), MANIFEST):
        raise StorageError(f"run {run_id!r} at {storage.location(run_id)} is complete")
    pointer = read_pointer(storage, run_id)
    if pointer is None:
        raise StorageError(f"run {run_id!r} at {storage.location(run_id)} has no checkpoint")
    return UnfinishedRun(
        run_id=run_id,
        location=storage.location(run_id),
        generations_completed=pointer.generations_completed,
        saved_at=pointer.saved_at,
        attempt=pointer.attempt,
        seconds_spent=pointer.seconds_spent,
        metric=pointer.metric,
        best_score=pointer.best_score,
        evaluations=pointer.evaluations,
    )


def unfinished_runs(storage: Storage) -> list[UnfinishedRun]:
    """The unfinished runs of ``storage``, oldest checkpoint first (damaged pointers skipped).

    Raises:
        StorageError: the backend cannot list unfinished runs (it has no ``list_unfinished``).
    """
    lister = getattr(storage, "list_unfinished", None)
    if lister is None:
        raise StorageError(f"{storage!r} cannot list unfinished runs (no list_unfinished())")
    found = []
    for run_id in lister():
        try:
            found.append(load_unfinished(storage, run_id))
        except StorageError:  # finished or removed meanwhile, or a damaged pointer
            continue
    return found


def delete_artifact(storage: Storage, run_id: str, name: str) -> bool:
    """Remove one artifact where the backend can (``delete_bytes``); whether it could."""
    deleter = getattr(storage, "delete_bytes", None)
    if deleter is None:
        return False
    deleter(run_id, name)
    return True
