"""Storage backends: where a run's artifacts go.

A backend implements the small :class:`Storage` protocol; :func:`write_run` and
:func:`load_run` / :func:`load_model` work the same on every backend. The filesystem backend is
the default; :class:`FsspecStorage` stores runs under any fsspec URL (``s3://``, ``memory://``,
...), and :func:`storage_from_url` picks the backend from a URL through the
``automl_tpot.storage`` entry points. :func:`unfinished_runs` lists the runs that left a
checkpoint and no manifest (crashed, killed or aborted), which can be resumed.
"""

from .base import (
    ARTIFACT_NAMES,
    CHECKPOINT,
    MANIFEST,
    OPTIONAL_ARTIFACT_NAMES,
    Storage,
    StoredRun,
    check_new_run_id,
    load_model,
    load_run,
    new_run_id,
    validate_run_id,
    write_run,
)
from .filesystem import FilesystemStorage
from .objectstore import FsspecStorage
from .registry import available_storage_schemes, run_from_url, storage_from_url
from .unfinished import UnfinishedRun, load_unfinished, unfinished_runs

__all__ = [
    "ARTIFACT_NAMES",
    "CHECKPOINT",
    "MANIFEST",
    "OPTIONAL_ARTIFACT_NAMES",
    "Storage",
    "StoredRun",
    "UnfinishedRun",
    "FilesystemStorage",
    "FsspecStorage",
    "available_storage_schemes",
    "check_new_run_id",
    "load_model",
    "load_run",
    "load_unfinished",
    "new_run_id",
    "run_from_url",
    "storage_from_url",
    "unfinished_runs",
    "validate_run_id",
    "write_run",
]
