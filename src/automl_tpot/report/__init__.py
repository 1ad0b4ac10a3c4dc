"""A run people can look at: one self-contained HTML report, the plots one by one, and the
leaderboard as a pandas DataFrame.

Everything takes a stored run (:func:`~automl_tpot.storage.load_run`), a
:class:`~automl_tpot.TrainingResult` or a :class:`RunView`::

    from automl_tpot.report import write_report, plot_pareto_front
    from automl_tpot.storage import load_run, storage_from_url

    run = load_run(storage_from_url("runs"), "20261201-101500-a1b2c3")
    write_report(run, "report.html")
    plot_pareto_front(run).savefig("front.png")

The plots need matplotlib (the ``report`` extra).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from . import sections
from .html import page
from .plots import (
    plot_diagnostics,
    plot_evaluation_durations,
    plot_importance,
    plot_pareto_front,
    plot_score_over_generations,
    plot_score_over_time,
)
from .view import RunLike, RunView, as_view

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "RunView",
    "as_view",
    "leaderboard_frame",
    "plot_diagnostics",
    "plot_evaluation_durations",
    "plot_importance",
    "plot_pareto_front",
    "plot_score_over_generations",
    "plot_score_over_time",
    "render_report",
    "write_report",
]

#: The leaderboard frame's columns, in order.
LEADERBOARD_COLUMNS = (
    "rank",
    "id",
    "score",
    "complexity",
    "eval_seconds",
    "generation",
    "pipeline",
)


def leaderboard_frame(run: RunLike) -> pd.DataFrame:
    """The leaderboard as a DataFrame indexed by rank, best first (the score column is named
    after the metric in ``frame.attrs["metric"]``)."""
    import pandas as pd

    view = as_view(run)
    frame = pd.DataFrame(
        [{k: entry.get(k) for k in LEADERBOARD_COLUMNS} for entry in view.leaderboard],
        columns=list(LEADERBOARD_COLUMNS),
    ).set_index("rank")
    frame.attrs["metric"] = view.metric
    return frame


def render_report(run: RunLike) -> str:
    """The run's report as one HTML document (styles and plots inline; nothing it loads)."""
    from .. import __version__

    view = as_view(run)
    parts = [
        ("summary", "Summary", sections.summary(view)),
        ("budget", "Budget", sections.budget(view)),
        ("leaderboard", "Leaderboard", sections.leaderboard(view)),
        ("ensemble", "Ensemble", sections.ensemble(view)),
        ("search", "The search", sections.search_plots(view)),
        ("explanations", "Explanations", sections.explanations(view)),
        ("data", "The data", sections.data(view)),
        ("configuration", "Configuration and versions", sections.configuration(view)),
    ]
    where = view.location or "not stored"
    subtitle = f"{view.task} on {view.metric} · {view.status} · {view.created_at} · {where}"
    made = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    footer = f"Made by automl-tpot {__version__} on {made}."
    return page(f"automl-tpot run {view.run_id or '(not stored)'}", subtitle, parts, footer)


def write_report(run: RunLike, path: str | Path) -> Path:
    """Write the run's report to ``path`` (UTF-8); return the path."""
    target = Path(path)
    target.write_text(render_report(run), encoding="utf-8")
    return target
