"""A run's summary for people (a table) and for programs (JSON), the same for a run just
trained (``train``) and one read back (``runs show``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

__all__ = ["print_json", "print_summary", "summary_document"]


def summary_document(
    run_id: str | None, location: str | None, status: str, summary: Mapping[str, Any]
) -> dict[str, Any]:
    """The machine-readable summary: run id, location and status, then ``run.json``'s
    summary fields."""
    return {"run_id": run_id, "location": location, "status": status, **summary}


def print_json(document: Mapping[str, Any] | Sequence[Mapping[str, Any]], out: TextIO) -> None:
    """``document`` as indented JSON (no NaN: missing numbers are ``null``)."""
    print(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False), file=out)


def print_summary(
    run_id: str | None,
    location: str | None,
    summary: Mapping[str, Any],
    out: TextIO,
    leaderboard: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """The summary table, the leaderboard (``summary``'s top 5 unless given), the notes and
    the alerts."""
    best = summary.get("best_score")
    timings = summary.get("timings") or {}
    rows = [
        ("run", run_id or "-"),
        ("stored at", location or "-"),
        ("task", f"{summary.get('task')} ({summary.get('task_reason')})"),
        ("metric", summary.get("metric")),
        ("best CV score", "-" if best is None else f"{best:.4f}"),
        ("best pipeline", summary.get("best_pipeline")),
        (
            "generations",
            f"{summary.get('generations_completed')} (stopped by {summary.get('stopped_by')})",
        ),
        ("evaluations", str(summary.get("evaluations"))),
        ("Pareto front", f"{summary.get('pareto_front_size')} pipeline(s)"),
        ("wall time", f"{timings.get('total', 0):.1f}s"),
        *_resume_rows(summary),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}", file=out)
    if leaderboard is None:
        leaderboard = summary.get("leaderboard_top5") or []
    if leaderboard:
        print("\nLeaderboard", file=out)
        print(f"{'rank':>4}  {'score':>8}  {'complexity':>10}  pipeline", file=out)
        for entry in leaderboard:
            complexity = "-" if entry["complexity"] is None else f"{entry['complexity']:g}"
            score = f"{entry['score']:>8.4f}"
            print(f"{entry['rank']:>4}  {score}  {complexity:>10}  {entry['pipeline']}", file=out)
    for note in summary.get("notes") or []:
        print(f"note: {note}", file=out)
    for alert in summary.get("alerts") or []:
        print(f"alert {alert['kind']}: {alert['reason']}", file=out)


def _resume_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The summary's line about a resumed run."""
    resume = summary.get("resume")
    if not resume:
        return []
    attempts = resume["attempts"]
    spent = sum(attempt["seconds"] for attempt in attempts)
    text = f"from generation {resume['resumed_from_generation']}, attempt {len(attempts)}"
    return [("resumed", f"{text} ({spent:.1f}s in all attempts)")]
