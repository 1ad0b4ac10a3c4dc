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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from attrs import define

from ..errors import ConfigError, StorageConfigError, StorageError
from ..records.documents import ArtifactDigest
from ..utils.text import short_repr, shorten

__all__ = [
    "ARTIFACT_NAMES",
    "CHECKPOINT",
    "MANIFEST",
    "OPTIONAL_ARTIFACT_NAMES",
    "MODEL_FORMATS",
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
SIGNATURE = "signature.json"
#: The model in the skops format, stored besides model.joblib when ``TrainerConfig.skops``.
MODEL_SKOPS = "model.skops"
#: The artifacts of a complete run; their names are a contract with host applications.
ARTIFACT_NAMES = (MODEL, LEADERBOARD, PARETO_FRONT, EVALUATED, SIGNATURE, MANIFEST)
#: The model files ``load_model`` reads, by format.
MODEL_FORMATS = {"joblib": MODEL, "skops": MODEL_SKOPS}
#: Artifacts a run may hold besides those: the explanation stage's, when it ran in time.
IMPORTANCE = "importance.json"
DIAGNOSTICS = "diagnostics.json"
OPTIONAL_ARTIFACT_NAMES = (IMPORTANCE, DIAGNOSTICS, MODEL_SKOPS)
#: The pointer of a run's checkpoint (:mod:`automl_tpot.run.checkpoints`): a run that has one
#: and no manifest is unfinished, and can be resumed.
CHECKPOINT = "checkpoint.json"

_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


_RUN_ID_RULE = (
    "1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, without '..' or "
    "path separators"
)


def validate_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is a safe single path segment.

    Raises:
        StorageConfigError: (a :class:`StorageError` and a ``ConfigError``) naming the id.
    """
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id) or ".." in run_id:
        raise StorageConfigError(
            "run_id",
            run_id,
            _RUN_ID_RULE,
            f"invalid run id {short_repr(run_id)}: use {_RUN_ID_RULE}",
        )
    return run_id


def check_new_run_id(storage: Storage | None, run_id: str) -> str:
    """Return ``run_id`` if it is valid and (when ``storage`` is given) no complete run holds it.

    Raises:
        StorageConfigError: an invalid id, or a complete run already stored under it.
        StorageError: the storage could not be asked.
    """
    validate_run_id(run_id)
    if storage is not None and storage.exists(run_id, MANIFEST):
        location = storage.location(run_id)
        raise StorageConfigError(
            "run_id",
            run_id,
            "a run id no complete run holds",
            f"run {run_id!r} already exists at {location}; choose another run id",
        )
    return run_id


def new_run_id() -> str:
    """A fresh, sortable run identifier: UTC time plus 40 random bits (10 hex digits), so
    jobs that start in the same second, in any number of processes, do not collide."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(5)


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
        importance: the parsed ``importance.json``, ``None`` when the run has none.
        diagnostics: the parsed ``diagnostics.json``, ``None`` when the run has none.
        signature: the parsed ``signature.json`` (``None`` for a run stored before 0.1.0's
            signatures).
    """

    run_id: str
    location: str
    manifest: dict[str, Any]
    leaderboard: dict[str, Any]
    pareto_front: dict[str, Any]
    evaluated_individuals: dict[str, Any]
    importance: dict[str, Any] | None = None
    diagnostics: dict[str, Any] | None = None
    signature: dict[str, Any] | None = None


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
    """Read a complete run's manifest and reports (the optional ones when it has them)."""
    _require_complete(storage, run_id)
    manifest = _read_json(storage, run_id, MANIFEST)
    listed = manifest.get("artifacts", {})

    def optional(name: str) -> dict[str, Any] | None:
        return _read_json(storage, run_id, name) if name in listed else None

    return StoredRun(
        run_id=run_id,
        location=storage.location(run_id),
        manifest=manifest,
        leaderboard=_read_json(storage, run_id, LEADERBOARD),
        pareto_front=_read_json(storage, run_id, PARETO_FRONT),
        evaluated_individuals=_read_json(storage, run_id, EVALUATED),
        importance=optional(IMPORTANCE),
        diagnostics=optional(DIAGNOSTICS),
        signature=(
            _read_json(storage, run_id, SIGNATURE) if storage.exists(run_id, SIGNATURE) else None
        ),
    )


def load_model(
    storage: Storage | str | Path,
    run_id: str | None = None,
    *,
    format: str = "joblib",
    trusted: Sequence[str] = (),
    verify: bool = True,
) -> Any:
    """Load a complete run's model (a :class:`~automl_tpot.model.TabularModel`), after checking
    the file against the size and SHA-256 that ``run.json`` records for it.

    ``model.joblib`` is a pickle: loading it runs whatever code the file names, so load it only
    from storage you trust. The hash check catches a damaged, truncated or swapped file, not an
    attacker who can also rewrite ``run.json``. ``format="skops"`` reads ``model.skops`` (stored
    when the run had ``TrainerConfig(skops=True)``; needs the ``skops`` extra), which refuses
    any type outside :data:`automl_tpot.model.persistence.TRUSTED_TYPES` and ``trusted``.

    Args:
        storage: a storage backend, or the run's address (``runs/RUN_ID``,
            ``s3://bucket/prefix/RUN_ID``) when ``run_id`` is omitted.
        run_id: the run within ``storage``.
        format: ``"joblib"`` (``model.joblib``) or ``"skops"`` (``model.skops``).
        trusted: more type names the skops file may hold (``format="skops"`` only).
        verify: check the hash in ``run.json`` first (default); ``False`` skips the check.

    Raises:
        StorageError: no complete run, no such model file, a file that does not match
            ``run.json`` (cut short or altered), a type the skops loader does not trust, or a
            file that cannot be loaded.
        ConfigError: an unknown ``format``.
    """
    if run_id is None:
        if not isinstance(storage, (str, Path)):
            raise StorageError("load_model needs a run_id with a storage backend, or a run URL")
        from .registry import run_from_url

        storage, run_id = run_from_url(storage)
    elif isinstance(storage, (str, Path)):
        from .registry import storage_from_url

        storage = storage_from_url(storage)
    if format not in MODEL_FORMATS:
        raise ConfigError("format", format, " or ".join(map(repr, MODEL_FORMATS)))
    name = MODEL_FORMATS[format]
    _require_complete(storage, run_id)
    data = storage.read_bytes(run_id, name)
    if verify:
        _verify(storage, run_id, name, data)
    if format == "skops":
        from ..model.persistence import loads_skops

        return loads_skops(data, trusted=trusted, source=f"{name} of run {run_id!r}")
    import joblib

    try:
        return joblib.load(io.BytesIO(data))
    except Exception as error:  # pickle, joblib and the classes' own __setstate__ raise anything
        raise StorageError(
            f"{name} of run {run_id!r} at {storage.location(run_id)} cannot be loaded "
            f"({type(error).__name__}: {shorten(str(error))}): the file is damaged or truncated, "
            "or was written with other versions of the packages run.json lists"
        ) from error


def _verify(storage: Storage, run_id: str, name: str, data: bytes) -> None:
    """Raise :class:`StorageError` unless ``data`` is what ``run.json`` says ``name`` holds."""
    digest = _read_json(storage, run_id, MANIFEST).get("artifacts", {}).get(name)
    where = f"{name} of run {run_id!r} at {storage.location(run_id)}"
    if not isinstance(digest, Mapping) or "sha256" not in digest or "bytes" not in digest:
        raise StorageError(
            f"{MANIFEST} records no hash for {name}: cannot verify {where} "
            "(verify=False loads it unchecked, for storage you trust)"
        )
    expected = ArtifactDigest(int(digest["bytes"]), str(digest["sha256"]))
    if len(data) != expected.size:
        raise StorageError(
            f"{where} has {len(data)} bytes where {MANIFEST} records {expected.size}: the file "
            "is truncated or was replaced; refusing to load it"
        )
    if not expected.matches(data):
        raise StorageError(
            f"{where} does not match the SHA-256 {MANIFEST} records: the file was altered or "
            "mixed up with another run's; refusing to load it"
        )
