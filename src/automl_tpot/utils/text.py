"""Bounded text for messages: a value a user gave may be a million characters long, and an
error that echoes it whole is a megabyte on a terminal and in ``failure.json``."""

from __future__ import annotations

from typing import Any

__all__ = ["MESSAGE_LIMIT", "VALUE_LIMIT", "bounded_strings", "short_repr", "shorten"]

#: Characters of a user's value an error message repeats.
VALUE_LIMIT = 200
#: Characters of a whole error message (values, allowed values and causes included).
MESSAGE_LIMIT = 2000


def shorten(text: str, limit: int = VALUE_LIMIT) -> str:
    """``text`` itself, or its first ``limit`` characters and how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text)} characters)"


def short_repr(value: object, limit: int = VALUE_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters (a failing ``repr`` gives the type)."""
    try:
        text = repr(value)
    except Exception:  # a user's object whose __repr__ fails must not hide the real error
        text = f"<{type(value).__name__} object>"
    return shorten(text, limit)


def bounded_strings(value: Any, limit: int = 1000) -> Any:
    """``value`` (JSON-like: dicts, lists, scalars) with every string, keys included, cut to
    ``limit`` characters; for records that repeat a user's input."""
    if isinstance(value, str):
        return shorten(value, limit)
    if isinstance(value, dict):
        return {bounded_strings(k, limit): bounded_strings(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [bounded_strings(v, limit) for v in value]
    return value
