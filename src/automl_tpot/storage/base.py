"""The storage protocol and the run-level operations built on it.

A run is a set of named artifacts under a run identifier. It is written atomically in the only
way every object store allows: all artifacts first, the manifest ``run.json`` last. Readers treat
a run without a manifest as incomplete, and a failed write removes what it had written.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from attrs import define

from ..errors import StorageError

__all__ = [
    "ARTIFACT_NAMES",
    "CHECKPOINT",
    "MANIFEST",
    "Storage",
    "StoredRun",
    "check_new_run_id",
    "load_model",
    "load_run",
    "new_run_id",
    "validate_run_id",
    "write_run",
]

MANIFEST = "run.json"
MODEL = "model.joblib"
LEADERBOARD = "leaderboard.json"
PARETO_FRONT = "tp_pareto_front.json"
EVALUATED = "evaluated_individuals.json"
#: The artifacts of a complete run; their names are a contract with host applications.
ARTIFACT_NAMES = (MODEL, LEADERBOARD, PARETO_FRONT, EVALUATED, MANIFEST)
#: The pointer of a run's checkpoint (:mod:`automl_tpot.run.checkpoints`): a run that has one
#: and no manifest is unfinished, and can be resumed.
CHECKPOINT = "checkpoint.json"

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


def validate_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a safe single path segment, else raise :class:`StorageError`."""
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise StorageError(
            f"invalid run id {run_id!r}: use 1-128 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit, without '..' or path separators"
        )
    return run_id


def check_new_run_id(storage: Storage | None, run_id: str) -> str:
    """Return ``run_id`` if it is valid and (when ``storage`` is given) no complete run holds it.

    Raises:
        StorageError: an invalid id, or a complete run already stored under it.
    """
    validate_run_id(run_id)
    if storage is not None and storage.exists(run_id, MANIFEST):
        raise StorageError(f"run {run_id!r} already exists at {storage.location(run_id)}")
    return run_id


def new_run_id() -> str:
    """A fresh, sortable run identifier: UTC time plus random hex."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(3)


@runtime_checkable
class Storage(Protocol):
    """Where runs live. Implementations must make :meth:`write_bytes` all-or-nothing per name."""

    def location(self, run_id: str) -> str:
        """A human-readable address of the run (a path or URL)."""
        ...

    def write_bytes(self, run_id: str, name: str, data: bytes) -> None:
        """Store one artifact of a run."""
        ...

    def read_bytes(self, run_id: str, name: str) -> bytes:
        """Read one artifact of a run; :class:`StorageError` if it is missing."""
        ...

    def exists(self, run_id: str, name: str) -> bool:
        """Whether the artifact exists."""
        ...

    def list_runs(self) -> list[str]:
        """Identifiers of complete runs (those with a manifest), oldest first."""
        ...

    def delete_run(self, run_id: str) -> None:
        """Remove a run and all its artifacts; a missing run is not an error."""
        ...


@define(frozen=True, eq=False)
class StoredRun:
    """A complete run read back from storage: its manifest and JSON reports.

    Attributes:
        run_id: the run identifier.
        location: where it is stored.
        manifest: the parsed ``run.json``.
        leaderboard: the parsed ``leaderboard.json``.
        pareto_front: the parsed ``tp_pareto_front.json``.
        evaluated_individuals: the parsed ``evaluated_individuals.json``.
    """

    run_id: str
    location: str
    manifest: dict[str, Any]
    leaderboard: dict[str, Any]
    pareto_front: dict[str, Any]
    evaluated_individuals: dict[str, Any]


def write_run(
    storage: Storage, run_id: str, artifacts: Mapping[str, bytes], manifest: bytes
) -> str:
    """Write ``artifacts`` then the manifest; on any failure remove the partial run and raise.

    Returns the run's location.
    """
    check_new_run_id(storage, run_id)
    try:
        for name, data in artifacts.items():
            storage.write_bytes(run_id, name, data)
        storage.write_bytes(run_id, MANIFEST, manifest)
    except BaseException as error:
        with contextlib.suppress(Exception):  # the original error matters more than the clean-up's
            _remove_partial(storage, run_id, [MANIFEST, *artifacts])
        if isinstance(error, StorageError) or not isinstance(error, Exception):
            raise
        raise StorageError(
            f"could not write run {run_id!r} to {storage.location(run_id)}: {error}"
        ) from error
    return storage.location(run_id)


def _remove_partial(storage: Storage, run_id: str, names: list[str]) -> None:
    """Remove what a failed :func:`write_run` wrote: the whole run, or, when the run holds a
    checkpoint and the backend can remove single artifacts, only those (it can be resumed)."""
    deleter = getattr(storage, "delete_bytes", None)
    if deleter is None or not storage.exists(run_id, CHECKPOINT):
        storage.delete_run(run_id)
        return
    for name in names:
        deleter(run_id, name)


def _require_complete(storage: Storage, run_id: str) -> None:
    validate_run_id(run_id)
    if not storage.exists(run_id, MANIFEST):
        raise StorageError(
            f"no complete run {run_id!r} at {storage.location(run_id)} (no {MANIFEST}: the run is "
            "missing, still being written, or failed)"
        )


def _read_json(storage: Storage, run_id: str, name: str) -> dict[str, Any]:
    data = storage.read_bytes(run_id, name)
    try:
        return json.loads(data)
    except ValueError as error:
        raise StorageError(f"{name} of run {run_id!r} is not valid JSON: {error}") from error


def load_run(storage: Storage, run_id: str) -> StoredRun:
    """Read a complete run's manifest and reports."""
    _require_complete(storage, run_id)
    return StoredRun(
        run_id=run_id,
        location=storage.location(run_id),
        manifest=_read_json(storage, run_id, MANIFEST),
        leaderboard=_read_json(storage, run_id, LEADERBOARD),
        pareto_front=_read_json(storage, run_id, PARETO_FRONT),
        evaluated_individuals=_read_json(storage, run_id, EVALUATED),
    )


def load_model(storage: Storage, run_id: str) -> Any:
    """Load a complete run's model (a :class:`~automl_tpot.model.TabularModel`)."""
    import joblib

    _require_complete(storage, run_id)
    return joblib.load(io.BytesIO(storage.read_bytes(run_id, MODEL)))
