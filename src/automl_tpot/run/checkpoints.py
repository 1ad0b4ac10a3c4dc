"""Checkpoints: after every generation, everything a resume needs, written crash-safe into the
run's own storage location, and read back from the newest one that is whole.

What one holds (:class:`Checkpoint`): TPOT's population with the whole history and the
evolver's random state (an :class:`~automl_tpot.tpot_boundary.EvolverSnapshot`), the failures'
reasons, the seed, the data's fingerprint, the configuration and every attempt's budget and
timings so far.

How it is written (:class:`CheckpointWriter`): the search thread takes what can still change
(TPOT's frame of evaluations, its population, the random state: the snapshot is consistent only
there) and a background thread packs the pipelines recorded since the last checkpoint (they
never change once recorded), serialises the payload and stores it, so the search does not wait.
The payload goes first, as a new object named after its generation (``checkpoint-0003.pkl``);
then the pointer ``checkpoint.json`` names it with its SHA-256 and the payload before it; then
older payloads are removed, so at most two are kept. Each write is all-or-nothing per name
(every built-in backend), so a crash at any instant leaves a pointer to a whole payload, or a
payload nobody points to yet.

How it is read (:func:`read_checkpoint`): the pointer, then the payload it names, checked
against its hash; a missing or damaged payload gives way to the previous one.

Payloads are pickles, like ``model.joblib``: resume only runs from storage you trust.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
from attrs import define

from ..data import PreparedData
from ..errors import ResumeError, StorageError
from ..records.checkpoint import AttemptRecord, CheckpointFile, CheckpointPointer
from ..storage import CHECKPOINT, Storage
from ..storage.unfinished import delete_artifact, read_pointer
from ..tpot_boundary import EvolverSnapshot
from ..utils.jsonio import dumps_json

__all__ = [
    "Checkpoint",
    "CheckpointWriter",
    "data_fingerprint",
    "read_checkpoint",
    "remove_checkpoint",
]

log = logging.getLogger(__name__)

#: The payload's format; a reader refuses others.
FORMAT = 1
#: Seconds an aborted run waits for the checkpoint being stored before it goes on.
ABORT_WAIT = 10.0


def data_fingerprint(prepared: PreparedData) -> str:
    """The SHA-256 of the prepared features and target: values, column names and dtypes.

    The rows' order counts (it decides the folds); the index does not.
    """
    digest = hashlib.sha256()
    for frame in (prepared.features, prepared.target.to_frame()):
        names = [[str(name), str(dtype)] for name, dtype in frame.dtypes.items()]
        digest.update(json.dumps(names).encode())
        try:
            hashed = pd.util.hash_pandas_object(frame, index=False)
        except TypeError:  # cells pandas cannot hash (lists, dicts): hash their text
            hashed = pd.util.hash_pandas_object(frame.astype(str), index=False)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()


@define(frozen=True, eq=False)
class Checkpoint:
    """What a resume needs, as of one finished generation.

    Attributes:
        run_id: the run.
        snapshot: TPOT's population, history and random state.
        reasons: each failed evaluation's ``(error, reason)``, keyed by individual.
        seed: the seed of TPOT's folds and the ensemble stage's.
        fingerprint: :func:`data_fingerprint` of the training data.
        data: ``rows``, ``columns`` and ``target`` of the data (to say what differs).
        config: the configuration (``TrainerConfig.to_dict()``).
        attempts: every attempt up to this checkpoint, the one that took it last.
        saved_at: when it was taken (UTC, ISO 8601).
        metric: the optimised metric's name.
        best_score: the best score so far.
        evaluations: evaluations with an outcome so far.
    """

    run_id: str
    snapshot: EvolverSnapshot
    reasons: Mapping[str, tuple[str, str]]
    seed: int
    fingerprint: str
    data: Mapping[str, Any]
    config: Mapping[str, Any]
    attempts: tuple[AttemptRecord, ...]
    saved_at: str
    metric: str
    best_score: float | None
    evaluations: int

    @property
    def generations_completed(self) -> int:
        """Generations the snapshot holds (the initial population counts as 1)."""
        return self.snapshot.generations_completed

    @property
    def seconds_spent(self) -> float:
        """The budget all attempts spent up to this checkpoint."""
        return sum(attempt.seconds for attempt in self.attempts)

    def to_bytes(self) -> bytes:
        """The payload: a pickle of plain values (bytes, numbers, text, dicts), so it does not
        depend on these classes (the pipelines in it are compressed already)."""
        snapshot = self.snapshot
        return pickle.dumps(
            {
                "format": FORMAT,
                "run_id": self.run_id,
                "snapshot": {
                    "population": snapshot.population,
                    "generations_completed": snapshot.generations_completed,
                    "rng_state": snapshot.rng_state,
                    "score_column": snapshot.score_column,
                    "individuals": dict(snapshot.individuals),
                    "members": list(snapshot.members),
                    "individual_column": snapshot.individual_column,
                },
                "reasons": dict(self.reasons),
                "seed": self.seed,
                "fingerprint": self.fingerprint,
                "data": dict(self.data),
                "config": dict(self.config),
                "attempts": [attempt.to_dict() for attempt in self.attempts],
                "saved_at": self.saved_at,
                "metric": self.metric,
                "best_score": self.best_score,
                "evaluations": self.evaluations,
            },
            protocol=pickle.HIGHEST_PROTOCOL,
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        """The checkpoint of a payload.

        Raises:
            ValueError: not a payload of this format.
        """
        values = pickle.loads(data)  # noqa: S301 - the run's own storage, as model.joblib
        if not isinstance(values, dict) or values.get("format") != FORMAT:
            raise ValueError(f"not a checkpoint payload of format {FORMAT}")
        snapshot = values["snapshot"]
        return cls(
            run_id=values["run_id"],
            snapshot=EvolverSnapshot(
                population=snapshot["population"],
                generations_completed=int(snapshot["generations_completed"]),
                rng_state=snapshot["rng_state"],
                score_column=snapshot["score_column"],
                individuals=snapshot["individuals"],
                members=tuple(snapshot["members"]),
                individual_column=int(snapshot["individual_column"]),
            ),
            reasons={k: (str(v[0]), str(v[1])) for k, v in values["reasons"].items()},
            seed=int(values["seed"]),
            fingerprint=values["fingerprint"],
            data=values["data"],
            config=values["config"],
            attempts=tuple(AttemptRecord.from_dict(item) for item in values["attempts"]),
            saved_at=values["saved_at"],
            metric=values["metric"],
            best_score=values["best_score"],
            evaluations=int(values["evaluations"]),
        )


def read_checkpoint(
    storage: Storage, run_id: str, pointer: CheckpointPointer
) -> tuple[Checkpoint, CheckpointFile, str | None]:
    """The newest whole checkpoint ``pointer`` names: ``(checkpoint, its file, note)``, where
    ``note`` says why the newest payload was passed over (``None`` when it was not).

    Raises:
        ResumeError: neither the newest payload nor the previous one is whole.
    """
    problems = []
    for file in (pointer.payload, pointer.previous):
        if file is None:
            continue
        try:
            data = storage.read_bytes(run_id, file.name)
        except StorageError as error:
            problems.append(f"{file.name} cannot be read ({error})")
            continue
        if not file.matches(data):
            problems.append(f"{file.name} is damaged (its size or SHA-256 differs)")
            continue
        try:
            checkpoint = Checkpoint.from_bytes(data)
        except Exception as error:  # a payload of another version, or bytes pickle rejects
            problems.append(f"{file.name} cannot be loaded ({type(error).__name__}: {error})")
            continue
        return checkpoint, file, "; ".join(problems) or None
    raise ResumeError(run_id, "no usable checkpoint: " + "; ".join(problems)[:600])


def remove_checkpoint(storage: Storage, run_id: str) -> None:
    """Remove a run's checkpoint, the pointer first (a run stored complete by other means, such
    as the AutoML fallback's baseline, cannot be resumed); leftovers are only logged."""
    try:
        pointer = read_pointer(storage, run_id)
        if pointer is None:
            return
        files = [f.name for f in (pointer.payload, pointer.previous) if f is not None]
        for name in [CHECKPOINT, *files]:
            delete_artifact(storage, run_id, name)
    except Exception as error:
        log.warning("could not remove the checkpoint of run %r: %s", run_id, error)


class CheckpointWriter:
    """Stores one run's checkpoints in the background, newest first, crash-safe.

    Args:
        storage: the run's storage.
        run_id: the run.
        resumed_from: the pointer and the payload a resumed run continues from: they become
            the previous checkpoint, and older payloads are removed as new ones arrive.

    Attributes:
        written: checkpoints stored.
        write_seconds: seconds the background thread spent making and storing them.
        last_bytes: the size of the newest payload.
        errors: why checkpoints could not be stored (the run goes on without them).
    """

    def __init__(
        self,
        storage: Storage,
        run_id: str,
        resumed_from: tuple[CheckpointPointer, CheckpointFile] | None = None,
    ):
        self.storage = storage
        self.run_id = run_id
        self.written = 0
        self.write_seconds = 0.0
        self.last_bytes = 0
        self.errors: list[str] = []
        self._names: set[str] = set()
        self._last: CheckpointFile | None = None
        if resumed_from is not None:
            pointer, used = resumed_from
            self._names = {f.name for f in (pointer.payload, pointer.previous) if f is not None}
            self._last = used
        self._pending: Callable[[], Checkpoint] | None = None
        self._closed = False
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"CheckpointWriter({self.run_id!r}, written={self.written})"

    def save(self, checkpoint: Checkpoint | Callable[[], Checkpoint]) -> None:
        """Store ``checkpoint`` in the background (a callable makes it there: what the search
        thread need not wait for); a newer one supersedes one not started on yet."""
        build = checkpoint if callable(checkpoint) else lambda: checkpoint
        with self._condition:
            if self._closed:
                return
            self._pending = build
            self._condition.notify_all()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="automl-tpot-checkpoints", daemon=True
                )
                self._thread.start()

    def close(self, timeout: float | None = None) -> None:
        """Store what is pending and stop the background thread (waiting at most ``timeout``
        seconds; the rest of a write cut short is lost, crash-safe as ever)."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def discard(self) -> None:
        """Remove the checkpoint (pointer first) once the run is stored complete."""
        self.close()
        try:
            for name in [CHECKPOINT, *sorted(self._names)]:
                delete_artifact(self.storage, self.run_id, name)
        except Exception as error:  # leftovers of a complete run are harmless
            log.warning("could not remove the checkpoint of run %r: %s", self.run_id, error)

    def _work(self) -> None:
        while True:
            with self._condition:
                while self._pending is None and not self._closed:
                    self._condition.wait()
                if self._pending is None:
                    return
                build = self._pending
                self._pending = None
            started = time.monotonic()
            try:
                checkpoint = build()
                self._write(checkpoint, checkpoint.to_bytes())
            except Exception as error:  # a storage hiccup must not end the search
                text = f"{type(error).__name__}: {error}"[:300]
                if text not in self.errors:
                    log.warning("checkpoint of run %r not stored: %s", self.run_id, text)
                    self.errors.append(text)
            self.write_seconds += time.monotonic() - started

    def _write(self, checkpoint: Checkpoint, data: bytes) -> None:
        file = CheckpointFile.of(checkpoint.generations_completed, data)
        self.storage.write_bytes(self.run_id, file.name, data)
        self._names.add(file.name)
        previous = self._last if self._last is not None and self._last.name != file.name else None
        pointer = CheckpointPointer(
            run_id=self.run_id,
            payload=file,
            previous=previous,
            saved_at=checkpoint.saved_at,
            attempt=checkpoint.attempts[-1].attempt,
            seconds_spent=round(checkpoint.seconds_spent, 3),
            metric=checkpoint.metric,
            best_score=checkpoint.best_score,
            evaluations=checkpoint.evaluations,
            fingerprint=checkpoint.fingerprint,
        )
        self.storage.write_bytes(self.run_id, CHECKPOINT, dumps_json(pointer.to_dict()))
        self._last = file
        self.written += 1
        self.last_bytes = len(data)
        keep = {file.name} | ({previous.name} if previous is not None else set())
        for name in sorted(self._names - keep):
            if delete_artifact(self.storage, self.run_id, name):
                self._names.discard(name)
