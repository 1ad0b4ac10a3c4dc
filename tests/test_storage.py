"""Filesystem storage: run ids, atomic runs, listings and loading back."""

from __future__ import annotations

import pytest

from automl_tpot import StorageError
from automl_tpot.storage import FilesystemStorage, load_run, new_run_id, validate_run_id, write_run

ARTIFACTS = {
    "leaderboard.json": b"{}",
    "tp_pareto_front.json": b"{}",
    "evaluated_individuals.json": b"{}",
}


@pytest.mark.parametrize(
    "bad", ["", "..", "../escape", "a/b", "a\\b", ".hidden", "x" * 200, "a..b"]
)
def test_unsafe_run_ids_are_rejected(bad):
    with pytest.raises(StorageError, match="invalid run id"):
        validate_run_id(bad)


def test_new_run_ids_are_valid_and_distinct():
    ids = {new_run_id() for _ in range(50)}
    assert len(ids) == 50
    for run_id in ids:
        validate_run_id(run_id)


def test_complete_runs_are_listed_and_read_back(tmp_path):
    storage = FilesystemStorage(tmp_path)
    write_run(storage, "run-1", ARTIFACTS, b'{"status": "complete"}')
    assert storage.list_runs() == ["run-1"]
    stored = load_run(storage, "run-1")
    assert stored.manifest == {"status": "complete"}
    assert not list(tmp_path.glob("run-1/.*.tmp"))


def test_a_failed_write_leaves_no_complete_run(tmp_path):
    class FailingStorage(FilesystemStorage):
        def write_bytes(self, run_id, name, data):
            if name == "tp_pareto_front.json":
                raise OSError("disk full")
            super().write_bytes(run_id, name, data)

    storage = FailingStorage(tmp_path)
    with pytest.raises(StorageError, match="disk full"):
        write_run(storage, "run-2", ARTIFACTS, b"{}")
    assert storage.list_runs() == []
    assert not (tmp_path / "run-2").exists()


def test_a_run_without_manifest_is_not_listed_nor_loadable(tmp_path):
    storage = FilesystemStorage(tmp_path)
    storage.write_bytes("half", "leaderboard.json", b"{}")
    assert storage.list_runs() == []
    with pytest.raises(StorageError, match="no complete run"):
        load_run(storage, "half")


def test_an_existing_run_is_never_overwritten(tmp_path):
    storage = FilesystemStorage(tmp_path)
    write_run(storage, "run-3", ARTIFACTS, b"{}")
    with pytest.raises(StorageError, match="already exists"):
        write_run(storage, "run-3", ARTIFACTS, b"{}")
    assert storage.list_runs() == ["run-3"]
