"""One attempt of a run: a fresh training, or a resume from the run's last checkpoint.

The Trainer starts every run with :meth:`Attempt.begin`, which decides the run id, the seed and
this attempt's budget, and for a resume loads the checkpoint and refuses, with a
:class:`~automl_tpot.errors.ResumeError` that says what differs, a complete run, a run without
a checkpoint, other data or an incompatible configuration. During the search the attempt hands
a checkpoint to its :class:`~automl_tpot.run.checkpoints.CheckpointWriter` after every
generation; at the end it adds to the result what ``run.json`` says about the resume.

The budget policy (``docs/budgets.md``): a resumed run gets ``time_left`` less what earlier
attempts spent, each counted from its start to its last checkpoint, so a job cannot run
forever by crashing; ``fresh_budget=True`` grants a whole ``time_left`` again. With nothing
left (or every generation done) the search does not run again: TPOT picks and refits the
checkpoint's best pipeline and the run is stored.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import attrs

from ..config import TrainerConfig
from ..data import PreparedData
from ..errors import ConfigError, ResumeError, StorageError
from ..records.checkpoint import AttemptRecord, CheckpointFile, CheckpointPointer
from ..records.events import GenerationProgress
from ..search.runner import SearchStart
from ..storage import CHECKPOINT, MANIFEST, Storage, check_new_run_id, new_run_id
from ..storage.unfinished import read_pointer
from ..tpot_boundary import GenerationState
from ..utils.clock import utc_timestamp
from .checkpoints import ABORT_WAIT, Checkpoint, CheckpointWriter, data_fingerprint, read_checkpoint
from .result import TrainingResult

__all__ = ["RESUMABLE_CHANGES", "Attempt"]

#: Settings a resume may change: they shape the budget, the cluster and the reports, not what
#: the search has done so far. Any other difference is refused.
RESUMABLE_CHANGES = frozenset({
    "time_left", "generations", "per_run_limit", "n_jobs", "memory_limit_mb", "worker_threads",
    "parallel_mode", "scheduler_file", "parallel_fallback", "cluster_wait", "leaderboard_k",
    "ensemble",
})  # fmt: skip


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Attempt:
    """How one attempt of a run starts, checkpoints and ends; see :meth:`begin`."""

    def __init__(
        self,
        config: TrainerConfig,
        run_id: str,
        started: float,
        *,
        storage: Storage | None = None,
        resumed: tuple[Checkpoint, CheckpointFile, CheckpointPointer] | None = None,
        note: str | None = None,
        fresh_budget: bool = False,
    ):
        self.config = config
        self.run_id = run_id
        self.started = started
        self.started_at = utc_timestamp()
        self.fresh_budget = fresh_budget
        self.checkpoint: Checkpoint | None = None
        self.notes: list[str] = []
        #: Every failure's reason: the earlier attempts' and this one's (the loop adds to it).
        self.reasons: dict[str, tuple[str, str]] = {}
        self.earlier: tuple[AttemptRecord, ...] = ()
        self.number = 1
        self.spent = 0.0
        self.budget = config.time_left
        self.seed = (
            config.random_state if config.random_state is not None else secrets.randbelow(2**32)
        )
        self.fingerprint = ""
        self.data: dict[str, Any] = {}
        self.checkpoint_seconds = 0.0
        self.writer: CheckpointWriter | None = None
        if resumed is not None:
            self._continue_from(*resumed, note=note)
        if storage is not None:
            self.writer = CheckpointWriter(
                storage, run_id, None if resumed is None else (resumed[2], resumed[1])
            )

    @classmethod
    def begin(
        cls,
        storage: Storage | None,
        config: TrainerConfig,
        run_id: str | None,
        resume: str | None,
        fresh_budget: bool,
        started: float,
    ) -> Attempt:
        """The attempt a ``Trainer.train`` call makes (``storage`` is ``None`` when nothing is
        stored); checked before any data is read or any Dask process starts.

        Raises:
            StorageError: an invalid run id, or a complete run under it.
            ConfigError: ``resume`` without storage, or with another ``run_id``.
            ResumeError: the run cannot be resumed (complete, no usable checkpoint, another
                configuration), or a fresh run was asked for under an unfinished run's id.
        """
        if resume is None:
            if run_id is not None:
                check_new_run_id(storage, run_id)
                if storage is not None and storage.exists(run_id, CHECKPOINT):
                    raise ResumeError(
                        run_id,
                        f"it is an unfinished run with a checkpoint at {storage.location(run_id)};"
                        f" resume it (resume={run_id!r}, --resume {run_id}) or delete it to "
                        "start over under this id",
                    )
            return cls(config, run_id or new_run_id(), started, storage=storage)
        if storage is None:
            raise ConfigError("resume", resume, "a run in the Trainer's storage (store=False)")
        if run_id is not None and run_id != resume:
            raise ConfigError("run_id", run_id, f"None or {resume!r}, the run to resume")
        check_new_run_id(None, resume)
        if storage.exists(resume, MANIFEST):
            raise ResumeError(resume, f"it is complete ({MANIFEST} at {storage.location(resume)})")
        try:
            pointer = read_pointer(storage, resume)
        except StorageError as error:
            raise ResumeError(resume, str(error)) from error
        if pointer is None:
            raise ResumeError(
                resume,
                f"no checkpoint at {storage.location(resume)} (the run never finished a "
                "generation there, or it lives in another storage)",
            )
        checkpoint, used, note = read_checkpoint(storage, resume, pointer)
        _check_config(resume, checkpoint.config, config.to_dict())
        attempt = cls(
            config,
            resume,
            started,
            storage=storage,
            resumed=(checkpoint, used, pointer),
            note=note,
            fresh_budget=fresh_budget,
        )
        return attempt

    def _continue_from(
        self,
        checkpoint: Checkpoint,
        used: CheckpointFile,
        pointer: CheckpointPointer,
        note: str | None,
    ) -> None:
        self.checkpoint = checkpoint
        self.reasons = dict(checkpoint.reasons)
        self.seed = checkpoint.seed
        self.earlier = _charged(checkpoint, used, pointer)
        self.number = max(a.attempt for a in self.earlier) + 1
        self.spent = sum(a.seconds for a in self.earlier)
        self.budget = (
            self.config.time_left if self.fresh_budget else self.config.time_left - self.spent
        )
        if note is not None:
            self.notes.append(f"the newest checkpoint was passed over: {note}")
        grant = (
            f"a fresh budget of {self.config.time_left:g}s"
            if self.fresh_budget
            else f"{self.spent:.1f}s of time_left={self.config.time_left:g}s spent before, "
            f"{max(self.budget, 0):.1f}s left"
        )
        self.notes.append(
            f"resumed from the checkpoint after generation {checkpoint.generations_completed} "
            f"(attempt {self.number}; {grant})"
        )
        if self.finish_only:
            why = "no time was left" if self.budget <= 0 else "every generation was done"
            self.notes.append(
                f"{why}: the search did not run again; the model is the checkpoint's best "
                "pipeline, refitted"
            )

    # -- what the search continues from --------------------------------------------------------

    @property
    def search_start(self) -> SearchStart:
        """Where the search starts: afresh, or from the checkpoint's snapshot."""
        checkpoint, total = self.checkpoint, self.config.generations
        if checkpoint is None:
            return SearchStart(reasons=self.reasons)
        left = None if total is None else max(total - checkpoint.generations_completed, 1)
        return SearchStart(checkpoint.snapshot, left, self.reasons, self.finish_only)

    @property
    def finish_only(self) -> bool:
        """Whether a resumed run skips the search: no time or no generation is left."""
        if self.checkpoint is None:
            return False
        done = self.checkpoint.generations_completed
        return self.budget <= 0 or (
            self.config.generations is not None and done >= self.config.generations
        )

    def check_data(self, prepared: PreparedData) -> None:
        """Fingerprint the training data; for a resume, refuse data other than the checkpoint's.

        Raises:
            ResumeError: the data differ from the checkpoint's.
        """
        self.fingerprint = data_fingerprint(prepared)
        self.data = {
            "rows": len(prepared.features),
            "columns": [str(column) for column in prepared.features.columns],
            "target": str(prepared.target.name),
        }
        checkpoint = self.checkpoint
        if checkpoint is None or checkpoint.fingerprint == self.fingerprint:
            return
        then, now = checkpoint.data, self.data
        differences: dict[str, tuple[Any, Any]] = {
            "fingerprint": (checkpoint.fingerprint, self.fingerprint)
        }
        for key in ("target", "rows"):
            if then.get(key) != now[key]:
                differences[key] = (then.get(key), now[key])
        if list(then.get("columns", [])) != now["columns"]:
            differences["columns"] = (len(then.get("columns", [])), len(now["columns"]))
        shown = "; ".join(
            f"{key} {_short(a)} then, {_short(b)} now"
            for key, (a, b) in differences.items()
            if key != "fingerprint"
        )
        raise ResumeError(
            str(self.run_id),
            f"the data differ from the checkpoint's ({shown or 'the same shape, other values'}; "
            f"fingerprint {checkpoint.fingerprint[:12]}... then, {self.fingerprint[:12]}... "
            "now); resume with the table the run was trained on",
            differences,
        )

    # -- during the search ----------------------------------------------------------------------

    def save(
        self, event: GenerationProgress, state: GenerationState, timings: dict[str, float]
    ) -> None:
        """Hand the state after a generation to the writer (in the search thread)."""
        if self.writer is None or event.best_score is None:  # nothing worth resuming yet
            return
        mark = time.monotonic()
        draft = state.draft()  # what can still change, now; the new pipelines are packed later
        elapsed = mark - self.started
        current = self._record(state.generations_completed, elapsed, timings, "unfinished")
        fields: dict[str, Any] = dict(
            run_id=str(self.run_id),
            reasons=dict(self.reasons),
            seed=self.seed,
            fingerprint=self.fingerprint,
            data=self.data,
            config=self.config.to_dict(),
            attempts=(*self.earlier, current),
            saved_at=utc_timestamp(),
            metric=event.metric or "",
            best_score=event.best_score,
            evaluations=event.evaluations,
        )
        self.writer.save(lambda: Checkpoint(snapshot=draft.finish(), **fields))
        self.checkpoint_seconds += time.monotonic() - mark

    def _record(
        self, generations: int, elapsed: float, timings: dict[str, float], outcome: str
    ) -> AttemptRecord:
        phases = dict(timings)
        if "search" not in phases:  # the search is under way: what the phases before left
            phases["search"] = round(max(elapsed - sum(phases.values()), 0.0), 3)
        return AttemptRecord(
            attempt=self.number,
            started_at=self.started_at,
            budget=self.budget,
            from_generation=0 if self.checkpoint is None else self.checkpoint.generations_completed,
            generations_completed=generations,
            seconds=elapsed,
            timings=phases,
            outcome=outcome,
        )

    def __enter__(self) -> Attempt:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.writer is not None:  # the last checkpoint lands; an abort waits a little only
            self.writer.close(None if error is None else ABORT_WAIT)

    # -- the end --------------------------------------------------------------------------------

    def finish(self, result: TrainingResult) -> tuple[TrainingResult, str]:
        """``result`` with what ``run.json`` says about checkpoints and the resume, and the
        run's status: ``stopped`` when asked to finish early, ``complete`` otherwise."""
        outcome = "stopped" if result.stopped_by == "stopped" else "complete"
        checkpoints = None
        if self.writer is not None:
            checkpoints = {
                "written": self.writer.written,
                "seconds": round(self.checkpoint_seconds, 3),
                "write_seconds": round(self.writer.write_seconds, 3),
                "bytes": self.writer.last_bytes,
                "errors": list(self.writer.errors),
            }
        resume = None
        if self.checkpoint is not None:
            elapsed = time.monotonic() - self.started
            current = self._record(result.generations_completed, elapsed, result.timings, outcome)
            resume = {
                "resumed_from_generation": self.checkpoint.generations_completed,
                "resumes": self.number - 1,
                "fresh_budget": self.fresh_budget,
                "seconds_before": round(self.spent, 3),
                "attempts": [a.to_dict() for a in (*self.earlier, current)],
            }
        notes = [*self.notes, *result.notes]
        return attrs.evolve(result, notes=notes, resume=resume, checkpoints=checkpoints), outcome

    def discard(self) -> None:
        """Remove the checkpoint once the run is stored complete (it cannot be resumed)."""
        if self.writer is not None:
            self.writer.discard()


def _check_config(run_id: str, then: Mapping[str, Any], now: Mapping[str, Any]) -> None:
    """Refuse a configuration that changes what the search has done so far."""
    differences = {}
    for name in sorted(set(then) & set(now)):
        if name in RESUMABLE_CHANGES or then[name] == now[name]:
            continue
        if name == "random_state" and now[name] is None:  # the checkpoint's seed goes on
            continue
        differences[name] = (then[name], now[name])
    if differences:
        shown = "; ".join(
            f"{k} {_short(a)} then, {_short(b)} now" for k, (a, b) in differences.items()
        )
        raise ResumeError(
            run_id,
            f"the configuration differs from the checkpoint's: {shown} (a resume may change "
            f"only {', '.join(sorted(RESUMABLE_CHANGES))})",
            differences,
        )


def _charged(
    checkpoint: Checkpoint, used: CheckpointFile, pointer: CheckpointPointer
) -> tuple[AttemptRecord, ...]:
    """The earlier attempts, ended; when an older payload stands in for a damaged newest one,
    the time spent up to the newest still counts."""
    attempts = [
        attrs.evolve(a, outcome="interrupted") if a.outcome == "unfinished" else a
        for a in checkpoint.attempts
    ]
    extra = pointer.seconds_spent - checkpoint.seconds_spent
    if used.name != pointer.payload.name and extra > 0:
        last = attempts[-1]
        if pointer.attempt == last.attempt:
            attempts[-1] = attrs.evolve(
                last,
                seconds=last.seconds + extra,
                generations_completed=pointer.generations_completed,
            )
        else:
            attempts.append(
                AttemptRecord(
                    attempt=pointer.attempt,
                    started_at=pointer.saved_at,
                    budget=extra,
                    from_generation=checkpoint.generations_completed,
                    generations_completed=pointer.generations_completed,
                    seconds=extra,
                    timings={},
                    outcome="interrupted",
                )
            )
    return tuple(attempts)
