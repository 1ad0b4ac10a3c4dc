"""The HTML report of a real run, stored on the filesystem and on an S3 server: its artifacts
(importance.json, diagnostics.json), the page's content, and the page in a headless Chromium
(no console errors, no requests beyond the file itself); the plots and the leaderboard frame
from the API; a run without explanations still reports, saying why."""

from __future__ import annotations

import copy
import html.parser
import io
import json
from types import SimpleNamespace

import attrs
import pytest

from automl_tpot import FilesystemStorage, Trainer, TrainerConfig, load_run
from automl_tpot.cli import main
from automl_tpot.records.validation import validate
from automl_tpot.report import (
    leaderboard_frame,
    plot_diagnostics,
    plot_evaluation_durations,
    plot_importance,
    plot_pareto_front,
    plot_score_over_generations,
    plot_score_over_time,
    render_report,
)

pytest.importorskip("matplotlib")

BUCKET = "report-runs"


@pytest.fixture(scope="module")
def runs(tmp_path_factory, s3_server, cancer_table):
    """One real training, stored on the S3 server and (the same result) in a folder."""
    table = cancer_table.copy()
    table["source"] = "lab"  # constant: a dropped column, with its reason, in the report
    config = TrainerConfig(  # time enough for the explanations, also on a busy machine
        target_column="diagnosis",
        time_left=120,
        generations=2,
        population_size=4,
        n_jobs=1,
        cv=3,
        random_state=0,
    )
    s3_server.create_bucket(BUCKET)
    remote = s3_server.storage(f"s3://{BUCKET}/runs")
    result = Trainer(config, storage=remote).train(table, run_id="cancer")
    local = FilesystemStorage(tmp_path_factory.mktemp("runs"))
    Trainer(config, storage=local).save(result, "cancer")
    return SimpleNamespace(result=result, remote=remote, local=local, table=table)


@pytest.fixture(scope="module")
def reports(runs, s3_server, tmp_path_factory):
    """The report of each stored run, made by ``automl-tpot report`` (by URL for S3)."""
    from moto_server import KEY, SECRET

    folder = tmp_path_factory.mktemp("reports")
    made = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
        patch.setenv("AWS_ACCESS_KEY_ID", KEY)
        patch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
        for where, run in (
            ("local", str(runs.local.root / "cancer")),
            ("s3", f"s3://{BUCKET}/runs/cancer"),
        ):
            out, err = io.StringIO(), io.StringIO()
            path = folder / f"{where}.html"
            assert main(["report", run, "--output", str(path)], out=out, err=err) == 0, err
            assert "wrote the report of run cancer" in err.getvalue()
            made[where] = path
    return made


def _stored(runs, where):
    return load_run(runs.local if where == "local" else runs.remote, "cancer")


class _Page(html.parser.HTMLParser):
    """Every tag with its attributes, and the rows of each table by its class."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.rows: dict[str, int] = {}
        self._table: str | None = None
        self._in_body = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs_):
        attributes = dict(attrs_)
        self.tags.append((tag, attributes))
        if tag == "table":
            self._table = attributes.get("class") or ""
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table is not None:
            self.rows[self._table] = self.rows.get(self._table, 0) + 1

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        self.text.append(data)


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def test_the_run_stores_its_explanations_as_documented_artifacts(runs):
    for storage in (runs.local, runs.remote):
        stored = load_run(storage, "cancer")
        assert {"importance.json", "diagnostics.json"} <= set(stored.manifest["artifacts"])
        validate(stored.importance, "importance")
        validate(stored.diagnostics, "diagnostics")
        validate(stored.manifest, "run")
        summary = stored.manifest["summary"]
        assert summary["explanations"]["status"] in ("complete", "partial")
        assert summary["data"]["rows"] == len(runs.table)
        assert {c["label"] for c in summary["data"]["class_balance"]} == {"benign", "malignant"}
        used = set(summary["feature_types"]["numeric"] + summary["feature_types"]["categorical"])
        used |= set(summary["feature_types"]["boolean"] + summary["feature_types"]["text"])
        assert {c["column"] for c in stored.importance["columns"]} == used
        assert "source" not in used and "constant" in summary["feature_types"]["dropped"]["source"]
        matrix = stored.diagnostics["confusion_matrix"]
        assert sum(map(sum, matrix)) == stored.diagnostics["rows"]
        assert "ensemble" in summary and isinstance(summary["ensemble"]["chosen"], bool)
        if summary["ensemble"]["chosen"]:
            weights = [m["weight"] for m in summary["ensemble"]["members"]]
            assert len(weights) >= 2 and sum(weights) == pytest.approx(1.0, abs=0.01)
    assert "explain" in runs.result.timings


@pytest.mark.parametrize("where", ["local", "s3"])
def test_the_report_holds_every_section_and_loads_nothing(runs, reports, where):
    text = reports[where].read_text(encoding="utf-8")
    stored = _stored(runs, where)
    page = _parse(text)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "iframe" not in tags and "object" not in tags
    for tag, attributes in page.tags:
        for name in ("src", "href"):
            value = attributes.get(name)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, name, value[:80])
    images = [a for tag, a in page.tags if tag == "img"]
    assert len(images) >= 6  # four plots of the search, the importance, the diagnostics
    assert all(a["src"].startswith("data:image/png;base64,") for a in images)
    ids = {a.get("id") for _, a in page.tags if a.get("id")}
    assert {"summary", "budget", "leaderboard", "ensemble", "search", "explanations", "data",
            "configuration"} <= ids  # fmt: skip
    assert page.rows["leaderboard"] == len(stored.leaderboard["entries"])
    assert page.rows["importance"] == len(stored.importance["columns"])
    assert page.rows["confusion"] == 2
    words = " ".join(page.text)
    summary = stored.manifest["summary"]
    assert summary["task_reason"] in words and summary["best_pipeline"] in words
    assert "constant: a single value in every row" in words  # the dropped column's reason
    assert "malignant" in words and "benign" in words
    assert stored.manifest["versions"]["scikit-learn"] in words
    assert f"{summary['timings']['search']:.2f}" in words


#: Facts about the rendered page, collected in the browser.
PAGE_FACTS = """(() => {
  const rows = (css) => document.querySelectorAll(`table.${css} tbody tr`).length;
  const images = [...document.images];
  return {
    title: document.title,
    images: images.length,
    loaded: images.filter((i) => i.complete && i.naturalWidth > 100).length,
    leaderboard: rows("leaderboard"),
    importance: rows("importance"),
    sections: document.querySelectorAll("section").length,
  };
})()"""


def _browser_check(runs, reports, where):
    from helpers.chromium import visit

    seen = visit(reports[where], PAGE_FACTS)
    stored = _stored(runs, where)
    assert seen.foreign_requests == []
    assert seen.console_errors == [] and seen.exceptions == [] and seen.log_errors == []
    facts = seen.facts
    assert facts["title"] == "automl-tpot run cancer"
    assert facts["images"] >= 6 and facts["loaded"] == facts["images"]
    assert facts["leaderboard"] == len(stored.leaderboard["entries"])
    assert facts["importance"] == len(stored.importance["columns"])
    assert facts["sections"] == 8


@pytest.mark.parametrize("where", ["local", "s3"])
def test_the_report_opens_cleanly_in_headless_chromium(runs, reports, where):
    from helpers.chromium import CHROMIUM

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium (the slow suite needs it)")
    _browser_check(runs, reports, where)


def test_the_browser_check_sees_a_request_and_a_console_error(tmp_path):
    """The check above can fail: a page that loads an image and logs an error is caught."""
    from helpers.chromium import CHROMIUM, visit

    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install -y chromium")
    page = tmp_path / "bad.html"
    page.write_text(
        '<html><body><img src="http://127.0.0.1:9/x.png">'
        '<script>console.error("boom")</script></body></html>'
    )
    seen = visit(page, "document.images.length")
    assert seen.foreign_requests == ["http://127.0.0.1:9/x.png"]
    assert any("boom" in text for text in seen.console_errors)


@pytest.mark.slow
def test_the_browser_check_with_chromium_required(runs, reports):
    """The same check where Chromium must be installed: the slow suite fails without it."""
    from helpers.chromium import CHROMIUM

    assert CHROMIUM.exists(), f"{CHROMIUM} is absent: apt-get install -y chromium"
    _browser_check(runs, reports, "s3")


def test_the_plots_and_the_leaderboard_frame_from_the_api(runs, tmp_path):
    result = runs.result
    stored = load_run(runs.local, "cancer")
    frame = result.leaderboard_frame()
    assert frame.attrs["metric"] == result.metric
    assert list(frame.index) == [e["rank"] for e in result.leaderboard]
    assert frame.equals(leaderboard_frame(stored))
    assert frame["score"].is_monotonic_decreasing

    pareto = result.plot_pareto_front()
    scored = [r for r in result.evaluated_individuals if r["status"] == "ok"]
    points = sum(len(c.get_offsets()) for c in pareto.axes[0].collections)
    assert points == len(scored) + len(result.pareto_front)  # every pipeline, the front again
    assert plot_pareto_front(stored).axes[0].get_xlabel().startswith("complexity")
    over_time = plot_score_over_time(stored).axes[0]
    assert over_time.lines and max(over_time.lines[0].get_ydata()) == pytest.approx(
        max(r["score"] for r in scored)
    )
    generations = plot_score_over_generations(stored).axes[0]
    assert len(generations.lines[0].get_xdata()) == len({r["generation"] for r in scored})
    durations = plot_evaluation_durations(stored).axes[0]
    assert sum(p.get_height() for p in durations.patches) == len(
        [r for r in result.evaluated_individuals if r["eval_seconds"] is not None]
    )
    bars = plot_importance(stored).axes[0].patches
    assert len(bars) == min(20, len(stored.importance["columns"]))
    assert len(plot_diagnostics(stored).axes) == 3  # confusion matrix, ROC, precision-recall
    assert len(result.plot_diagnostics().axes) == 3 and result.plot_importance().axes

    written = result.report(tmp_path / "from_result.html")
    page = _parse(written.read_text(encoding="utf-8"))
    assert page.rows["leaderboard"] == len(result.leaderboard)
    assert page.rows["importance"] == len(stored.importance["columns"])


def test_a_run_without_explanations_still_reports_and_says_why(runs):
    stored = load_run(runs.local, "cancer")
    older = copy.deepcopy(stored.manifest)
    del older["summary"]["explanations"]
    older_run = attrs.evolve(stored, manifest=older, importance=None, diagnostics=None)
    text = render_report(older_run)
    assert "does not mention explanations" in text
    assert 'class="importance"' not in text and 'id="leaderboard"' in text

    skipped = copy.deepcopy(stored.manifest)
    skipped["summary"]["explanations"] = {
        "status": "skipped", "reason": "only 0.4s of the budget were left", "seconds": 0.0,
        "folds": 0, "cv": 3,
    }  # fmt: skip
    validate(skipped, "run")
    text = render_report(attrs.evolve(stored, manifest=skipped, importance=None, diagnostics=None))
    assert "explanations skipped: only 0.4s of the budget were left" in text
    assert json.loads(json.dumps(stored.manifest)) == stored.manifest  # the run is untouched


def _stage_view(stage: dict):
    from automl_tpot.report.view import RunView

    return RunView(
        run_id=None,
        location=None,
        status="complete",
        created_at="2026-12-02T00:00:00Z",
        config={"ensemble": True, "metric": "roc_auc"},
        summary={"metric": "roc_auc", "ensemble": stage},
        versions={},
    )


def test_the_ensemble_section_says_what_the_final_choice_on_all_rows_did():
    from automl_tpot.report import sections

    base = dict(chosen=False, members=[], best_single=0.76, candidates=2, reason="")
    replaced = sections.ensemble(_stage_view({
        **base, "score": 0.76, "holdout_rows": 49102, "fitted_rows": 196407,
        "replaced_by": "HistGradientBoostingClassifier(random_state=0)", "choice_score": 0.73,
    }))  # fmt: skip
    assert "HistGradientBoostingClassifier(random_state=0)" in replaced
    assert "49102 held-out rows of all rows" in replaced and "0.7300" in replaced
    stays = sections.ensemble(_stage_view({
        **base, "score": 0.76, "holdout_rows": 49102, "replaced_by": None, "choice_score": 0.76,
    }))  # fmt: skip
    assert "choice stays" in stays and "the best of 2 pipelines fitted there" in stays
    # an older run's summary, without the fields, reads as before
    old = sections.ensemble(_stage_view({**base, "score": None, "reason": "only 0.0s left"}))
    assert "The single best pipeline stays: only 0.0s left." in old
