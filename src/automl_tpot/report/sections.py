"""The report's sections, each from the run's view: what was asked and what happened, the
leaderboard and the ensemble, the search's plots, the explanations, the data, the settings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import plots
from .html import escape, figure_html, json_cell, key_values, number, table
from .view import RunView

__all__ = [
    "budget",
    "configuration",
    "data",
    "ensemble",
    "explanations",
    "leaderboard",
    "search_plots",
    "summary",
]

#: The phases of ``summary.timings`` in the order a run goes through them.
PHASES = (
    ("validate", "reading and checking the table"),
    ("cluster_start", "starting the Dask cluster"),
    ("prepare", "preprocessing and the search space"),
    ("search", "the search, with TPOT's refit of its choice"),
    ("ensemble", "the ensemble stage"),
    ("explain", "the explanations"),
    ("cluster_stop", "closing the Dask cluster"),
    ("store", "storing the artifacts"),
)


def _muted(text: str) -> str:
    return f'<span class="muted">{escape(text)}</span>'


def _items(values: Any) -> str:
    return ", ".join(escape(v) for v in values) if values else '<span class="muted">none</span>'


def summary(view: RunView) -> str:
    """Task, metric, best score and pipeline, the search's course, the parallel mode."""
    s = view.summary
    parallel = s.get("parallel", {})
    failures = view.failures_by_kind()
    failed = sum(failures.values())
    kinds = ", ".join(f"{escape(k.replace('_', ' '))}: {n}" for k, n in failures.items())
    mode = f"{escape(parallel.get('mode_requested'))} asked, {escape(parallel.get('mode_used'))}"
    mode += f" used, {escape(parallel.get('n_workers'))} worker(s)"
    if parallel.get("fallback_reason"):
        mode += f"; fell back because {escape(parallel['fallback_reason'])}"
    evaluations = (
        f"{escape(s.get('evaluations'))}: {escape(s.get('successful_evaluations'))} scored, "
        f"{failed} failed" + (f" ({kinds})" if kinds else "")
    )
    generations = (
        f"{escape(s.get('generations_completed'))} of population {escape(s.get('population_size'))}"
    )
    rows = [
        ("task", f"{escape(s.get('task'))} {_muted('(' + str(s.get('task_reason')) + ')')}"),
        ("metric", f"{escape(view.metric)} {_muted('(bigger is better)')}"),
        ("best cross-validated score", f"<strong>{number(s.get('best_score'))}</strong>"),
        ("final model", f"<code>{escape(s.get('best_pipeline'))}</code>"),
        ("stopped by", escape(s.get("stopped_by"))),
        ("generations", generations),
        ("evaluations", evaluations),
        ("Pareto front", f"{escape(s.get('pareto_front_size'))} pipeline(s)"),
        ("parallel mode", mode),
    ]
    alerts = s.get("alerts") or []
    notes = s.get("notes") or []
    body = key_values(rows)
    body += "<h3>Alerts</h3>" + (
        "".join(
            f'<p class="alert"><strong>{escape(a.get("kind"))}</strong>: '
            f"{escape(a.get('reason'))}</p>"
            for a in alerts
        )
        or '<p class="muted">none</p>'
    )
    body += "<h3>Notes</h3>" + (
        "".join(f'<p class="note">{escape(n)}</p>' for n in notes) or '<p class="muted">none</p>'
    )
    return body


def budget(view: RunView) -> str:
    """The time asked for and the time each phase used."""
    timings = view.summary.get("timings", {})
    asked = view.config.get("time_left")
    total = timings.get("total")
    known = {name for name, _ in PHASES}

    def share(seconds: Any) -> str:
        if not isinstance(asked, (int, float)) or not isinstance(seconds, (int, float)):
            return "–"
        return f"{100 * seconds / asked:.0f} %"

    rows = [
        [escape(name), escape(what), number(timings[name], 2), share(timings[name])]
        for name, what in PHASES
        if name in timings
    ]
    rows += [
        [escape(name), "", number(value, 2), share(value)]
        for name, value in timings.items()
        if name not in known and name != "total"
    ]
    rows.append(["<strong>total</strong>", "", number(total, 2), share(total)])
    head = key_values(
        [
            ("time asked (time_left)", f"{number(asked, 1)} s"),
            ("time used", f"{number(total, 1)} s"),
            ("per evaluation (per_run_limit)", f"{number(view.config.get('per_run_limit'), 1)} s"),
        ]
    )
    return head + table(["phase", "what", "seconds", "of the budget"], rows, numeric=(2, 3))


def leaderboard(view: RunView) -> str:
    """The best pipelines, best first."""
    if not view.leaderboard:
        return '<p class="muted">No pipeline was scored.</p>'
    rows = [
        [
            escape(e.get("rank")),
            number(e.get("score")),
            number(e.get("complexity"), 1),
            number(e.get("eval_seconds"), 2),
            escape(e.get("generation")),
            escape(e.get("pipeline")),
        ]
        for e in view.leaderboard
    ]
    headers = ["rank", view.metric, "complexity", "seconds", "generation", "pipeline"]
    return table(headers, rows, numeric=(0, 1, 2, 3, 4), classes={5: "pipeline"}, css="leaderboard")


def ensemble(view: RunView) -> str:
    """The ensemble's members and weights, or why the single best pipeline stays."""
    stage = view.summary.get("ensemble")
    if stage is None:
        enabled = view.config.get("ensemble")
        why = "the ensemble stage was off (ensemble=False)" if enabled is False else (
            "this run's summary does not record the ensemble stage (made by an earlier version, "
            "or by the AutoML fallback)"
        )  # fmt: skip
        return f'<p class="muted">{escape(why)}.</p>'
    holdout = stage.get("holdout_rows") or 0
    where = (
        f"on {escape(holdout)} held-out rows of all rows (the search compared pipelines on a "
        "sample)"
        if holdout
        else "cross-validated"
    )
    if stage.get("replaced_by"):
        against = (
            "the search's choice did not finish in time"
            if stage.get("choice_score") is None
            else f"against {number(stage.get('choice_score'))} for the search's choice"
        )
        return (
            f"<p>The final model is <code>{escape(stage['replaced_by'])}</code>, which scored "
            f"{escape(view.metric)} <strong>{number(stage.get('score'))}</strong> {where}; "
            f"{against} ({escape(stage.get('candidates'))} candidates scored).</p>"
        )
    if holdout and not stage.get("chosen") and stage.get("score") is not None:
        return (
            f"<p>The search's choice stays: {escape(view.metric)} "
            f"<strong>{number(stage.get('score'))}</strong> {where}, the best of "
            f"{escape(stage.get('candidates'))} pipelines fitted there.</p>"
        )
    if not stage.get("chosen"):
        reason = stage.get("reason") or "it did not score better"
        return f"<p>The single best pipeline stays: {escape(reason)}.</p>"
    rows = [
        [number(m.get("weight"), 3), escape(m.get("pipeline"))] for m in stage.get("members", [])
    ]
    text = (
        f"<p>The final model averages {len(rows)} pipelines: {escape(view.metric)} "
        f"<strong>{number(stage.get('score'))}</strong> {where}, against "
        f"{number(stage.get('best_single'))} for the best single pipeline "
        f"({escape(stage.get('candidates'))} candidates scored).</p>"
    )
    return text + table(["weight", "pipeline"], rows, numeric=(0,), classes={1: "pipeline"})


def search_plots(view: RunView) -> str:
    """The Pareto front, the score over time and generations, the evaluation durations."""
    parts = [
        (plots.plot_pareto_front, "Pareto front: score against complexity",
         "Every scored pipeline; the front (no other is both better and simpler) highlighted."),
        (plots.plot_score_over_time, "Best score over time",
         "The best cross-validated score so far, by when each evaluation finished."),
        (plots.plot_score_over_generations, "Score over generations",
         "Each generation's best and median score, and the best so far."),
        (plots.plot_evaluation_durations, "Evaluation durations",
         "Seconds per evaluation, all folds together; failures include timeouts."),
    ]  # fmt: skip
    figures = "".join(figure_html(draw(view), alt, caption) for draw, alt, caption in parts)
    return f'<div class="grid">{figures}</div>'


def _missing_explanations(view: RunView) -> str:
    stage = view.summary.get("explanations")
    if stage is not None and stage.get("status") in ("skipped", "failed"):
        return f"explanations {stage['status']}: {stage.get('reason') or 'no reason recorded'}"
    if stage is not None:
        return "the run's summary lists explanations, but importance.json is missing"
    if view.status == "fallback":
        return "the AutoML fallback's baseline has no explanation stage"
    return (
        "this run's summary does not mention explanations: it was made before automl-tpot "
        "computed them, or through a path without the explanation stage"
    )


def explanations(view: RunView) -> str:
    """Permutation importance on the raw columns and the out-of-fold diagnostics."""
    importance = view.importance
    if not importance:
        return f'<p class="muted">Not available: {escape(_missing_explanations(view))}.</p>'
    stage = view.summary.get("explanations") or {}
    intro = (
        f"<p>Measured at the end of the run on held-out rows: the final model refitted on each "
        f"of {escape(importance.get('folds'))} of the search's {escape(importance.get('cv'))} "
        f"folds, each raw column shuffled {escape(importance.get('n_repeats'))} times on the "
        f"fold's {escape(view.metric)} ({escape(importance.get('rows'))} rows scored, held-out "
        f"score before shuffling {number(importance.get('baseline_score'))}).</p>"
    )
    if stage.get("status") == "partial":
        intro += f'<p class="note">{escape(stage.get("reason"))}.</p>'
    rows = [
        [escape(c.get("column")), number(c.get("mean")), number(c.get("std"))]
        for c in importance.get("columns", [])
    ]
    body = intro + figure_html(plots.plot_importance(view), "Permutation importance")
    body += table(
        ["column", "mean drop", "std"], rows, numeric=(1, 2), css="importance",
        caption="Permutation importance per raw column (bigger: the model relies on it more)",
    )  # fmt: skip
    diagnostics = view.diagnostics
    if diagnostics:
        body += "<h3>Where the model errs (out-of-fold predictions)</h3>"
        body += figure_html(plots.plot_diagnostics(view), "Out-of-fold diagnostics")
        body += _diagnostics_tables(diagnostics)
    return body


def _diagnostics_tables(diagnostics: Mapping[str, Any]) -> str:
    if diagnostics.get("task") == "regression":
        residuals = diagnostics.get("residuals", {})
        pairs = [(k, number(residuals.get(k))) for k in ("mean", "std", "mae", "rmse", "r2")]
        pairs += [(f"{q} % quantile", number(v)) for q, v in residuals.get("quantiles", {}).items()]
        return "<h3>Residuals</h3>" + key_values(pairs)
    labels = [escape(label) for label in diagnostics.get("classes", [])]
    rows = [
        [f"<strong>{label}</strong>", *(str(n) for n in counts)]
        for label, counts in zip(labels, diagnostics.get("confusion_matrix", []), strict=False)
    ]
    text = (
        f"<p>Out-of-fold accuracy {number(diagnostics.get('accuracy'))}, balanced accuracy "
        f"{number(diagnostics.get('balanced_accuracy'))} on {escape(diagnostics.get('rows'))} "
        "rows.</p>"
    )
    headers = ["actual \\ predicted", *diagnostics.get("classes", [])]
    numeric = tuple(range(1, len(headers)))
    return text + table(headers, rows, numeric=numeric, caption="Confusion matrix", css="confusion")


def data(view: RunView) -> str:
    """Column kinds, dropped columns and why, the class balance or the target's range."""
    s = view.summary
    kinds = s.get("feature_types", {})
    table_info = s.get("data") or {}
    rows = []
    if table_info:
        rows += [
            ("rows", escape(table_info.get("rows"))),
            ("feature columns", escape(table_info.get("columns"))),
            ("target", f"<code>{escape(table_info.get('target'))}</code>"),
        ]
    rows += [
        (kind, _items(kinds.get(kind))) for kind in ("numeric", "categorical", "boolean", "text")
    ]
    body = key_values(rows)
    dropped = kinds.get("dropped") or {}
    body += "<h3>Dropped columns</h3>" + (
        table(["column", "reason"], [[escape(c), escape(r)] for c, r in dropped.items()])
        if dropped
        else '<p class="muted">none</p>'
    )
    balance = table_info.get("class_balance")
    stats = table_info.get("target_stats")
    if balance:
        total = sum(item["count"] for item in balance) or 1
        rows_ = [
            [escape(i["label"]), str(i["count"]), f"{100 * i['count'] / total:.1f} %"]
            for i in balance
        ]
        body += "<h3>Class balance</h3>" + table(["class", "rows", "share"], rows_, numeric=(1, 2))
    elif stats:
        body += "<h3>Target</h3>" + key_values((k, number(v)) for k, v in stats.items())
    elif not table_info:
        body += '<p class="muted">The class balance is not recorded in this run.</p>'
    return body


def configuration(view: RunView) -> str:
    """Every setting of the run, and the versions it ran with."""
    settings = key_values((k, json_cell(v)) for k, v in view.config.items())
    versions = key_values((k, escape(v)) for k, v in view.versions.items())
    return settings + "<h3>Versions</h3>" + versions
