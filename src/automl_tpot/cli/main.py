"""The ``automl-tpot`` command line.

``automl-tpot train DATA --target COL`` trains and stores a run; ``automl-tpot train --demo``
does the same on a dataset that ships with scikit-learn; ``automl-tpot predict RUN DATA``
writes predictions for new rows; ``automl-tpot spaces list`` and ``automl-tpot spaces show NAME``
describe the search spaces the installed plugins provide. ``--storage URL`` picks the storage
backend (a folder, ``s3://bucket/prefix``, ...; the ``AWS_*`` variables apply) and
``--metrics NAME`` the metrics backend, both through the package's entry points. Input errors
print one line and exit with status 2; training and storage failures exit with status 1.
During ``train`` the first Ctrl-C finishes the run with the best pipeline so far (stored with
status ``stopped``, exit status 0); a second one aborts at once (exit status 130) and keeps the
last checkpoint, which ``train ... --resume RUN_ID`` continues from.
``automl-tpot scheduler`` / ``automl-tpot worker`` start Dask's own scheduler and worker for
distributed mode.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

from .. import __version__
from ..errors import AutoMLTPOTError, RunAborted, TrainingCancelled
from .commands import cluster_command, spaces_command
from .common import EXIT_ABORTED, EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError
from .resume import FinishOnInterrupt, add_resume_arguments, resume_hint, resume_rows, run_id_for

__all__ = ["main", "build_parser", "demo_table"]


DEMO_TARGET = "diagnosis"


def demo_table():
    """The bundled demo: scikit-learn's breast cancer table, labels as words, some gaps.

    The target holds ``"malignant"`` / ``"benign"`` and a few measurements are blanked out, so
    the demo exercises label decoding and imputation, with nothing downloaded.
    """
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    table = bunch.frame.drop(columns="target")
    table[DEMO_TARGET] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    rng = np.random.default_rng(0)
    for column in ("mean radius", "worst texture"):
        table.loc[rng.random(len(table)) < 0.05, column] = np.nan
    return table


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to render the CLI reference in the docs)."""
    parser = argparse.ArgumentParser(
        prog="automl-tpot", description="Train and use TPOT models with budgets and artifacts."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser("train", help="search for a model and store the run")
    train.add_argument("data", nargs="?", help="CSV or Parquet file with the target column")
    train.add_argument("--demo", action="store_true", help="train on the bundled demo table")
    train.add_argument("--target", dest="target_column", help="the column to predict")
    train.add_argument("--task", choices=["auto", "classification", "regression"])
    train.add_argument("--metric", help="a scikit-learn scorer name (default per task)")
    train.add_argument("--time-left", type=float, help="seconds for the whole run")
    train.add_argument("--per-run-limit", type=float, help="seconds for one pipeline evaluation")
    train.add_argument("--generations", type=int)
    train.add_argument("--population-size", type=int)
    train.add_argument("--cv", type=int, help="cross-validation folds")
    train.add_argument("--n-jobs", type=int, help="local Dask worker processes")
    train.add_argument("--memory-limit-mb", type=int, help="memory limit per worker (MiB)")
    train.add_argument("--parallel-mode", choices=["local", "distributed"])
    train.add_argument("--scheduler-file", help="Dask scheduler file (distributed mode)")
    train.add_argument(
        "--search-space",
        help="search space name (see 'spaces list'), config dict JSON or a .json file path",
    )
    train.add_argument(
        "--parallel-fallback",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="when the Dask cluster fails, go on locally with 1 worker (default) or fail",
    )
    train.add_argument("--cluster-wait", type=float, help="seconds to wait for the Dask cluster")
    train.add_argument(
        "--ensemble",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average the best pipelines when that scores better in CV (default) or never",
    )
    train.add_argument("--random-state", type=int)
    train.add_argument("--leaderboard-k", type=int, help="pipelines kept on the leaderboard")
    train.add_argument("--out", default="runs", help="folder that receives the run (default: runs)")
    train.add_argument(
        "--storage",
        metavar="URL",
        help="where runs are stored instead of --out: a folder, file://, s3://bucket/prefix "
        "(endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY), memory://, or any registered scheme",
    )
    train.add_argument(
        "--metrics",
        default="none",
        metavar="NAME",
        help="metrics backend: " + ", ".join(_metrics_names()) + " (default: none)",
    )
    train.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics over HTTP on this port"
    )
    train.add_argument(
        "--metrics-addr",
        default="127.0.0.1",
        help="address the metrics server listens on (default: 127.0.0.1)",
    )
    train.add_argument("--run-id", help="identifier of the stored run (default: time + random)")
    add_resume_arguments(train)
    train.add_argument("--quiet", action="store_true", help="no progress display")

    predict = commands.add_parser("predict", help="predict with a stored run's model")
    predict.add_argument(
        "run_dir",
        metavar="RUN",
        help="the run: its folder (holding model.joblib and run.json) or URL (s3://bucket/prefix/RUN_ID)",
    )
    predict.add_argument("data", help="CSV or Parquet file of rows to predict")
    predict.add_argument("--output", "-o", help="CSV file to write (default: standard output)")

    spaces = commands.add_parser("spaces", help="list or show the installed search spaces")
    spaces_commands = spaces.add_subparsers(dest="spaces_command", required=True, metavar="ACTION")
    spaces_commands.add_parser("list", help="name, provider distribution, tasks, description")
    show = spaces_commands.add_parser("show", help="what one search space searches")
    show.add_argument("name", help="a search space name, e.g. linear-light or estimator:Ridge")
    show.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="the task to build it for (default: the first it serves)",
    )
    show.add_argument("--rows", type=int, default=1000, help="table rows to size it for")
    show.add_argument("--features", type=int, default=10, help="table columns to size it for")
    scheduler = commands.add_parser(
        "scheduler", help="start a Dask scheduler for distributed mode (runs dask scheduler)"
    )
    scheduler.add_argument("--scheduler-file", required=True, help="where to write its address")
    scheduler.add_argument(
        "--idle-timeout",
        type=float,
        default=300,
        help="exit after this many seconds without clients (default 300; 0 never)",
    )
    scheduler.add_argument("--host", help="address to listen on (default: Dask's)")
    scheduler.add_argument("--port", type=int, help="port to listen on (default 8786)")
    scheduler.add_argument("--no-dashboard", action="store_true", help="no web dashboard")
    scheduler.add_argument("--print", action="store_true", help="print the command, do not run it")

    worker = commands.add_parser(
        "worker", help="start a Dask worker for distributed mode (runs dask worker)"
    )
    worker.add_argument("--scheduler-file", required=True, help="the scheduler's address file")
    worker.add_argument(
        "--memory-limit",
        default="0",
        help="memory limit of the worker, e.g. 2GiB (default 0: none)",
    )
    worker.add_argument("--name", help="the worker's name")
    worker.add_argument("--host", help="address to listen on (default: Dask's)")
    worker.add_argument("--print", action="store_true", help="print the command, do not run it")
    return parser


_CONFIG_OPTIONS = (
    "target_column",
    "task",
    "metric",
    "time_left",
    "per_run_limit",
    "generations",
    "population_size",
    "cv",
    "n_jobs",
    "memory_limit_mb",
    "parallel_mode",
    "scheduler_file",
    "search_space",
    "random_state",
    "leaderboard_k",
    "parallel_fallback",
    "cluster_wait",
    "ensemble",
)


def _metrics_names() -> list[str]:
    from ..metrics import available_metrics_backends

    return available_metrics_backends()


def _metrics_backend(args: argparse.Namespace, err: TextIO) -> Any:
    from ..metrics import metrics_from_name

    options: dict[str, Any] = {}
    if args.metrics_port is not None:
        if args.metrics != "prometheus":
            raise UsageError("--metrics-port needs --metrics prometheus")
        options = {"port": args.metrics_port, "addr": args.metrics_addr}
    if args.metrics == "logging" and not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, stream=err, format="%(asctime)s %(levelname)s %(message)s"
        )
    return metrics_from_name(args.metrics, **options)


def _train(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..config import TrainerConfig
    from ..run.trainer import Trainer
    from ..storage import storage_from_url

    if args.demo == (args.data is not None):
        raise UsageError("give either DATA or --demo")
    overrides = {k: getattr(args, k) for k in _CONFIG_OPTIONS if getattr(args, k) is not None}
    if args.demo:
        overrides.setdefault("target_column", DEMO_TARGET)
        data: Any = demo_table()
        source = "demo table (scikit-learn breast cancer)"
    else:
        data = args.data
        source = args.data
    config = TrainerConfig.from_env(**overrides)
    storage = storage_from_url(args.storage if args.storage is not None else args.out)
    metrics = _metrics_backend(args, err)
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
        display = None if args.quiet else _ProgressDisplay(err, config.time_left)
        run_id = run_id_for(args, storage, err)
        with FinishOnInterrupt(err) as interrupt:
            try:
                result = trainer.train(
                    data,
                    run_id=run_id,
                    progress=display,
                    should_stop=interrupt.aborted.is_set,
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
    finally:
        close = getattr(metrics, "close", None)
        if close is not None:
            close()
    _print_summary(result, out)
    return EXIT_OK


class _ProgressDisplay:
    """Prints one line per finished generation."""

    def __init__(self, stream: TextIO, budget: float):
        self._stream = stream
        self._budget = budget

    def __call__(self, event: Any) -> None:
        best = "-" if event.best_score is None else f"{event.best_score:.4f}"
        print(
            f"  generation {event.generation:>3}  best {best}  evaluated {event.evaluations:>4}"
            f"  failed {event.failures:>3}  {event.elapsed:6.1f}s / {self._budget:g}s",
            file=self._stream,
            flush=True,
        )

    def close(self) -> None:
        self._stream.flush()


def _print_summary(result: Any, out: TextIO) -> None:
    rows = [
        ("run", result.run_id or "-"),
        ("stored at", result.location or "-"),
        ("task", f"{result.task} ({result.task_reason})"),
        ("metric", result.metric),
        ("best CV score", f"{result.best_score:.4f}"),
        ("best pipeline", result.best_pipeline),
        ("generations", f"{result.generations_completed} (stopped by {result.stopped_by})"),
        *resume_rows(result),
        ("evaluations", str(len(result.evaluated_individuals))),
        ("Pareto front", f"{len(result.pareto_front)} pipeline(s)"),
        ("wall time", f"{result.timings.get('total', 0):.1f}s"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}", file=out)
    if result.leaderboard:
        print("\nLeaderboard", file=out)
        print(f"{'rank':>4}  {'score':>8}  {'complexity':>10}  pipeline", file=out)
        for entry in result.leaderboard:
            complexity = "-" if entry["complexity"] is None else f"{entry['complexity']:g}"
            score = f"{entry['score']:>8.4f}"
            print(f"{entry['rank']:>4}  {score}  {complexity:>10}  {entry['pipeline']}", file=out)
    for note in result.notes:
        print(f"note: {note}", file=out)
    for alert in result.alerts:
        print(f"alert {alert.kind}: {alert.reason}", file=out)


def _predict(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import pandas as pd

    from ..data import load_table
    from ..storage import MANIFEST, FilesystemStorage, load_model, run_from_url

    storage, run_id = run_from_url(args.run_dir)
    if not storage.exists(run_id, MANIFEST):
        what = "run folder" if isinstance(storage, FilesystemStorage) else "run"
        raise UsageError(f"{args.run_dir} is not a complete {what} (no {MANIFEST})")
    model = load_model(storage, run_id)
    rows = load_table(args.data)
    started = time.monotonic()
    frame = pd.DataFrame({"prediction": model.predict(rows)}, index=rows.index)
    if model.task == "classification" and hasattr(model.estimator, "predict_proba"):
        probabilities = model.predict_proba(rows)
        for i, label in enumerate(model.classes_):
            frame[f"proba_{label}"] = probabilities[:, i]
    if args.output:
        frame.to_csv(args.output, index=False)
        seconds = time.monotonic() - started
        print(f"wrote {len(frame)} prediction(s) to {args.output} in {seconds:.2f}s", file=err)
    else:
        frame.to_csv(out, index=False)
    return EXIT_OK


def main(
    argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "train": _train,
        "predict": _predict,
        "spaces": spaces_command,
        "scheduler": cluster_command,
        "worker": cluster_command,
    }
    try:
        return handlers[args.command](args, out, err)
    except (AutoMLTPOTError, UsageError) as error:
        print(f"automl-tpot {args.command}: error: {error}", file=err)
        return EXIT_USAGE if not _is_runtime_failure(error) else EXIT_FAILED
    except KeyboardInterrupt:
        print(f"automl-tpot {args.command}: interrupted", file=err)
        return EXIT_ABORTED
    except RunAborted as aborted:
        print(f"automl-tpot {args.command}: {aborted}", file=err)
        return EXIT_ABORTED


def _is_runtime_failure(error: Exception) -> bool:
    from ..errors import StorageError, TrainingError

    return isinstance(error, (TrainingError, StorageError))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
