"""The one timestamp format of every record this library writes."""

from __future__ import annotations

from datetime import datetime, timezone

__all__ = ["utc_timestamp"]


def utc_timestamp() -> str:
    """Now, in UTC, as ISO 8601 to the second (``2026-12-02T02:10:00+00:00``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
