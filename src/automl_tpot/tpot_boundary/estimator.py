"""Building, fitting and reading a ``TPOTEstimator`` for one search.

:func:`build_estimator` configures TPOT's estimator through its public constructor and puts the
:class:`~automl_tpot.tpot_boundary.evolver.HookedEvolver` in place; :func:`fit_estimator` runs it
and turns TPOT's own failure ("no individuals could be evaluated") into
:class:`NothingEvaluated`; :class:`FittedSearch` is the typed view of the fitted estimator.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from attrs import define

from .evolver import EvolverHooks, EvolverSnapshot, HookedEvolver
from .history import BUDGET, INDIVIDUAL, SearchHistory

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator
    from tpot import TPOTEstimator

__all__ = ["FittedSearch", "NothingEvaluated", "TPOTSettings", "build_estimator", "fit_estimator"]

#: The name of the second objective in TPOT's history.
COMPLEXITY = "complexity"


class NothingEvaluated(Exception):
    """TPOT ended without a single scored individual (every evaluation failed, or the time ran
    out first)."""


@define(frozen=True, eq=False)
class TPOTSettings:
    """What one search asks of TPOT.

    Attributes:
        search_space: the TPOT ``SearchSpace``.
        scorer: the metric (a scikit-learn scorer name or callable; bigger is better).
        classification: the task.
        cv: cross-validation folds (TPOT draws them with ``random_state``).
        population_size: individuals per generation.
        generations: generations to run at most (``None``: until the time is up).
        search_seconds: the search's first planned length (the hooks move its end later).
        per_run_seconds: the limit of one evaluation.
        n_jobs: the Dask worker threads the client offers.
        client: the Dask client.
        random_state: the seed of TPOT's folds and evolution.
        complexity: the second objective, minimised: ``complexity(pipeline) -> float``.
    """

    search_space: Any
    scorer: Any
    classification: bool
    cv: int
    population_size: int
    generations: int | None
    search_seconds: float
    per_run_seconds: float
    n_jobs: int
    client: Any
    random_state: int
    complexity: Callable[[Any], float]


def build_estimator(
    settings: TPOTSettings, hooks: EvolverHooks, restore: EvolverSnapshot | None = None
) -> TPOTEstimator:
    """An unfitted ``TPOTEstimator`` whose evolver goes through ``hooks`` (and continues from
    ``restore`` when given)."""
    from tpot import TPOTEstimator

    with warnings.catch_warnings():
        # both limits are meant: TPOT ends at whichever comes first
        warnings.filterwarnings("ignore", message="Both generations and max_time_mins are set")
        estimator = TPOTEstimator(
            search_space=settings.search_space,
            scorers=[settings.scorer],
            scorers_weights=[1.0],
            classification=settings.classification,
            cv=settings.cv,
            other_objective_functions=[settings.complexity],
            other_objective_functions_weights=[-1.0],
            objective_function_names=[COMPLEXITY],
            population_size=settings.population_size,
            generations=settings.generations,
            max_time_mins=settings.search_seconds / 60,
            max_eval_time_mins=settings.per_run_seconds / 60,
            n_jobs=settings.n_jobs,
            client=settings.client,
            # the evaluation loop broadcasts the data itself, once per cluster
            scatter=False,
            random_state=settings.random_state,
            verbose=0,
        )
    estimator._evolver = functools.partial(
        HookedEvolver,
        hooks=hooks,
        classification=settings.classification,
        cv=settings.cv,
        random_state=settings.random_state,
        restore=restore,
    )
    return estimator


def fit_estimator(
    estimator: TPOTEstimator, X: Any, y: Any, *, defer_sampled_refit: bool = False
) -> FittedSearch:
    """Run the search and TPOT's refit of its choice on all rows.

    With ``defer_sampled_refit``, a search that ended on a sample of the rows skips TPOT's
    refit (:attr:`FittedSearch.refit_deferred`): the caller fits the final model itself, within
    its budget. TPOT's refit runs outside any time limit, and on a large table one fit of a
    pipeline chosen on a few thousand rows can take longer than the whole budget has left.

    Raises:
        NothingEvaluated: TPOT found no scored individual.
    """
    deferral = _RefitDeferral(estimator) if defer_sampled_refit else None
    try:
        estimator.fit(X, y)
    except Exception as error:
        if str(error).startswith("No individuals could be evaluated"):
            raise NothingEvaluated(str(error)) from error
        raise
    finally:
        if deferral is not None:
            deferral.restore()
    return FittedSearch(estimator, refit_deferred=deferral is not None and deferral.deferred)


class _Unfitted:
    """What TPOT's final refit gets when it is deferred: ``fit`` does nothing."""

    def __init__(self, pipeline: Any):
        self.pipeline = pipeline

    def fit(self, X: Any, y: Any = None) -> _Unfitted:
        return self


class _DeferredIndividual:
    """An individual as TPOT's final refit sees it when the refit is deferred: its exported
    pipeline's ``fit`` does nothing. Everything else is the individual's own."""

    def __init__(self, individual: Any):
        self._individual = individual

    def export_pipeline(self, *args: Any, **kwargs: Any) -> _Unfitted:
        return _Unfitted(self._individual.export_pipeline(*args, **kwargs))

    def export_flattened_graphpipeline(self, *args: Any, **kwargs: Any) -> _Unfitted:
        return _Unfitted(self._individual.export_flattened_graphpipeline(*args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._individual, name)


class _RefitDeferral:
    """Skips TPOT's final refit when the search ended on a sample.

    TPOT builds its table of evaluations (``make_evaluated_individuals``) right after the
    evolution and then refits the best individual of it. When that table says the evaluations'
    largest share of rows is below 1, the individuals in it are swapped for stand-ins whose
    pipelines do not fit; :meth:`restore` puts the real ones back once ``fit`` returns.
    """

    def __init__(self, estimator: TPOTEstimator):
        self.estimator = estimator
        self.deferred = False
        self._originals: Any = None
        build = estimator.make_evaluated_individuals

        def make_evaluated_individuals() -> Any:
            frame = build()
            if frame is not None and self._originals is None and _sampled(frame):
                self._originals = frame[INDIVIDUAL].copy()
                frame[INDIVIDUAL] = self._originals.map(_DeferredIndividual)
                self.deferred = True
            return frame

        estimator.make_evaluated_individuals = make_evaluated_individuals

    def restore(self) -> None:
        """Put TPOT's own individuals and method back."""
        self.estimator.__dict__.pop("make_evaluated_individuals", None)
        frame = self.estimator.evaluated_individuals
        if self._originals is not None and frame is not None:
            frame[INDIVIDUAL] = self._originals
        if self.deferred:
            self.estimator.fitted_pipeline_ = None


def _sampled(frame: Any) -> bool:
    """Whether the history's largest share of rows is below all of them."""
    import pandas as pd

    if BUDGET not in frame:
        return False
    budgets = pd.to_numeric(frame[BUDGET], errors="coerce").dropna()
    return not budgets.empty and float(budgets.max()) < 1.0


class FittedSearch:
    """The outcome of a fitted ``TPOTEstimator``, read through typed properties.

    Args:
        estimator: the fitted estimator.
        refit_deferred: TPOT's refit of its choice was skipped (see :func:`fit_estimator`).
    """

    def __init__(self, estimator: TPOTEstimator, *, refit_deferred: bool = False):
        self._estimator = estimator
        #: Whether TPOT's refit was skipped: :attr:`fitted_pipeline` is then ``None`` and the
        #: caller fits :meth:`chosen_pipeline` itself.
        self.refit_deferred = refit_deferred

    @property
    def score_column(self) -> str:
        """The history's column of the optimised metric."""
        return str(self._estimator.objective_names[0])

    @property
    def history(self) -> SearchHistory:
        """Every evaluation, indexed by the evaluation's number."""
        return SearchHistory(
            self._estimator.evaluated_individuals, self.score_column, complexity_column=COMPLEXITY
        )

    @property
    def best_key(self) -> Any:
        """The history row of the pipeline TPOT chose."""
        return self._estimator.selected_best_score.name

    @property
    def best_score(self) -> float:
        """The chosen pipeline's cross-validated score."""
        return float(self._estimator.selected_best_score[self.score_column])

    @property
    def fitted_pipeline(self) -> BaseEstimator | None:
        """The chosen pipeline refitted on all rows (``None`` if every refit failed, or the
        refit was deferred)."""
        return getattr(self._estimator, "fitted_pipeline_", None)

    def chosen_pipeline(self) -> BaseEstimator:
        """The chosen pipeline, unfitted."""
        frame = self._estimator.evaluated_individuals
        return frame.loc[self.best_key, INDIVIDUAL].export_pipeline()

    @property
    def generations_completed(self) -> int:
        """Generations evaluated, the initial population included (counting across a resume)."""
        return int(self._estimator._evolver_instance.generation)
