"""Several jobs at once, sharing one storage location: from threads of one host process, and
from several processes. No run id collides, no artifact is mixed up, and every job ends with
its own complete run or its failure record."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from automl_tpot import FilesystemStorage, JobError
from automl_tpot.jobs import read_failure, run_for_job
from automl_tpot.storage import load_model, load_run, new_run_id, write_run

pytestmark = pytest.mark.usefixtures("no_leaked_processes")

SMALL = {"time_left": 40, "per_run_limit": 10, "generations": 1, "population_size": 4, "cv": 3}


def assert_run_is_its_own(storage: FilesystemStorage, run_id: str, table, target: str) -> None:
    """The run under ``run_id`` is complete and every artifact in it belongs to it: the ids in
    the reports, the target in the manifest, the bytes the manifest hashed, a model that
    predicts this table's labels."""
    stored = load_run(storage, run_id)
    assert stored.manifest["run_id"] == run_id
    assert stored.manifest["config"]["target_column"] == target
    for document in (stored.leaderboard, stored.pareto_front, stored.evaluated_individuals):
        assert document["run_id"] == run_id
    folder = storage.run_path(run_id)
    for name, digest in stored.manifest["artifacts"].items():
        data = (folder / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest["sha256"], (run_id, name)
    model = load_model(storage, run_id)
    predictions = model.predict(table.drop(columns=target).head(10))
    if model.task == "classification":
        assert set(predictions) <= set(table[target])
    else:
        assert np.all(np.isfinite(predictions))


def test_run_ids_drawn_at_once_in_many_threads_never_collide():
    drawn: list[str] = []
    lock = threading.Lock()

    def draw():
        ids = [new_run_id() for _ in range(2000)]
        with lock:
            drawn.extend(ids)

    threads = [threading.Thread(target=draw) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(drawn)) == len(drawn) == 16_000


def test_writers_in_threads_into_one_folder_keep_their_artifacts_apart(tmp_path):
    storage = FilesystemStorage(tmp_path)
    payloads = {
        f"run-{i}": {f"a{j}.json": f"{i}:{j}".encode() * 1000 for j in range(4)} for i in range(12)
    }

    def write(run_id):
        write_run(storage, run_id, payloads[run_id], json.dumps({"run_id": run_id}).encode())

    threads = [threading.Thread(target=write, args=(run_id,)) for run_id in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(storage.list_runs()) == sorted(payloads)
    for run_id, artifacts in payloads.items():
        for name, data in artifacts.items():
            assert storage.read_bytes(run_id, name) == data


@pytest.mark.slow
def test_jobs_in_threads_of_one_host_share_a_storage_without_mixing(
    tmp_path, cancer_table, diabetes_table, wine_table
):
    storage = FilesystemStorage(tmp_path / "runs")
    datasets = {
        "cancer": (cancer_table, "diagnosis"),
        "diabetes": (diabetes_table, "target"),
        "wine": (wine_table, "target"),
        "bad": (cancer_table, "no_such_column"),  # fails: its record must be its own too
    }
    outcomes: dict[str, dict] = {}

    def job(name: str) -> None:
        _, target = datasets[name]
        payload = {"dataset_id": name, "target_column": target, **SMALL}
        try:
            outcomes[name] = run_for_job(
                payload, load_dataset=lambda d: datasets[d][0], storage=storage, env={}, n_jobs=1
            )
        except JobError as error:
            outcomes[name] = error.record

    threads = [threading.Thread(target=job, args=(name,)) for name in datasets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert sorted(outcomes) == sorted(datasets)

    run_ids = [record["run_id"] for record in outcomes.values()]
    assert len(set(run_ids)) == len(run_ids), run_ids
    for name, record in outcomes.items():
        assert record["dataset_id"] == name
        table, target = datasets[name]
        if name == "bad":
            assert record["status"] == "failed"
            assert read_failure(storage, record["run_id"])["dataset_id"] == "bad"
            continue
        assert record["status"] in ("complete", "fallback"), record.get("error")
        assert_run_is_its_own(storage, record["run_id"], table, target)
    assert sorted(storage.list_runs()) == sorted(
        outcomes[name]["run_id"] for name in datasets if name != "bad"
    )


JOB_PROCESS = """
import json, sys
import pandas as pd
from automl_tpot import FilesystemStorage, JobError
from automl_tpot.jobs import run_for_job

def main():
    root, table, target = sys.argv[1:4]
    payload = {{"dataset_id": table, "target_column": target, **{small}}}
    try:
        record = run_for_job(payload, load_dataset=pd.read_csv, storage=FilesystemStorage(root),
                             env={{}}, n_jobs=1)
    except JobError as error:
        record = error.record
    print(json.dumps({{"run_id": record["run_id"], "status": record["status"]}}), flush=True)

if __name__ == "__main__":
    main()
"""


@pytest.mark.slow
def test_jobs_in_several_processes_share_a_storage_without_mixing(
    tmp_path, cancer_table, diabetes_table, wine_table
):
    script = tmp_path / "one_job.py"
    script.write_text(JOB_PROCESS.format(small=repr(SMALL)))
    root = tmp_path / "runs"
    jobs = {"cancer": (cancer_table, "diagnosis"), "diabetes": (diabetes_table, "target")}
    jobs["wine"] = (wine_table, "target")
    processes = {}
    for name, (table, target) in jobs.items():
        path = tmp_path / f"{name}.csv"
        table.to_csv(path, index=False)
        processes[name] = subprocess.Popen(
            [sys.executable, str(script), str(root), str(path), target],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
    outcomes = {}
    for name, process in processes.items():
        out, _ = process.communicate(timeout=900)
        assert process.returncode == 0
        outcomes[name] = json.loads(out.strip().splitlines()[-1])

    run_ids = [outcome["run_id"] for outcome in outcomes.values()]
    assert len(set(run_ids)) == len(run_ids), run_ids
    storage = FilesystemStorage(root)
    for name, outcome in outcomes.items():
        assert outcome["status"] in ("complete", "fallback"), outcome
        table, target = jobs[name]
        assert_run_is_its_own(storage, outcome["run_id"], table, target)
    assert sorted(storage.list_runs()) == sorted(run_ids)
    assert sorted(p.name for p in Path(root).iterdir()) == sorted(run_ids)
