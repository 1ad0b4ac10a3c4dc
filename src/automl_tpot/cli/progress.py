"""The live progress display of ``automl-tpot train``.

On a terminal it is a bar redrawn in place after every finished evaluation (evaluations done
and failed, the best score so far, the time used and left), with a permanent line per
generation above it. Elsewhere (a log file, CI, a pipe) it prints plain lines: one per
generation, and while a long generation runs, a line at most every :data:`LINE_INTERVAL`
seconds, so logs stay readable.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO

from ..records.events import EvaluationProgress, GenerationProgress

__all__ = ["LINE_INTERVAL", "ProgressDisplay"]

#: Seconds between redraws of the bar at most.
REDRAW_INTERVAL = 0.1
#: Seconds between plain progress lines within one generation at least.
LINE_INTERVAL = 10.0
#: Characters of the bar itself.
BAR_WIDTH = 24


def _best(score: float | None) -> str:
    return "-" if score is None else f"{score:.4f}"


class ProgressDisplay:
    """Shows a run's progress on ``stream``.

    Args:
        stream: where to draw (standard error for the CLI).
        budget: the run's ``time_left`` in seconds.
        live: draw a bar in place; by default when ``stream`` is a terminal.

    Pass :meth:`on_generation` (also the instance itself) as ``Trainer.train``'s ``progress``
    and :meth:`on_evaluation` as its ``on_evaluation``; call :meth:`close` at the end.
    """

    def __init__(self, stream: TextIO, budget: float, *, live: bool | None = None):
        self._stream = stream
        self._budget = budget
        isatty = getattr(stream, "isatty", None)
        self.live = bool(isatty and isatty()) if live is None else live
        self._lock = threading.Lock()
        self._drawn = False
        self._last_draw = 0.0
        self._last_line = time.monotonic()

    # -- events --------------------------------------------------------------------------------

    def __call__(self, event: GenerationProgress) -> None:
        self.on_generation(event)

    def on_generation(self, event: GenerationProgress) -> None:
        """A generation finished: a permanent line."""
        line = (
            f"  generation {event.generation:>3}  best {_best(event.best_score)}  evaluated "
            f"{event.evaluations:>4}  failed {event.failures:>3}  "
            f"{event.elapsed:6.1f}s / {self._budget:g}s"
        )
        with self._lock:
            self._clear()
            self._write(line + "\n")
            self._last_line = time.monotonic()

    def on_evaluation(self, event: EvaluationProgress) -> None:
        """An evaluation finished: redraw the bar, or (not a terminal) a throttled line."""
        now = time.monotonic()
        with self._lock:
            if self.live:
                if now - self._last_draw >= REDRAW_INTERVAL:
                    self._draw_bar(event)
                    self._last_draw = now
            elif now - self._last_line >= LINE_INTERVAL:
                self._write(
                    f"  generation {event.generation:>3}  best {_best(event.best_score)}  "
                    f"evaluated {event.evaluations:>4}  failed {event.failures:>3}  "
                    f"{event.elapsed:6.1f}s used, {max(event.seconds_left, 0):.0f}s left\n"
                )
                self._last_line = now

    def close(self) -> None:
        """End the display: the bar's line is finished, the stream flushed."""
        with self._lock:
            if self._drawn:
                self._write("\n")
                self._drawn = False
            self._stream.flush()

    # -- drawing -------------------------------------------------------------------------------

    def _draw_bar(self, event: EvaluationProgress) -> None:
        total = max(event.elapsed + max(event.seconds_left, 0.0), 1e-9)
        share = min(max(event.elapsed / total, 0.0), 1.0)
        filled = round(share * BAR_WIDTH)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        text = (
            f"[{bar}] {100 * share:3.0f}%  {event.elapsed:.0f}s used, "
            f"{max(event.seconds_left, 0):.0f}s left  gen {event.generation}  "
            f"{event.evaluations} evaluated, {event.failures} failed  "
            f"best {_best(event.best_score)}"
        )
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self._write("\r\x1b[K" + text[:width])
        self._drawn = True

    def _clear(self) -> None:
        if self._drawn:
            self._write("\r\x1b[K")
            self._drawn = False

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
