"""``automl-tpot predict``: a stored run's model on new rows, to CSV."""

from __future__ import annotations

import argparse
import contextlib
import logging
import time
from collections.abc import Iterator
from typing import TextIO

from .common import EXIT_OK, UsageError, check_output_file

__all__ = ["predict_command"]


def predict_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import pandas as pd

    from ..data import load_table
    from ..errors import StorageError
    from ..storage import MANIFEST, FilesystemStorage, load_model, run_from_url
    from ..utils.text import shorten

    if args.output:
        check_output_file(args.output)
    storage, run_id = run_from_url(args.run_dir)
    if not storage.exists(run_id, MANIFEST):
        what = "run folder" if isinstance(storage, FilesystemStorage) else "run"
        raise UsageError(f"{shorten(args.run_dir)} is not a complete {what} (no {MANIFEST})")
    try:
        model = load_model(storage, run_id)  # checked against run.json's hash first
    except StorageError as error:  # the run named is unusable: the input's fault
        raise UsageError(f"RUN {shorten(args.run_dir)}: {error}") from error
    if args.invalid_values is not None:
        model.set_params(invalid_values=args.invalid_values)
    rows = load_table(args.data)
    started = time.monotonic()
    # the model checks the rows against its input signature: a missing column or (with
    # --invalid-values error) a value of the wrong type is a DataError, exit status 2
    with _warnings_to(err):
        frame = pd.DataFrame({"prediction": model.predict(rows)}, index=rows.index)
        if hasattr(model, "predict_proba"):
            probabilities = model.predict_proba(rows)
            for i, label in enumerate(model.classes_):
                frame[f"proba_{label}"] = probabilities[:, i]
    if args.output:
        frame.to_csv(args.output, index=False)
        seconds = time.monotonic() - started
        print(f"wrote {len(frame)} prediction(s) to {args.output} in {seconds:.2f}s", file=err)
    else:
        frame.to_csv(out, index=False)
    return EXIT_OK


@contextlib.contextmanager
def _warnings_to(err: TextIO) -> Iterator[None]:
    """Show the model's warnings (values treated as missing) on ``err``, each once (predict and
    predict_proba check the same rows)."""
    logger = logging.getLogger("automl_tpot.model")
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("automl-tpot predict: warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    shown: set[str] = set()

    def once(record: logging.LogRecord) -> bool:
        message = record.getMessage()
        new = message not in shown
        shown.add(message)
        return new

    handler.addFilter(once)
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
