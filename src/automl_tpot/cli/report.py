"""``automl-tpot report``: a stored run's self-contained HTML report."""

from __future__ import annotations

import argparse
from typing import TextIO

from .common import EXIT_OK, UsageError
from .runs import resolve_run

__all__ = ["report_command"]


def report_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..report import write_report
    from ..storage import load_run

    storage, run_id = resolve_run(args.run, args.storage)
    try:
        written = write_report(load_run(storage, run_id), args.output)
    except ImportError as error:  # matplotlib, the report extra, is missing
        raise UsageError(str(error)) from None
    print(f"wrote the report of run {run_id} to {written}", file=err)
    return EXIT_OK
