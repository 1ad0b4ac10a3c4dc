"""Which fits the final stage after a sampled search grows side by side, and what they cost.

Why a module of its own: the search's budget (``search.budget.SearchDeadline``) keeps time for
the stage's leading fits while the search runs, and the stage
(:func:`~automl_tpot.ensemble.holdout.choose_on_held_out_rows`) grows the same fits; both read
the choice from here, so the reserve and the stage cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..tpot_boundary import SearchHistory
from .candidates import Candidate, add_anchors, best_candidates

__all__ = [
    "ALL_ANCHORS_ROWS",
    "LEAD",
    "LEAD_MOST",
    "leading_candidates",
    "leading_costs",
    "leading_fits",
]

#: The candidates fitted again on more rows, round after round: the search's choice and the
#: anchors, at least LEAD and at most LEAD_MOST of them. All anchors lead, not only the first:
#: which one wins shows only on many rows (``fertility``, held-out ROC AUC on 12,000 / 48,000 /
#: 190,990 rows: the search's logistic regression 0.6166 / 0.6168 / 0.6168, the default
#: boosting model 0.6136 / 0.6220 / 0.6262, the one of more capacity 0.6038 / 0.6171 / 0.6228),
#: and the stage kept only the search's choice and the first anchor growing before.
LEAD = 2
LEAD_MOST = 4
#: All anchors lead only on tables of at least this many rows (where the capacity anchor joins
#: them: ``search_spaces.tuned.CAPACITY_ROWS``); on smaller ones the search's samples are a
#: larger share of the rows and the choice and the first anchor lead. Measured at 60 s on
#: ``tv16`` and ``diamonds`` (45,000 and 54,000 rows): with every anchor leading the search
#: ran 1 and 2 generations, with two leading fits 3 and 3, for the same scores.
ALL_ANCHORS_ROWS = 100_000


def leading_fits(n_rows: int) -> int:
    """How many fits the stage grows side by side on a table of ``n_rows`` rows, at most
    (the search's budget keeps time for as many: ``search.budget.SearchDeadline``)."""
    return LEAD_MOST if n_rows >= ALL_ANCHORS_ROWS else LEAD


def leading_candidates(
    history: SearchHistory,
    task: str,
    best_key: Any,
    anchors: Sequence[Any],
    n_rows: int,
) -> tuple[list[Candidate], int]:
    """The stage's candidates, best first with the anchors among them, and how many of the
    first lead (are grown round after round); empty when the search scored nothing comparable.

    ``best_key`` is the search's row of its choice (``None``: its best scored pipeline);
    ``anchors`` are TPOT individuals (pipelines at their defaults).
    """
    candidates = best_candidates(history, task, best_key)
    if not candidates:
        return [], 0
    candidates, leading = add_anchors(candidates, anchors, history)
    return candidates, min(max(leading, LEAD), leading_fits(n_rows))


def leading_costs(
    history: SearchHistory, anchors: Sequence[Any], task: str, n_rows: int
) -> np.ndarray:
    """The seconds on all rows and folds of the fits the stage would grow side by side if the
    search ended now: its best and the anchors, led as the stage leads them.
    Not the search's best few: all cheap (LightGBM on a sample), they hide the anchors' cost."""
    candidates, leading = leading_candidates(history, task, None, anchors, n_rows)
    costs = np.array([c.full_seconds for c in candidates[:leading]], dtype=float)
    known = np.isfinite(costs)  # a cost not known counts as the dearest known
    return np.where(known, costs, costs[known].max()) if known.any() else costs[known]
