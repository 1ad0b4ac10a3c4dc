"""What must hold before a Dask cluster is used, checked without starting or reaching one.

- A **scheduler file** must be a readable JSON object with the scheduler's ``address`` (what
  ``dask scheduler --scheduler-file`` writes). Dask itself fails on a garbage or empty file with
  an ``AssertionError`` or a ``JSONDecodeError``; the session reads the file first and follows
  its fallback policy instead.
- **Local workers** are started with multiprocessing's ``spawn`` method, which runs the main
  script again in every worker. A script that trains at its top level, outside
  ``if __name__ == "__main__":``, would start a training in every worker (and Dask only says
  "Nanny failed to start"). That is found from the call stack before any worker starts; one
  worker needs the guard as much as several.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from types import FrameType

from ..utils.text import short_repr, shorten

__all__ = ["scheduler_file_problem", "unguarded_main_call"]


def scheduler_file_problem(path: str) -> str | None:
    """Why the scheduler file at ``path`` cannot be used, in words; ``None`` when it can.

    A missing file gives ``"does not exist"`` (a scheduler may not have written it yet).
    """
    file = Path(path)
    try:
        if not file.exists():
            return "does not exist"
        if file.is_dir():
            return "is a directory, not a scheduler file"
        text = file.read_text(encoding="utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as error:
        return f"cannot be read ({type(error).__name__}: {shorten(str(error))})"
    try:
        content = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        return (
            f"is not a Dask scheduler file: not JSON ({shorten(str(error), 100)}; it starts "
            f"with {short_repr(text[:40], 60)})"
        )
    address = content.get("address") if isinstance(content, dict) else None
    if not isinstance(address, str) or not address.strip():
        return (
            "is not a Dask scheduler file: a JSON object with the scheduler's 'address' was "
            "expected (as 'automl-tpot scheduler --scheduler-file' writes)"
        )
    return None


def _is_main_check(test: ast.expr) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round)."""
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = (test.left, test.comparators[0])
    names = [s.id for s in sides if isinstance(s, ast.Name)]
    constants = [s.value for s in sides if isinstance(s, ast.Constant)]
    return names == ["__name__"] and constants == ["__main__"]


def _guard_lines(source: str) -> list[tuple[int, int]]:
    """Line ranges of the ``if __name__ == "__main__":`` blocks at a module's top level."""
    return [
        (node.lineno, node.end_lineno or node.lineno)
        for node in ast.parse(source).body
        if isinstance(node, ast.If) and _is_main_check(node.test)
    ]


def unguarded_main_call(start_method: str = "spawn") -> str | None:
    """``"script.py:LINE"`` when this call comes from the top level of the main script, outside
    an ``if __name__ == "__main__":`` block, and workers are started with ``spawn`` or
    ``forkserver`` (which run the main script again); ``None`` otherwise (also from
    notebooks, ``python -c``, the console script and every guarded call)."""
    if start_method == "fork":
        return None
    main = sys.modules.get("__main__")
    filename = getattr(main, "__file__", None)
    if main is None or not filename:
        return None
    spec = getattr(main, "__spec__", None)
    if spec is not None and (spec.name == "__main__" or spec.name.endswith(".__main__")):
        return None  # python -m package: multiprocessing does not run a package's __main__ again
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            break
        frame = frame.f_back
    if frame is None:
        return None  # called from a thread, or not from the main script's top level
    try:
        source = Path(filename).read_text(encoding="utf-8")
        guards = _guard_lines(source)
    except (OSError, ValueError, SyntaxError, UnicodeDecodeError):
        return None  # nothing to tell for sure
    line = frame.f_lineno
    if any(first <= line <= last for first, last in guards):
        return None
    return f"{filename}:{line}"
