"""Bad input through every library entry point: ``TrainerConfig(...)``, ``from_payload``,
``from_env``, ``Trainer.train``, ``run_for_job``, ``load_model`` and the storage factory.

Every case must raise a typed error from ``automl_tpot.errors`` that names the field, stays
within the message bound, fails before any Dask process starts (``open_dask_session`` is a
sentinel here that fails the test if it is reached), and leaves nothing behind (no run folder;
only ``failure.json`` from the job API, which documents it). The corpus is in
``bad_input_cases.py``; tests/test_bad_inputs_cli.py tries it on the command line.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pandas as pd
import pytest
from bad_input_cases import (
    BAD_RUN_IDS,
    CONFIG_CASES,
    DATA_CASES,
    ENV_CASES,
    HUGE,
    MESSAGE_BOUND,
    TABLE_CASES,
    write_tables,
)

from automl_tpot import (
    AutoMLTPOTError,
    ConfigError,
    DataError,
    FilesystemStorage,
    JobRejected,
    StorageConfigError,
    StorageError,
    Trainer,
    TrainerConfig,
    load_model,
    storage_from_url,
)
from automl_tpot.jobs import FAILURE, run_for_job

SMALL = dict(time_left=20, per_run_limit=5, generations=1, population_size=4, cv=3, n_jobs=1)


@pytest.fixture(scope="module")
def tables(tmp_path_factory) -> dict[str, Path]:
    return write_tables(tmp_path_factory.mktemp("tables"))


@pytest.fixture(scope="module")
def cancer(tables) -> pd.DataFrame:
    return pd.read_csv(tables["cancer"])


@pytest.fixture
def no_dask(monkeypatch):
    """``open_dask_session`` replaced by a sentinel: a test fails if any Dask process would
    start (the sentinel's error would surface as a TrainingError, not the expected type)."""
    opened: list[object] = []

    def sentinel(*args, **kwargs):
        opened.append(args)
        raise AssertionError("a Dask session was opened for a bad input")

    monkeypatch.setattr("automl_tpot.run.trainer.opening_dask_session", sentinel)
    yield opened
    assert not opened, "a Dask session was opened for a bad input"


def assert_typed(error: BaseException, field: str | None = None) -> str:
    """The error is ours, bounded, and (for configuration errors) names ``field``."""
    assert isinstance(error, AutoMLTPOTError), f"{type(error).__name__}: {error}"
    message = str(error)
    assert len(message) <= MESSAGE_BOUND, len(message)
    if field is not None:
        assert isinstance(error, ConfigError), f"{type(error).__name__}: {message}"
        assert error.field == field
        assert field in message
    return message


def nothing_written(root: Path, *, failure_of: str | None = None) -> None:
    """No run folder under ``root``; with ``failure_of``, only that run's ``failure.json``."""
    if failure_of is None:
        assert not root.exists() or not any(root.iterdir()), sorted(root.rglob("*"))
        return
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert files == [f"{failure_of}/{FAILURE}"], files
    record = json.loads((root / failure_of / FAILURE).read_text())
    assert record["status"] == "failed" and len(json.dumps(record)) < 20_000


def payload_for(kwargs, target="y") -> dict:
    return {"dataset_id": "d1", "target_column": target, **SMALL, **kwargs}


# --- configuration values: TrainerConfig, from_payload, from_env, run_for_job ------------------


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda c: c.id)
def test_trainer_config_refuses(case):
    with pytest.raises(ConfigError) as caught:
        TrainerConfig(**{"target_column": "y", **case.kwargs})
    assert_typed(caught.value, case.field)


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda c: c.id)
def test_from_payload_refuses_and_says_it_came_from_the_payload(case):
    with pytest.raises(ConfigError) as caught:
        TrainerConfig.from_payload(payload_for(case.kwargs), env={})
    message = assert_typed(caught.value, case.field)
    if case.field in case.kwargs:
        assert caught.value.source == "payload" and "(from payload)" in message


@pytest.mark.parametrize(("case_id", "env", "field"), ENV_CASES, ids=[c[0] for c in ENV_CASES])
def test_from_env_refuses_and_names_the_variable(case_id, env, field):
    with pytest.raises(ConfigError) as caught:
        TrainerConfig.from_env(env)
    message = assert_typed(caught.value, field)
    (variable,) = env
    assert caught.value.source == variable and variable in message


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda c: c.id)
def test_run_for_job_rejects_before_loading_and_stores_only_the_failure(case, tmp_path, no_dask):
    root = tmp_path / "runs"
    loaded = []
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload_for(case.kwargs),
            load_dataset=loaded.append,
            storage=FilesystemStorage(root),
            env={},
            run_id="job-1",
        )
    assert not loaded  # rejected before the dataset was asked for
    error = caught.value.record["error"]
    assert error["field"] == case.field and error["stage"] == "validation"
    assert len(error["value"]) <= 250 and len(error["message"]) <= MESSAGE_BOUND
    nothing_written(root, failure_of="job-1")


def test_a_million_character_value_is_cut_in_the_message_and_the_failure_record(tmp_path):
    with pytest.raises(ConfigError) as caught:
        TrainerConfig(metric=HUGE)
    message = str(caught.value)
    assert "... (1000002 characters)" in message and len(message) < 1000
    assert caught.value.value == HUGE  # the attribute keeps the whole value
    with pytest.raises(JobRejected):
        run_for_job(
            payload_for({"metric": HUGE}),
            load_dataset=lambda _: None,
            storage=FilesystemStorage(tmp_path),
            env={},
            run_id="huge",
        )
    assert (tmp_path / "huge" / FAILURE).stat().st_size < 20_000


def test_trainer_config_warns_once_that_it_does_not_read_the_environment(monkeypatch):
    import automl_tpot.config.settings as settings

    monkeypatch.setattr(settings, "_ENVIRONMENT_WARNING_SHOWN", False)
    monkeypatch.setenv("TPOT__N_JOBS", "1")
    monkeypatch.setenv("TPOT__TIME_LEFT", "30")
    with pytest.warns(UserWarning, match="TPOT__N_JOBS, TPOT__TIME_LEFT are ignored") as caught:
        TrainerConfig(target_column="y")
    assert caught[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        TrainerConfig(target_column="y")  # once per process
        monkeypatch.setattr(settings, "_ENVIRONMENT_WARNING_SHOWN", False)
        config = TrainerConfig.from_env(target_column="y")  # reads them: no warning
    assert config.n_jobs == 1 and config.time_left == 30


# --- what only the table or the machine shows: the preflight ------------------------------------


@pytest.mark.parametrize("case", TABLE_CASES, ids=lambda c: c.id)
def test_trainer_train_refuses_before_any_worker_starts(case, tables, tmp_path, no_dask):
    config = TrainerConfig(target_column="y", **{**SMALL, **case.kwargs})
    root = tmp_path / "runs"
    with pytest.raises(ConfigError) as caught:
        Trainer(config, storage=FilesystemStorage(root)).train(tables[case.table])
    assert_typed(caught.value, case.field)
    nothing_written(root)


@pytest.mark.parametrize("case", TABLE_CASES, ids=lambda c: c.id)
def test_run_for_job_rejects_what_the_table_shows(case, tables, tmp_path, no_dask):
    root = tmp_path / "runs"
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload_for(case.kwargs),
            load_dataset=lambda _: tables[case.table],
            storage=FilesystemStorage(root),
            env={},
            run_id="job-2",
        )
    assert caught.value.record["error"]["field"] == case.field
    nothing_written(root, failure_of="job-2")


def test_roc_auc_on_a_regression_target_says_what_would_work(tables, no_dask):
    config = TrainerConfig(target_column="y", metric="roc_auc", **SMALL)
    with pytest.raises(ConfigError) as caught:
        Trainer(config, store=False).train(tables["diabetes"])
    message = str(caught.value)
    assert "regression scorer such as 'r2'" in message and "task='classification'" in message


def test_n_jobs_over_the_machine_names_its_cores(tables, no_dask):
    import os

    cores = os.cpu_count()
    config = TrainerConfig(target_column="y", **{**SMALL, "n_jobs": min(cores + 1, 256)})
    with pytest.raises(ConfigError, match=f"this machine's {cores} cores"):
        Trainer(config, store=False).train(tables["cancer"])


@pytest.mark.parametrize("content", ["garbage", "{}", "[1, 2]", '{"address": ""}', None])
def test_a_broken_scheduler_file_with_the_fallback_off_is_refused(
    content, tmp_path, tables, no_dask
):
    path = tmp_path / "scheduler.json"
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
    config = TrainerConfig(
        target_column="y",
        parallel_mode="distributed",
        scheduler_file=str(path),
        parallel_fallback=False,
        **SMALL,
    )
    with pytest.raises(ConfigError) as caught:
        Trainer(config, store=False).train(tables["cancer"])
    assert_typed(caught.value, "scheduler_file")


# --- tables that cannot be trained on -----------------------------------------------------------


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda c: c.id)
def test_trainer_train_refuses_the_table(case, tmp_path, cancer, no_dask):
    source = case.source(tmp_path, cancer)
    extra = {} if case.task is None else {"task": case.task}
    config = TrainerConfig(target_column=case.target, **SMALL, **extra)
    root = tmp_path / "runs"
    with pytest.raises(DataError) as caught:
        Trainer(config, storage=FilesystemStorage(root)).train(source)
    message = assert_typed(caught.value)
    assert case.message in message
    nothing_written(root)


@pytest.mark.parametrize("case", DATA_CASES, ids=lambda c: c.id)
def test_run_for_job_rejects_the_table(case, tmp_path, cancer, no_dask):
    source = case.source(tmp_path, cancer)
    root = tmp_path / "runs"
    extra = {} if case.task is None else {"task": case.task}
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            {**payload_for(extra, target=case.target)},
            load_dataset=lambda _: source,
            storage=FilesystemStorage(root),
            env={},
            run_id="job-3",
        )
    assert caught.value.record["error"]["type"] == "DataError"
    assert len(str(caught.value)) <= MESSAGE_BOUND
    nothing_written(root, failure_of="job-3")


@pytest.mark.parametrize(
    ("case_id", "loader"),
    [
        ("raises-key-error", lambda d: {}[d]),
        ("raises-os-error", lambda d: open("/nonexistent/table.csv")),  # noqa: SIM115
        ("returns-none", lambda d: None),
        ("returns-a-number", lambda d: 42),
        ("raises-with-a-huge-message", lambda d: (_ for _ in ()).throw(ValueError(HUGE))),
    ],
)
def test_run_for_job_rejects_what_the_loader_gives(case_id, loader, tmp_path, no_dask):
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload_for({}),
            load_dataset=loader,
            storage=FilesystemStorage(tmp_path),
            env={},
            run_id="job-4",
        )
    assert caught.value.record["error"]["type"] == "DataError"
    assert len(json.dumps(caught.value.record)) < 20_000
    nothing_written(tmp_path, failure_of="job-4")


@pytest.mark.parametrize(
    ("case_id", "payload", "field"),
    [
        ("not-a-mapping", ["dataset_id", "d"], "payload"),
        ("no-dataset-id", {"target_column": "y"}, "dataset_id"),
        ("dataset-id-bool", {"dataset_id": True, "target_column": "y"}, "dataset_id"),
        ("dataset-id-blank", {"dataset_id": " ", "target_column": "y"}, "dataset_id"),
        ("no-target", {"dataset_id": "d"}, "target_column"),
        ("unknown-key", {"dataset_id": "d", "target_column": "y", "colour": "blue"}, "colour"),
        ("huge-key", {"dataset_id": "d", "target_column": "y", HUGE: 1}, None),
        ("non-string-key", {"dataset_id": "d", "target_column": "y", 7: 1}, "payload"),
    ],
)
def test_run_for_job_rejects_the_payload(case_id, payload, field, tmp_path, no_dask):
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload,
            load_dataset=lambda d: None,
            storage=FilesystemStorage(tmp_path),
            env={},
            run_id="job-5",
        )
    error = caught.value.record["error"]
    assert error["type"] == "ConfigError" and len(error["message"]) <= MESSAGE_BOUND
    if field is not None:
        assert error["field"] == field
    assert len(error["field"]) <= 250
    nothing_written(tmp_path, failure_of="job-5")


@pytest.mark.parametrize(
    ("case_id", "options", "field"),
    [
        ("cancel-not-an-event", {"cancel": "stop"}, "cancel"),
        ("timeout-negative", {"timeout": -1}, "timeout"),
        ("timeout-text", {"timeout": "soon"}, "timeout"),
        ("override-unknown", {"colour": "blue"}, "colour"),
    ],
)
def test_run_for_job_rejects_bad_arguments(case_id, options, field, tmp_path, tables, no_dask):
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload_for({}),
            load_dataset=lambda d: tables["cancer"],
            storage=FilesystemStorage(tmp_path),
            env={},
            run_id="job-6",
            **options,
        )
    assert caught.value.record["error"]["field"] == field
    nothing_written(tmp_path, failure_of="job-6")


# --- run ids and storage locations --------------------------------------------------------------


@pytest.mark.parametrize(("case_id", "run_id"), BAD_RUN_IDS, ids=[c[0] for c in BAD_RUN_IDS])
def test_trainer_train_refuses_a_bad_run_id(case_id, run_id, tmp_path, tables, no_dask):
    root = tmp_path / "runs"
    trainer = Trainer(TrainerConfig(target_column="y", **SMALL), storage=FilesystemStorage(root))
    with pytest.raises(StorageConfigError) as caught:
        trainer.train(tables["cancer"], run_id=run_id)
    assert isinstance(caught.value, StorageError)  # as before
    message = assert_typed(caught.value, None)
    assert caught.value.field == "run_id" and "invalid run id" in message
    nothing_written(root)
    assert not (tmp_path / "etc").exists()


@pytest.mark.parametrize(("case_id", "run_id"), BAD_RUN_IDS, ids=[c[0] for c in BAD_RUN_IDS])
def test_run_for_job_refuses_a_bad_run_id_and_stores_nothing(case_id, run_id, tmp_path, no_dask):
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload_for({}),
            load_dataset=lambda d: None,
            storage=FilesystemStorage(tmp_path / "runs"),
            env={},
            run_id=run_id,
        )
    assert caught.value.record["error"]["field"] == "run_id"
    assert not (tmp_path / "runs").exists()  # nowhere safe to put the record


def _complete_run(root: Path, run_id: str) -> None:
    from automl_tpot.storage import write_run

    write_run(FilesystemStorage(root), run_id, {"model.joblib": b"x"}, b"{}")


def test_an_existing_run_id_is_refused_before_training(tmp_path, tables, no_dask):
    root = tmp_path / "runs"
    _complete_run(root, "taken")
    before = sorted(root.rglob("*"))
    trainer = Trainer(TrainerConfig(target_column="y", **SMALL), storage=FilesystemStorage(root))
    with pytest.raises(StorageConfigError, match="already exists"):
        trainer.train(tables["cancer"], run_id="taken")
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload_for({}),
            load_dataset=lambda d: tables["cancer"],
            storage=FilesystemStorage(root),
            env={},
            run_id="taken",
        )
    assert caught.value.record["error"]["field"] == "run_id"
    assert sorted(root.rglob("*")) == before  # the complete run is untouched, no failure.json


def _read_only_folder(tmp_path: Path):
    import subprocess

    folder = tmp_path / "readonly"
    folder.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {done.stderr.decode().strip()}")
    return folder


@pytest.mark.parametrize("kind", ["a-file", "under-a-file", "read-only", "file-url-of-a-host"])
def test_an_unusable_storage_location_is_refused_before_training(kind, tmp_path, tables, no_dask):
    import subprocess

    mounted = None
    if kind == "a-file":
        (tmp_path / "runs").write_text("not a folder")
        url = str(tmp_path / "runs")
    elif kind == "under-a-file":
        (tmp_path / "file").write_text("not a folder")
        url = str(tmp_path / "file" / "runs")
    elif kind == "read-only":
        mounted = _read_only_folder(tmp_path)
        url = str(mounted / "runs")
    else:
        url = "file://elsewhere/srv/runs"
    try:
        with pytest.raises(StorageConfigError) as caught:
            storage = storage_from_url(url)
            Trainer(TrainerConfig(target_column="y", **SMALL), storage=storage).train(
                tables["cancer"]
            )
        assert caught.value.field == "storage"
        assert_typed(caught.value)
    finally:
        if mounted is not None:
            subprocess.run(["umount", str(mounted)], check=True)


def test_an_unknown_storage_scheme_is_a_config_error_with_the_url_intact():
    with pytest.raises(StorageConfigError) as caught:
        storage_from_url("nosuchscheme://bucket/prefix")
    assert isinstance(caught.value, ConfigError) and caught.value.field == "storage"
    assert "nosuchscheme://bucket/prefix" in str(caught.value)


def test_urls_stay_intact_in_messages(tmp_path, no_dask):
    with pytest.raises(DataError) as caught:
        Trainer(TrainerConfig(target_column="y", **SMALL), store=False).train(
            "s3://bucket/folder/table.csv"
        )
    assert "s3://bucket/folder/table.csv" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        TrainerConfig(search_space="s3://bucket/space.json")
    assert "s3://bucket/space.json" in str(caught.value)


# --- load_model ---------------------------------------------------------------------------------


def _run_with_model(root: Path, model: bytes) -> FilesystemStorage:
    from automl_tpot.storage import write_run

    storage = FilesystemStorage(root)
    write_run(storage, "r1", {"model.joblib": model}, b"{}")
    return storage


def _model_bytes() -> bytes:
    import io

    import joblib
    from sklearn.dummy import DummyClassifier

    buffer = io.BytesIO()
    joblib.dump(DummyClassifier().fit([[0], [1]], [0, 1]), buffer, compress=3)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty", "missing-class"])
def test_load_model_turns_a_damaged_model_into_a_storage_error(kind, tmp_path):
    whole = _model_bytes()
    data = {
        "truncated": whole[: len(whole) // 2],
        "garbage": b"\x00garbage" * 100,
        "empty": b"",
        "missing-class": b"cno_such_module_anywhere\nModel\n.",  # a pickle of a gone class
    }[kind]
    storage = _run_with_model(tmp_path, data)
    with pytest.raises(StorageError) as caught:
        load_model(storage, "r1")
    message = assert_typed(caught.value)
    assert "model.joblib of run 'r1'" in message and str(tmp_path) in message


@pytest.mark.parametrize(("case_id", "run_id"), BAD_RUN_IDS, ids=[c[0] for c in BAD_RUN_IDS])
def test_load_model_refuses_a_bad_run_id(case_id, run_id, tmp_path):
    with pytest.raises(StorageConfigError):
        load_model(FilesystemStorage(tmp_path), run_id)


def test_load_model_refuses_an_incomplete_run(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "model.joblib").write_bytes(_model_bytes())
    with pytest.raises(StorageError, match="no complete run 'half'"):
        load_model(FilesystemStorage(tmp_path), "half")


# --- the objects handed to the entry points -----------------------------------------------------


@pytest.mark.parametrize(
    ("case_id", "make", "field"),
    [
        ("config-a-dict", lambda: Trainer({"target_column": "y"}), "config"),
        ("storage-a-path", lambda: Trainer(storage="runs"), "storage"),
        ("storage-a-number", lambda: Trainer(storage=5), "storage"),
    ],
)
def test_the_trainer_refuses_what_is_not_a_config_or_a_storage(case_id, make, field):
    with pytest.raises(ConfigError) as caught:
        make()
    assert_typed(caught.value, field)


@pytest.mark.parametrize("name", ["progress", "should_stop", "on_evaluation"])
def test_train_refuses_a_callback_that_cannot_be_called(name, tables, no_dask):
    trainer = Trainer(TrainerConfig(target_column="y", **SMALL), store=False)
    with pytest.raises(ConfigError) as caught:
        trainer.train(tables["cancer"], **{name: "not callable"})
    assert_typed(caught.value, name)


def test_run_for_job_refuses_what_is_not_a_storage(tables, no_dask):
    with pytest.raises(JobRejected) as caught:
        run_for_job(
            payload_for({}), load_dataset=lambda d: tables["cancer"], storage="runs", env={}
        )
    assert caught.value.record["error"]["field"] == "storage"
