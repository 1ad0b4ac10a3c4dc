"""Choosing a storage backend by URL, through the ``automl_tpot.storage`` entry points.

The URL scheme names the entry point (``file``, ``s3``, ``memory``, ...); a backend registered
there is a class with a ``from_url(url, **options)`` constructor. A plain path is the filesystem
backend; a scheme no entry point claims but fsspec knows goes to the fsspec backend.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from ..errors import StorageConfigError
from ..utils.text import short_repr, shorten
from .base import Storage, validate_run_id

__all__ = ["ENTRY_POINT_GROUP", "available_storage_schemes", "run_from_url", "storage_from_url"]

ENTRY_POINT_GROUP = "automl_tpot.storage"


def available_storage_schemes() -> list[str]:
    """URL schemes registered by installed packages (the package's own included)."""
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def _scheme(url: str) -> str | None:
    head, sep, _ = url.partition("://")
    if not sep or not head.replace("+", "").replace("-", "").replace(".", "").isalnum():
        return None
    return head.lower()


def storage_from_url(url: str | Path, **options: Any) -> Storage:
    """The backend for ``url``: ``runs/`` or ``file:///srv/runs`` (filesystem), ``s3://bucket/prefix``
    (with ``endpoint_url=``, ``key=``, ``secret=`` or the ``AWS_*`` variables), ``memory://runs``,
    or any scheme a plugin registers under ``automl_tpot.storage``.

    Raises:
        StorageConfigError: the scheme is neither registered nor known to fsspec.
        StorageError: the backend rejects the URL.
    """
    text = str(url)
    scheme = _scheme(text) if isinstance(url, str) else None
    if scheme is None:
        from .filesystem import FilesystemStorage

        return FilesystemStorage.from_url(text, **options)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name == scheme:
            backend = entry_point.load()
            return backend.from_url(text, **options)
    import fsspec

    if scheme in fsspec.available_protocols():
        from .objectstore import FsspecStorage

        return FsspecStorage.from_url(text, **options)
    registered = ", ".join(available_storage_schemes()) or "none"
    allowed = f"a folder, or a URL of a registered scheme ({registered}) or fsspec protocol"
    raise StorageConfigError(
        "storage",
        text,
        allowed,
        f"no storage backend for {shorten(scheme, 40)}:// URLs ({short_repr(text)}); "
        f"registered: {registered}, or any fsspec protocol",
    )


def run_from_url(url: str | Path, **options: Any) -> tuple[Storage, str]:
    """Split the address of one run (``runs/RUN_ID``, ``s3://bucket/prefix/RUN_ID``) into its
    storage and run id."""
    text = str(url)
    if (_scheme(text) if isinstance(url, str) else None) is None:
        path = Path(text.rstrip("/"))
        return storage_from_url(path.parent, **options), validate_run_id(path.name)
    scheme, _, rest = text.partition("://")
    container, sep, run_id = rest.rstrip("/").rpartition("/")
    if not sep or not container or not run_id:
        raise StorageConfigError(
            "run",
            text,
            "URL/RUN_ID",
            f"{short_repr(text)} does not name a run: expected URL/RUN_ID",
        )
    return storage_from_url(f"{scheme}://{container}", **options), validate_run_id(run_id)
