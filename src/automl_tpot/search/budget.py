"""When the search should end, so that everything after it still fits in ``time_left``.

After the search come TPOT's refit of the chosen pipeline on all rows and the ensemble stage.
The Trainer starts the search with a fixed share of the budget kept back for each, because
nothing is known about the pipelines' cost yet. Once a generation is scored, the evaluations'
durations say what those stages will really need, and on most tables that is far less than the
fixed shares: :class:`SearchDeadline` then moves the search's end later, so the budget goes to
the search instead of being left unused. It never moves the end earlier than the fixed shares
put it, so the budget is honoured at least as surely as before.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

__all__ = ["SearchDeadline"]

#: The final refit is assumed to take this many times one fit on all rows of the slowest of the
#: best pipelines (workers may still be busy with the search's last evaluations) ...
REFIT_SAFETY = 2.0
#: ... plus these seconds for TPOT's own bookkeeping after the search.
REFIT_OVERHEAD = 1.0
#: Pipelines whose durations size the refit reserve: the best few, since TPOT chooses among them.
REFIT_CANDIDATES = 10
#: Pipelines whose durations size the ensemble reserve (the stage takes at most this many).
ENSEMBLE_CANDIDATES = 8
#: The ensemble stage plans with this share of its time (see ``ensemble._affordable`` and its
#: wait for out-of-fold predictions, which keeps a quarter back for the refits) ...
ENSEMBLE_USABLE_SHARE = 0.7
#: ... and needs these seconds for broadcasting the data, scoring and choosing the weights.
ENSEMBLE_OVERHEAD = 1.0
#: The ensemble reserve is never planned below this: the stage skips itself with under 2 s left
#: (``ensemble.MIN_SECONDS``), and needs ENSEMBLE_OVERHEAD on top.
ENSEMBLE_FLOOR = 3.0


class SearchDeadline:
    """The search's end (a ``time.time()`` instant), planned from the durations seen so far.

    Parameters:
        run_end: the instant by which the refit and the ensemble stage must both be done.
        planned_end: the end the fixed reserves give; the search never ends earlier.
        refit_reserve: the fixed refit reserve in seconds; the planned one never exceeds it.
        ensemble_reserve: the same for the ensemble stage (0 when the stage is off).
        cv: the search's cross-validation folds.
        n_workers: Dask worker threads (the ensemble stage spreads its work over them).
        score_column: the column of TPOT's history that holds the score (higher is better).
    """

    def __init__(
        self,
        *,
        run_end: float,
        planned_end: float,
        refit_reserve: float,
        ensemble_reserve: float,
        cv: int,
        n_workers: int,
        score_column: str,
    ):
        self.run_end = run_end
        self.planned_end = planned_end
        self.refit_reserve = refit_reserve
        self.ensemble_reserve = ensemble_reserve
        self.cv = max(int(cv), 2)
        self.n_workers = max(int(n_workers), 1)
        self.score_column = score_column
        #: The current end: ``planned_end`` until :meth:`plan` has seen scored pipelines.
        self.end = planned_end

    def __repr__(self) -> str:
        return (
            f"SearchDeadline(end in {self.end - time.time():.1f}s, "
            f"planned in {self.planned_end - time.time():.1f}s)"
        )

    def reserves(self, history: Any) -> tuple[float, float]:
        """Seconds to keep for the refit and for the ensemble stage, given TPOT's history."""
        durations = _best_durations(history, self.score_column)
        if durations.size == 0:
            return self.refit_reserve, self.ensemble_reserve
        # an evaluation fits cv times on (cv-1)/cv of the rows: over cv-1, about one fit on all
        full_fit = durations[:REFIT_CANDIDATES].max() / (self.cv - 1)
        refit = min(self.refit_reserve, REFIT_OVERHEAD + REFIT_SAFETY * full_fit)
        ensemble = 0.0
        if self.ensemble_reserve > 0:
            # out-of-fold predictions cost about one evaluation, the member's refit one fold more
            costs = durations[:ENSEMBLE_CANDIDATES] * (1 + 1 / (self.cv - 1))
            work = max(costs.max(), costs.sum() / self.n_workers)
            needed = max(ENSEMBLE_FLOOR, ENSEMBLE_OVERHEAD + work / ENSEMBLE_USABLE_SHARE)
            ensemble = min(self.ensemble_reserve, needed)
        return refit, ensemble

    def plan(self, history: Any) -> float:
        """Update and return :attr:`end` for ``history`` (TPOT's ``evaluated_individuals``)."""
        refit, ensemble = self.reserves(history)
        self.end = max(self.planned_end, self.run_end - refit - ensemble)
        return self.end


def _best_durations(history: Any, score_column: str) -> np.ndarray:
    """Evaluation seconds of the scored pipelines, best score first."""
    import pandas as pd

    needed = {score_column, "Submitted Timestamp", "Completed Timestamp"}
    if history is None or not needed <= set(history.columns):
        return np.empty(0)
    scores = pd.to_numeric(history[score_column], errors="coerce")
    started = pd.to_numeric(history["Submitted Timestamp"], errors="coerce")
    finished = pd.to_numeric(history["Completed Timestamp"], errors="coerce")
    seconds = finished - started
    ok = scores.notna() & np.isfinite(scores) & seconds.notna() & (seconds >= 0)
    if "Eval Error" in history:
        ok &= history["Eval Error"].isna()
    order = scores[ok].sort_values(ascending=False, kind="stable").index
    return seconds.loc[order].to_numpy(dtype=float)
