"""A metrics backend: every event of a run as one JSON line in a file.

automl-tpot finds it through the ``automl_tpot.metrics`` entry point named ``jsonl``, so
``automl-tpot train ... --metrics-backend jsonl`` and ``metrics_from_name("jsonl", path=...)``
use it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any


class JsonLinesMetrics:
    """Appends ``{"event": ..., "time": ..., ...}`` lines to ``path``.

    Args:
        path: the file to append to (default ``$AUTOML_TPOT_JSONL`` or ``metrics.jsonl``).
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = os.fspath(path or os.environ.get("AUTOML_TPOT_JSONL", "metrics.jsonl"))
        self._lock = threading.Lock()  # events may come from the search's threads

    @classmethod
    def from_options(cls, **options: Any) -> JsonLinesMetrics:
        """The constructor automl-tpot calls for ``metrics_from_name("jsonl", **options)``."""
        return cls(**options)

    def __repr__(self) -> str:
        return f"JsonLinesMetrics({self.path!r})"

    def _write(self, event: str, fields: dict[str, Any]) -> None:
        line = json.dumps({"event": event, "time": time.time(), **fields}, default=str)
        with self._lock, open(self.path, "a", encoding="utf-8") as stream:
            stream.write(line + "\n")

    def on_progress(self, progress: Any) -> None:
        """A generation finished: ``progress`` is an ``automl_tpot.GenerationProgress``."""
        self._write("generation", progress.to_dict())

    def on_alert(self, alert: Any) -> None:
        """An ``automl_tpot.Alert``: timeout, oom, parallel_fallback or automl_fallback."""
        self._write("alert", alert.to_dict())

    def on_run_finished(self, summary: dict[str, Any]) -> None:
        """The run ended; ``summary`` is the JSON-safe summary stored in ``run.json``."""
        keep = ("status", "task", "metric", "best_score", "best_pipeline", "stopped_by")
        self._write("finished", {k: summary.get(k) for k in keep})
