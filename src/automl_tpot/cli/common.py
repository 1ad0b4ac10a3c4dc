"""What every command shares: the exit statuses and the usage error."""

from __future__ import annotations

__all__ = ["EXIT_ABORTED", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError"]

#: The command did what was asked.
EXIT_OK = 0
#: Training, storage or another internal step failed.
EXIT_FAILED = 1
#: The input was wrong: bad options, data, configuration (one line on stderr).
EXIT_USAGE = 2
#: Interrupted: a Ctrl-C outside the search, or the second Ctrl-C during it (128 + SIGINT).
EXIT_ABORTED = 130


class UsageError(Exception):
    """A command-line usage problem (exit status 2)."""
