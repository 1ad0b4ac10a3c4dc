"""Our evolver: TPOT's ``BaseEvolver`` with the three seams the library needs.

``TPOTEstimator.fit`` builds its evolver from the class in ``estimator._evolver``; the boundary
puts :class:`HookedEvolver` there (bound to an :class:`EvolverHooks` object), so everything
happens in the search's own thread, at TPOT's own steps, with no polling and no process-wide
patching:

* **evaluation**: each generation's unevaluated individuals go to ``hooks.evaluate`` (our Dask
  evaluation loop) instead of TPOT's ``parallel_eval_objective_list``;
* **the search's end**: TPOT's time checks (``max_time_mins``, ``scheduled_timeout_time``) read
  ``hooks.search_end()`` live, so a stop request or a replanned budget takes effect at TPOT's
  next check;
* **after each generation**: ``hooks.generation_evaluated`` gets a :class:`GenerationState`
  (progress, budget replanning, checkpoints), and a run can start from an
  :class:`EvolverSnapshot` taken there (resume).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Protocol

import numpy as np
from attrs import define
from tpot.evolvers.base_evolver import BaseEvolver

from .history import (
    BUDGET,
    COMPLETED,
    EVAL_ERROR,
    SUBMITTED,
    TIMEOUT,
    WORK,
    SearchHistory,
    evaluation_work,
    retire_smaller_samples,
    sample_folds,
    sample_rows,
)
from .snapshot import EvolverSnapshot, SnapshotDraft, draft_snapshot

__all__ = [
    "EvaluationBatch",
    "EvaluationRequest",
    "EvolverHooks",
    "EvolverSnapshot",
    "GenerationState",
    "HookedEvolver",
]


@define(frozen=True, eq=False)
class EvaluationRequest:
    """One generation's individuals to evaluate.

    Attributes:
        individuals: TPOT individuals (what the objectives take).
        keys: each individual's identity in the history (stable across generations: an
            individual asked for again has the same key).
        families: each individual's final estimator class name (what its cost depends on most).
        objectives: the objective functions, called as ``objective(individual, **kwargs)``.
        objective_kwargs: the data (``X``, ``y``) the objectives take: on a sampled generation
            the sample itself, drawn once in this process (see :meth:`HookedEvolver.sample`),
            so no evaluation draws it again from all rows.
        per_run_seconds: the limit of one evaluation, or ``None``.
        n_columns: how many scores each evaluation yields.
        generation: the generation being evaluated (0 is the initial population).
        sample_fraction: the share of the rows each evaluation cross-validates on (1.0: all;
            below, every evaluation of the generation uses the same stratified sample, see
            :func:`~automl_tpot.tpot_boundary.history.sample_rows`, and fewer folds, see
            :func:`~automl_tpot.tpot_boundary.history.sample_folds`).
        work_share: an evaluation's work as a share of one on all rows with the search's folds
            (what its cost scales with; see
            :func:`~automl_tpot.tpot_boundary.history.evaluation_work`).
    """

    individuals: Sequence[Any]
    keys: Sequence[str]
    families: Sequence[str]
    objectives: Sequence[Callable[..., Any]]
    objective_kwargs: dict[str, Any]
    per_run_seconds: float | None
    n_columns: int
    generation: int
    sample_fraction: float = 1.0
    work_share: float = 1.0


@define(frozen=True)
class EvaluationBatch:
    """What the evaluation of a request gave, in the request's order: scores (``n_columns``
    each, NaN when none), submission and completion times (Unix seconds), and TPOT's code
    (``None``, :data:`~automl_tpot.tpot_boundary.history.INVALID` or
    :data:`~automl_tpot.tpot_boundary.history.TIMEOUT`)."""

    scores: list[list[float]]
    submitted: list[float]
    completed: list[float]
    errors: list[str | None]


class EvolverHooks(Protocol):
    """What the evolver asks of the library."""

    def search_end(self) -> float:
        """The instant (``time.time()``) the search must end by, as it stands now."""
        ...

    def evaluate(self, request: EvaluationRequest) -> EvaluationBatch:
        """Evaluate one generation's individuals."""
        ...

    def sample_fraction(self, generation: int) -> float:
        """The share of the rows ``generation`` evaluates on (1.0 for all of them)."""
        ...

    def generation_evaluated(self, state: GenerationState) -> None:
        """Called in the search thread after each generation's evaluations are recorded."""
        ...


class GenerationState:
    """A typed view of the evolver right after a generation's evaluations were recorded."""

    def __init__(self, evolver: HookedEvolver):
        self._evolver = evolver

    @property
    def generation(self) -> int:
        """The generation just evaluated (0 is the initial population)."""
        return int(self._evolver.generation)

    @property
    def generations_completed(self) -> int:
        """Generations evaluated so far, this one included."""
        return self.generation + 1

    def history(self, complexity_column: str = "") -> SearchHistory:
        """Every evaluation so far (a live view: read it within the hook)."""
        evolver = self._evolver
        return SearchHistory(
            evolver.population.evaluated_individuals,
            score_column=evolver.objective_names[0],
            complexity_column=complexity_column,
        )

    def snapshot(self) -> EvolverSnapshot:
        """The state to continue from: the next generation starts where this one ended (only
        the individuals new since the last snapshot are packed)."""
        return self.draft().finish()

    def draft(self) -> SnapshotDraft:
        """The same state, cheaply: what can still change is taken now, the recorded
        individuals new since the last snapshot are packed by :meth:`SnapshotDraft.finish`,
        which may run in another thread while the search goes on."""
        evolver = self._evolver
        return draft_snapshot(
            evolver.population,
            evolver.pickled,
            generations_completed=self.generations_completed,
            rng_state=evolver.rng.bit_generator.state,
            score_column=evolver.objective_names[0],
        )


class HookedEvolver(BaseEvolver):
    """``BaseEvolver`` whose evaluation, clock and generation end go through ``hooks``.

    Built by ``TPOTEstimator.fit`` with TPOT's own arguments plus ``hooks``, ``classification``
    (whether samples and folds are stratified, as TPOT stratifies them), ``cv`` and
    ``random_state`` (the search's folds and seed) and ``restore`` (an :class:`EvolverSnapshot`
    to continue from), bound with :func:`functools.partial`.
    """

    def __init__(
        self,
        *args: Any,
        hooks: EvolverHooks,
        classification: bool,
        cv: int,
        random_state: int | None,
        restore: EvolverSnapshot | None = None,
        **kwargs: Any,
    ):
        self._hooks = hooks
        self._classification = classification
        self._cv = int(cv)
        self._random_state = random_state
        #: The last sample drawn, as ``(fraction, X, y)`` (see :meth:`sample`).
        self._sample: tuple[float, Any, Any] | None = None
        self._clock_start: float | None = None
        self._max_time_mins = math.inf
        #: Each history individual packed, by key (see :func:`.snapshot.draft_snapshot`).
        self.pickled: dict[Hashable, bytes] = {}
        super().__init__(*args, **kwargs)
        if restore is not None:  # TPOT built a fresh population: put the snapshot's in place
            self.population = restore.unpack()
            self.generation = restore.generations_completed
            self.rng.bit_generator.state = restore.rng_state
            self.pickled = dict(restore.individuals)
        if BUDGET not in self.population.evaluated_individuals:
            self.population.evaluated_individuals[BUDGET] = np.nan

    # TPOT's clock: optimize() takes its start time, then sets scheduled_timeout_time from
    # max_time_mins, and checks time.time() - start > max_time_mins * 60 between generations.
    @property
    def max_time_mins(self) -> float:
        if self._clock_start is None:
            return self._max_time_mins
        return (self._hooks.search_end() - self._clock_start) / 60

    @max_time_mins.setter
    def max_time_mins(self, value: float) -> None:
        self._max_time_mins = math.inf if value is None else float(value)

    @property
    def scheduled_timeout_time(self) -> float | None:
        return None if self._clock_start is None else self._hooks.search_end()

    @scheduled_timeout_time.setter
    def scheduled_timeout_time(self, value: float) -> None:
        start = value - self._max_time_mins * 60
        self._clock_start = start if math.isfinite(start) else time.time()

    def evaluate_population_full(self, budget: Any = None) -> None:
        """TPOT's step, with the evaluations done by ``hooks.evaluate`` on the share of the rows
        ``hooks.sample_fraction`` gives (TPOT's own budget mechanism: an individual scored on a
        smaller share is evaluated again, so survivors pay for more rows as the sample grows)."""
        fraction = min(max(float(self._hooks.sample_fraction(int(self.generation))), 0.0), 1.0)
        individuals = list(self.get_unevaluated_individuals(self.objective_names, budget=fraction))
        if not individuals:
            return
        minutes = self.max_eval_time_mins
        per_run = None if minutes is None or math.isinf(minutes) else minutes * 60
        kwargs = dict(self.objective_kwargs)
        if fraction < 1.0:
            kwargs["X"], kwargs["y"] = self.sample(fraction)
            kwargs["cv"] = self.sample_splitter(fraction)
        work = evaluation_work(fraction, self._cv)
        batch = self._hooks.evaluate(
            EvaluationRequest(
                individuals=individuals,
                keys=[individual.unique_id() for individual in individuals],
                families=[_family(individual) for individual in individuals],
                objectives=self.objective_functions,
                objective_kwargs=kwargs,
                per_run_seconds=per_run,
                n_columns=len(self.objective_names),
                generation=int(self.generation),
                sample_fraction=fraction,
                work_share=work,
            )
        )
        population = self.population
        population.update_column(individuals, column_names=BUDGET, data=fraction)
        population.update_column(individuals, column_names=WORK, data=work)
        population.update_column(individuals, column_names=self.objective_names, data=batch.scores)
        population.update_column(individuals, column_names=SUBMITTED, data=batch.submitted)
        population.update_column(individuals, column_names=COMPLETED, data=batch.completed)
        population.update_column(individuals, column_names=EVAL_ERROR, data=batch.errors)
        population.remove_invalid_from_population(column_names=EVAL_ERROR)
        population.remove_invalid_from_population(column_names=EVAL_ERROR, invalid_value=TIMEOUT)

    def sample(self, fraction: float) -> tuple[Any, Any]:
        """The rows a generation at ``fraction`` evaluates on: TPOT's own draw
        (:func:`~automl_tpot.tpot_boundary.history.sample_rows`, what its objective does with a
        ``budget``), made once here and kept while the fraction stays, instead of once per
        evaluation from all rows on the workers (0.6 s per evaluation on 750,000 rows); the
        workers then hold the sample, not the whole table, while the search is on one."""
        if self._sample is None or self._sample[0] != fraction:
            X, y = self.objective_kwargs["X"], self.objective_kwargs["y"]
            self._sample = (fraction, *sample_rows(X, y, fraction, self._classification))
        return self._sample[1], self._sample[2]

    def sample_splitter(self, fraction: float) -> Any:
        """The folds of an evaluation on a sample: fewer than the search's
        (:func:`~automl_tpot.tpot_boundary.history.sample_folds`), drawn as TPOT draws its own
        (shuffled with the search's seed, stratified for classification)."""
        from sklearn.model_selection import KFold, StratifiedKFold

        splitter = StratifiedKFold if self._classification else KFold
        folds = sample_folds(fraction, self._cv)
        return splitter(n_splits=folds, shuffle=True, random_state=self._random_state)

    def evaluate_population(self) -> None:
        """TPOT's step, then the library's ``generation_evaluated`` hook."""
        super().evaluate_population()
        self._hooks.generation_evaluated(GenerationState(self))

    def optimize(self, generations: Any = None) -> None:
        """TPOT's search, then only the evaluations on the largest share of rows stay scored in
        TPOT's columns (TPOT's final choice compares those alone); the others keep their
        sample score in :data:`~automl_tpot.tpot_boundary.history.SAMPLE_SCORE`."""
        super().optimize(generations)
        retire_smaller_samples(self.population.evaluated_individuals, self.objective_names)


def _family(individual: Any) -> str:
    """The final estimator's class name of an individual's pipeline ("" when it cannot say)."""
    from ..utils.pipelines import final_estimator

    try:
        return type(final_estimator(individual.export_pipeline())).__name__
    except Exception:  # an individual TPOT cannot export now fails in its evaluation
        return ""
