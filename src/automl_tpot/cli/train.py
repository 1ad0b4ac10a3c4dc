"""``automl-tpot train``: train on a table (or the demo), store the run, show the summary."""

from __future__ import annotations

import argparse
import logging
from typing import Any, TextIO

from .common import EXIT_OK, UsageError, flags_named
from .demo import DEMO_TARGET, demo_table
from .parser import CONFIG_OPTIONS
from .progress import ProgressDisplay
from .resume import FinishOnInterrupt, resume_hint, run_id_for
from .summary import print_json, print_summary, summary_document

__all__ = ["train_command"]


def _metrics_backend(args: argparse.Namespace, err: TextIO) -> Any:
    from ..metrics import metrics_from_name

    options: dict[str, Any] = {}
    if args.metrics_port is not None:
        if args.metrics != "prometheus":
            raise UsageError("--metrics-port needs --metrics-backend prometheus")
        options = {"port": args.metrics_port, "addr": args.metrics_addr}
    mlflow = {"tracking_uri": args.mlflow_tracking_uri, "experiment_name": args.mlflow_experiment}
    mlflow = {k: v for k, v in mlflow.items() if v is not None}
    if mlflow:
        if args.metrics != "mlflow":
            raise UsageError(
                "--mlflow-tracking-uri and --mlflow-experiment need --metrics-backend mlflow"
            )
        options = mlflow
    if args.metrics == "logging" and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, stream=err, format="%(asctime)s %(levelname)s %(message)s"
        )
    return metrics_from_name(args.metrics, **options)


def _check_report(args: argparse.Namespace) -> None:
    """``--report`` needs matplotlib: say so before training, not after."""
    if args.report is None:
        return
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("--report needs matplotlib: pip install 'automl-tpot[report]'") from None


def _write_report(result: Any, metrics: Any, path: str, err: TextIO) -> None:
    written = result.report(path)
    print(f"wrote the report to {written}", file=err)
    log_file = getattr(metrics, "log_file", None)
    if log_file is not None:  # the MLflow backend keeps it with the run
        log_file(written)


def train_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..config import TrainerConfig
    from ..data import prepare_table
    from ..errors import RunAborted, StorageConfigError, TrainingCancelled
    from ..run.preflight import preflight
    from ..run.trainer import Trainer
    from ..storage import storage_from_url

    if args.demo == (args.data is not None):
        raise UsageError("give either DATA or --demo")
    _check_report(args)
    overrides = {k: getattr(args, k) for k in CONFIG_OPTIONS if getattr(args, k) is not None}
    if args.demo:
        overrides.setdefault("target_column", DEMO_TARGET)
        data: Any = demo_table()
        source = "demo table (scikit-learn breast cancer)"
    else:
        data = args.data
        source = args.data
    # every input is checked before anything starts or is printed: one line for any error
    with flags_named(overrides):
        config = TrainerConfig.from_env(**overrides)
        place = "--storage" if args.storage is not None else "--out"
        try:
            storage = storage_from_url(args.storage if args.storage is not None else args.out)
            data = prepare_table(data, config.target_column, config.task, config.cv)
            preflight(config, data, storage=storage, run_id=args.run_id)
        except StorageConfigError as error:
            flag = "--run-id" if error.field == "run_id" else place
            raise UsageError(f"{flag}: {error}") from error
    metrics = _metrics_backend(args, err)
    display = None
    try:
        trainer = Trainer(config, storage=storage, metrics=metrics)
        served = getattr(metrics, "port", None)
        print(
            f"Training on {source}: target {config.target_column!r}, budget {config.time_left:g}s, "
            f"{config.n_jobs} worker(s), search space {config.to_dict()['search_space']}, "
            f"storing into {storage!r}"
            + (f", metrics on http://{args.metrics_addr}:{served}/metrics" if served else ""),
            file=err,
        )
        display = None if args.quiet else ProgressDisplay(err, config.time_left)
        run_id = run_id_for(args, storage, err)
        with FinishOnInterrupt(err) as interrupt:
            try:
                result = trainer.train(
                    data,
                    run_id=run_id,
                    progress=display,
                    should_stop=interrupt.aborted.is_set,
                    on_evaluation=None if display is None else display.on_evaluation,
                    resume=args.resume,
                    fresh_budget=args.fresh_budget,
                    should_finish=interrupt.requested.is_set,
                )
            except (RunAborted, TrainingCancelled):
                if not interrupt.aborted.is_set():
                    raise
                raise RunAborted(resume_hint(storage, run_id)) from None
        if display is not None:
            display.close()
        if args.report is not None:
            _write_report(result, metrics, args.report, err)
    finally:
        if display is not None:
            display.close()
        close = getattr(metrics, "close", None)
        if close is not None:
            close()
    if args.json:
        print_json(
            summary_document(result.run_id, result.location, "complete", result.summary()), out
        )
    else:
        print_summary(result.run_id, result.location, result.summary(), out, result.leaderboard)
    return EXIT_OK
