"""The typed errors users catch.

Every error the library raises on purpose derives from :class:`AutoMLTPOTError`, so a host
application can catch one type. Errors about user input also derive from :class:`ValueError`,
which keeps them natural for code that already catches that.

Messages are bounded: a value is quoted up to 200 characters (then ``... (N characters)``) and
a whole message up to 2,000, so a megabyte of input never becomes a megabyte of error.
"""

from __future__ import annotations

from typing import Any

from .utils.text import MESSAGE_LIMIT, short_repr, shorten

__all__ = [
    "AutoMLTPOTError",
    "ClusterError",
    "ConfigError",
    "DataError",
    "JobCancelled",
    "JobError",
    "JobFailed",
    "JobRejected",
    "SearchSpaceConfigError",
    "ResumeError",
    "RunAborted",
    "SearchSpaceError",
    "StorageConfigError",
    "StorageError",
    "TPOTCompatibilityError",
    "TrainingCancelled",
    "TrainingError",
]


class AutoMLTPOTError(Exception):
    """Base class of every error raised on purpose by automl-tpot."""

    def __str__(self) -> str:
        return shorten(super().__str__(), MESSAGE_LIMIT)


class ConfigError(AutoMLTPOTError, ValueError):
    """A configuration value is missing, of the wrong type or out of range.

    The message quotes the value cut to 200 characters.

    Attributes:
        field: the configuration field (or payload key / environment variable) at fault.
        value: the value that was given (whole; the message quotes it cut).
        allowed: a short description of what would have been accepted.
        source: where the value came from (an environment variable, ``payload``, a CLI flag),
            or ``None``.
    """

    def __init__(
        self,
        field: str,
        value: Any,
        allowed: str,
        *,
        source: str | None = None,
        message: str | None = None,
    ):
        self.field = field
        self.value = value
        self.allowed = allowed
        self.source = source
        where = f" (from {shorten(str(source), 100)})" if source else ""
        if message is None:
            message = (
                f"{shorten(str(field), 100)}{where}: got {short_repr(value)}; "
                f"expected {shorten(str(allowed), 1000)}"
            )
        super().__init__(message)


class DataError(AutoMLTPOTError, ValueError):
    """The training table cannot be used as given (empty, unreadable, bad target, ...)."""


class SearchSpaceError(AutoMLTPOTError, ValueError):
    """A search space name or definition cannot be resolved."""


class SearchSpaceConfigError(SearchSpaceError, ConfigError):
    """The configured ``search_space`` (or ``feature_groups``) cannot be used: an unknown or
    misspelt name, a space that does not serve the task, a config dict whose classes or
    parameters do not resolve, feature groups naming columns the table lacks.

    Both a :class:`SearchSpaceError` and a :class:`ConfigError` (naming the field), found when
    the configuration is built or by the preflight, before any worker starts.
    """

    def __init__(self, field: str, value: Any, allowed: str, *, source: str | None = None):
        ConfigError.__init__(self, field, value, allowed, source=source)


class StorageError(AutoMLTPOTError):
    """Artifacts could not be written to or read from a storage backend."""


class StorageConfigError(StorageError, ConfigError):
    """A storage location or run id that cannot be used as given: an invalid run id, a run id a
    complete run already holds, an unknown URL scheme, a folder that is a file or not writable.

    Both a :class:`StorageError` (as these were before) and a :class:`ConfigError` (the input is
    at fault: the command line exits with status 2); ``field`` is ``"run_id"`` or ``"storage"``.
    """

    def __init__(self, field: str, value: Any, allowed: str, message: str):
        ConfigError.__init__(self, field, value, allowed, message=message)


class TPOTCompatibilityError(AutoMLTPOTError, ImportError):
    """The installed TPOT is not a release this library was written for, or lacks a name the
    TPOT boundary (:mod:`automl_tpot.tpot_boundary`) relies on.

    Attributes:
        found: the installed TPOT version.
        supported: the supported range, as a version specifier.
        missing: what is wrong: the version itself, or the module, class or method not found.
    """

    def __init__(self, found: str, supported: str, missing: str):
        self.found = found
        self.supported = supported
        self.missing = missing
        super().__init__(
            f"TPOT {found} cannot be used (automl-tpot supports tpot{supported}): {missing}; "
            f"install a supported release, e.g. pip install 'tpot{supported}'"
        )


class TrainingError(AutoMLTPOTError):
    """The search ran but produced no usable model."""


class ClusterError(TrainingError):
    """The Dask cluster could not be used (unreachable scheduler, no workers, lost mid-search)
    and ``parallel_fallback`` is off.

    Attributes:
        reason: what went wrong, in words.
    """

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"the Dask cluster cannot be used: {reason}")


class TrainingCancelled(AutoMLTPOTError):
    """The run was asked to stop (``Trainer.train(should_stop=...)``) before it finished.

    Not a :class:`TrainingError`: a cancelled run did not fail, so no fallback replaces it.
    """


class ResumeError(AutoMLTPOTError, ValueError):
    """A run cannot be resumed as asked: it has no checkpoint, it is complete already, or the
    data or the configuration differ from the checkpoint's.

    Attributes:
        run_id: the run that was to be resumed.
        differences: what differs, ``name -> (at the checkpoint, now)`` (empty when the problem
            is not a difference).
    """

    def __init__(
        self, run_id: str, message: str, differences: dict[str, tuple[Any, Any]] | None = None
    ):
        self.run_id = run_id
        self.differences = dict(differences or {})
        super().__init__(f"run {run_id!r} cannot be resumed: {message}")


class RunAborted(BaseException):
    """Raised to abort a run at once (the command line's second Ctrl-C), keeping its last
    checkpoint so it can be resumed.

    A ``BaseException`` like ``KeyboardInterrupt`` (code that catches ``Exception`` lets it
    through), but not a ``KeyboardInterrupt``, which TPOT 1.1 catches inside its search loop.
    """


class JobError(AutoMLTPOTError):
    """A job given to :func:`automl_tpot.jobs.run_for_job` did not produce a model.

    The host stores :attr:`record` as its TrainingRun either way; the same record is already
    stored as ``failure.json`` under the run id (and no ``run.json``). The original error is
    ``__cause__``.

    Attributes:
        record: the JSON-safe failure record (``status`` ``"failed"``, ``error``, ...).
    """

    def __init__(self, message: str, record: dict[str, Any]):
        super().__init__(message)
        self.record = record


class JobRejected(JobError, ValueError):
    """The payload or its dataset is invalid; rejected before any training started."""


class JobFailed(JobError):
    """The search failed and no fallback model was trained (fallback off, or it failed too),
    or the run could not be stored."""


class JobCancelled(JobError):
    """The job was cancelled or ran past its timeout; no complete run was left."""
