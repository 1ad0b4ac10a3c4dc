"""The published JSON Schemas: valid schemas, and real artifacts and job records validate
against them (a run stored through the job API, a rejected job, the AutoML fallback's run)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from automl_tpot import FilesystemStorage, JobRejected, TrainerConfig, run_for_job
from automl_tpot.records.documents import ArtifactDigest
from automl_tpot.records.validation import SCHEMAS, schema, validate

ARTIFACT_SCHEMAS = {
    "run.json": "run",
    "leaderboard.json": "leaderboard",
    "tp_pareto_front.json": "pareto-front",
    "evaluated_individuals.json": "evaluated-individuals",
    "signature.json": "signature",
}
#: Artifacts a run holds when its explanation stage finished in time.
OPTIONAL_SCHEMAS = {"importance.json": "importance", "diagnostics.json": "diagnostics"}


def _validate_stored_run(storage: FilesystemStorage, run_id: str) -> dict:
    """Every JSON artifact against its schema, and every artifact against run.json's hash."""
    for name, schema_name in ARTIFACT_SCHEMAS.items():
        validate(json.loads(storage.read_bytes(run_id, name)), schema_name)
    manifest = json.loads(storage.read_bytes(run_id, "run.json"))
    for name, schema_name in OPTIONAL_SCHEMAS.items():
        if name in manifest["artifacts"]:
            validate(json.loads(storage.read_bytes(run_id, name)), schema_name)
    for name, digest in manifest["artifacts"].items():
        expected = ArtifactDigest(digest["bytes"], digest["sha256"])
        assert expected.matches(storage.read_bytes(run_id, name)), name
    return manifest


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_every_shipped_schema_is_a_valid_draft_2020_12_schema(name):
    jsonschema.Draft202012Validator.check_schema(schema(name))
    assert schema(name)["$id"].endswith(f"/{name}.schema.json")


@pytest.fixture(scope="module")
def job(tmp_path_factory, wine_table):
    storage = FilesystemStorage(tmp_path_factory.mktemp("runs"))
    payload = {
        "dataset_id": "wine",
        "target_column": "target",
        "generations": 2,
        "population_size": 4,
        "time_left": 60,
    }
    record = run_for_job(
        payload,
        load_dataset=lambda _id: wine_table,
        storage=storage,
        env={},
        n_jobs=1,
        cv=3,
        random_state=0,
    )
    return storage, record


def test_a_stored_run_and_its_job_record_validate(job):
    storage, record = job
    validate(record, "training-run")
    manifest = _validate_stored_run(storage, record["run_id"])
    assert manifest["status"] == "complete"
    assert manifest["summary"]["generations_completed"] == record["tp_generations"] == 2
    # a run that explained its model in time holds both documents (validated above)
    if manifest["summary"]["explanations"]["status"] in ("complete", "partial"):
        assert set(OPTIONAL_SCHEMAS) <= set(manifest["artifacts"])
        diagnostics = json.loads(storage.read_bytes(record["run_id"], "diagnostics.json"))
        assert diagnostics["task"] == "classification" and len(diagnostics["classes"]) == 3
    else:
        assert not set(OPTIONAL_SCHEMAS) & set(manifest["artifacts"])


def test_a_rejected_jobs_failure_record_validates(tmp_path):
    storage = FilesystemStorage(tmp_path)
    with pytest.raises(JobRejected) as caught:
        run_for_job({"dataset_id": "x"}, load_dataset=lambda _id: None, storage=storage, env={})
    validate(caught.value.record, "training-run")
    stored = json.loads(storage.read_bytes(caught.value.record["run_id"], "failure.json"))
    validate(stored, "training-run")
    assert stored["error"]["field"] == "target_column"


def test_the_fallback_run_has_the_same_record_shape(tmp_path, wine_table):
    from automl_tpot import Trainer
    from automl_tpot.run.fallback import train_baseline

    config = TrainerConfig(target_column="target", cv=3, n_jobs=1, random_state=0)
    storage = FilesystemStorage(tmp_path)
    baseline = train_baseline(wine_table, config, reason="a test")
    saved = Trainer(config, storage=storage).save(baseline, "fallback-run", status="fallback")
    manifest = _validate_stored_run(storage, saved.run_id)
    assert manifest["status"] == "fallback"
    (only,) = json.loads(storage.read_bytes("fallback-run", "evaluated_individuals.json"))[
        "individuals"
    ]
    assert only["variation"] == "fallback" and "reason" in only


def test_a_record_that_drifts_from_the_schema_is_refused(job):
    storage, record = job
    document = json.loads(storage.read_bytes(record["run_id"], "evaluated_individuals.json"))
    del document["individuals"][0]["reason"]
    with pytest.raises(jsonschema.ValidationError, match="reason"):
        validate(document, "evaluated-individuals")
    failed = dict(record, status="failed")  # a failure without its error
    with pytest.raises(jsonschema.ValidationError):
        validate(failed, "training-run")
