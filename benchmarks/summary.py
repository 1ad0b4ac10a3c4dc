"""Tables and the plot of ``run.py``'s records: per (table, budget, system), mean and spread
over the seeds."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

SYSTEMS = ("ours", "ours_threads", "ours_processes", "autogluon", "flaml", "tpot", "hgb")


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _sd(values: Sequence[float]) -> float | None:
    return statistics.stdev(values) if len(values) > 1 else None


def _values(records: Iterable[dict[str, Any]], key: str) -> list[float]:
    return [float(r[key]) for r in records if r.get(key) is not None]


def aggregate(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (dataset, budget, system): mean, spread and extremes over its seeds."""
    groups: dict[tuple[str, float, str], list[dict[str, Any]]] = {}
    for record in records:
        key = (record["dataset"], record["budget"], record["system"])
        groups.setdefault(key, []).append(record)
    rows = []
    for (dataset, budget, system), group in groups.items():
        ok = [r for r in group if "error" not in r]
        scores = _values(ok, "score")
        overruns = _values(ok, "overrun_seconds")
        row = {
            "dataset": dataset,
            "budget": budget,
            "system": system,
            "runs": len(group),
            "errors": len(group) - len(ok),
            "error": next((r["error"] for r in group if "error" in r), None),
            "score_name": next((r["score_name"] for r in ok if "score_name" in r), ""),
            "score_mean": _mean(scores),
            "score_sd": _sd(scores),
            "wall_mean": _mean(_values(ok, "wall_seconds")),
            "overrun_max": max(overruns) if overruns else None,
            "time_to_final_mean": _mean(_values(ok, "time_to_final_seconds")),
            "peak_rss_mean": _mean(_values(group, "peak_rss_mb")),
            "peak_rss_max": max(_values(group, "peak_rss_mb"), default=None),
            "peak_pss_mean": _mean(_values(group, "peak_pss_mb")),
            "evaluations_mean": _mean(_values(ok, "evaluations")),
        }
        rows.append(row)
    return rows


def _order(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _cell(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _score_cell(row: dict[str, Any] | None) -> str:
    if row is None:
        return ""
    if row["score_mean"] is None:
        return "error"
    spread = f" ± {row['score_sd']:.4f}" if row["score_sd"] is not None else ""
    failed = f" ({row['errors']} failed)" if row["errors"] else ""
    return f"{row['score_mean']:.4f}{spread}{failed}"


def markdown_table(records: Sequence[dict[str, Any]]) -> str:
    """Per budget: the held-out scores (mean ± sd over seeds), then per system the wall time,
    overrun, time to the final score, peak memory and evaluations."""
    rows = aggregate(records)
    systems = [s for s in SYSTEMS if any(r["system"] == s for r in rows)]
    systems += [s for s in _order(r["system"] for r in rows) if s not in systems]
    datasets = _order(r["dataset"] for r in records)
    seeds = sorted({r.get("seed", 0) for r in records})
    lines = [f"\nSeeds: {', '.join(map(str, seeds))} (each seed: its own split and system seed)."]
    for budget in sorted({r["budget"] for r in rows}):
        at = {(r["dataset"], r["system"]): r for r in rows if r["budget"] == budget}
        lines += [f"\n### Budget {budget:g} s: held-out score\n"]
        lines.append("| dataset | metric | " + " | ".join(systems) + " |")
        lines.append("| --- | --- |" + " --- |" * len(systems))
        means: dict[str, list[float]] = {s: [] for s in systems}
        for dataset in datasets:
            present = [at.get((dataset, s)) for s in systems]
            if not any(present):
                continue
            metric = next((r["score_name"] for r in present if r and r["score_name"]), "")
            for system, row in zip(systems, present, strict=True):
                if row and row["score_mean"] is not None:
                    means[system].append(row["score_mean"])
            cells = [_score_cell(row) for row in present]
            lines.append(f"| {dataset} | {metric} | " + " | ".join(cells) + " |")
        lines.append(
            "| **mean** | | "
            + " | ".join(f"**{_mean(v):.4f}**" if v else "" for v in means.values())
            + " |"
        )
        lines += [f"\n### Budget {budget:g} s: time and memory (means over seeds)\n"]
        lines.append(
            "| dataset | system | wall s | max overrun s | time to final s | peak RSS MB "
            "(max) | peak PSS MB | evaluations | failed |"
        )
        lines.append("| --- | --- |" + " --- |" * 7)
        for dataset in datasets:
            for system in systems:
                row = at.get((dataset, system))
                if row is None:
                    continue
                overrun = "" if row["overrun_max"] is None else f"{row['overrun_max']:+.1f}"
                failed = str(row["errors"]) if row["errors"] else ""
                if row["error"]:
                    last = (row["error"].strip().splitlines() or [""])[-1]
                    failed += ": " + last[:80].replace("|", "/")
                lines.append(
                    f"| {dataset} | {system} | {_cell(row['wall_mean'])} | "
                    f"{overrun} | "
                    f"{_cell(row['time_to_final_mean'])} | {_cell(row['peak_rss_mean'], 0)} "
                    f"({_cell(row['peak_rss_max'], 0)}) | {_cell(row['peak_pss_mean'], 0)} | "
                    f"{_cell(row['evaluations_mean'], 0)} | {failed} |"
                )
    return "\n".join(lines) + "\n"


def plot(records: Sequence[dict[str, Any]], path: Path) -> None:
    """Score against budget per dataset, one line per system, bars: the spread over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = aggregate(records)
    datasets = _order(r["dataset"] for r in records)
    columns = min(3, len(datasets))
    count = (len(datasets) + columns - 1) // columns
    figure, axes = plt.subplots(count, columns, figsize=(4.5 * columns, 3.2 * count), squeeze=False)
    for axis, dataset in zip(axes.flat, datasets, strict=False):
        for index, system in enumerate(SYSTEMS):
            points = sorted(
                (r["budget"], r["score_mean"], r["score_sd"] or 0.0)
                for r in rows
                if r["dataset"] == dataset and r["system"] == system and r["score_mean"] is not None
            )
            if points:
                budgets, scores, spreads = zip(*points, strict=True)
                axis.errorbar(
                    budgets,
                    scores,
                    yerr=spreads,
                    marker="o",
                    capsize=3,
                    label=system,
                    color=f"C{index}",  # one colour per system on every panel
                )
        metric = next(
            (r["score_name"] for r in rows if r["dataset"] == dataset and r["score_name"]), ""
        )
        axis.set_title(f"{dataset} ({metric})")
        axis.set_xlabel("budget (s)")
    for axis in list(axes.flat)[len(datasets) :]:
        axis.set_visible(False)
    handles = {}
    for axis in axes.flat:
        for handle, label in zip(*axis.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    order = [s for s in SYSTEMS if s in handles]
    if order:  # no legend (matplotlib refuses an empty one) when every fit failed
        figure.legend([handles[s] for s in order], order, loc="lower center", ncol=len(order))
    figure.tight_layout(rect=(0, 0.08, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
