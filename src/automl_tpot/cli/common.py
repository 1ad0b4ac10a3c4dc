"""What every command shares: the exit statuses, the usage error, one-line errors and the exit
status each error means."""

from __future__ import annotations

import argparse
import os
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from ..errors import ConfigError, DataError, SearchSpaceConfigError, SearchSpaceError
from ..utils.text import short_repr, shorten

__all__ = [
    "EXIT_ABORTED",
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_USAGE",
    "OneLineParser",
    "UsageError",
    "check_output_file",
    "exit_status",
    "flag_for",
    "flags_named",
    "one_line",
]

#: The command did what was asked.
EXIT_OK = 0
#: Training, storage or another internal step failed.
EXIT_FAILED = 1
#: The input was wrong: bad options, data, configuration (one line on stderr).
EXIT_USAGE = 2
#: Interrupted: a Ctrl-C outside the search, or the second Ctrl-C during it (128 + SIGINT).
EXIT_ABORTED = 130

#: Characters of an error line the command line prints.
LINE_LIMIT = 2000


class UsageError(Exception):
    """A command-line usage problem (exit status 2)."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one bounded line (a :class:`UsageError`) instead of
    a usage block and ``SystemExit``; ``main`` prints it and exits with status 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{shorten(message, 300)} (see {self.prog} --help)")


def exit_status(error: BaseException) -> int:
    """2 for input errors (configuration, data, search space, usage), 1 for the rest."""
    if isinstance(error, (UsageError, ConfigError, DataError, SearchSpaceError)):
        return EXIT_USAGE
    return EXIT_FAILED


def one_line(text: str) -> str:
    """``text`` on one line, cut to :data:`LINE_LIMIT` characters."""
    return shorten(" ".join(str(text).split()), LINE_LIMIT)


def flag_for(field: str) -> str:
    """The ``train`` flag that sets configuration field ``field``."""
    return "--target" if field == "target_column" else "--" + field.replace("_", "-")


@contextmanager
def flags_named(given: Collection[str]) -> Iterator[None]:
    """Errors about a field set by a flag name the flag (``--time-left``) as the source,
    rather than "keyword argument"; one set by a ``TPOT__*`` variable names the variable."""
    from ..config import ENV_VARIABLES

    try:
        yield
    except ConfigError as error:
        variables = {
            field: v for v, field in ENV_VARIABLES.items() if os.environ.get(v, "").strip()
        }
        source = None
        renamable = type(error) in (ConfigError, SearchSpaceConfigError)
        if error.source in (None, "keyword argument") and renamable:
            if error.field in given:
                source = flag_for(str(error.field))
            elif error.field in variables:
                source = variables[str(error.field)]
        if source is None:
            raise
        raise type(error)(error.field, error.value, error.allowed, source=source) from None


def check_output_file(output: str) -> None:
    """``--output`` must be a file in a folder that exists, checked before predicting."""
    path = Path(output)
    try:
        folder, is_dir = path.parent, path.is_dir()
        folder_ok = folder.is_dir()
    except (OSError, ValueError) as error:
        raise UsageError(f"--output {short_repr(output)}: {error}") from None
    if is_dir:
        raise UsageError(f"--output {short_repr(output)} is a folder; give a file path")
    if not folder_ok:
        raise UsageError(
            f"--output {short_repr(output)}: the folder {short_repr(str(folder))} does not exist"
        )
