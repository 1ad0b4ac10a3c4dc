"""The one way every JSON artifact is written: UTF-8, indented, no NaN."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps_json"]


def dumps_json(document: Any) -> bytes:
    """Serialise ``document``; NaN and infinities are an error (records convert them to null)."""
    return (json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()
