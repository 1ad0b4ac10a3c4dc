"""The object-store backend: runs under any fsspec URL (``s3://``, ``memory://``, ``gcs://``, ...).

Object stores have no rename, so atomicity comes from the run protocol (artifacts first,
``run.json`` last) and from each object being written in a single PUT: a reader sees an object
whole or not at all. Every error of the underlying client is turned into a
:class:`~automl_tpot.errors.StorageError` that names the URL and never the credentials.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import StorageError
from .base import CHECKPOINT, MANIFEST, validate_run_id

__all__ = ["FsspecStorage", "S3_ENVIRONMENT"]

#: Environment variables the ``s3`` protocol reads when the code gives no value.
S3_ENVIRONMENT = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")

#: Protocols whose first path segment is a bucket (container) that must already exist.
_BUCKET_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "adl"})

#: Client settings that keep a dead or unreachable endpoint from stalling a run for minutes;
#: callers override them through ``storage_options``.
_S3_RETRIES = 2
_S3_DEFAULTS: dict[str, Any] = {
    "config_kwargs": {
        "connect_timeout": 5,
        "read_timeout": 60,
        "retries": {"max_attempts": 2, "mode": "standard"},
    },
}


def _redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class FsspecStorage:
    """Runs as object prefixes: ``URL/RUN_ID/model.joblib``, ``URL/RUN_ID/run.json``, ...

    Args:
        url: where runs live, e.g. ``s3://bucket/prefix`` or ``memory://runs``.
        endpoint_url: an S3-compatible endpoint (MinIO, ...); ``AWS_ENDPOINT_URL`` when omitted.
        key: the access key id; ``AWS_ACCESS_KEY_ID`` (or the usual AWS chain) when omitted.
        secret: the secret access key; ``AWS_SECRET_ACCESS_KEY`` (or the chain) when omitted.
        storage_options: further keyword arguments for the fsspec filesystem; they win over the
            arguments above. For S3 the defaults keep a dead endpoint from stalling a run: a
            5 s connect timeout and few retries (``retries=2`` for s3fs, ``config_kwargs=
            {"retries": {"max_attempts": 2}}`` for botocore); pass others here.

    Example:
        >>> storage = FsspecStorage("s3://models/tpot", endpoint_url="http://minio:9000")
        >>> Trainer(config, storage=storage).train(table)  # doctest: +SKIP
    """

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        key: str | None = None,
        secret: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ):
        import fsspec

        if not isinstance(url, str) or "://" not in url:
            raise StorageError(f"expected a storage URL such as s3://bucket/prefix, got {url!r}")
        self.url = _redact_url(url.rstrip("/"))
        self.protocol, _, _ = url.partition("://")
        try:
            cls = fsspec.get_filesystem_class(self.protocol)
        except (ImportError, ValueError) as error:
            raise StorageError(f"cannot use {self.url}: {error}") from None
        storage_options = dict(storage_options or {})
        is_s3 = self.protocol in ("s3", "s3a")
        retries = storage_options.pop("retries", _S3_RETRIES) if is_s3 else None
        options = self._options(endpoint_url, key, secret, storage_options)
        self._secrets = _secret_values(options) + _secret_values(
            {"password": urlsplit(url).password}
        )
        self.endpoint_url = (options.get("client_kwargs") or {}).get("endpoint_url")
        try:
            self._fs = cls(**options)
            if is_s3:
                self._fs.retries = retries  # s3fs's own retry loop, on top of botocore's
        except Exception as error:
            raise StorageError(self._scrub(f"cannot open {self.url}: {error}")) from None
        self.root = cls._strip_protocol(url).rstrip("/")
        self._container_checked = self.protocol not in _BUCKET_PROTOCOLS

    @classmethod
    def from_url(cls, url: str, **options: Any) -> FsspecStorage:
        """The backend for ``url`` (the entry-point constructor :func:`storage_from_url` calls)."""
        return cls(url, **options)

    def _options(
        self,
        endpoint_url: str | None,
        key: str | None,
        secret: str | None,
        extra: Mapping[str, Any],
    ) -> dict[str, Any]:
        options: dict[str, Any] = {"skip_instance_cache": True}
        if self.protocol in ("s3", "s3a"):
            options.update(copy.deepcopy(_S3_DEFAULTS))
            options["use_listings_cache"] = False
            endpoint_url = endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None
            key = key or os.environ.get("AWS_ACCESS_KEY_ID") or None
            secret = secret or os.environ.get("AWS_SECRET_ACCESS_KEY") or None
            if endpoint_url:
                options["client_kwargs"] = {"endpoint_url": endpoint_url}
            if key:
                options["key"] = key
            if secret:
                options["secret"] = secret
        elif endpoint_url or key or secret:
            raise StorageError(
                f"endpoint_url, key and secret apply to s3:// URLs; pass the options of "
                f"{self.protocol}:// through storage_options"
            )
        for name, value in extra.items():
            if isinstance(value, dict) and isinstance(options.get(name), dict):
                options[name] = {**options[name], **value}
            else:
                options[name] = value
        return options

    def __repr__(self) -> str:
        endpoint = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"FsspecStorage({self.url!r}{endpoint})"

    # -- helpers ---------------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        # botocore may quote signed headers or presigned query strings back at us
        return re.sub(r"(Signature|Credential|X-Amz-Security-Token)=[^&\s'\"]+", r"\1=***", text)

    def _path(self, run_id: str, name: str | None = None) -> str:
        path = f"{self.root}/{validate_run_id(run_id)}"
        return path if name is None else f"{path}/{validate_run_id(name)}"

    def _where(self) -> str:
        return f"{self.url} (endpoint {self.endpoint_url})" if self.endpoint_url else self.url

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """Turn whatever the client raises into a :class:`StorageError` naming URL and action."""
        try:
            yield
        except StorageError:
            raise
        except PermissionError as error:
            raise StorageError(
                self._scrub(
                    f"cannot {action} at {self._where()}: access denied (check the "
                    f"credentials and their permissions): {error}"
                )
            ) from None
        except FileNotFoundError as error:
            raise StorageError(
                self._scrub(f"cannot {action} at {self._where()}: not found: {error}")
            ) from None
        except Exception as error:
            raise StorageError(
                self._scrub(f"cannot {action} at {self._where()}: {type(error).__name__}: {error}")
            ) from None

    def _check_container(self) -> None:
        """Fail clearly when the bucket is missing or unreachable instead of reading it as empty."""
        if self._container_checked:
            return
        bucket = self.root.split("/", 1)[0]
        with self._translate(f"reach bucket {bucket!r}"):
            try:
                # exists() reads every error as "missing"; listing raises the real one
                self._fs.ls(bucket, detail=False)
            except FileNotFoundError:
                raise FileNotFoundError(f"bucket {bucket!r} does not exist") from None
        self._container_checked = True

    def check_writable(self) -> None:
        """Fail before a run starts when the bucket is missing or the store does not answer
        (one listing; permissions show only when the first artifact is written).

        Raises:
            StorageError: naming the URL and the endpoint, never the credentials.
        """
        self._check_container()

    # -- the Storage protocol --------------------------------------------------------------------

    def location(self, run_id: str) -> str:
        return f"{self.url}/{validate_run_id(run_id)}"

    def write_bytes(self, run_id: str, name: str, data: bytes) -> None:
        path = self._path(run_id, name)
        self._check_container()
        with self._translate(f"write {name} of run {run_id!r}"):
            if self.protocol not in _BUCKET_PROTOCOLS:  # stores with real folders (file://, ...)
                self._fs.makedirs(self._path(run_id), exist_ok=True)
            self._fs.pipe_file(path, bytes(data))

    def read_bytes(self, run_id: str, name: str) -> bytes:
        path = self._path(run_id, name)
        with self._translate(f"read {name} of run {run_id!r}"):
            try:
                return self._fs.cat_file(path)
            except FileNotFoundError:
                where = self.location(run_id)
                raise StorageError(f"no artifact {name!r} in run {run_id!r} ({where})") from None

    def exists(self, run_id: str, name: str) -> bool:
        path = self._path(run_id, name)
        self._check_container()
        with self._translate(f"look up {name} of run {run_id!r}"):
            return bool(self._fs.isfile(path))

    def list_runs(self) -> list[str]:
        found = self._leaves("list runs")
        runs = [
            (_modified(info[MANIFEST]), run_id)
            for run_id, info in found.items()
            if MANIFEST in info
        ]
        return [run_id for _, run_id in sorted(runs)]

    def list_unfinished(self) -> list[str]:
        """Identifiers of unfinished runs (a checkpoint, no manifest), oldest checkpoint first."""
        found = self._leaves("list unfinished runs")
        runs = [
            (_modified(info[CHECKPOINT]), run_id)
            for run_id, info in found.items()
            if CHECKPOINT in info and MANIFEST not in info
        ]
        return [run_id for _, run_id in sorted(runs)]

    def _leaves(self, action: str) -> dict[str, dict[str, Mapping[str, Any]]]:
        """The manifest and checkpoint objects under the root: run id -> name -> info."""
        self._check_container()
        with self._translate(action):
            if not self._fs.exists(self.root):
                return {}
            # no maxdepth: on S3 one paginated listing beats one listing per run folder
            found = self._fs.find(self.root, detail=True)
        runs: dict[str, dict[str, Mapping[str, Any]]] = {}
        for path, info in found.items():
            parent, _, leaf = path.rstrip("/").rpartition("/")
            container, _, run_id = parent.rpartition("/")
            if leaf in (MANIFEST, CHECKPOINT) and container == self.root:
                runs.setdefault(run_id, {})[leaf] = info
        return runs

    def delete_bytes(self, run_id: str, name: str) -> None:
        """Remove one artifact of a run; a missing one is not an error."""
        path = self._path(run_id, name)
        with self._translate(f"delete {name} of run {run_id!r}"):
            if self._fs.isfile(path):
                self._fs.rm_file(path)

    def delete_run(self, run_id: str) -> None:
        folder = self._path(run_id)
        with self._translate(f"delete run {run_id!r}"):
            # The manifest goes first: a run whose deletion is interrupted is never complete.
            if self._fs.isfile(self._path(run_id, MANIFEST)):
                self._fs.rm_file(self._path(run_id, MANIFEST))
            names = self._fs.find(folder)
            if names:
                self._fs.rm(names)
            if self._fs.isdir(folder):  # stores with real folders (memory://, file://)
                with suppress(FileNotFoundError):
                    self._fs.rm(folder, recursive=True)


_SECRET_NAMES = re.compile(r"(^key$|secret|token|password|credential)", re.IGNORECASE)


def _secret_values(options: Mapping[str, Any]) -> tuple[str, ...]:
    """Credential values anywhere in ``options``, to scrub from messages (values shorter than
    six characters are left alone: scrubbing them would mangle ordinary words)."""
    found: list[str] = []
    for name, value in options.items():
        if isinstance(value, Mapping):
            found.extend(_secret_values(value))
        elif value and _SECRET_NAMES.search(str(name)) and len(str(value)) >= 6:
            found.append(str(value))
    return tuple(found)


def _modified(info: Mapping[str, Any]) -> float:
    """A sortable modification time from an fsspec info dict, whatever the store calls it."""
    for key in ("LastModified", "last_modified", "mtime", "created", "updated"):
        value = info.get(key)
        if value is None:
            continue
        if hasattr(value, "timestamp"):
            return float(value.timestamp())
        try:
            return float(value)
        except (TypeError, ValueError):
            continue
    return 0.0
