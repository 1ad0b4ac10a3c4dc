"""The rounds of the final choice after a sampled search (:mod:`.holdout`): each candidate's
fit on some rows as futures, how many rows the next round can afford from how long the last one
took, and which of a round's fits replace the earlier ones."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .candidates import finished_result

__all__ = [
    "FIT_SCALING",
    "FIT_SHARE",
    "MEASURED_SCALING",
    "MIN_GROWTH",
    "RoundFit",
    "RowGrowth",
    "bytes_on_all_rows",
    "completed",
    "fitted_model",
    "keep_finished",
    "rows_within_memory",
    "subsample",
]

#: The leading candidates' fits are sized to end within this share of the time they have (the
#: rest covers sending the data to the workers, predictions and fetching the models).
FIT_SHARE = 0.7
#: A fit's seconds grow with the rows to this power, until two rounds have measured it.
#: Measured on this project's large tables: HistGradientBoosting from 2,400 to 196,000 rows
#: grew with the power 0.81 at its defaults and 0.96 with 160 iterations of 110 leaves; with
#: 127 leaves, up to 400 iterations and early stopping, 0.43 from 12,000 to 186,000 rows.
FIT_SCALING = 0.9
#: A power measured between two rounds is kept within these bounds (a noisy short fit must not
#: promise far more rows than the time buys).
MEASURED_SCALING = (0.6, 1.0)
#: A further round is worth it only for at least this many times the last round's rows.
MIN_GROWTH = 1.5


@dataclass
class RoundFit:
    """One candidate's fit on some rows, as futures on the workers (``size``: its
    :func:`~.candidates.row_bound_bytes`)."""

    model: Any
    predictions: Any
    seconds: Any
    rows: int
    size: Any


def fitted_model(fit: RoundFit) -> Any:
    """A future-like view of the model alone (the worker's result is ``(model, seconds)``)."""
    return _FirstOf(fit.model)


class _FirstOf:
    """The first item of a future's ``(model, seconds)`` result, read like a future."""

    def __init__(self, future: Any):
        self.future = future

    @property
    def status(self) -> str:
        return str(self.future.status)

    def done(self) -> bool:
        return bool(self.future.done())

    def result(self, timeout: float | None = None) -> Any:
        value = self.future.result(timeout=timeout)
        return None if value is None else value[0]


def bytes_on_all_rows(
    held: Sequence[int | None], grown: Sequence[int | None], rows: Sequence[int], n_rows: int
) -> float | None:
    """The bytes of models refitted on ``n_rows``: each one's ``held`` bytes now, its ``grown``
    part (:func:`~.candidates.row_bound_bytes`, on its ``rows``) scaled to ``n_rows``;
    ``None`` when a size is not known."""
    parts = zip(held, grown, rows, strict=True)
    known = [(h, g, r) for h, g, r in parts if h is not None and g is not None]
    if len(known) < len(rows):
        return None
    return float(sum(h + g * (n_rows / max(r, 1) - 1) for h, g, r in known))


def rows_within_memory(rows: int, more: int, held: Sequence[int | None], limit: float) -> int:
    """``more`` rows for the next round, or fewer so that the leading models, which hold
    ``held`` bytes that grow with their ``rows`` (a forest's nodes), take at most ``limit``
    bytes on them; 0 when that is not MIN_GROWTH times ``rows``. Why: a forest of a few hundred
    trees with small leaves grows by hundreds of MB from 20,000 to 50,000 rows (measured on
    ``insteval``: 300 trees of at least 5 rows a leaf took 57, 110 and 215 MB on 11,000, 22,000
    and 44,000 rows), and until a round's fits replace the last round's, a worker holds both
    (the last round's, on at most 1/MIN_GROWTH of the rows, on top of the limit). A size not
    known keeps ``more``."""
    known = sum(size for size in held if size is not None)
    if None in held or known <= 0:
        return more
    cap = int(rows * limit / known)
    if cap >= more:
        return more
    return cap if cap >= MIN_GROWTH * rows else 0


def completed(fit: RoundFit) -> bool:
    """Whether ``fit`` ended with a model (not cut by the worker's guard or failed)."""
    return fit.predictions.status == "finished" and finished_result(fit.seconds, 0.0) is not None


def keep_finished(
    grown: Sequence[RoundFit],
    fits: list[RoundFit],
    release: Callable[[RoundFit], None],
) -> bool:
    """Put each of a round's ``grown`` fits that :func:`completed` in place of its earlier fit (the
    first ``len(grown)`` of ``fits``) and release the fit it replaces; release the unfinished
    ones instead, so their candidates keep the earlier round's fit. Whether all finished.

    Why: one slow candidate (a forest whose cost grows faster than its rows) must not cost the
    others the rows they were fitted on in time.
    """
    done = [completed(fit) for fit in grown]
    for i, (fit, ended) in enumerate(zip(grown, done, strict=True)):
        release(fits[i] if ended else fit)
        if ended:
            fits[i] = fit
    return all(done)


class RowGrowth:
    """Sizes each further round of the leading candidates from how long the last one took."""

    def __init__(self, n_workers: int = 1) -> None:
        #: The power a fit's seconds grow with the rows (measured once two rounds finished).
        self.scaling = FIT_SCALING
        #: The workers the leading fits share: more fits than workers queue behind each other.
        self.n_workers = max(int(n_workers), 1)
        self._last: tuple[int, float] | None = None  # (rows, seconds) of a round

    def next_rows(self, lead: Sequence[RoundFit], deadline: float, most: int) -> int:
        """The rows the next round can be fitted on in the time left; 0 when that is not
        MIN_GROWTH times the last round's (or that round's fits did not all finish)."""
        if not lead or any(fit.seconds.status != "finished" for fit in lead):
            return 0
        try:
            taken = [fit.seconds.result(timeout=1.0) for fit in lead]
        except Exception:  # a lost worker: no further round
            return 0
        if any(t is None for t in taken):
            return 0
        # a round lasts as long as its slowest fit, or its fits' sum over the workers
        rows, seconds = lead[0].rows, max(max(taken), sum(taken) / self.n_workers, 1e-3)
        if self._last is not None and rows > self._last[0] and seconds > self._last[1]:
            power = math.log(seconds / self._last[1]) / math.log(rows / self._last[0])
            low, high = MEASURED_SCALING
            self.scaling = min(max(power, low), high)
        self._last = (rows, seconds)
        left = deadline - time.monotonic()
        growth = (FIT_SHARE * left / seconds) ** (1 / self.scaling) if left > 0 else 0.0
        target = min(most, int(rows * growth))
        return target if target >= MIN_GROWTH * rows else 0


def subsample(rows: np.ndarray, count: int, random_state: int) -> np.ndarray:
    """``count`` of ``rows``, drawn with ``random_state`` (all of them when there are fewer)."""
    if count >= len(rows):
        return rows
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(rows, size=max(count, 1), replace=False))
