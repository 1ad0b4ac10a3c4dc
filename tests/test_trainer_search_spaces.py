"""The Trainer with each built-in search space: train, store, load and predict on raw rows.

Every preset for every task it declares runs a real (small) search on a real Dask worker; that
is several minutes on two cores, so those runs are marked slow. One run stays in the quick suite.
"""

from __future__ import annotations

import pytest

from automl_tpot import FilesystemStorage, Trainer, TrainerConfig, load_model
from automl_tpot.errors import SearchSpaceError
from automl_tpot.plugins import load_registry

from .conftest import TABLES, TARGET

SMALL = dict(
    population_size=4,
    generations=1,
    time_left=30,
    per_run_limit=10,
    cv=3,
    n_jobs=1,
    random_state=0,
)

BUILT_IN = [
    (space.name + (":HistGradientBoosting" if space.definition.parametrized else ""), task)
    for space in sorted(load_registry().spaces.values(), key=lambda s: s.name)
    if space.distribution == "automl-tpot"
    for task in space.definition.tasks
]


def train_and_predict(task: str, tmp_path, **config) -> tuple:
    table = TABLES[task](120)
    settings = {**SMALL, **config}
    result = Trainer(
        TrainerConfig(target_column=TARGET, task=task, **settings),
        storage=FilesystemStorage(tmp_path),
    ).train(table)
    model = load_model(FilesystemStorage(tmp_path), result.run_id)
    rows = table.drop(columns=TARGET).head(12)
    predictions = model.predict(rows)
    assert len(predictions) == len(rows)
    if task == "classification":
        assert set(predictions) <= {"malignant", "benign"}
    else:
        assert predictions.dtype.kind == "f"
    return result, predictions


@pytest.mark.slow
@pytest.mark.parametrize("name, task", BUILT_IN)
def test_every_builtin_trains_and_predicts(name, task, tmp_path):
    result, _ = train_and_predict(task, tmp_path, search_space=name)
    assert result.evaluated_individuals
    assert result.config.search_space == name


def test_fss_with_payload_feature_groups(tmp_path):
    table = TABLES["classification"](120)
    groups = {"shape": [str(c) for c in table.columns[:4]], "band": ["band"]}
    payload = {"target_column": TARGET, "search_space": "fss", "feature_groups": groups}
    config = TrainerConfig.from_payload(payload, env={}, **SMALL)
    result = Trainer(config, storage=FilesystemStorage(tmp_path)).train(table)
    assert "FeatureSetSelector(name='" in result.best_pipeline
    assert result.config.to_dict()["feature_groups"] == groups
    predictions = result.model.predict(table.drop(columns=TARGET).head(5))
    assert set(predictions) <= {"malignant", "benign"}


def test_bad_search_space_fails_before_anything_runs(tmp_path):
    table = TABLES["regression"](60)
    for space, fragment in (
        ("symbolic-classification", "serves classification, not regression"),
        ({"sklearn.ensemble.RandomForestRegressor": {"n_trees": [3]}}, "n_trees"),
        ("fss", "'missing-column'"),
    ):
        # a config dict's allowlisted classes are checked when the config is built
        with pytest.raises(SearchSpaceError, match=fragment):
            config = TrainerConfig(
                target_column=TARGET,
                search_space=space,
                feature_groups={"g": ["missing-column"]},
                **SMALL,
            )
            Trainer(config, storage=FilesystemStorage(tmp_path)).train(table)
    assert not any(tmp_path.iterdir())  # nothing stored
