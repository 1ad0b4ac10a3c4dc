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
storage failures exit with status 1. ``automl-tpot scheduler`` / ``automl-tpot worker`` start
Dask's own scheduler and worker for distributed mode.

Each command lives in a module of its own (:mod:`.train`, :mod:`.predict`, :mod:`.runs`,
:mod:`.report`, :mod:`.commands`); the parser in :mod:`.parser`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from ..errors import AutoMLTPOTError
from .commands import cluster_command, spaces_command
from .common import EXIT_FAILED, EXIT_USAGE, UsageError
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
    """Run the command line; return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
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
        print(f"automl-tpot {args.command}: error: {error}", file=err)
        return EXIT_USAGE if not _is_runtime_failure(error) else EXIT_FAILED
    except KeyboardInterrupt:
        print(f"automl-tpot {args.command}: interrupted", file=err)
        return 130


def _is_runtime_failure(error: Exception) -> bool:
    from ..errors import StorageError, TrainingError

    return isinstance(error, (TrainingError, StorageError))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
