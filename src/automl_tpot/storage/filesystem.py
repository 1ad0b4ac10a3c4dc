"""The default storage backend: one folder per run under a root directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ..errors import StorageConfigError, StorageError
from ..utils.text import short_repr
from .base import CHECKPOINT, MANIFEST, validate_run_id

__all__ = ["FilesystemStorage"]


class FilesystemStorage:
    """Runs as folders: ``ROOT/RUN_ID/model.joblib``, ``ROOT/RUN_ID/run.json``, ...

    Each file is written to a temporary name and renamed into place, so a reader never sees a
    half-written artifact.
    """

    def __init__(self, root: str | os.PathLike = "runs"):
        self.root = Path(root)

    @classmethod
    def from_url(cls, url: str | os.PathLike, **options: object) -> FilesystemStorage:
        """The backend for a folder given as a path or a ``file://`` URL (no options)."""
        if options:
            names = ", ".join(sorted(options))
            raise StorageConfigError(
                "storage",
                names,
                "no options",
                f"the filesystem backend takes no options, got {short_repr(names)[1:-1]}",
            )
        text = os.fspath(url)
        if text.startswith("file://"):
            from urllib.parse import unquote, urlsplit

            parts = urlsplit(text)
            if parts.netloc not in ("", "localhost"):
                raise StorageConfigError(
                    "storage",
                    text,
                    "a file:// URL of a local path (file:///srv/runs)",
                    f"file:// URLs must name a local path, got {short_repr(text)}",
                )
            text = unquote(parts.path)
        return cls(text)

    def __repr__(self) -> str:
        return f"FilesystemStorage({str(self.root)!r})"

    def check_writable(self) -> None:
        """Fail before a run starts when runs cannot be stored here: the root (or a folder
        above it) is a file, or the nearest existing folder is not writable. Writes nothing.

        Raises:
            StorageConfigError: naming the root and what is wrong with it.
        """
        root = self.root
        where = short_repr(str(root))
        try:
            existing = root
            while not existing.exists():
                if existing.parent == existing:
                    break
                existing = existing.parent
            if existing.exists() and not existing.is_dir():
                what = (
                    "is a file"
                    if existing == root
                    else f"is under a file ({short_repr(str(existing))})"
                )
                raise StorageConfigError(
                    "storage",
                    str(root),
                    "a folder (or a path where one can be made)",
                    f"cannot store runs in {where}: it {what}, not a folder",
                )
            if not os.access(existing, os.W_OK | os.X_OK):
                raise StorageConfigError(
                    "storage",
                    str(root),
                    "a writable folder",
                    f"cannot store runs in {where}: {short_repr(str(existing))} is not writable",
                )
        except (OSError, ValueError) as error:  # a name too long, a NUL byte, a loop of links
            reason = getattr(error, "strerror", None) or str(error)
            raise StorageConfigError(
                "storage",
                str(root),
                "a usable folder path",
                f"cannot store runs in {where}: {reason}",
            ) from None

    def run_path(self, run_id: str) -> Path:
        """The folder of a run."""
        return self.root / validate_run_id(run_id)

    def location(self, run_id: str) -> str:
        return str(self.run_path(run_id))

    def write_bytes(self, run_id: str, name: str, data: bytes) -> None:
        folder = self.run_path(run_id)
        target = folder / validate_run_id(name)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                    stream.flush()
                    os.fsync(stream.fileno())
                os.replace(temporary, target)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as error:
            raise StorageError(f"cannot write {target}: {error.strerror or error}") from error

    def read_bytes(self, run_id: str, name: str) -> bytes:
        path = self.run_path(run_id) / validate_run_id(name)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise StorageError(f"no artifact {name!r} in run {run_id!r} ({path})") from None
        except OSError as error:
            raise StorageError(f"cannot read {path}: {error.strerror or error}") from error

    def exists(self, run_id: str, name: str) -> bool:
        return (self.run_path(run_id) / validate_run_id(name)).is_file()

    def list_runs(self) -> list[str]:
        if not self.root.is_dir():
            return []
        runs = []
        for child in self.root.iterdir():
            manifest = child / MANIFEST
            if child.is_dir() and manifest.is_file():
                runs.append((manifest.stat().st_mtime, child.name))
        return [name for _, name in sorted(runs)]

    def list_unfinished(self) -> list[str]:
        """Identifiers of unfinished runs (a checkpoint, no manifest), oldest checkpoint first."""
        if not self.root.is_dir():
            return []
        runs = []
        for child in self.root.iterdir():
            pointer = child / CHECKPOINT
            if child.is_dir() and pointer.is_file() and not (child / MANIFEST).is_file():
                runs.append((pointer.stat().st_mtime, child.name))
        return [name for _, name in sorted(runs)]

    def delete_bytes(self, run_id: str, name: str) -> None:
        """Remove one artifact of a run; a missing one is not an error."""
        path = self.run_path(run_id) / validate_run_id(name)
        try:
            path.unlink(missing_ok=True)
        except OSError as error:
            raise StorageError(f"cannot delete {path}: {error.strerror or error}") from error

    def delete_run(self, run_id: str) -> None:
        folder = self.run_path(run_id)
        try:
            # The manifest goes first: a run whose deletion is interrupted is never complete.
            (folder / MANIFEST).unlink(missing_ok=True)
            shutil.rmtree(folder, ignore_errors=False)
        except FileNotFoundError:
            return
        except OSError as error:
            raise StorageError(f"cannot delete {folder}: {error.strerror or error}") from error
