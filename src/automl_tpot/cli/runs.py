"""``automl-tpot runs list`` and ``runs show``: the stored runs of a storage, and one of them.

A run is named as ``predict`` and ``report`` name it: its folder or URL, or its id in
``--storage``; a bare id that is not a folder here is looked up in ``./runs`` (where ``train``
stores by default).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, TextIO

from .common import EXIT_OK, UsageError
from .summary import print_json, print_summary, summary_document

__all__ = ["resolve_run", "runs_command"]

#: Where ``train`` stores runs by default (``--out``).
DEFAULT_STORAGE = "runs"
#: Characters of a pipeline shown in ``runs list``.
PIPELINE_WIDTH = 60


def resolve_run(run: str, storage_url: str | None) -> tuple[Any, str]:
    """The storage and run id that ``RUN`` (and ``--storage``) name.

    Raises:
        UsageError: the run is not complete (or not there).
    """
    from ..storage import MANIFEST, run_from_url, storage_from_url, validate_run_id

    if storage_url is not None:
        storage, run_id = storage_from_url(storage_url), validate_run_id(run)
    elif "/" not in run and "://" not in run and not Path(run).is_dir():
        storage, run_id = storage_from_url(DEFAULT_STORAGE), validate_run_id(run)
    else:
        storage, run_id = run_from_url(run)
    if not storage.exists(run_id, MANIFEST):
        raise UsageError(
            f"{run} is not a complete run at {storage.location(run_id)} (no {MANIFEST})"
        )
    return storage, run_id


def _manifest(storage: Any, run_id: str) -> dict[str, Any]:
    from ..errors import StorageError
    from ..storage import MANIFEST

    try:
        return json.loads(storage.read_bytes(run_id, MANIFEST))
    except (StorageError, ValueError) as error:
        return {"status": "unreadable", "summary": {}, "error": str(error)}


def _list(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..storage import storage_from_url

    storage = storage_from_url(args.storage)
    rows = []
    for run_id in storage.list_runs():
        manifest = _manifest(storage, run_id)
        summary = manifest.get("summary", {})
        rows.append(
            {
                "run_id": run_id,
                "location": storage.location(run_id),
                "created_at": manifest.get("created_at"),
                "status": manifest.get("status"),
                "task": summary.get("task"),
                "metric": summary.get("metric"),
                "best_score": summary.get("best_score"),
                "best_pipeline": summary.get("best_pipeline"),
            }
        )
    unfinished = getattr(storage, "list_unfinished", None)
    pending = list(unfinished()) if callable(unfinished) else []
    if args.json:
        print_json(rows, out)
    elif not rows:
        print(f"no complete runs in {args.storage}", file=err)
    else:
        header = ("RUN", "CREATED", "STATUS", "TASK", "METRIC", "BEST", "PIPELINE")
        cells = [
            (
                r["run_id"],
                str(r["created_at"] or "-"),
                str(r["status"] or "-"),
                str(r["task"] or "-"),
                str(r["metric"] or "-"),
                "-" if r["best_score"] is None else f"{r['best_score']:.4f}",
                _cut(str(r["best_pipeline"] or "-")),
            )
            for r in rows
        ]
        widths = [max(len(row[i]) for row in [header, *cells]) for i in range(6)]
        for row in [header, *cells]:
            print(
                "  ".join([*(f"{c:<{widths[i]}}" for i, c in enumerate(row[:6])), row[6]]), file=out
            )
    if pending:
        shown = ", ".join(pending[:5]) + (", ..." if len(pending) > 5 else "")
        print(f"{len(pending)} unfinished run(s) without run.json: {shown}", file=err)
    return EXIT_OK


def _cut(text: str) -> str:
    return text if len(text) <= PIPELINE_WIDTH else text[: PIPELINE_WIDTH - 3] + "..."


def _show(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..storage import load_run

    storage, run_id = resolve_run(args.run, args.storage)
    stored = load_run(storage, run_id)
    manifest = stored.manifest
    if args.json:
        document = summary_document(
            run_id, stored.location, manifest.get("status", ""), manifest.get("summary", {})
        )
        for key in ("created_at", "config", "versions", "artifacts"):
            document[key] = manifest.get(key)
        print_json(document, out)
        return EXIT_OK
    print_summary(
        run_id, stored.location, manifest.get("summary", {}), out, stored.leaderboard["entries"]
    )
    print(f"\nstatus {manifest.get('status')}, written {manifest.get('created_at')}", file=out)
    print("Artifacts", file=out)
    for name, digest in manifest.get("artifacts", {}).items():
        print(f"  {name:<28} {digest['bytes']:>10} bytes  sha256 {digest['sha256'][:12]}", file=out)
    return EXIT_OK


def runs_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.runs_command == "list":
        return _list(args, out, err)
    return _show(args, out, err)
