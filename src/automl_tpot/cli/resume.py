"""``automl-tpot train``'s resume options and its Ctrl-C: the first Ctrl-C finishes the run with
the best pipeline so far, the second one aborts at once and keeps the last checkpoint for
``--resume RUN_ID``.

TPOT 1.1 catches ``KeyboardInterrupt`` inside its search loop, so neither press raises one: the
first only asks the run to finish (``Trainer.train(should_finish=...)``, which ends the search
at TPOT's next check and goes on to the refit, the ensemble stage and the stored run, status
``stopped``); the second raises :class:`~automl_tpot.errors.RunAborted`, which TPOT lets
through, and also asks the run to stop (``should_stop``): a signal handler's exception is lost
when it lands in a garbage-collector callback, and the stop request then ends the run at its
next check (a quarter of a second in the search) all the same, storing nothing.
"""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType, TracebackType
from typing import Any, TextIO

from ..errors import RunAborted, StorageError
from .common import UsageError

__all__ = ["FinishOnInterrupt", "add_resume_arguments", "resume_hint", "run_id_for"]


def add_resume_arguments(train: argparse.ArgumentParser) -> None:
    """``--resume RUN_ID`` and ``--fresh-budget``."""
    train.add_argument(
        "--resume",
        metavar="RUN_ID",
        help="continue this unfinished run (killed, crashed or aborted) from its last "
        "checkpoint, on the same DATA and settings; it gets the time_left it had left "
        "(default: none, a new run starts)",
    )
    train.add_argument(
        "--fresh-budget",
        action="store_true",
        help="with --resume: grant a whole --time-left again instead of what was left",
    )


def run_id_for(args: argparse.Namespace, storage: Any, err: TextIO) -> str:
    """The run's id, known before training so an aborted run can name what to resume."""
    from ..storage import load_unfinished, new_run_id

    if args.fresh_budget and args.resume is None:
        raise UsageError("--fresh-budget needs --resume RUN_ID")
    if args.resume is None:
        return str(args.run_id or new_run_id())
    if args.run_id is not None and args.run_id != args.resume:
        raise UsageError("give --resume RUN_ID alone, or the same id as --run-id")
    try:
        run = load_unfinished(storage, args.resume)
        print(
            f"Resuming run {run.run_id} from its checkpoint after generation "
            f"{run.generations_completed} ({run.seconds_spent:.1f}s of the budget spent)",
            file=err,
        )
    except StorageError:  # the Trainer says precisely why it cannot be resumed
        pass
    return str(args.resume)


def resume_hint(storage: Any, run_id: str) -> str:
    """What an abort left: a checkpoint to resume, or nothing."""
    from ..storage import CHECKPOINT

    if not storage.exists(run_id, CHECKPOINT):
        return "aborted by a second Ctrl-C; no generation had finished, nothing to resume"
    return (
        f"aborted by a second Ctrl-C; run {run_id} keeps its last checkpoint at "
        f"{storage.location(run_id)}: continue it with the same command and --resume {run_id}"
    )


class FinishOnInterrupt:
    """A context manager that turns SIGINT into "finish", then "abort" (main thread only).

    Attributes:
        requested: set by the first Ctrl-C; pass ``requested.is_set`` as ``should_finish``.
        aborted: set by the second; pass ``aborted.is_set`` as ``should_stop``.
    """

    def __init__(self, err: TextIO):
        self.requested = threading.Event()
        self.aborted = threading.Event()
        self._err = err
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> FinishOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested.is_set():
            self.aborted.set()
            raise RunAborted("aborted by a second Ctrl-C")
        self.requested.set()
        print(
            "\nCtrl-C: ending the search and finishing with the best pipeline so far "
            "(press Ctrl-C again to abort at once, keeping the last checkpoint)",
            file=self._err,
            flush=True,
        )

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
