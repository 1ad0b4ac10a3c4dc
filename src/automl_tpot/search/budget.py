"""The whole time budget of a run in one place: the reserves, the per-evaluation cap, and the
search's end, replanned after every generation.

``time_left`` covers everything from the call to the stored run. After the search come TPOT's
refit of the chosen pipeline on all rows and the ensemble stage, then storing and closing the
cluster. :class:`RunBudget` starts the search with a fixed share of the budget kept back for
the refit and the ensemble stage, because nothing is known about the pipelines' cost yet. Once a
generation is scored, the evaluations' durations say what those stages will really need, and on
most tables that is far less: :class:`SearchDeadline` then moves the search's end later, so the
budget goes to the search instead of being left unused. It never moves the end earlier than the
fixed shares put it, so the budget is honoured at least as surely as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from attrs import define

from ..errors import TrainingError
from ..tpot_boundary import SearchHistory

__all__ = ["RunBudget", "SearchBudget", "SearchDeadline"]

#: Seconds kept back from the search for closing the Dask cluster.
CLOSE_RESERVE = 1.0
#: Share of the budget kept back for refitting the chosen pipeline on all rows.
REFIT_SHARE = 0.1
#: Share of the budget kept back for averaging the best pipelines (``TrainerConfig.ensemble``).
ENSEMBLE_SHARE = 0.1
#: Seconds the refit and the ensemble stage leave before the closing reserve, for storing the run.
STORE_MARGIN = 0.5
#: The search needs at least this many seconds to be worth starting.
MIN_SEARCH_SECONDS = 1.0
#: When the fixed shares leave the search less than that, the refit keeps this share of what
#: is left (and at least MIN_REFIT_SECONDS).
SQUEEZED_REFIT_SHARE = 0.2
MIN_REFIT_SECONDS = 1.0
#: At most this share of the search time goes to one evaluation, whatever per_run_limit says:
#: a pipeline slower than that cannot be improved on within the budget anyway, and a generation
#: of such pipelines would leave no time for a second one.
PER_RUN_SHARE = 0.25
#: ... but never less than this many seconds.
MIN_PER_RUN_SECONDS = 8.0

#: The final refit is assumed to take this many times one fit on all rows of the slowest of the
#: best pipelines (workers may still be busy with the search's last evaluations) ...
REFIT_SAFETY = 2.0
#: ... plus these seconds for TPOT's own bookkeeping after the search.
REFIT_OVERHEAD = 1.0
#: Pipelines whose durations size the refit reserve: the best few, since TPOT chooses among them.
REFIT_CANDIDATES = 10
#: Pipelines whose durations size the ensemble reserve (the stage takes at most this many).
ENSEMBLE_CANDIDATES = 8
#: The ensemble stage plans with this share of its time (see ``ensemble.stage._affordable`` and
#: its wait for out-of-fold predictions, which keeps a quarter back for the refits) ...
ENSEMBLE_USABLE_SHARE = 0.7
#: ... and needs these seconds for broadcasting the data, scoring and choosing the weights.
ENSEMBLE_OVERHEAD = 1.0
#: The ensemble reserve is never planned below this: the stage skips itself with under 2 s left
#: (``ensemble.stage.MIN_SECONDS``), and needs ENSEMBLE_OVERHEAD on top.
ENSEMBLE_FLOOR = 3.0
#: Share of the budget kept back, after the refit and the ensemble stage, for explaining the
#: final model (``TrainerConfig.explain``: one refit per fold, a few predictions per column) ...
EXPLAIN_SHARE = 0.1
#: ... but never more than these seconds; the stage also takes whatever the stages before it
#: leave unused, and drops the folds that do not finish in time.
EXPLAIN_MAX_SECONDS = 60.0
#: Planned from the durations, the explanation stage needs about this many times the best
#: pipeline's evaluation (one refit per fold, then predictions with shuffled columns) ...
EXPLAIN_FACTOR = 1.5
#: ... plus these seconds, and never less than EXPLAIN_FLOOR.
EXPLAIN_OVERHEAD = 1.0
EXPLAIN_FLOOR = 2.0
#: While the search is on a sample, the stage after it fits a few pipelines side by side on the
#: workers, on all rows but a held-out fold (the search's choice and the anchors:
#: ``ensemble.leaders.leading_fits``, the deadline's ``lead_fits``, their costs its
#: ``lead_costs``), sized to end within this share of its time
#: (``ensemble.holdout.FIT_SHARE``) ...
SAMPLED_FIT_SHARE = 0.7
#: ... plus these seconds for sending the table to the workers and fetching the models, and
#: never less than SAMPLED_FLOOR.
SAMPLED_OVERHEAD = 2.0
SAMPLED_FLOOR = 3.0
#: ... and at most this share of the budget (or the fixed reserves, if they are more): on a
#: large table a pipeline's fit on most rows is worth more than another generation on a sample.
SAMPLED_SHARE = 0.45


@define(frozen=True)
class SearchBudget:
    """How the time left when the search starts is shared out (seconds).

    Attributes:
        search_seconds: the search's first planned length.
        per_run_seconds: the limit of one evaluation.
        refit_reserve: the fixed reserve for TPOT's refit of its choice.
        ensemble_reserve: the fixed reserve for the ensemble stage (0 when it is off or does not
            fit).
    """

    search_seconds: float
    per_run_seconds: float
    refit_reserve: float
    ensemble_reserve: float


class RunBudget:
    """The clock of one run: ``time_left`` seconds from ``started`` (a ``time.monotonic()``).

    Args:
        time_left: seconds for the whole run.
        started: when the run started (``time.monotonic()``).
        per_run_limit: the configured limit of one evaluation.
        ensemble: whether the ensemble stage runs.
        explain: whether the explanation stage runs (it gets :attr:`explain_reserve`).
    """

    def __init__(
        self,
        time_left: float,
        started: float,
        per_run_limit: float,
        ensemble: bool,
        explain: bool = False,
    ):
        self.time_left = float(time_left)
        self.started = started
        self.per_run_limit = float(per_run_limit)
        self.ensemble = ensemble
        #: The most the explanation stage is kept (a fixed share: nothing is known yet) ...
        self.explain_cap = (
            min(EXPLAIN_SHARE * self.time_left, EXPLAIN_MAX_SECONDS) if explain else 0.0
        )
        #: ... and the seconds kept back for it now, after the refit and the ensemble stage:
        #: the search's :class:`SearchDeadline` plans it again from the durations it sees.
        self.explain_reserve = self.explain_cap
        #: The instant (``time.monotonic()``) the whole run must be done by.
        self.deadline = started + self.time_left

    def __repr__(self) -> str:
        return f"RunBudget({self.time_left:g}s, {self.seconds_left():.1f}s left)"

    def seconds_left(self) -> float:
        """Seconds until the run's deadline."""
        return self.deadline - time.monotonic()

    @property
    def stages_deadline(self) -> float:
        """The instant (``time.monotonic()``) the refit and the ensemble stage must be done by:
        the explanation stage, storing the run and closing the cluster come after."""
        return self.explain_deadline - self.explain_reserve

    @property
    def explain_deadline(self) -> float:
        """The instant (``time.monotonic()``) the explanation stage must be done by: storing the
        run and closing the cluster come after."""
        return self.deadline - CLOSE_RESERVE - STORE_MARGIN

    def plan_search(self) -> SearchBudget:
        """Share out the time left now between the search and the stages after it.

        Raises:
            TrainingError: too little time is left for a search.
        """
        refit_reserve = REFIT_SHARE * self.time_left
        search_seconds = self.seconds_left() - CLOSE_RESERVE - refit_reserve - self.explain_reserve
        ensemble_reserve = ENSEMBLE_SHARE * self.time_left if self.ensemble else 0.0
        if search_seconds - ensemble_reserve >= MIN_SEARCH_SECONDS:
            search_seconds -= ensemble_reserve
        else:  # a slow start leaves the ensemble only what the search does not use
            ensemble_reserve = 0.0
        if search_seconds < MIN_SEARCH_SECONDS:
            # a short budget after a slow start: the refit gets a smaller share (it is planned
            # again from the durations seen) rather than the search nothing
            left = self.seconds_left() - CLOSE_RESERVE
            refit_reserve = max(MIN_REFIT_SECONDS, SQUEEZED_REFIT_SHARE * left)
            search_seconds = left - refit_reserve
        if search_seconds < MIN_SEARCH_SECONDS:
            raise TrainingError(
                f"time_left={self.time_left:g}s leaves {max(search_seconds, 0):.1f}s for the "
                f"search after preparing the data and starting Dask; raise time_left"
            )
        per_run = min(self.per_run_limit, max(MIN_PER_RUN_SECONDS, PER_RUN_SHARE * search_seconds))
        return SearchBudget(search_seconds, per_run, refit_reserve, ensemble_reserve)

    def deadline_for(
        self,
        plan: SearchBudget,
        *,
        cv: int,
        n_workers: int,
        lead_fits: int = 2,
        lead_costs: Callable[[SearchHistory], np.ndarray] | None = None,
    ) -> SearchDeadline:
        """The moving end of a search planned as ``plan``, in ``time.time()`` instants
        (``lead_fits``, ``lead_costs``: see :class:`SearchDeadline`)."""
        wall_now, now = time.time(), time.monotonic()
        return SearchDeadline(
            run_end=wall_now + (self.explain_deadline - now),
            planned_end=wall_now + plan.search_seconds,
            refit_reserve=plan.refit_reserve,
            ensemble_reserve=plan.ensemble_reserve,
            cv=cv,
            n_workers=n_workers,
            explain_reserve=self.explain_cap,
            budget=self,
            sampled_reserve=SAMPLED_SHARE * self.time_left,
            lead_fits=lead_fits,
            lead_costs=lead_costs,
        )


class SearchDeadline:
    """The search's end (a ``time.time()`` instant), planned from the durations seen so far.

    Parameters:
        run_end: the instant by which the refit, the ensemble and the explanation stages must
            all be done.
        planned_end: the end the fixed reserves give; the search never ends earlier.
        refit_reserve: the fixed refit reserve in seconds; the planned one never exceeds it.
        ensemble_reserve: the same for the ensemble stage (0 when the stage is off).
        cv: the search's cross-validation folds.
        n_workers: Dask worker threads (the stages after the search spread their work over them).
        explain_reserve: the fixed explanation reserve (0 when the stage is off).
        budget: the run's :class:`RunBudget`, told the planned explanation reserve (so the
            ensemble stage's deadline follows it).
        sampled_reserve: the most kept for the stage after the search while the search is on
            a sample (the end may then come earlier than ``planned_end`` to make room for it).
        lead_fits: how many fits that stage grows side by side (see ``SAMPLED_FIT_SHARE``).
        lead_costs: the seconds on all rows of those fits for a history
            (``ensemble.leaders.leading_costs``); without it, the search's best pipelines
            stand for them.
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
        explain_reserve: float = 0.0,
        budget: RunBudget | None = None,
        sampled_reserve: float = 0.0,
        lead_fits: int = 2,
        lead_costs: Callable[[SearchHistory], np.ndarray] | None = None,
    ):
        self.run_end = run_end
        self.lead_costs = lead_costs
        self.planned_end = planned_end
        self.refit_reserve = refit_reserve
        self.ensemble_reserve = ensemble_reserve
        self.explain_reserve = explain_reserve
        self.cv = max(int(cv), 2)
        self.n_workers = max(int(n_workers), 1)
        self.budget = budget
        self.sampled_reserve = sampled_reserve
        self.lead_fits = max(int(lead_fits), 1)
        #: The current end: ``planned_end`` until :meth:`plan` has seen scored pipelines.
        self.end = planned_end
        #: Whether the stage after a search on a sample would need more than its reserve (as
        #: of the last :meth:`reserves`): then it can use any time the search leaves.
        self.stage_wants_more = False

    def __repr__(self) -> str:
        return (
            f"SearchDeadline(end in {self.end - time.time():.1f}s, "
            f"planned in {self.planned_end - time.time():.1f}s)"
        )

    def reserves(self, history: SearchHistory) -> tuple[float, float, float]:
        """Seconds to keep for the refit, the ensemble and the explanation stages."""
        durations = history.best_durations()
        self.stage_wants_more = False
        if durations.size == 0:
            return self.refit_reserve, self.ensemble_reserve, self.explain_reserve
        if history.largest_fraction() < 1.0:
            return self._sampled_reserves(self._lead_costs(history, durations))
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
        explain = 0.0
        if self.explain_reserve > 0:
            # one refit per fold of the final model (about one evaluation of the slowest of the
            # best, which an ensemble may hold), then predictions on shuffled columns
            work = EXPLAIN_FACTOR * durations[:ENSEMBLE_CANDIDATES].max()
            needed = max(EXPLAIN_FLOOR, EXPLAIN_OVERHEAD + work / min(self.n_workers, self.cv))
            explain = min(self.explain_reserve, needed)
        return refit, ensemble, explain

    def _lead_costs(self, history: SearchHistory, durations: np.ndarray) -> np.ndarray:
        """What the stage's leading fits cost (:attr:`lead_costs`), or the best ``durations``
        when that is not known: a failure to read them must not end the search."""
        if self.lead_costs is None:
            return durations
        try:
            lead = self.lead_costs(history)
        except Exception:  # noqa: BLE001 - an unexportable pipeline, say: the old estimate
            return durations
        return lead if len(lead) else durations

    def _sampled_reserves(self, lead: np.ndarray) -> tuple[float, float, float]:
        """The reserves while the search is on a sample: TPOT's refit is then deferred to the
        ensemble stage (:mod:`automl_tpot.ensemble.holdout`), which fits the search's choice
        and the anchors side by side on a fold's training rows, as many of them as its time
        allows. It gets at most the time of all three fixed reserves or ``sampled_reserve``,
        whichever is more; the explanation stage only what it leaves. ``lead``, the leading
        fits' evaluations, are scaled to all rows linearly: a fit grows less than that from a
        small sample, but on the
        largest tables the time is worth more to the stage (more rows for its fits) than to the
        search (measured: 0.754 against 0.764 ROC AUC on ``flights_late`` at 60 s when the
        reserve grew with the 0.9 power of the rows). The stage's leading fits share the
        workers: their work is the slowest fit's or their sum over the workers, the more."""
        fold_fits = lead[: self.lead_fits] / self.cv
        work = max(fold_fits.max(), fold_fits.sum() / self.n_workers)
        needed = max(SAMPLED_FLOOR, SAMPLED_OVERHEAD + work / SAMPLED_FIT_SHARE)
        most = self._fixed() + self._sampled_extra()
        self.stage_wants_more = needed > most
        return min(most, needed), 0.0, 0.0

    def _fixed(self) -> float:
        return self.refit_reserve + self.ensemble_reserve + self.explain_reserve

    def _sampled_extra(self) -> float:
        """How much earlier than ``planned_end`` a sampled search may end."""
        return max(0.0, self.sampled_reserve - self._fixed())

    def plan(self, history: SearchHistory) -> float:
        """Update and return :attr:`end` for ``history``."""
        refit, ensemble, explain = self.reserves(history)
        earliest = self.planned_end
        if history.largest_fraction() < 1.0 and len(history.best_durations()):
            earliest -= self._sampled_extra()
        self.end = max(earliest, self.run_end - refit - ensemble - explain)
        if self.budget is not None:
            self.budget.explain_reserve = explain
        return self.end
