"""The ensemble stage's candidates and the work it sends to the Dask workers: which of the
search's pipelines are tried, what each is estimated to cost, and the out-of-fold predictions
and final fits computed for them."""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

from ..cluster.worker import call_with_time_limit
from ..tpot_boundary import SearchHistory, unfitted_pipeline
from ..utils.pipelines import children, describe_pipeline, final_estimator

__all__ = [
    "MAX_CANDIDATES",
    "MAX_PER_FAMILY",
    "Candidate",
    "add_anchors",
    "affordable",
    "best_candidates",
    "family",
    "finished_result",
    "fit_on_all_rows",
    "fit_on_rows",
    "fit_seconds",
    "model_bytes",
    "row_bound_bytes",
    "out_of_fold",
    "predict_rows",
]

#: Pipelines considered for the ensemble, best first.
MAX_CANDIDATES = 8
#: At most this many candidates share a final estimator class (variety beats near-copies).
MAX_PER_FAMILY = 2


# --- on a worker ----------------------------------------------------------------------------------


def out_of_fold(
    pipeline: Any, X: Any, y: np.ndarray, folds: list, method: str, seconds: float
) -> np.ndarray | None:
    """Out-of-fold predictions of ``pipeline`` on the given folds (rows outside every test
    part stay 0); runs on a Dask worker and gives up (``None``) after ``seconds``, so an
    abandoned task does not hold a shared worker."""

    def compute() -> np.ndarray:
        output: np.ndarray | None = None
        for train, test in folds:
            model = clone(pipeline).fit(_rows(X, train), y[train])
            values = np.asarray(getattr(model, method)(_rows(X, test)), dtype=float)
            if output is None:
                output = np.zeros((len(y), *values.shape[1:]))
            output[test] = values
        assert output is not None
        return output

    return call_with_time_limit(compute, seconds)


def fit_on_all_rows(pipeline: Any, X: Any, y: np.ndarray, seconds: float) -> Any:
    """``pipeline`` fitted on all rows, or ``None`` after ``seconds``; runs on a Dask worker."""
    return call_with_time_limit(lambda: clone(pipeline).fit(X, y), seconds)


def fit_on_rows(
    pipeline: Any, X: Any, y: np.ndarray, rows: np.ndarray, seconds: float
) -> tuple[Any, float] | None:
    """``pipeline`` fitted on ``rows`` only and the seconds the fit took, or ``None`` after
    ``seconds``; runs on a Dask worker (the model stays there until the client asks for it)."""

    def fit() -> tuple[Any, float]:
        started = time.perf_counter()
        model = clone(pipeline).fit(_rows(X, rows), y[rows])
        return model, time.perf_counter() - started

    return call_with_time_limit(fit, seconds)


def predict_rows(
    fitted: tuple[Any, float] | None, X: Any, rows: np.ndarray, method: str
) -> np.ndarray | None:
    """The predictions (``method``) for ``rows`` of a :func:`fit_on_rows` model, ``None`` for
    one that did not finish; runs on a Dask worker."""
    if fitted is None:
        return None
    return np.asarray(getattr(fitted[0], method)(_rows(X, rows)), dtype=float)


def fit_seconds(fitted: tuple[Any, float] | None) -> float | None:
    """How long a :func:`fit_on_rows` fit took (``None``: it did not finish); runs on a Dask
    worker, so the client learns it without fetching the model."""
    return None if fitted is None else fitted[1]


def model_bytes(fitted: tuple[Any, float] | None) -> int | None:
    """The bytes of a :func:`fit_on_rows` model as Dask would send it (cloudpickle; ``None``:
    it did not finish), counted as the pickler writes them, never held; runs on a Dask
    worker."""
    import cloudpickle

    if fitted is None:
        return None
    counter = _ByteCounter()
    cloudpickle.dump(fitted[0], counter, protocol=pickle.HIGHEST_PROTOCOL)
    return counter.count


def row_bound_bytes(fitted: tuple[Any, float] | None) -> int | None:
    """The bytes of a :func:`fit_on_rows` model's parts that grow with its training rows
    (``None``: it did not finish): the node arrays of its trees (a forest's leaves multiply
    with the rows unless its leaves are capped) and the rows a k-NN model stores. A boosting
    model's trees are bounded by its leaves and iterations and not counted. Read from the
    arrays in place, in microseconds; runs on a Dask worker."""
    if fitted is None:
        return None
    return sum(_grown_bytes(part) for part in _parts(fitted[0]))


def _parts(model: Any) -> list[Any]:
    """A fitted model and the estimators inside it (pipeline steps, ensemble members, the
    trees of a forest)."""
    found, stack = [], [model]
    while stack:
        part = stack.pop()
        found.append(part)
        if hasattr(part, "steps"):
            stack.extend(step for _, step in part.steps)
        for name in ("estimators_", "estimator_", "members_"):
            inner = getattr(part, name, None)
            if isinstance(inner, list | tuple):
                stack.extend(inner)
            elif inner is not None and hasattr(inner, "fit"):
                stack.append(inner)
    return found


#: Bytes of one node of a scikit-learn tree besides its values (its ``nodes`` array's record).
TREE_NODE_BYTES = 64


def _grown_bytes(part: Any) -> int:
    tree = getattr(part, "tree_", None)
    if tree is not None and hasattr(tree, "node_count"):
        return int(tree.node_count * TREE_NODE_BYTES + tree.value.nbytes)
    stored = getattr(part, "_fit_X", None)  # k-NN
    return int(getattr(stored, "nbytes", 0))


class _ByteCounter:
    """A file that only counts what is written to it."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, data: bytes | memoryview) -> int:
        size = memoryview(data).nbytes
        self.count += size
        return size


def _rows(X: Any, index: np.ndarray) -> Any:
    """``X``'s rows at ``index``: ``X`` itself when that is all of them in order (a refit on
    all rows copies nothing; on a large table a copy per member fitted side by side is
    hundreds of MB)."""
    if len(index) == len(X) and np.array_equal(index, np.arange(len(X))):
        return X
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


# --- on the client --------------------------------------------------------------------------------


@dataclass
class Candidate:
    """A pipeline the stage may use.

    Attributes:
        key: its row in the search's history (``None`` for an anchor the stage adds).
        pipeline: the unfitted scikit-learn pipeline.
        description: how reports name it.
        full_seconds: its evaluation's duration in the search, scaled to all rows and the
            search's folds.
        fraction: the share of the rows that evaluation was on.
    """

    key: Any
    pipeline: Any
    description: str
    full_seconds: float
    fraction: float = 1.0


def family(pipeline: Any, description: str) -> str:
    """The final estimator's class (of a pipeline, or of a bare estimator); a TPOT graph
    pipeline is its own family."""
    if children(pipeline)[0] == "graph":
        return description
    return type(final_estimator(pipeline)).__name__


def best_candidates(history: SearchHistory, task: str, best_key: Any) -> list[Candidate]:
    """The best distinct pipelines of the search (the search's own choice first: its refit is
    reused), at most MAX_PER_FAMILY per final estimator."""
    chosen: list[Candidate] = []
    seen: set[str] = set()
    families: dict[str, int] = {}
    for scored in history.scored(first=best_key):
        if len(chosen) >= MAX_CANDIDATES:
            break
        try:
            pipeline = scored.export()
        except Exception:  # an individual TPOT cannot export: leave it out
            continue
        if task == "classification" and not hasattr(pipeline, "predict_proba"):
            continue
        description = describe_pipeline(pipeline)
        kind = family(pipeline, description)
        if description in seen or families.get(kind, 0) >= MAX_PER_FAMILY:
            continue
        seen.add(description)
        families[kind] = families.get(kind, 0) + 1
        chosen.append(
            Candidate(scored.key, pipeline, description, scored.full_seconds, scored.fraction)
        )
    return chosen


def add_anchors(
    candidates: list[Candidate], anchors: Sequence[Any], history: SearchHistory
) -> tuple[list[Candidate], int]:
    """``candidates`` with the ``anchors`` (TPOT individuals: pipelines at their defaults)
    right after the search's choice, and how many candidates lead (the choice and the anchors).

    An anchor that is already a candidate moves up there (the search may have scored it below
    the choice on its sample: that is why it is an anchor); one that is the choice itself is not
    added again. An anchor's cost is its own evaluation's in ``history`` (on whatever sample it
    had); one never evaluated is taken to cost what the most expensive candidate of its family
    did.
    """
    if not candidates:
        return candidates, 0
    by_description = {candidate.description: candidate for candidate in candidates[1:]}
    placed = {candidates[0].description}
    added: list[Candidate] = []
    for anchor in anchors:
        try:
            pipeline = unfitted_pipeline(anchor)
        except Exception:  # an anchor TPOT cannot export is left out, like a failed candidate
            continue
        description = describe_pipeline(pipeline)
        if description in placed:
            continue
        placed.add(description)
        if description in by_description:
            added.append(by_description[description])
            continue
        evaluation = history.evaluation_of(anchor)
        if evaluation is not None:
            full, fraction = evaluation.full_seconds, evaluation.fraction
        else:
            kind = family(pipeline, description)
            alike = [c for c in candidates if family(c.pipeline, c.description) == kind]
            like = max(alike or candidates, key=lambda c: c.full_seconds)
            full, fraction = like.full_seconds, like.fraction
        added.append(Candidate(None, pipeline, description, full, fraction))
    rest = [c for c in candidates[1:] if all(c is not a for a in added)]
    return [candidates[0], *added, *rest], 1 + len(added)


def affordable(
    candidates: Sequence[Candidate],
    workers: int,
    seconds: float,
    cv: int,
    *,
    held_out: bool = False,
) -> int:
    """How many of the best candidates fit in ``seconds``.

    On the search's folds a candidate's predictions cost about its evaluation on all rows and
    its final fit on all rows about 1/(cv-1) of that; on one held-out fold (``held_out``) one
    fit on the other rows, about 1/cv of an evaluation, and nothing more. The work is spread
    over the workers (with the slowest candidate as a floor). Evaluations the search abandoned
    may still hold a worker for a while; whatever does not finish in time is dropped.
    """
    share = 1 / max(cv, 2) if held_out else 1 + 1 / max(cv - 1, 1)
    count, total, slowest = 0, 0.0, 0.0
    for candidate in candidates:
        cost = candidate.full_seconds * share
        if not math.isfinite(cost):
            break
        estimate = max(slowest, cost, (total + cost) / max(workers, 1))
        if estimate > seconds:
            break
        count, total, slowest = count + 1, total + cost, max(slowest, cost)
    return count


def finished_result(future: Any, deadline: float) -> Any:
    """A finished future's value, or ``None`` when it failed or cannot be fetched in time."""
    if future.status != "finished":
        return None
    try:
        return future.result(timeout=max(deadline - time.monotonic(), 0.1))
    except Exception:  # a lost worker or a slow transfer: this candidate drops out
        return None
