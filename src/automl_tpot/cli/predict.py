"""``automl-tpot predict``: a stored run's model on new rows, to CSV."""

from __future__ import annotations

import argparse
import time
from typing import TextIO

from .common import EXIT_OK, UsageError

__all__ = ["predict_command"]


def predict_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import pandas as pd

    from ..data import load_table
    from ..storage import MANIFEST, FilesystemStorage, load_model, run_from_url

    storage, run_id = run_from_url(args.run_dir)
    if not storage.exists(run_id, MANIFEST):
        what = "run folder" if isinstance(storage, FilesystemStorage) else "run"
        raise UsageError(f"{args.run_dir} is not a complete {what} (no {MANIFEST})")
    model = load_model(storage, run_id)
    rows = load_table(args.data)
    started = time.monotonic()
    frame = pd.DataFrame({"prediction": model.predict(rows)}, index=rows.index)
    if model.task == "classification" and hasattr(model.estimator, "predict_proba"):
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
