"""Storage backends behind one contract: filesystem, fsspec memory://, and S3 on a real server.

The S3 cases run against moto's standalone server on 127.0.0.1, started by these tests; the
error cases use servers that deny every credential or are not there at all.
"""

from __future__ import annotations

import time
import traceback

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto_server import KEY, SECRET, MotoServer, free_port

from automl_tpot import StorageError
from automl_tpot.storage import (
    FilesystemStorage,
    FsspecStorage,
    available_storage_schemes,
    load_run,
    run_from_url,
    storage_from_url,
    write_run,
)

ARTIFACTS = {
    "leaderboard.json": b'{"entries": []}\n',
    "tp_pareto_front.json": b'{"front": []}\n',
    "evaluated_individuals.json": b'{"individuals": []}\n',
}
MANIFEST = b'{"status": "complete"}\n'


@pytest.fixture(params=["filesystem", "fsspec-file", "memory", "s3"])
def storage(request, tmp_path):
    """Each backend, empty."""
    if request.param == "filesystem":
        return FilesystemStorage(tmp_path / "runs")
    if request.param == "fsspec-file":
        return FsspecStorage(f"file://{tmp_path}/runs")
    if request.param == "memory":
        # memory:// is process-global: a per-test prefix keeps tests apart
        return FsspecStorage(f"memory://{tmp_path.name}/runs")
    server = request.getfixturevalue("s3_server")
    name = request.getfixturevalue("bucket")
    return server.storage(f"s3://{name}/runs")


class _FailOn:
    """Delegates to a real backend but fails writing one artifact, like a full disk would."""

    def __init__(self, inner, name):
        self._inner = inner
        self._name = name

    def __getattr__(self, attribute):
        return getattr(self._inner, attribute)

    def write_bytes(self, run_id, name, data):
        if name == self._name:
            raise OSError("no space left on device")
        self._inner.write_bytes(run_id, name, data)


def test_complete_runs_are_listed_loaded_and_deleted(storage):
    assert storage.list_runs() == []
    write_run(storage, "run-a", ARTIFACTS, MANIFEST)
    time.sleep(1.1)  # S3 keeps whole seconds: make the order observable
    location = write_run(storage, "run-b", ARTIFACTS, MANIFEST)
    assert location == storage.location("run-b")
    assert storage.list_runs() == ["run-a", "run-b"]
    stored = load_run(storage, "run-b")
    assert stored.manifest == {"status": "complete"}
    assert stored.leaderboard == {"entries": []}
    assert stored.evaluated_individuals == {"individuals": []}
    storage.delete_run("run-a")
    assert storage.list_runs() == ["run-b"]
    assert not storage.exists("run-a", "leaderboard.json")
    storage.delete_run("never-there")  # not an error


def test_a_run_without_manifest_is_not_listed_nor_loadable(storage):
    storage.write_bytes("half", "leaderboard.json", b"{}")
    assert storage.list_runs() == []
    with pytest.raises(StorageError, match="no complete run"):
        load_run(storage, "half")


def test_a_failed_write_leaves_nothing_behind(storage):
    failing = _FailOn(storage, "evaluated_individuals.json")
    with pytest.raises(StorageError, match="no space left"):
        write_run(failing, "broken", ARTIFACTS, MANIFEST)
    assert storage.list_runs() == []
    assert not storage.exists("broken", "leaderboard.json")
    assert not storage.exists("broken", "run.json")


def test_an_existing_run_is_never_overwritten(storage):
    write_run(storage, "kept", ARTIFACTS, MANIFEST)
    with pytest.raises(StorageError, match="already exists"):
        write_run(storage, "kept", {"leaderboard.json": b"other"}, b"{}")
    assert storage.read_bytes("kept", "leaderboard.json") == ARTIFACTS["leaderboard.json"]


@pytest.mark.parametrize("bad", ["..", "../escape", "a/b", "/abs", ".hidden"])
def test_run_ids_and_names_cannot_escape_the_root(storage, bad):
    with pytest.raises(StorageError, match="invalid run id"):
        storage.write_bytes(bad, "leaderboard.json", b"{}")
    with pytest.raises(StorageError, match="invalid run id"):
        storage.read_bytes("ok", bad)


def test_reading_a_missing_artifact_names_it(storage):
    write_run(storage, "r", ARTIFACTS, MANIFEST)
    with pytest.raises(StorageError, match="no artifact 'model.joblib' in run 'r'"):
        storage.read_bytes("r", "model.joblib")


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=4096) | st.text().map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_bytes_come_back_byte_for_byte(storage, data):
    storage.write_bytes("bytes", "blob.bin", data)
    assert storage.read_bytes("bytes", "blob.bin") == data


# -- choosing a backend by URL ------------------------------------------------------------------


def test_the_package_registers_its_backends_as_entry_points():
    assert {"file", "s3", "memory"} <= set(available_storage_schemes())


def test_urls_pick_backends(tmp_path):
    assert isinstance(storage_from_url(str(tmp_path)), FilesystemStorage)
    local = storage_from_url(f"file://{tmp_path}")
    assert isinstance(local, FilesystemStorage) and local.root == tmp_path
    assert isinstance(storage_from_url("memory://somewhere"), FsspecStorage)
    with pytest.raises(StorageError, match="no storage backend for nosuchscheme://"):
        storage_from_url("nosuchscheme://x/y")
    with pytest.raises(StorageError, match="takes no options, got endpoint_url"):
        storage_from_url(str(tmp_path), endpoint_url="http://x")
    with pytest.raises(StorageError, match="apply to s3:// URLs"):
        storage_from_url("memory://x", key="k")


def test_a_run_url_splits_into_storage_and_run(tmp_path):
    storage, run_id = run_from_url(f"{tmp_path}/runs/run-1")
    assert isinstance(storage, FilesystemStorage) and run_id == "run-1"
    assert storage.root == tmp_path / "runs"
    storage, run_id = run_from_url("memory://bucket/prefix/run-2/")
    assert storage.url == "memory://bucket/prefix" and run_id == "run-2"
    with pytest.raises(StorageError, match="invalid run id"):
        run_from_url("memory://bucket/..")


def test_s3_reads_endpoint_and_credentials_from_the_standard_variables(
    s3_server, bucket, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_server.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    storage = storage_from_url(f"s3://{bucket}/env")
    assert storage.endpoint_url == s3_server.endpoint
    write_run(storage, "from-env", ARTIFACTS, MANIFEST)
    explicit = s3_server.storage(f"s3://{bucket}/env")
    assert explicit.list_runs() == ["from-env"]
    assert SECRET not in repr(storage)


# -- failures: typed, naming the URL, never the secret ------------------------------------------


def _assert_secret_free(error: BaseException) -> None:
    text = "".join(traceback.format_exception(error))
    assert SECRET not in text and SECRET not in repr(error)


def test_a_missing_bucket_is_a_storage_error(s3_server):
    storage = s3_server.storage("s3://no-such-bucket/runs")
    for action in (storage.list_runs, lambda: write_run(storage, "r", ARTIFACTS, MANIFEST)):
        with pytest.raises(StorageError, match="bucket 'no-such-bucket' does not exist") as caught:
            action()
        assert "s3://no-such-bucket/runs" in str(caught.value)
        _assert_secret_free(caught.value)


def test_bad_credentials_are_a_storage_error_without_the_secret():
    with MotoServer(auth=True) as server:
        storage = server.storage("s3://models/runs")
        write = lambda: storage.write_bytes("r", "leaderboard.json", b"{}")  # noqa: E731
        for action in (storage.list_runs, write):
            with pytest.raises(StorageError, match="access denied") as caught:
                action()
            message = str(caught.value)
            assert "s3://models/runs" in message and server.endpoint in message
            _assert_secret_free(caught.value)


def test_an_unreachable_endpoint_is_a_storage_error_quickly():
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    storage = FsspecStorage("s3://models/runs", endpoint_url=endpoint, key=KEY, secret=SECRET)
    started = time.monotonic()
    with pytest.raises(StorageError, match="Could not connect") as caught:
        storage.list_runs()
    assert time.monotonic() - started < 30
    assert "s3://models/runs" in str(caught.value) and endpoint in str(caught.value)
    _assert_secret_free(caught.value)


def test_credentials_in_a_url_are_not_echoed():
    storage = FsspecStorage("memory://user:hunter2hunter2@host/runs")
    assert "hunter2" not in repr(storage) and "hunter2" not in storage.location("r")
