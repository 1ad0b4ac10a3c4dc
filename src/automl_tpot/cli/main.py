"""The ``automl-tpot`` command line.

``automl-tpot train DATA --target COL`` trains and stores a run (a live progress display on
standard error; ``--json`` for a machine-readable summary); ``automl-tpot train --demo`` does
the same on a dataset that ships with scikit-learn; ``automl-tpot predict RUN DATA`` writes
predictions for new rows; ``automl-tpot runs list`` and ``runs show RUN`` show stored runs;
``automl-tpot report RUN`` writes a run's self-contained HTML report; ``automl-tpot spaces list``
and ``automl-tpot spaces show NAME`` describe the search spaces the installed plugins provide.
``--storage URL`` picks the storage backend (a folder, ``s3://bucket/prefix``, ...; the
``AWS_*`` variables apply) and ``--metrics-backend NAME`` the metrics backend, both through the
package's entry points. Input errors print one line and exit with status 2; training and
storage failures exit with status 1. During ``train`` the first Ctrl-C finishes the run with
the best pipeline so far (stored with status ``stopped``, exit status 0); a second one aborts at
once (exit status 130) and keeps the last checkpoint, which ``train ... --resume RUN_ID``
continues from. ``automl-tpot scheduler`` / ``automl-tpot worker`` start Dask's own scheduler
and worker for distributed mode.

Each command lives in a module of its own (:mod:`.train`, :mod:`.predict`, :mod:`.runs`,
:mod:`.report`, :mod:`.commands`); the parser in :mod:`.parser`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from ..errors import AutoMLTPOTError, RunAborted
from .commands import cluster_command, spaces_command
from .common import EXIT_ABORTED, EXIT_FAILED, EXIT_USAGE, UsageError, exit_status, one_line
from .demo import DEMO_TARGET, demo_table
from .parser import build_parser
from .predict import predict_command
from .report import report_command
from .runs import runs_command
from .train import train_command

__all__ = ["DEMO_TARGET", "build_parser", "demo_table", "main"]


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit status (0, 1 for a failure, 2 for bad input).

    Every error is one line on stderr: input errors exit with status 2, failures of training,
    storage or anything unforeseen with status 1.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"automl-tpot: error: {one_line(str(error))}", file=err)
        return EXIT_USAGE
    for old, new in getattr(args, "deprecated_options", ()):
        print(f"automl-tpot {args.command}: {old} is deprecated, use {new}", file=err)
    handlers = {
        "train": train_command,
        "predict": predict_command,
        "runs": runs_command,
        "report": report_command,
        "spaces": spaces_command,
        "scheduler": cluster_command,
        "worker": cluster_command,
    }
    try:
        return handlers[args.command](args, out, err)
    except (AutoMLTPOTError, UsageError) as error:
        print(f"automl-tpot {args.command}: error: {one_line(str(error))}", file=err)
        return exit_status(error)
    except KeyboardInterrupt:
        print(f"automl-tpot {args.command}: interrupted", file=err)
        return EXIT_ABORTED
    except RunAborted as aborted:
        print(f"automl-tpot {args.command}: {aborted}", file=err)
        return EXIT_ABORTED
    except Exception as error:  # not foreseen: one line all the same, and a failure status
        what = one_line(f"{type(error).__name__}: {error}")
        print(f"automl-tpot {args.command}: internal error: {what}", file=err)
        return EXIT_FAILED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
