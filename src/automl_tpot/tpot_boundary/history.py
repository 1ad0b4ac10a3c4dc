"""TPOT's history of evaluations, read through one typed view.

TPOT keeps every evaluated individual in a pandas DataFrame (``evaluated_individuals``) whose
column names and error codes are TPOT's own, holding live estimator objects and NaNs. Nothing
outside this boundary reads that frame: :class:`SearchHistory` answers the questions the rest of
the library asks (what was scored, how long the best took, how many failed) and turns the rows
into :class:`~automl_tpot.records.evaluation.EvaluationRecord` objects.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from attrs import define

from ..records.evaluation import (
    ERROR_EXCEPTION,
    ERROR_TIMEOUT,
    STATUS_FAILED,
    STATUS_NOT_FINISHED,
    STATUS_OK,
    STATUS_TIMEOUT,
    EvaluationRecord,
)

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator

__all__ = [
    "BUDGET",
    "COMPLETED",
    "EVAL_ERROR",
    "INDIVIDUAL",
    "INVALID",
    "SUBMITTED",
    "TIMEOUT",
    "WORK",
    "ScoredPipeline",
    "SearchHistory",
    "evaluation_work",
    "retire_smaller_samples",
    "sample_folds",
    "sample_rows",
    "unfitted_pipeline",
]

# TPOT 1.1's column names and codes (checked by tests/test_tpot_contract.py).
INDIVIDUAL = "Individual"
INSTANCE = "Instance"
GENERATION = "Generation"
PARENTS = "Parents"
VARIATION = "Variation_Function"
PARETO_FRONT = "Pareto_Front"
SUBMITTED = "Submitted Timestamp"
COMPLETED = "Completed Timestamp"
EVAL_ERROR = "Eval Error"
INVALID = "INVALID"
TIMEOUT = "TIMEOUT"
#: TPOT's column of the share of rows an individual was evaluated on (its "budget").
BUDGET = "Budget"
#: Our columns: the score (and complexity) of an evaluation on a smaller share of the rows than
#: the search's last, moved out of TPOT's objective columns when the search ends.
SAMPLE_SCORE = "Sample Score"
SAMPLE_COMPLEXITY = "Sample Complexity"
#: Our column: an evaluation's work as a share of one on all rows with the search's folds.
WORK = "Work Share"
#: TPOT's objective draws a sample this way (``objective_function_generator``, ``budget``).
TPOT_SAMPLE_SEED = 1
#: Evaluations on a sample cross-validate on this many folds (or the search's own, if fewer):
#: a sample only ranks pipelines for the next, larger one, and three folds cost half of five.
SAMPLE_FOLDS = 3

#: A failed evaluation's category and reason in words, keyed by the individual's unique id (the
#: evaluation loop's knowledge; TPOT keeps only its INVALID / TIMEOUT code).
Reasons = Mapping[str, tuple[str, str]]


@define(frozen=True, eq=False)
class ScoredPipeline:
    """A successfully evaluated individual of the history.

    Attributes:
        key: its row in the history (what :meth:`SearchHistory.row` takes).
        score: its cross-validated score (bigger is better).
        seconds: how long its evaluation took (``inf`` when unknown).
        individual: TPOT's individual (export it with :meth:`export`).
        fraction: the share of the rows it was evaluated on (1.0: all).
        work: its evaluation's work as a share of one on all rows with the search's folds
            (see :func:`evaluation_work`; ``None``: ``fraction``, as before fewer folds were
            used on samples).
    """

    key: Any
    score: float
    seconds: float
    individual: Any
    fraction: float = 1.0
    work: float | None = None

    @property
    def full_seconds(self) -> float:
        """Its evaluation's duration scaled to all rows and the search's folds (a fit's cost
        grows about linearly with the rows)."""
        work = self.fraction if self.work is None else self.work
        return self.seconds / max(work, 1e-9)

    def export(self) -> BaseEstimator:
        """The unfitted scikit-learn pipeline of the individual."""
        return unfitted_pipeline(self.individual)


def unfitted_pipeline(individual: Any) -> BaseEstimator:
    """The unfitted scikit-learn pipeline of a TPOT individual (a search space's anchor, say)."""
    return individual.export_pipeline()


class SearchHistory:
    """A read-only view of TPOT's history of evaluations.

    Args:
        frame: TPOT's ``evaluated_individuals`` (the evolver's, indexed by unique id, or the
            estimator's after ``fit``, indexed by integers).
        score_column: the column holding the optimised metric (bigger is better).
        complexity_column: the column holding the complexity objective, if any.
    """

    def __init__(self, frame: pd.DataFrame | None, score_column: str, complexity_column: str = ""):
        self.frame = frame if frame is not None else pd.DataFrame()
        self.score_column = score_column
        self.complexity_column = complexity_column

    def __len__(self) -> int:
        return len(self.frame)

    def _column(self, name: str) -> pd.Series:
        if name in self.frame:
            return self.frame[name]
        return pd.Series(np.nan, index=self.frame.index, dtype=object)

    def _scores(self) -> pd.Series:
        return pd.to_numeric(self._column(self.score_column), errors="coerce")

    def _errors(self) -> pd.Series:
        return self._column(EVAL_ERROR)

    def _seconds(self) -> pd.Series:
        started = pd.to_numeric(self._column(SUBMITTED), errors="coerce")
        finished = pd.to_numeric(self._column(COMPLETED), errors="coerce")
        return finished - started

    def _scored_mask(self) -> pd.Series:
        scores = self._scores()
        return scores.notna() & np.isfinite(scores) & self._errors().isna()

    # -- the questions the library asks ------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        """``(evaluated, failed)``: evaluations with an outcome, and those that failed."""
        failed = int(self._errors().isin([INVALID, TIMEOUT]).sum())
        return int(self._scored_mask().sum()) + failed, failed

    def failure_codes(self) -> tuple[int, int]:
        """``(invalid, timeout)``: failed evaluations by TPOT's code."""
        errors = self._errors()
        return int((errors == INVALID).sum()), int((errors == TIMEOUT).sum())

    def best_score(self) -> float | None:
        """The best score so far, or ``None`` before any success."""
        scores = self._scores()[self._scored_mask()]
        return None if scores.empty else float(scores.max())

    def scored(self, first: Any = None) -> list[ScoredPipeline]:
        """The successful evaluations, best score first (``first``, a row key, leads)."""
        mask = self._scored_mask()
        scores = self._scores()[mask].sort_values(ascending=False, kind="stable")
        seconds = self._seconds()
        individuals = self._column(INDIVIDUAL)
        fractions = pd.to_numeric(self._column(BUDGET), errors="coerce").fillna(1.0)
        works = self._works(fractions)
        keys = scores.index.tolist()
        if first is not None and first in keys:
            keys.remove(first)
            keys.insert(0, first)
        out = []
        for key in keys:
            value = float(seconds.loc[key])
            duration = value if math.isfinite(value) and value >= 0 else math.inf
            fraction = float(fractions.loc[key])
            score = float(scores.loc[key])
            work = float(works.loc[key])
            out.append(ScoredPipeline(key, score, duration, individuals.loc[key], fraction, work))
        return out

    def _works(self, fractions: pd.Series) -> pd.Series:
        """Each evaluation's work share (:data:`WORK`; its fraction where the column is not)."""
        return pd.to_numeric(self._column(WORK), errors="coerce").fillna(fractions)

    def evaluation_of(self, individual: Any) -> ScoredPipeline | None:
        """The successful evaluation of ``individual`` (matched by TPOT's unique id) on the
        largest share of the rows, whatever sample it was on (its score may be one on a smaller
        sample than the search's last); ``None`` when it has none. For what it cost."""
        uid = _unique_id(individual)
        if uid is None or len(self.frame) == 0:
            return None
        same = self._column(INDIVIDUAL).map(_unique_id) == uid
        ok = same & self._errors().isna()
        seconds = self._seconds()[ok]
        seconds = seconds[np.isfinite(pd.to_numeric(seconds, errors="coerce"))]
        if seconds.empty:
            return None
        fractions = pd.to_numeric(self._column(BUDGET), errors="coerce").fillna(1.0)
        key = fractions.loc[seconds.index].idxmax()
        scores = self._scores().fillna(pd.to_numeric(self._column(SAMPLE_SCORE), errors="coerce"))
        return ScoredPipeline(
            key,
            float(scores.loc[key]),
            float(seconds.loc[key]),
            self._column(INDIVIDUAL).loc[key],
            float(fractions.loc[key]),
            float(self._works(fractions).loc[key]),
        )

    def best_durations(self) -> np.ndarray:
        """Evaluation seconds of the successful evaluations scaled to all rows, best first."""
        durations = np.array([p.full_seconds for p in self.scored()], dtype=float)
        return durations[np.isfinite(durations)]

    def largest_fraction(self) -> float:
        """The largest share of the rows any evaluation used (1.0 without sampling)."""
        fractions = pd.to_numeric(self._column(BUDGET), errors="coerce")
        return 1.0 if fractions.notna().sum() == 0 else float(fractions.max())

    def records(
        self,
        *,
        metric: str,
        reasons: Reasons | None = None,
        describe: Callable[[Any], str] | None = None,
    ) -> list[EvaluationRecord]:
        """Every row as an :class:`EvaluationRecord` (``reasons``: the evaluation loop's)."""
        from ..utils.pipelines import describe_pipeline

        describe = describe or describe_pipeline
        reasons = reasons or {}
        records: list[EvaluationRecord] = []
        for key, row in self.frame.iterrows():
            score = _finite(row.get(self.score_column))
            complexity = row.get(self.complexity_column) if self.complexity_column else None
            if score is None and _finite(row.get(SAMPLE_SCORE)) is not None:
                score, complexity = _finite(row.get(SAMPLE_SCORE)), row.get(SAMPLE_COMPLEXITY)
            fraction = _finite(row.get(BUDGET))
            code = row.get(EVAL_ERROR)
            code = None if code is None or (isinstance(code, float) and math.isnan(code)) else code
            uid = _unique_id(row.get(INDIVIDUAL))
            detail = None if uid is None else reasons.get(uid)
            error, reason = _failure(None if code is None else str(code), detail)
            if score is not None and code is None:
                status = STATUS_OK
            elif error == ERROR_TIMEOUT:
                status = STATUS_TIMEOUT
            elif code is not None:
                status = STATUS_FAILED
            else:
                status = STATUS_NOT_FINISHED
            variation = row.get(VARIATION)
            records.append(
                EvaluationRecord(
                    id=key if isinstance(key, (int, np.integer)) else len(records),
                    pipeline=_describe(row, describe),
                    status=status,
                    error=error,
                    reason=reason,
                    score=score if status == STATUS_OK else None,
                    metric=metric,
                    complexity=complexity,
                    generation=row.get(GENERATION),
                    parents=_parents(row.get(PARENTS)),
                    variation=variation if isinstance(variation, str) else None,
                    pareto_front=row.get(PARETO_FRONT),
                    submitted_at=row.get(SUBMITTED),
                    completed_at=row.get(COMPLETED),
                    sample_fraction=None if fraction is None or fraction >= 1.0 else fraction,
                )
            )
        return records


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _parents(value: Any) -> tuple[int, ...]:
    if isinstance(value, (tuple, list)):
        return tuple(int(p) for p in value if _finite(p) is not None)
    return ()


def _unique_id(individual: Any) -> str | None:
    try:
        return individual.unique_id()
    except Exception:  # not an individual (a NaN in a half-built row): no reason to show
        return None


def _describe(row: pd.Series, describe: Callable[[Any], str]) -> str | None:
    instance = row.get(INSTANCE)
    if instance is None or (isinstance(instance, float) and math.isnan(instance)):
        individual = row.get(INDIVIDUAL)
        if individual is None or isinstance(individual, float):
            return None
        try:
            instance = individual.export_pipeline()
        except Exception:  # an individual TPOT cannot export: describe it as TPOT prints it
            return str(individual)
    return describe(instance)


def _failure(code: str | None, detail: Any) -> tuple[str | None, str | None]:
    """The record's ``error`` and ``reason`` from TPOT's code and the evaluation loop's detail."""
    if code is not None and isinstance(detail, (tuple, list)) and len(detail) == 2:
        return str(detail[0]), str(detail[1])
    if code == TIMEOUT:
        return ERROR_TIMEOUT, "ran longer than per_run_limit"
    if code is not None:
        return ERROR_EXCEPTION, "the pipeline raised an error (TPOT kept no detail)"
    return None, None


def retire_smaller_samples(frame: pd.DataFrame, objective_names: list[str]) -> None:
    """Keep TPOT's objective columns only for the evaluations on the largest share of rows.

    TPOT's final choice compares every scored row; scores on a smaller sample are not comparable
    with those on a larger one, so they move to :data:`SAMPLE_SCORE` (and
    :data:`SAMPLE_COMPLEXITY`), where the reports still find them.
    """
    if BUDGET not in frame:
        return
    budgets = pd.to_numeric(frame[BUDGET], errors="coerce")
    if budgets.notna().sum() == 0:
        return
    smaller = budgets.notna() & (budgets < budgets.max() - 1e-12)
    if not smaller.any():
        return
    score, *others = objective_names
    frame[SAMPLE_SCORE] = np.where(smaller, pd.to_numeric(frame[score], errors="coerce"), np.nan)
    if others:
        complexity = pd.to_numeric(frame[others[0]], errors="coerce")
        frame[SAMPLE_COMPLEXITY] = np.where(smaller, complexity, np.nan)
    frame.loc[smaller, objective_names] = np.nan


def sample_folds(fraction: float, cv: int) -> int:
    """The cross-validation folds of an evaluation on ``fraction`` of the rows."""
    return cv if fraction >= 1.0 else min(cv, SAMPLE_FOLDS)


def evaluation_work(fraction: float, cv: int) -> float:
    """An evaluation's work on ``fraction`` of the rows, as a share of one on all rows with
    ``cv`` folds: ``k`` folds fit ``k`` times on ``(k - 1) / k`` of the rows."""
    return fraction * (sample_folds(fraction, cv) - 1) / max(cv - 1, 1)


def sample_rows(X: Any, y: Any, fraction: float, classification: bool) -> tuple[Any, Any]:
    """The rows TPOT's objective evaluates on at ``fraction`` (the same stratified draw), so a
    later stage can score candidates on exactly the rows the search compared them on."""
    if fraction >= 1.0:
        return X, y
    from sklearn.utils import resample

    return resample(
        X,
        y,
        stratify=y if classification else None,
        n_samples=int(fraction * len(X)),
        replace=False,
        random_state=TPOT_SAMPLE_SEED,
    )
