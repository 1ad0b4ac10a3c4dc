"""Working on a sample first: on a large table the search compares pipelines on a stratified
sample of the rows, and the sample grows as time allows, so many pipelines are compared cheaply
and only the ones that survive pay for more rows.

TPOT's own budget mechanism does the bookkeeping: every evaluation records the share of the
rows it used (and cross-validates on fewer folds while on a sample,
:func:`~automl_tpot.tpot_boundary.history.sample_folds`), and an individual scored on a smaller
share is evaluated again when the search asks for a larger one (TPOT's survivors are the best
of the population, so the search narrows as the sample grows). When the search ends, only the
evaluations on its largest sample stay comparable; a search that ended on a sample leaves the
final choice to the held-out stage on all rows (:mod:`automl_tpot.ensemble.holdout`).
"""

from __future__ import annotations

from ..tpot_boundary import evaluation_work

__all__ = ["SAMPLE_ABOVE_ROWS", "SampleSchedule"]

#: Tables with more training rows than this are searched on a sample first.
SAMPLE_ABOVE_ROWS = 12_000
#: The first sample's rows.
FIRST_SAMPLE_ROWS = 3_000
#: The sample doubles when the next generation at twice the rows, estimated from the last one,
#: would take at most this share of the search time left (so later generations still fit).
GROWTH_SHARE = 0.35


class SampleSchedule:
    """The share of the rows each generation evaluates on.

    Args:
        n_rows: the training rows.
        first_rows: the first sample's rows (the whole table when it is not larger than
            ``sample_above``).
        sample_above: tables up to this many rows are never sampled.
        cv: the search's folds (on all rows; a sample's evaluations use fewer).
    """

    def __init__(
        self,
        n_rows: int,
        *,
        first_rows: int = FIRST_SAMPLE_ROWS,
        sample_above: int = SAMPLE_ABOVE_ROWS,
        cv: int = 5,
    ):
        self.n_rows = max(int(n_rows), 1)
        self.cv = int(cv)
        #: The next generation's expected seconds, from the last one's and the rows it adds
        #: (``None`` before the first).
        self.next_seconds: float | None = None
        sampled = self.n_rows > sample_above
        #: The current share of the rows (1.0: all).
        self.fraction = min(1.0, first_rows / self.n_rows) if sampled else 1.0

    def __repr__(self) -> str:
        return f"SampleSchedule({self.rows} of {self.n_rows} rows)"

    @property
    def rows(self) -> int:
        """The rows of the current sample."""
        return int(self.fraction * self.n_rows)

    def after_generation(self, generation_seconds: float, seconds_left: float) -> float:
        """Decide the next generation's share from how long this one took; returns it."""
        self.next_seconds = generation_seconds
        if self.fraction >= 1.0:
            return self.fraction
        grown = min(1.0, self.fraction * 2)
        work = evaluation_work(grown, self.cv) / evaluation_work(self.fraction, self.cv)
        estimate = generation_seconds * work
        if estimate <= GROWTH_SHARE * seconds_left:
            self.fraction = grown
            self.next_seconds = estimate
        return self.fraction
