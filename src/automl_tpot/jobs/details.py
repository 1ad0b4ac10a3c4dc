"""The record's ``details``: ``evaluated_individuals`` and the Pareto front as compact JSON of a
bounded size (the plan's "at most 64 KB"), leaving whole evaluations out when they do not fit."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..records.evaluation import STATUS_OK

__all__ = ["DETAILS_LIMIT", "details_json"]

#: Bytes (UTF-8) the ``details`` JSON of a record may take at most.
DETAILS_LIMIT = 64 * 1024


def _rank(record: Mapping[str, Any]) -> tuple[int, float, int]:
    ok = record.get("status") == STATUS_OK and record.get("score") is not None
    return (0 if ok else 1, -record["score"] if ok else 0.0, int(record.get("id", 0)))


def details_json(
    evaluated: Sequence[Mapping[str, Any]],
    pareto_front: Sequence[Mapping[str, Any]],
    *,
    keep_ids: Sequence[int] = (),
    limit: int = DETAILS_LIMIT,
) -> str:
    """``evaluated_individuals`` and the Pareto front as compact JSON of at most ``limit`` bytes.

    When everything does not fit, evaluations are left out whole, never cut: first kept are
    ``keep_ids`` (the leaderboard, best first), then the Pareto members, then the others by
    score. The document says what it holds: ``evaluations`` (all), ``included``, ``omitted``,
    ``pareto_front_size`` and ``truncated``.
    """
    total = len(evaluated)
    front_size = len(pareto_front)

    def render(records: Sequence[Mapping[str, Any]], front: Sequence[Mapping[str, Any]]) -> str:
        document = {
            "evaluations": total,
            "included": len(records),
            "omitted": total - len(records),
            "pareto_front_size": front_size,
            "truncated": len(records) < total or len(front) < front_size,
            "limit_bytes": limit,
            "pareto_front": list(front),
            "evaluated_individuals": sorted(records, key=lambda r: int(r.get("id", 0))),
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False, allow_nan=False)

    def fits(text: str) -> bool:
        return len(text.encode("utf-8")) <= limit

    text = render(evaluated, pareto_front)
    if fits(text):
        return text
    by_id = {int(r.get("id", 0)): r for r in evaluated}
    order: list[int] = []
    for record_id in [*keep_ids, *(int(m.get("id", 0)) for m in pareto_front)]:
        if record_id in by_id and record_id not in order:
            order.append(record_id)
    chosen = set(order)
    rest = (int(r.get("id", 0)) for r in sorted(evaluated, key=_rank))
    order.extend(i for i in rest if i not in chosen)
    priority = [by_id[i] for i in order]

    front = list(pareto_front)
    if not fits(render([], front)):  # pathological: even the front alone is too large
        front = front[: _largest_fitting(len(front), lambda j: fits(render([], front[:j])))]
    best = _largest_fitting(len(priority), lambda k: fits(render(priority[:k], front)))
    text = render(priority[:best], front)
    while not fits(text) and best > 0:  # the counts' digits can shift the size by a byte
        best -= 1
        text = render(priority[:best], front)
    return text


def _largest_fitting(n: int, fits: Callable[[int], bool]) -> int:
    """The largest k in [0, n] with fits(k), for fits monotone (true, then false)."""
    low, high = 0, n
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low
