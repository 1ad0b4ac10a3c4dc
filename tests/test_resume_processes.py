"""Resume with real processes: a command-line run killed with SIGKILL (on the filesystem and on
an S3-compatible server), a process killed while it writes a checkpoint, Ctrl-C once and twice
(real SIGINTs to the whole process group, as a terminal sends them) and a host TrainingService
killed mid-job and started again. All slow."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from moto_server import KEY, SECRET, MotoServer

from automl_tpot import FilesystemStorage, load_run
from automl_tpot.run.checkpoints import read_checkpoint
from automl_tpot.storage.unfinished import read_pointer
from automl_tpot.tpot_boundary.estimator import COMPLEXITY

from .conftest import SRC_DIR, TESTS_DIR

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_leaked_processes")]

EXAMPLE = TESTS_DIR.parent / "examples" / "training_service"
#: A small search: linear pipelines, six per generation, one worker.
SEARCH = [
    "--target",
    "diagnosis",
    "--population-size",
    "6",
    "--cv",
    "3",
    "--n-jobs",
    "1",
    "--random-state",
    "0",
    "--per-run-limit",
    "10",
    "--search-space",
    "linear-light",
]
#: Seconds the time budget may be passed by (closing the cluster, storing, a loaded machine).
BUDGET_TOLERANCE = 10.0


@pytest.fixture(scope="module")
def table_csv(tmp_path_factory, cancer_table) -> Path:
    path = tmp_path_factory.mktemp("data") / "cancer.csv"
    cancer_table.to_csv(path, index=False)
    return path


class Child:
    """A command in its own process group (so a kill takes its Dask workers too), its output
    in files (a pipe nobody reads would block it)."""

    def __init__(self, command: list[str], folder: Path, name: str, env: dict | None = None):
        self.out = folder / f"{name}.out"
        self.err = folder / f"{name}.err"
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.process = subprocess.Popen(
                command,
                stdout=out,
                stderr=err,
                env={**os.environ, **(env or {})},
                start_new_session=True,
            )
        self.started = time.monotonic()

    @classmethod
    def cli(cls, args: list[str], folder: Path, name: str, env: dict | None = None) -> Child:
        return cls([sys.executable, "-m", "automl_tpot", *args], folder, name, env)

    def wait_for(self, condition, timeout: float = 240.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = condition()
            if found:
                return found
            assert self.process.poll() is None, f"exited {self.process.returncode}: {self.text()}"
            time.sleep(0.1)
        raise AssertionError(f"not seen in {timeout:g}s: {self.text()}")

    def signal_group(self, number: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, number)

    def kill(self) -> None:
        self.signal_group(signal.SIGKILL)
        self.process.wait(timeout=60)

    def finish(self, timeout: float = 300.0) -> int:
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.kill()  # whatever it left in its group

    def text(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")[-4000:]

    def generations(self) -> list[int]:
        """The generations its progress display printed."""
        return [
            int(line.split()[1])
            for line in self.err.read_text(errors="replace").splitlines()
            if line.startswith("  generation ")
        ]


def _at_generation(storage, run_id: str, generations: int):
    def seen():
        try:
            pointer = read_pointer(storage, run_id)
        except Exception:  # not written yet, or being replaced
            return None
        return pointer if pointer and pointer.generations_completed >= generations else None

    return seen


def _finished_before(storage, run_id: str) -> dict:
    """The evaluations with an outcome that the run's checkpoint holds, by pipeline."""
    checkpoint = read_checkpoint(storage, run_id, read_pointer(storage, run_id))[0]
    records = checkpoint.snapshot.history(COMPLEXITY).records(metric="roc_auc")
    return {r.pipeline: r for r in records if r.status != "not_finished"}


def _assert_continued(stored, earlier: dict, killed_at: float, from_generation: int) -> None:
    """Generation numbers go on, and nothing evaluated before the kill is evaluated again."""
    resume = stored.manifest["summary"]["resume"]
    assert resume["resumed_from_generation"] == from_generation
    individuals = stored.evaluated_individuals["individuals"]
    for record in individuals:
        old = earlier.get(record["pipeline"])
        if old is not None:
            assert (record["submitted_at"], record["score"]) == (old.submitted_at, old.score)
    new = [r for r in individuals if (r["submitted_at"] or 0) > killed_at]
    assert new and not {r["pipeline"] for r in new} & set(earlier)
    assert all(r["generation"] >= from_generation for r in new)
    assert set(earlier) <= {r["pipeline"] for r in individuals}


def test_a_cli_run_killed_after_its_second_checkpoint_resumes_within_its_budget(
    tmp_path, table_csv
):
    runs = tmp_path / "runs"
    args = ["train", str(table_csv), *SEARCH, "--time-left", "60", "--out", str(runs)]
    storage = FilesystemStorage(runs)
    first = Child.cli([*args, "--run-id", "killed"], tmp_path, "first")
    first.wait_for(_at_generation(storage, "killed", 2))
    first.kill()
    killed_at = time.time()
    pointer = read_pointer(storage, "killed")
    earlier = _finished_before(storage, "killed")
    assert storage.list_runs() == [] and storage.list_unfinished() == ["killed"]

    second = Child.cli([*args, "--resume", "killed"], tmp_path, "second")
    assert second.finish() == 0, second.text()
    assert second.generations()[0] == pointer.generations_completed + 1
    stored = load_run(storage, "killed")
    _assert_continued(stored, earlier, killed_at, pointer.generations_completed)
    # the budget: the resumed attempt got what the first left, and all of them kept to it
    summary = stored.manifest["summary"]
    first_attempt, second_attempt = summary["resume"]["attempts"]
    assert first_attempt["seconds"] == pytest.approx(pointer.seconds_spent, abs=0.01)
    assert second_attempt["budget"] == pytest.approx(60 - pointer.seconds_spent, abs=0.01)
    assert second_attempt["seconds"] <= second_attempt["budget"] + BUDGET_TOLERANCE
    assert first_attempt["seconds"] + second_attempt["seconds"] <= 60 + BUDGET_TOLERANCE
    assert summary["stopped_by"] == "time_left"
    assert not any(p.name.startswith("checkpoint") for p in (runs / "killed").iterdir())


def test_a_cli_run_killed_mid_search_resumes_from_s3(tmp_path, table_csv):
    with MotoServer() as server:  # stopped before the check for processes left behind
        server.create_bucket("resume")
        env = {
            "AWS_ENDPOINT_URL": server.endpoint,
            "AWS_ACCESS_KEY_ID": KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET,
        }
        storage = server.storage("s3://resume/runs")
        args = ["train", str(table_csv), *SEARCH, "--generations", "5", "--time-left", "120"]
        args += ["--storage", "s3://resume/runs"]
        first = Child.cli([*args, "--run-id", "s3run"], tmp_path, "first", env)
        first.wait_for(_at_generation(storage, "s3run", 2))
        first.kill()
        killed_at = time.time()
        pointer = read_pointer(storage, "s3run")
        earlier = _finished_before(storage, "s3run")
        assert storage.list_runs() == [] and storage.list_unfinished() == ["s3run"]

        second = Child.cli([*args, "--resume", "s3run"], tmp_path, "second", env)
        assert second.finish() == 0, second.text()
        assert second.generations() == list(range(pointer.generations_completed + 1, 6))
        stored = load_run(storage, "s3run")
        _assert_continued(stored, earlier, killed_at, pointer.generations_completed)
        assert stored.manifest["summary"]["generations_completed"] == 5
        assert storage.list_unfinished() == []


PAUSING_BACKEND = '''
"""The filesystem backend with non-atomic payload writes, whose write of the checkpoint after
generation 2 stops half-way until the process is killed (it marks that it got there)."""
import os
import time

from automl_tpot.storage import FilesystemStorage


class PausingStorage(FilesystemStorage):
    @classmethod
    def from_url(cls, url, **options):
        return cls(url.split("://", 1)[1])

    def write_bytes(self, run_id, name, data):
        marker = self.root / "paused-in-write"
        if name == "checkpoint-0002.pkl" and not marker.exists():
            self.run_path(run_id).mkdir(parents=True, exist_ok=True)
            (self.run_path(run_id) / name).write_bytes(data[: len(data) // 2])
            marker.write_text(str(os.getpid()))
            time.sleep(600)
        super().write_bytes(run_id, name, data)
'''


def _pausing_plugin(folder: Path) -> Path:
    """A real installed distribution registering the ``pausing://`` storage scheme."""
    folder.mkdir()
    (folder / "_pausing_storage.py").write_text(textwrap.dedent(PAUSING_BACKEND))
    info = folder / "pausing_storage-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pausing-storage\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[automl_tpot.storage]\npausing = _pausing_storage:PausingStorage\n"
    )
    return folder


def test_a_process_killed_while_writing_a_checkpoint_resumes_from_the_one_before(
    tmp_path, table_csv
):
    plugin = _pausing_plugin(tmp_path / "plugin")
    runs = tmp_path / "runs"
    env = {"PYTHONPATH": os.pathsep.join([str(plugin), str(SRC_DIR)])}
    args = ["train", str(table_csv), *SEARCH, "--generations", "4", "--time-left", "120"]
    first = Child.cli(
        [*args, "--storage", f"pausing://{runs}", "--run-id", "torn"], tmp_path, "a", env
    )
    first.wait_for(lambda: (runs / "paused-in-write").is_file())
    first.kill()  # in the middle of writing checkpoint-0002.pkl
    storage = FilesystemStorage(runs)
    pointer = read_pointer(storage, "torn")
    assert pointer.generations_completed == 1 and pointer.payload.name == "checkpoint-0001.pkl"
    torn = (runs / "torn" / "checkpoint-0002.pkl").read_bytes()
    assert torn and not pointer.payload.matches(torn)

    second = Child.cli([*args, "--out", str(runs), "--resume", "torn"], tmp_path, "b")
    assert second.finish() == 0, second.text()
    assert second.generations() == [2, 3, 4]
    summary = load_run(storage, "torn").manifest["summary"]
    assert summary["resume"]["resumed_from_generation"] == 1
    assert summary["generations_completed"] == 4


def test_ctrl_c_once_stores_a_stopped_run_with_a_working_model(tmp_path, table_csv):
    runs = tmp_path / "runs"
    storage = FilesystemStorage(runs)
    args = ["train", str(table_csv), *SEARCH, "--generations", "40", "--time-left", "150"]
    child = Child.cli([*args, "--out", str(runs), "--run-id", "once"], tmp_path, "once")
    child.wait_for(_at_generation(storage, "once", 2))
    child.signal_group(signal.SIGINT)  # what a terminal's Ctrl-C sends
    assert child.finish() == 0, child.text()
    assert "finishing with the best pipeline so far" in child.text()
    stored = load_run(storage, "once")
    assert stored.manifest["status"] == "stopped"
    summary = stored.manifest["summary"]
    assert summary["stopped_by"] == "stopped" and summary["generations_completed"] < 40
    assert storage.list_unfinished() == []

    predictions = tmp_path / "predictions.csv"
    predict = subprocess.run(
        [sys.executable, "-m", "automl_tpot", "predict", str(runs / "once"), str(table_csv)]
        + ["--output", str(predictions)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert predict.returncode == 0, predict.stderr
    lines = predictions.read_text().splitlines()
    assert lines[0].startswith("prediction") and len(lines) == 570
    assert {line.split(",")[0] for line in lines[1:]} <= {"malignant", "benign"}


def test_ctrl_c_twice_aborts_and_leaves_a_checkpoint_that_resumes(tmp_path, table_csv):
    runs = tmp_path / "runs"
    storage = FilesystemStorage(runs)
    args = ["train", str(table_csv), *SEARCH, "--generations", "6", "--time-left", "150"]
    args += ["--out", str(runs)]
    child = Child.cli([*args, "--run-id", "twice"], tmp_path, "twice")
    child.wait_for(_at_generation(storage, "twice", 2))
    child.signal_group(signal.SIGINT)
    time.sleep(0.5)
    child.signal_group(signal.SIGINT)
    assert child.finish() == 130, child.text()
    assert "--resume twice" in child.text()
    assert storage.list_runs() == [] and storage.list_unfinished() == ["twice"]
    pointer = read_pointer(storage, "twice")

    again = Child.cli([*args, "--resume", "twice"], tmp_path, "again")
    assert again.finish() == 0, again.text()
    summary = load_run(storage, "twice").manifest["summary"]
    assert summary["resume"]["resumed_from_generation"] == pointer.generations_completed
    assert again.generations()[0] == pointer.generations_completed + 1
    assert summary["generations_completed"] == 6


SERVICE = """
import sys, time
import pandas as pd
from training_service import TrainingService

if __name__ == "__main__":
    database, runs, table = sys.argv[1:4]
    service = TrainingService(database, runs, env={}, overrides={"n_jobs": 1})
    dataset = service.register_dataset(pd.read_csv(table), dataset_id="cancer")
    service.submit(%s)
    service.start(workers=1)
    time.sleep(600)  # until it is killed
"""


def test_tpot_service_killed_mid_job_resumes_it_when_it_starts_again(tmp_path, table_csv):
    sys.path.insert(0, str(EXAMPLE))
    try:
        from training_service import TrainingService
    finally:
        sys.path.remove(str(EXAMPLE))
    payload = {
        "dataset_id": "cancer",
        "target_column": "diagnosis",
        "generations": 5,
        "population_size": 6,
        "time_left": 120,
        "per_run_limit": 10,
        "cv": 3,
        "random_state": 0,
        "search_space": "linear-light",
    }
    database, runs = tmp_path / "service.db", tmp_path / "runs"
    script = tmp_path / "service.py"
    script.write_text(SERVICE % json.dumps(payload))
    env = {"PYTHONPATH": os.pathsep.join([str(EXAMPLE), str(SRC_DIR)])}
    host = Child(
        [sys.executable, str(script), str(database), str(runs), str(table_csv)],
        tmp_path,
        "host",
        env,
    )
    storage = FilesystemStorage(runs)

    def running_run():
        for run_id in storage.list_unfinished():
            if _at_generation(storage, run_id, 2)():
                return run_id
        return None

    run_id = host.wait_for(running_run)
    host.kill()  # the host process dies mid-job, its Dask workers with it
    killed_at = time.time()
    pointer = read_pointer(storage, run_id)
    earlier = _finished_before(storage, run_id)

    service = TrainingService(database, runs, env={}, overrides={"n_jobs": 1})
    try:
        assert service.job(1)["status"] == "running"  # as the dead process left it
        service.start(workers=1)
        row = service.wait(1, timeout=300)
    finally:
        service.stop(cancel_running=True)
    assert row["status"] == "complete" and row["run_id"] == run_id, row
    record = service.training_run(1)
    assert record["tp_generations"] == 5
    stored = load_run(storage, run_id)
    _assert_continued(stored, earlier, killed_at, pointer.generations_completed)
    assert storage.list_unfinished() == []
