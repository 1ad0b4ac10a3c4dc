"""The report's plots, one function each, every one returning a matplotlib ``Figure``.

Figures are made with ``matplotlib.figure.Figure`` directly, never through ``pyplot``: no
global backend or figure registry is touched, so plotting is safe in a host's threads and on a
machine without a display (saving uses the Agg renderer). Each function takes a stored run
(:class:`~automl_tpot.storage.StoredRun`), a :class:`~automl_tpot.TrainingResult` or a
:class:`~.view.RunView`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .view import RunLike, RunView, as_view

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "plot_diagnostics",
    "plot_evaluation_durations",
    "plot_importance",
    "plot_pareto_front",
    "plot_score_over_generations",
    "plot_score_over_time",
]

#: Columns the importance plot shows at most (the most important ones).
MAX_IMPORTANCE_BARS = 20
FRONT_COLOUR = "#d9480f"
POINT_COLOUR = "#868e96"
LINE_COLOUR = "#1c7ed6"
FAIL_COLOUR = "#e03131"


def _figure(width: float = 7.0, height: float = 4.2, columns: int = 1) -> tuple[Figure, Any]:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "the report's plots need matplotlib: pip install 'automl-tpot[report]'"
        ) from None
    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.subplots(1, columns)


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#495057")
    axes.set_xticks([])
    axes.set_yticks([])


def _scored(view: RunView) -> list[dict[str, Any]]:
    return [r for r in view.evaluations if r.get("status") == "ok" and r.get("score") is not None]


def plot_pareto_front(run: RunLike) -> Figure:
    """Score against complexity: every scored pipeline as a point, the front highlighted."""
    view = as_view(run)
    figure, axes = _figure()
    scored = [r for r in _scored(view) if r.get("complexity") is not None]
    if not scored:
        _empty(axes, "no scored pipeline")
        return figure
    axes.scatter(
        [r["complexity"] for r in scored],
        [r["score"] for r in scored],
        s=18,
        color=POINT_COLOUR,
        alpha=0.55,
        label=f"evaluated pipelines ({len(scored)})",
    )
    front = sorted(
        (p for p in view.pareto_front if p.get("complexity") is not None),
        key=lambda p: p["complexity"],
    )
    if front:
        axes.step(
            [p["complexity"] for p in front],
            [p["score"] for p in front],
            where="post",
            color=FRONT_COLOUR,
            linewidth=1.5,
        )
        axes.scatter(
            [p["complexity"] for p in front],
            [p["score"] for p in front],
            s=46,
            color=FRONT_COLOUR,
            edgecolor="white",
            zorder=3,
            label=f"Pareto front ({len(front)})",
        )
    axes.set_xlabel("complexity (smaller is simpler)")
    axes.set_ylabel(f"{view.metric} (cross-validated)")
    axes.set_title("Score against complexity")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return figure


def plot_score_over_time(run: RunLike) -> Figure:
    """The best score so far against the seconds since the search's first evaluation."""
    view = as_view(run)
    figure, axes = _figure()
    timed = [r for r in _scored(view) if r.get("completed_at") is not None]
    starts = [r["submitted_at"] for r in view.evaluations if r.get("submitted_at") is not None]
    if not timed or not starts:
        _empty(axes, "no timed evaluation")
        return figure
    origin = min(starts)
    timed.sort(key=lambda r: r["completed_at"])
    seconds = [r["completed_at"] - origin for r in timed]
    scores = [r["score"] for r in timed]
    best, running = [], -math.inf
    for score in scores:
        running = max(running, score)
        best.append(running)
    axes.scatter(seconds, scores, s=12, color=POINT_COLOUR, alpha=0.5, label="each evaluation")
    axes.step(seconds, best, where="post", color=LINE_COLOUR, linewidth=2, label="best so far")
    axes.set_xlabel("seconds since the search started")
    axes.set_ylabel(view.metric)
    axes.set_title("Best score over time")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return figure


def plot_score_over_generations(run: RunLike) -> Figure:
    """Per generation: its best and median score, and the best of all so far."""
    import numpy as np

    view = as_view(run)
    figure, axes = _figure()
    by_generation: dict[int, list[float]] = {}
    for record in _scored(view):
        if record.get("generation") is not None:
            by_generation.setdefault(int(record["generation"]), []).append(record["score"])
    if not by_generation:
        _empty(axes, "no generation was scored")
        return figure
    generations = sorted(by_generation)
    best = [max(by_generation[g]) for g in generations]
    median = [float(np.median(by_generation[g])) for g in generations]
    axes.plot(generations, median, marker="o", color=POINT_COLOUR, label="generation's median")
    axes.plot(generations, best, marker="o", color=FRONT_COLOUR, label="generation's best")
    axes.plot(
        generations,
        np.maximum.accumulate(best),
        color=LINE_COLOUR,
        linewidth=2,
        label="best so far",
    )
    axes.set_xlabel("generation")
    axes.set_ylabel(view.metric)
    axes.set_xticks(generations)
    axes.set_title("Score over generations")
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    return figure


def plot_evaluation_durations(run: RunLike) -> Figure:
    """How long the evaluations took, scored and failed ones stacked."""
    view = as_view(run)
    figure, axes = _figure()
    durations: dict[str, list[float]] = {"scored": [], "failed or timed out": []}
    for record in view.evaluations:
        seconds = record.get("eval_seconds")
        if seconds is None or record.get("status") == "not_finished":
            continue
        kind = "scored" if record.get("status") == "ok" else "failed or timed out"
        durations[kind].append(max(float(seconds), 0.0))
    if not any(durations.values()):
        _empty(axes, "no timed evaluation")
        return figure
    axes.hist(
        [durations["scored"], durations["failed or timed out"]],
        bins=20,
        stacked=True,
        color=[LINE_COLOUR, FAIL_COLOUR],
        label=[f"{k} ({len(v)})" for k, v in durations.items()],
    )
    axes.set_xlabel("seconds per evaluation (all folds)")
    axes.set_ylabel("evaluations")
    axes.set_title("Evaluation durations")
    axes.grid(alpha=0.3)
    axes.legend(loc="upper right")
    return figure


def plot_importance(run: RunLike) -> Figure:
    """Permutation importance of the final model on the raw columns (most important first)."""
    view = as_view(run)
    columns = (view.importance or {}).get("columns", [])[:MAX_IMPORTANCE_BARS]
    figure, axes = _figure(height=max(2.4, 0.32 * len(columns) + 1.2))
    if not columns:
        _empty(axes, "no importance was computed for this run")
        return figure
    names = [c["column"] for c in columns][::-1]
    axes.barh(
        names,
        [c["mean"] for c in columns][::-1],
        xerr=[c["std"] for c in columns][::-1],
        color=LINE_COLOUR,
        ecolor="#343a40",
        capsize=2,
    )
    axes.axvline(0, color="#343a40", linewidth=0.8)
    axes.set_xlabel(f"drop in {view.metric} when the column is shuffled")
    axes.set_title("Permutation importance (held-out rows)")
    axes.grid(alpha=0.3, axis="x")
    return figure


def plot_diagnostics(run: RunLike) -> Figure:
    """Classification: confusion matrix, ROC and precision-recall curves; regression:
    predicted against actual and the residuals' histogram. All from out-of-fold predictions."""
    view = as_view(run)
    diagnostics = view.diagnostics
    if not diagnostics:
        figure, axes = _figure()
        _empty(axes, "no out-of-fold diagnostics were computed for this run")
        return figure
    if diagnostics.get("task") == "regression":
        return _regression(diagnostics)
    return _classification(diagnostics)


def _classification(diagnostics: dict[str, Any]) -> Figure:
    import numpy as np

    curves = diagnostics.get("curves", [])
    figure, axes = _figure(width=13.5 if curves else 5.0, height=4.4, columns=3 if curves else 1)
    matrix_axes = axes[0] if curves else axes
    matrix = np.asarray(diagnostics["confusion_matrix"])
    labels = diagnostics["classes"]
    matrix_axes.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        colour = "white" if count > matrix.max() / 2 else "black"
        matrix_axes.text(j, i, str(count), ha="center", va="center", color=colour)
    matrix_axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    matrix_axes.set_yticks(range(len(labels)), labels)
    matrix_axes.set_xlabel("predicted")
    matrix_axes.set_ylabel("actual")
    matrix_axes.set_title("Confusion matrix (out-of-fold)")
    for kind, target, title in (
        ("roc", axes[1] if curves else None, "ROC"),
        ("precision_recall", axes[2] if curves else None, "Precision-recall"),
    ):
        if target is None:
            continue
        for curve in (c for c in curves if c["kind"] == kind):
            x, y = zip(*curve["points"], strict=True) if curve["points"] else ((), ())
            target.plot(x, y, linewidth=1.6, label=f"{curve['class']} (area {curve['area']:.3f})")
        if kind == "roc":
            target.plot([0, 1], [0, 1], linestyle="--", color=POINT_COLOUR, linewidth=1)
        target.set_xlabel("false positive rate" if kind == "roc" else "recall")
        target.set_ylabel("true positive rate" if kind == "roc" else "precision")
        target.set_xlim(0, 1)
        target.set_ylim(0, 1.02)
        target.set_title(f"{title} (out-of-fold)")
        target.grid(alpha=0.3)
        target.legend(loc="lower right" if kind == "roc" else "lower left", fontsize="small")
    return figure


def _regression(diagnostics: dict[str, Any]) -> Figure:
    figure, (scatter, histogram) = _figure(width=11.0, height=4.4, columns=2)
    points = diagnostics.get("points", [])
    if points:
        actual, predicted = zip(*points, strict=True)
        low, high = min(*actual, *predicted), max(*actual, *predicted)
        scatter.scatter(actual, predicted, s=12, color=LINE_COLOUR, alpha=0.6)
        scatter.plot([low, high], [low, high], linestyle="--", color=FRONT_COLOUR, linewidth=1)
    scatter.set_xlabel("actual")
    scatter.set_ylabel("predicted (out-of-fold)")
    scatter.set_title("Predicted against actual")
    scatter.grid(alpha=0.3)
    residuals = diagnostics.get("residuals", {})
    bins = residuals.get("histogram", {})
    edges, counts = bins.get("edges", []), bins.get("counts", [])
    if counts:
        widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
        histogram.bar(edges[:-1], counts, width=widths, align="edge", color=LINE_COLOUR)
        histogram.axvline(0, color=FRONT_COLOUR, linewidth=1)
    histogram.set_xlabel("residual (actual - predicted)")
    histogram.set_ylabel("rows")
    histogram.set_title("Residuals (out-of-fold)")
    histogram.grid(alpha=0.3)
    return figure
