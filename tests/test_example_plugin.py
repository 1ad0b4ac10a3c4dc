"""The example third-party plugin, installed into this interpreter, discovered and trained with;
and the ``automl-tpot spaces`` commands."""

from __future__ import annotations

import io

import pytest

from automl_tpot import Trainer, TrainerConfig
from automl_tpot.cli import main
from automl_tpot.plugins import load_registry
from automl_tpot.search_spaces import resolve_search_space

from .conftest import TARGET, breast_cancer_table, diabetes_sample, prepared_context

SMALL = dict(
    population_size=4,
    generations=1,
    time_left=30,
    per_run_limit=10,
    cv=3,
    n_jobs=1,
    random_state=0,
)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_spaces_list_shows_builtins_and_the_plugin_with_distributions(example_plugin):
    code, out, _ = run_cli("spaces", "list")
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["example-trees"][1] == example_plugin == "automl-tpot-example-plugin"
    assert rows["example-trees"][2] == "classification,regression"
    for name in ("linear", "linear-light", "graph", "choice", "fss", "estimator:NAME"):
        assert rows[name][1] == "automl-tpot"
    assert rows["symbolic-regression"][2] == "regression"
    assert rows["symbolic-classification"][2] == "classification"
    assert "ChoicePipeline over strong estimators" in out


def test_spaces_show_describes_what_is_searched(example_plugin):
    code, out, _ = run_cli("spaces", "show", "example-trees", "--task", "regression")
    assert code == 0
    assert "automl-tpot-example-plugin" in out
    assert "ExtraTreesRegressor (max_features, min_samples_leaf, n_estimators)" in out
    code, out, _ = run_cli("spaces", "show", "symbolic-regression")
    assert code == 0 and "GraphSearchPipeline" in out and "AddTransformer" in out
    assert "FSSNode: one of 10 feature groups" in out


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (("spaces", "show", "nope"), "unknown search space 'nope'; available: auto, choice"),
        (
            ("spaces", "show", "symbolic-regression", "--task", "classification"),
            "serves regression",
        ),
        (("spaces", "show", "estimator"), "estimator:NAME"),
    ],
)
def test_spaces_show_rejects_bad_names(argv, fragment):
    code, _, err = run_cli(*argv)
    assert code == 2
    assert fragment in err


def test_the_plugin_is_used_by_name(example_plugin, tmp_path):
    from automl_tpot import FilesystemStorage, load_model

    table = breast_cancer_table(120)
    config = TrainerConfig(target_column=TARGET, search_space="example-trees", **SMALL)
    result = Trainer(config, storage=FilesystemStorage(tmp_path)).train(table)
    assert any(
        kind in result.best_pipeline for kind in ("ExtraTreesClassifier", "RandomForestClassifier")
    )
    model = load_model(FilesystemStorage(tmp_path), result.run_id)
    predictions = model.predict(table.drop(columns=TARGET).head(10))
    assert set(predictions) <= {"malignant", "benign"}
    assert result.config.to_dict()["search_space"] == "example-trees"


def test_config_dicts_may_name_classes_a_plugin_registered(example_plugin):
    registry = load_registry()
    assert registry.estimator_sources["ShrunkRidge"] == example_plugin
    _, _, context = prepared_context("regression", n_rows=60)
    for key in ("ShrunkRidge", "automl_tpot_example_plugin.spaces.ShrunkRidge"):
        space = resolve_search_space({key: {"alpha": [1.0, 100.0]}}, context, registry)
        assert space.search_spaces[0].method.__name__ == "ShrunkRidge"
    assert resolve_search_space("estimator:ShrunkRidge", context, registry).method.__name__ == (
        "ShrunkRidge"
    )


def test_payload_config_dict_trains_with_a_plugin_class(example_plugin):
    table = diabetes_sample(120)
    payload = {
        "dataset_id": "ds-1",
        "target_column": TARGET,
        "search_space": {
            "ShrunkRidge": {"alpha": {"low": 0.1, "high": 100.0, "log": True}},
            "sklearn.tree.DecisionTreeRegressor": {"max_depth": [2, 3, 4]},
            "sklearn.preprocessing.StandardScaler": {},
        },
    }
    config = TrainerConfig.from_payload(payload, env={}, **SMALL)
    result = Trainer(config, store=False).train(table)
    assert "ShrunkRidge" in result.best_pipeline or "DecisionTreeRegressor" in result.best_pipeline
    assert len(result.model.predict(table.drop(columns=TARGET).head(5))) == 5


def test_the_example_metrics_backend_is_found_by_name_and_writes_json_lines(
    example_plugin, tmp_path
):
    import json

    from automl_tpot import Alert, GenerationProgress
    from automl_tpot.metrics import available_metrics_backends, metrics_from_name

    assert "jsonl" in available_metrics_backends()
    path = tmp_path / "events.jsonl"
    backend = metrics_from_name("jsonl", path=str(path))
    assert type(backend).__name__ == "JsonLinesMetrics"
    backend.on_progress(GenerationProgress(1, 2.5, 0.9, 6, 0, "roc_auc", 6))
    backend.on_alert(Alert("timeout", "budget"))
    backend.on_run_finished({"status": "complete", "best_score": 0.9})
    events = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["event"] for e in events] == ["generation", "alert", "finished"]
    assert events[0]["generation"] == 1 and events[1]["kind"] == "timeout"
    assert events[2]["status"] == "complete"
