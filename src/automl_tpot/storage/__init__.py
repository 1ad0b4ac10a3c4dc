"""Storage backends: where a run's artifacts go.

A backend implements the small :class:`Storage` protocol; :func:`write_run` and
:func:`load_run` / :func:`load_model` work the same on every backend. The filesystem backend is
the default.
"""

from .base import (
    ARTIFACT_NAMES,
    MANIFEST,
    Storage,
    StoredRun,
    load_model,
    load_run,
    new_run_id,
    validate_run_id,
    write_run,
)
from .filesystem import FilesystemStorage

__all__ = [
    "ARTIFACT_NAMES",
    "MANIFEST",
    "Storage",
    "StoredRun",
    "FilesystemStorage",
    "load_model",
    "load_run",
    "new_run_id",
    "validate_run_id",
    "write_run",
]
