"""The explanation stage on real Dask worker processes: permutation importance of a model's raw
columns and its out-of-fold diagnostics, on the search's folds, within a deadline; and the
budget's reserve for it."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers.local_dask import local_client
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

from automl_tpot.data import build_preprocessor, prepare_training_data
from automl_tpot.explain import N_REPEATS, explain_model
from automl_tpot.explain.stage import FOLD_MARGIN
from automl_tpot.model import TabularModel
from automl_tpot.records.explanations import diagnostics_document, importance_document
from automl_tpot.records.validation import validate
from automl_tpot.search.budget import CLOSE_RESERVE, EXPLAIN_MAX_SECONDS, STORE_MARGIN, RunBudget


@pytest.fixture(scope="module")
def client():
    with local_client(n_workers=1) as client:
        yield client


def _fitted(prepared, estimator):
    preprocessor = build_preprocessor(prepared.feature_types, prepared.target_type)
    features = preprocessor.fit_transform(prepared.features, prepared.y)
    fitted = clone(estimator).fit(features, prepared.y)
    return TabularModel.from_fitted(preprocessor, fitted, prepared)


def _explain(client, prepared, model, metric, deadline_in=120.0):
    return explain_model(
        client=client,
        model=model,
        prepared=prepared,
        metric=metric,
        metric_name=metric,
        random_state=0,
        deadline=time.monotonic() + deadline_in,
    )


def test_regression_importance_and_residuals_on_the_searchs_folds(client, diabetes_table):
    table = diabetes_table.copy()
    table["noise"] = np.random.default_rng(0).normal(size=len(table))
    table["batch"] = "b1"  # constant: dropped, so it has no importance
    prepared = prepare_training_data(table, "target", "regression", cv=3)
    model = _fitted(prepared, Ridge())
    outcome = _explain(client, prepared, model, "r2")

    assert outcome.status == "complete" and outcome.folds == 3 and outcome.reason == ""
    assert outcome.n_repeats == N_REPEATS and outcome.rows == len(table)
    columns = {item.column for item in outcome.importance}
    assert columns == {str(c) for c in prepared.feature_types.used}
    assert "batch" not in columns
    ranked = [item.column for item in outcome.importance]
    assert ranked.index("bmi") < ranked.index("noise")  # BMI drives diabetes progression
    assert outcome.importance[0].mean > 0.01

    # the diagnostics are the model refitted per fold, preprocessing included, on the same folds
    expected = cross_val_predict(
        make_pipeline(clone(model.preprocessor), Ridge()),
        prepared.features,
        prepared.y,
        cv=KFold(3, shuffle=True, random_state=0),
    )
    residuals = outcome.diagnostics["residuals"]
    assert residuals["r2"] == pytest.approx(r2_score(prepared.y, expected), abs=1e-5)
    assert sum(residuals["histogram"]["counts"]) == len(table)
    assert len(outcome.diagnostics["points"]) == len(table)  # 442 rows: under the sample cap
    validate(importance_document("r", outcome), "importance")
    validate(diagnostics_document("r", outcome), "diagnostics")
    _report_shows(outcome, "r2", "regression")


def _report_shows(outcome, metric: str, task: str) -> None:
    """The report's explanations section draws these documents (a view without a search)."""
    pytest.importorskip("matplotlib")
    from automl_tpot.report import RunView, plot_diagnostics, render_report

    view = RunView(
        run_id="r",
        location=None,
        status="not stored",
        created_at="",
        config={},
        summary={"task": task, "metric": metric, "explanations": outcome.summary()},
        versions={},
        importance=importance_document("r", outcome),
        diagnostics=diagnostics_document("r", outcome),
    )
    text = render_report(view)
    assert text.count("<tr>") > len(outcome.importance)
    assert ("Residuals" in text) == (task == "regression")
    assert len(plot_diagnostics(view).axes) == (2 if task == "regression" else 3)


def test_classification_confusion_matrix_and_curves_per_class(client, wine_table):
    prepared = prepare_training_data(wine_table, "target", "classification", cv=3)
    estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    model = _fitted(prepared, estimator)
    outcome = _explain(client, prepared, model, "balanced_accuracy")

    assert outcome.status == "complete"
    diagnostics = outcome.diagnostics
    matrix = np.asarray(diagnostics["confusion_matrix"])
    assert matrix.shape == (3, 3) and matrix.sum() == len(wine_table)
    assert diagnostics["classes"] == ["0", "1", "2"]
    assert {(c["kind"], c["class"]) for c in diagnostics["curves"]} == {
        (kind, label) for kind in ("roc", "precision_recall") for label in ("0", "1", "2")
    }
    assert all(len(c["points"]) <= 200 for c in diagnostics["curves"])
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    pipeline = make_pipeline(clone(model.preprocessor), clone(estimator))
    predicted = cross_val_predict(pipeline, prepared.features, prepared.y, cv=folds)
    assert diagnostics["accuracy"] == pytest.approx(accuracy_score(prepared.y, predicted))
    assert np.trace(matrix) == (predicted == prepared.y).sum()
    validate(diagnostics_document(None, outcome), "diagnostics")
    _report_shows(outcome, "balanced_accuracy", "classification")


def test_no_time_left_skips_with_the_reason(client, wine_table):
    prepared = prepare_training_data(wine_table, "target", "classification", cv=3)
    model = _fitted(prepared, make_pipeline(StandardScaler(), LogisticRegression()))
    outcome = _explain(client, prepared, model, "accuracy", deadline_in=0.2)
    assert outcome.status == "skipped" and not outcome.computed
    assert "of the budget were left" in outcome.reason


class _RecordingClient:
    """A real client that remembers what the stage scattered and how many tasks it submitted."""

    def __init__(self, client):
        self.client, self.scattered, self.submitted = client, [], 0

    def scatter(self, data, **kwargs):
        self.scattered.extend(data)
        return self.client.scatter(data, **kwargs)

    def submit(self, *args, **kwargs):
        self.submitted += 1
        return self.client.submit(*args, **kwargs)


def test_the_folds_get_the_models_structure_not_its_fitted_parts(client, wine_table):
    prepared = prepare_training_data(wine_table, "target", "classification", cv=3)
    model = _fitted(prepared, make_pipeline(StandardScaler(), LogisticRegression()))
    recording = _RecordingClient(client)
    outcome = _explain(recording, prepared, model, "accuracy")
    assert outcome.status == "complete" and recording.submitted == 3
    sent = next(item for item in recording.scattered if isinstance(item, TabularModel))
    with pytest.raises(NotFittedError):  # a forest's trees would travel (and be copied) too
        check_is_fitted(sent)
    assert sent.get_params()["estimator"].get_params().keys() == (
        model.get_params()["estimator"].get_params().keys()
    )
    check_is_fitted(model)  # the run's own model is left as it was


def test_a_refit_that_cannot_finish_in_time_skips_the_stage_before_it_starts(client, wine_table):
    prepared = prepare_training_data(wine_table, "target", "classification", cv=3)
    model = _fitted(prepared, make_pipeline(StandardScaler(), LogisticRegression()))
    recording = _RecordingClient(client)
    outcome = explain_model(
        client=recording,
        model=model,
        prepared=prepared,
        metric="accuracy",
        metric_name="accuracy",
        random_state=0,
        deadline=time.monotonic() + 10.0,
        fold_seconds=8.0,  # less than the 10 s left, but not with its predictions
    )
    assert FOLD_MARGIN * 8.0 > 10.0
    assert outcome.status == "skipped" and not outcome.computed
    assert outcome.reason.startswith(
        f"a refit on a fold's rows with its predictions takes about {FOLD_MARGIN * 8.0:.1f}s, "
        "more than the"
    )
    assert recording.scattered == [] and recording.submitted == 0


def test_the_refits_cost_is_the_ensemble_stages_fit_scaled_to_a_folds_rows(wine_table):
    from automl_tpot.ensemble import EnsembleOutcome
    from automl_tpot.ensemble.holdout import FIT_SCALING
    from automl_tpot.explain.stage import _fold_seconds

    prepared = prepare_training_data(wine_table, "target", "classification", cv=3)
    rows = len(prepared.y)
    measured = EnsembleOutcome(fit_seconds=6.0, fitted_rows=rows // 4)
    expected = 6.0 * ((rows * 2 / 3) / (rows // 4)) ** FIT_SCALING
    assert _fold_seconds(measured, prepared) == pytest.approx(expected)
    on_all_rows = EnsembleOutcome(fit_seconds=6.0)  # fitted_rows 0: all rows
    assert _fold_seconds(on_all_rows, prepared) == pytest.approx(6.0 * (2 / 3) ** FIT_SCALING)
    assert _fold_seconds(EnsembleOutcome(), prepared) is None


def test_a_model_that_fails_on_every_fold_is_reported_not_raised(client, wine_table):
    prepared = prepare_training_data(wine_table, "target", "classification", cv=3)
    model = _fitted(prepared, make_pipeline(StandardScaler(), LogisticRegression()))
    # every refit raises: the pipeline the folds refit takes a parameter it refuses
    model.set_params(estimator=make_pipeline(StandardScaler(), LogisticRegression(C=-1.0)))
    outcome = _explain(client, prepared, model, "accuracy")
    assert outcome.status == "failed" and "'C'" in outcome.reason
    assert len(outcome.reason) <= 300


def test_the_explanation_reserve_comes_off_the_search_not_after_the_deadline():
    started = time.monotonic()
    plain = RunBudget(100.0, started, per_run_limit=60.0, ensemble=True)
    explained = RunBudget(100.0, started, per_run_limit=60.0, ensemble=True, explain=True)
    assert plain.explain_reserve == 0.0
    assert explained.explain_reserve == pytest.approx(10.0)  # 10 % of the budget
    assert explained.explain_deadline == plain.stages_deadline
    assert explained.stages_deadline == pytest.approx(plain.stages_deadline - 10.0)
    assert explained.explain_deadline == pytest.approx(
        started + 100.0 - CLOSE_RESERVE - STORE_MARGIN
    )
    shares_plain, shares_explained = plain.plan_search(), explained.plan_search()
    assert shares_explained.search_seconds == pytest.approx(
        shares_plain.search_seconds - 10.0, abs=0.05
    )
    large = RunBudget(36000.0, started, per_run_limit=60.0, ensemble=True, explain=True)
    assert large.explain_reserve == EXPLAIN_MAX_SECONDS


def test_shuffling_a_raw_column_is_shuffling_its_block_of_the_preprocessed_matrix(cancer_table):
    """What permutation_drops relies on: preprocessing works row by row and column by column,
    so a raw column's shuffle is its block's shuffle (gaps, indicators, one-hot included)."""
    from automl_tpot.data import output_columns

    prepared = prepare_training_data(cancer_table, "diagnosis", "auto", cv=3)
    preprocessor = build_preprocessor(prepared.feature_types, prepared.target_type)
    preprocessor.fit(prepared.features, prepared.y)
    groups = output_columns(preprocessor)
    assert {"region", "member"} <= set(groups) and len(groups["region"]) > 1
    base = preprocessor.transform(prepared.features)
    order = np.random.default_rng(1).permutation(len(base))
    for column, block in groups.items():
        raw = prepared.features.copy()
        raw[column] = raw[column].to_numpy()[order]
        expected = base.copy()
        expected[:, list(block)] = base[order][:, list(block)]
        np.testing.assert_array_equal(preprocessor.transform(raw), expected, err_msg=column)
