"""The evolver's state after a generation, pickled so a search can continue from it.

TPOT keeps every evaluated individual in its history, each a deep copy that holds its own copy
of the search space (tens of kilobytes a pipeline). Pickling the whole population after every
generation would cost more with every generation. History individuals never change once
recorded (TPOT stores a deep copy when it adds one, and only reads it afterwards), so each is
pickled and compressed once, when it first appears, and kept by its key; a snapshot is that
cache plus the history without its individuals (a small frame), the live population as keys
into the history, and the random state.

Because recorded individuals never change, the search thread need not pack them either: a
:class:`SnapshotDraft` takes what can change (the frame, the population, the random state) at
once and keeps references to the individuals not packed yet, which :meth:`SnapshotDraft.finish`
packs later, in any thread, so the search goes on meanwhile.
"""

from __future__ import annotations

import copy
import math
import pickle
import zlib
from collections.abc import Hashable, Mapping, MutableMapping
from typing import Any

import pandas as pd
from attrs import define, field

from .history import INDIVIDUAL, SearchHistory

__all__ = ["EvolverSnapshot", "SnapshotDraft", "draft_snapshot"]

_PROTOCOL = pickle.HIGHEST_PROTOCOL
#: zlib's fastest level: a pickled pipeline (its own copy of the search space) shrinks about
#: three times for about half the time pickling it took.
_LEVEL = 1


def _pack(individual: Any) -> bytes:
    return zlib.compress(pickle.dumps(individual, protocol=_PROTOCOL), _LEVEL)


def _unpack(data: bytes) -> Any:
    return pickle.loads(zlib.decompress(data))


@define(frozen=True)
class EvolverSnapshot:
    """The evolver's state after a generation: enough to continue the search from there.

    Attributes:
        population: TPOT's population without its individuals (the history's other columns,
            its settings), pickled.
        generations_completed: generations evaluated so far; the next one continues from here.
        rng_state: the state of the evolver's random generator.
        score_column: the history's column of the optimised metric (for :meth:`history`).
        individuals: each history row's individual, pickled and compressed, by the row's key
            (TPOT's unique id of the individual, a hashable object).
        members: the live population: a history key, or the individual (``bytes``, packed the
            same way) when it is not in the history.
        individual_column: where the history's individual column goes back.
    """

    population: bytes = field(repr=lambda data: f"<{len(data)} bytes>")
    generations_completed: int
    rng_state: dict[str, Any]
    score_column: str = ""
    individuals: Mapping[Hashable, bytes] = field(
        factory=dict, repr=lambda d: f"<{len(d)} pickled>"
    )
    members: tuple[Hashable, ...] = field(default=(), repr=lambda m: f"<{len(m)} members>")
    individual_column: int = 0

    @property
    def size(self) -> int:
        """The bytes the snapshot holds."""
        loose = sum(len(m) for m in self.members if isinstance(m, bytes))
        return len(self.population) + sum(map(len, self.individuals.values())) + loose

    def unpack(self) -> Any:
        """TPOT's population as it was (new objects each call)."""
        population = pickle.loads(self.population)
        frame = population.evaluated_individuals
        if INDIVIDUAL not in frame:
            values = [
                _unpack(self.individuals[key]) if key in self.individuals else math.nan
                for key in frame.index
            ]
            column = pd.Series(values, index=frame.index, dtype=object)
            frame.insert(min(self.individual_column, frame.shape[1]), INDIVIDUAL, column)
        population.population = [
            _unpack(m if isinstance(m, bytes) else self.individuals[m]) for m in self.members
        ]
        return population

    def history(self, complexity_column: str = "") -> SearchHistory:
        """Every evaluation the snapshot holds (unpickles it all: not for hot paths)."""
        frame = self.unpack().evaluated_individuals
        return SearchHistory(frame, self.score_column, complexity_column)


class SnapshotDraft:
    """The evolver's state as of one instant, with the individuals not packed yet held by
    reference; :meth:`finish` (any thread, once) makes the :class:`EvolverSnapshot`."""

    def __init__(
        self,
        fields: dict[str, Any],
        keys: list[Hashable],
        unpacked: list[tuple[Hashable, Any]],
        cache: MutableMapping[Hashable, bytes],
    ):
        self._fields = fields
        self._keys = keys
        self._unpacked = unpacked
        self._cache = cache

    def __repr__(self) -> str:
        return f"SnapshotDraft({len(self._keys)} individuals, {len(self._unpacked)} to pack)"

    def finish(self) -> EvolverSnapshot:
        """Pack the individuals new since the last snapshot (kept in the evolver's cache, so
        each is packed once) and return the snapshot."""
        cache = self._cache
        for key, individual in self._unpacked:
            if key not in cache:
                cache[key] = _pack(individual)
        individuals = {key: cache[key] for key in self._keys}
        return EvolverSnapshot(individuals=individuals, **self._fields)


def draft_snapshot(
    population: Any,
    cache: MutableMapping[Hashable, bytes],
    *,
    generations_completed: int,
    rng_state: dict[str, Any],
    score_column: str,
) -> SnapshotDraft:
    """What of ``population`` can still change, taken now; its recorded individuals by
    reference (``cache`` keeps each one's packed bytes by key across snapshots)."""
    frame = population.evaluated_individuals
    keys: list[Hashable] = []
    unpacked: list[tuple[Hashable, Any]] = []
    if INDIVIDUAL in frame:
        for key, individual in frame[INDIVIDUAL].items():
            if isinstance(individual, float) and math.isnan(individual):
                continue
            keys.append(key)
            if key not in cache:
                unpacked.append((key, individual))
    known = set(keys)
    members: list[Hashable] = []
    for individual in population.population:  # the live ones may change: packed now
        key = individual.unique_id()
        members.append(key if key in known else _pack(individual))
    shell = copy.copy(population)
    shell.evaluated_individuals = frame.drop(columns=[INDIVIDUAL]) if INDIVIDUAL in frame else frame
    shell.population = []
    fields = {
        "population": pickle.dumps(shell, protocol=_PROTOCOL),
        "generations_completed": generations_completed,
        "rng_state": rng_state,
        "score_column": score_column,
        "members": tuple(members),
        "individual_column": int(frame.columns.get_loc(INDIVIDUAL)) if INDIVIDUAL in frame else 0,
    }
    return SnapshotDraft(fields, keys, unpacked, cache)
