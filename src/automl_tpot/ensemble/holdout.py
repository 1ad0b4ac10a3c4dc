"""The final choice and fit after a search that ended on a sample of a large table.

Why: hyperparameters that win on a few thousand rows can under-fit all of a table's rows (a
boosting model with a low learning rate and few leaves, say), and TPOT's refit of its choice
on all rows runs outside any time limit: on a table of hundreds of thousands of rows one fit
can take longer than the budget has left. So TPOT's refit is deferred
(:func:`~automl_tpot.tpot_boundary.fit_estimator`) and this stage does the final fit itself,
within the budget: the search's choice, the search space's *anchors* (its strong learner at
its defaults) and, as time allows, the next best pipelines are each fitted on rows outside the
first of the search's folds, on the Dask workers in parallel, and scored on that fold's
held-out rows. The best of them, or an average of them that scores better still, is the
model, refitted on all rows when its own fits say that ends in time (an average's members
side by side, with the weights chosen on the held-out fold) and its models are not so large
that holding them twice would dominate the run's memory; otherwise it keeps the fits it was
scored with.

How many rows: the search's durations on small samples overstate what more rows cost (fixed
costs weigh more there), so a first round fits on the rows they say are affordable (at most a
few times the search's last sample, never fewer than it); while the leading candidates' own
fits then show that more rows fit in the time left, a further round refits them on as many as
that allows (at most all rows but the held-out fold). From the second round on, how a fit's
seconds grew with the rows between the last two rounds sizes the next (a boosting model with
early stopping grows far less than linearly); no round grows a forest's nodes past the memory
limit above (``rounds.rows_within_memory``). A fit that has not finished at the deadline is
dropped and its candidate keeps its last round's fit, while the others keep their larger one;
when nothing has finished, the search's choice is fitted on the sample the search ended on.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from ..cluster.waiting import StageStopped, wait_until
from ..model.ensemble import WeightedEnsemble
from ..tpot_boundary import SearchHistory, sample_rows
from ..utils.pipelines import describe_pipeline
from .candidates import (
    Candidate,
    affordable,
    finished_result,
    fit_on_rows,
    fit_seconds,
    model_bytes,
    predict_rows,
    row_bound_bytes,
)
from .leaders import LEAD, leading_candidates
from .outcome import EnsembleOutcome, average_members, search_folds
from .rounds import (
    FIT_SCALING,
    FIT_SHARE,
    MEASURED_SCALING,
    RoundFit,
    RowGrowth,
    bytes_on_all_rows,
    fitted_model,
    keep_finished,
    rows_within_memory,
    subsample,
)
from .selection import fold_score

__all__ = [
    "FIT_SCALING",
    "FIT_SHARE",
    "MEASURED_SCALING",
    "MIN_SECONDS",
    "REFIT_MEMORY_FACTOR",
    "REFIT_MEMORY_FLOOR",
    "choose_on_held_out_rows",
    "refit_memory_limit",
]

#: The stage is planned with at least this many seconds (the fits of the search's choice and
#: the first anchor are always tried: the run needs a model).
MIN_SECONDS = 2.0
#: Seconds allowed for fetching a chosen model from its worker, even past the deadline.
FETCH_SECONDS = 5.0
#: A refit on all rows holds every member twice at its peak (its fit on the fold's rows stays
#: until the refit is back: the model if the refit does not finish). Members that take more than
#: this many times the training matrix's bytes, and more than REFIT_MEMORY_FLOOR, keep their fold
#: fits. Measured on ``insteval`` at 60 s (a matrix of 30 MB; an average of a 267-tree forest,
#: about 280 MB, and a boosting model): refitted on all 55,065 rows the run peaked at 860 MB,
#: kept on 44,052 at 679 MB, for a held-out balanced accuracy of 0.3147 against 0.3119.
REFIT_MEMORY_FACTOR = 2.0
REFIT_MEMORY_FLOOR = 128 * 2**20
#: The first round fits on at most this many times the search's last sample (a probe: its
#: fits' own durations size the second round far better than the search's small samples).
PROBE = 4


def choose_on_held_out_rows(
    *,
    client: Any,
    n_workers: int,
    history: SearchHistory,
    best_key: Any,
    chosen: BaseEstimator,
    anchors: Sequence[Any],
    X: Any,
    y: Any,
    task: str,
    metric: Any,
    cv: int,
    random_state: int,
    deadline: float,
    sample_fraction: float,
    should_stop: Callable[[], bool] | None = None,
    combine: bool = True,
) -> EnsembleOutcome:
    """The final model after a sampled search whose refit was deferred (see the module).

    ``history`` is the search's; ``best_key`` its row of ``chosen``, the pipeline TPOT chose
    (unfitted); ``anchors`` TPOT individuals (pipelines at their defaults) to compare with it;
    ``sample_fraction`` the share of the rows the search ended on. ``combine=False`` never
    averages. ``deadline`` is a ``time.monotonic()`` instant; ``should_stop()`` returning true
    ends the stage early (the run is then cancelled by the caller).
    """
    from sklearn.metrics import get_scorer

    started = time.monotonic()
    outcome = EnsembleOutcome()
    y = np.asarray(y)
    train, test = search_folds(task, y, cv, random_state)[0]
    outcome.holdout_rows = len(test)

    def finish(reason: str) -> EnsembleOutcome:
        outcome.reason = reason
        outcome.seconds = round(time.monotonic() - started, 3)
        return outcome

    def on_sample(why: str) -> EnsembleOutcome:
        X_sample, y_sample = sample_rows(X, y, sample_fraction, task == "classification")
        outcome.single = clone(chosen).fit(X_sample, np.asarray(y_sample))
        outcome.fitted_rows, outcome.holdout_rows = len(y_sample), 0
        return finish(f"{why}: the search's choice was fitted on its last sample")

    candidates, leading = leading_candidates(history, task, best_key, anchors, len(y))
    comparable = bool(candidates) and candidates[0].key == best_key
    if not comparable:
        # no probabilities to compare on: the choice alone, fitted the same way
        candidates = [Candidate(best_key, chosen, describe_pipeline(chosen), math.inf)]
        leading = LEAD
    available = max(deadline - time.monotonic(), MIN_SECONDS)
    share = _estimated_share(candidates, n_workers, available, cv)
    floor = min(len(train), int(sample_fraction * len(y)))
    probe = min(int(share * len(y)), PROBE * floor)
    first_rows = subsample(train, max(probe, floor), random_state)
    scale = max(share, len(first_rows) / max(len(y), 1))
    count = affordable(candidates, n_workers, 0.9 * available / scale, cv, held_out=True)
    candidates = candidates[: max(count, leading)]
    method = "predict_proba" if comparable and task == "classification" else "predict"
    futures: list[Any] = []
    growth = RowGrowth(n_workers)

    def submit(candidate: Candidate, rows: np.ndarray, priority: int = 0) -> RoundFit:
        """Fit and score ``candidate`` on the workers; a higher ``priority`` runs before the
        tasks already queued (a second round must not wait for the other candidates)."""
        limit = max(deadline - time.monotonic(), MIN_SECONDS)  # the worker-side guard
        options = {"pure": False, "priority": priority}
        model = client.submit(fit_on_rows, candidate.pipeline, *data, rows, limit, **options)
        fit = RoundFit(
            model,
            client.submit(predict_rows, model, data[0], test, method, **options),
            client.submit(fit_seconds, model, **options),
            len(rows),
            client.submit(row_bound_bytes, model, **options),
        )
        futures.extend([fit.model, fit.predictions, fit.seconds, fit.size])
        return fit

    def release(fit: RoundFit) -> None:
        """Drop a fit no longer needed (replaced, or not chosen): its model no longer holds a
        worker's memory."""
        for future in (fit.model, fit.predictions, fit.seconds, fit.size):
            future.cancel()
            futures.remove(future)

    def seconds_of(fit: RoundFit) -> float | None:
        """How long ``fit`` took, when it finished."""
        if fit.seconds.status != "finished":
            return None
        taken = finished_result(fit.seconds, time.monotonic() + 1.0)
        return None if taken is None else float(taken)

    def refit_on_all_rows(chosen: Sequence[int]) -> tuple[list[Any], float] | None:
        """The ``chosen`` candidates (the winner, or an average's members) refitted on all rows
        side by side, when their own fits say that ends in time and their models, grown to all
        rows, are small enough to hold twice (REFIT_MEMORY_FACTOR), and the seconds those
        refits were expected to take together."""
        taken = [seconds_of(fits[i]) for i in chosen]
        if any(fits[i].rows >= len(y) for i in chosen) or None in taken:
            return None
        costs = [
            float(t) * (len(y) / fits[i].rows) ** growth.scaling
            for t, i in zip(taken, chosen, strict=True)
        ]

        def ends_in_time() -> bool:
            work = max(max(costs), sum(costs) / n_workers)
            return work <= FIT_SHARE * (deadline - time.monotonic())

        if not ends_in_time():
            return None
        sizes = [client.submit(model_bytes, fits[i].model, pure=False) for i in chosen]
        futures.extend(sizes)
        grown = [fits[i].size for i in chosen]  # what grows with the rows: a forest's nodes
        wait_until([*sizes, *grown], min(deadline, time.monotonic() + FETCH_SECONDS), should_stop)
        held = [[finished_result(f, deadline) for f in group] for group in (sizes, grown)]
        total = bytes_on_all_rows(*held, [fits[i].rows for i in chosen], len(y))
        if total is None or total > refit_memory_limit(X) or not ends_in_time():
            return None
        for i, fit in enumerate(fits):  # the other candidates' fits no longer hold workers
            if i not in chosen and fit.model in futures:
                release(fit)
        refits = [submit(candidates[i], np.arange(len(y)), priority=2) for i in chosen]
        wait_until([refit.model for refit in refits], deadline, should_stop)
        fetch_by = max(deadline, time.monotonic() + FETCH_SECONDS)
        models = [finished_result(fitted_model(refit), fetch_by) for refit in refits]
        return None if None in models else (models, sum(costs))

    try:
        # unique keys: the same matrix scattered again while its last copy is being released
        # (a run after a run, in one process) can hang a hashed scatter
        data = client.scatter([X, y], broadcast=True, hash=False, timeout=available)
        # the leading candidates first: the second round is sized from their fits
        fits = [
            submit(c, first_rows, priority=1 if i < leading else 0)
            for i, c in enumerate(candidates)
        ]
        lead = fits[:leading]
        # each round grows the rows at least MIN_GROWTH times, up to all of them: it ends
        for round_seed in itertools.count(random_state + 1):
            wait_until(
                [f for fit in lead for f in (fit.predictions, fit.seconds, fit.size)],
                deadline,
                should_stop,
            )
            more = growth.next_rows(lead, deadline, len(train))
            held = [finished_result(fit.size, deadline) for fit in lead]
            more = rows_within_memory(lead[0].rows, more, held, refit_memory_limit(X))
            if not more:
                break
            rows = subsample(train, more, round_seed)
            grown = [submit(c, rows, priority=1) for c in candidates[: len(lead)]]
            wait_until(
                [f for fit in grown for f in (fit.predictions, fit.seconds)], deadline, should_stop
            )
            if not keep_finished(grown, fits, release):
                break
            lead = fits[: len(grown)]
        wait_until([fit.predictions for fit in fits], deadline, should_stop)
        fetch_by = max(deadline, time.monotonic() + FETCH_SECONDS)
        predictions = [finished_result(fit.predictions, fetch_by) for fit in fits]
        members = [i for i, p in enumerate(predictions) if p is not None]
        outcome.candidates = len(members)
        if not members:
            return on_sample("no fit on all rows finished in time")
        models = [fitted_model(fit) for fit in fits]

        def model_of(i: int) -> Any:
            return finished_result(models[i], fetch_by)

        if not comparable:
            outcome.single, outcome.fitted_rows = model_of(0), fits[0].rows
            if outcome.single is None:
                return on_sample("the fitted model could not be fetched")
            return finish("the search's choice gives no probabilities to compare with others")
        y_test = y[test]
        scorer = get_scorer(metric)
        classes = np.unique(y)
        everything = [np.arange(len(test))]

        def score(prediction: np.ndarray) -> float:
            return fold_score(scorer, task, prediction, y_test, everything, classes)

        scores = {i: score(predictions[i]) for i in members}
        outcome.choice_score = scores.get(0)
        ranked = sorted(members, key=lambda i: (-scores[i], i))
        outcome.best_single = scores[ranked[0]]
        reason = "averaging is off (ensemble=False)"
        if combine:
            reason = average_members(
                outcome, candidates, predictions, members, score, y_test, task, fetch_by,
                fitted={}, fits=models, should_stop=should_stop, scored_as="held-out",
            )  # fmt: skip
            if not reason and outcome.model is not None:
                # the members in the average's order (greedy selection keeps the members')
                kept = [i for i in members if candidates[i].description in outcome.weights]
                outcome.fitted_rows = max(fits[i].rows for i in kept)
                outcome.fit_seconds = _total([seconds_of(fits[i]) for i in kept])
                refit = refit_on_all_rows(kept)
                if refit is not None:  # the same weights, each member fitted on all rows
                    weights = outcome.model.weights
                    outcome.model = WeightedEnsemble.from_fitted(refit[0], weights, task)
                    outcome.fitted_rows, outcome.fit_seconds = len(y), refit[1]
                return finish("")
        for best in ranked:  # the best single pipeline whose model comes back
            if (model := model_of(best)) is not None:
                outcome.single, outcome.score = model, scores[best]
                outcome.fitted_rows = fits[best].rows
                outcome.fit_seconds = seconds_of(fits[best])
                if best != 0:
                    outcome.replaced_by = candidates[best].description
                refit = refit_on_all_rows([best])
                if refit is not None:
                    outcome.single, outcome.fit_seconds = refit[0][0], refit[1]
                    outcome.fitted_rows = len(y)
                return finish(reason)
        return on_sample("the fitted models could not be fetched")
    except StageStopped:
        return on_sample("the run was asked to stop")
    finally:
        for future in futures:  # nothing of the stage outlives it
            future.cancel()


def refit_memory_limit(X: Any) -> float:
    """The most bytes an average's members (or a single model) may take to be refitted on all
    rows of ``X``, the training matrix: see REFIT_MEMORY_FACTOR."""
    if hasattr(X, "memory_usage"):  # a DataFrame
        matrix = int(X.memory_usage(index=False, deep=True).sum())
    else:
        matrix = int(getattr(X, "nbytes", 0))
    return max(REFIT_MEMORY_FACTOR * matrix, REFIT_MEMORY_FLOOR)


def _total(seconds: Sequence[float | None]) -> float | None:
    """The sum of fits' seconds, ``None`` when any of them is unknown."""
    known = [value for value in seconds if value is not None]
    return float(sum(known)) if len(known) == len(seconds) else None


def _estimated_share(
    candidates: Sequence[Candidate], n_workers: int, available: float, cv: int
) -> float:
    """The share of all rows the leading candidates (side by side on the workers) can be
    fitted on in FIT_SHARE of ``available`` seconds, by their evaluations in the search.

    An evaluation on a share ``f`` of the rows would take ``E`` seconds for ``cv`` fits (its
    duration scaled to ``cv`` folds); a fit on a share ``s`` is taken to cost
    ``E / cv * (s / f) ** FIT_SCALING``.
    """
    lead = candidates[: max(1, min(n_workers, LEAD))]
    budget = max(FIT_SHARE * available, 0.0) * max(cv, 2)
    shares = []
    for candidate in lead:
        fraction = candidate.fraction
        seconds = candidate.full_seconds * fraction
        if not math.isfinite(seconds) or seconds <= 0 or fraction <= 0:
            return 1.0
        shares.append(fraction * (budget / seconds) ** (1 / FIT_SCALING))
    return min(1.0, *shares)
