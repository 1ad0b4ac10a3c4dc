"""The ``automl-tpot`` argument parser: every command and option, each with its help and
default.

Training options left out fall back to the ``TPOT__*`` variables, then to
:class:`~automl_tpot.TrainerConfig`'s defaults, so their argparse default is ``None`` and their
help text names the configuration's default (and the variable) instead. The docs' CLI page is
generated from this parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from .. import __version__
from .common import OneLineParser
from .demo import DEMO_TARGET
from .resume import add_resume_arguments

__all__ = ["CONFIG_OPTIONS", "build_parser"]

#: ``automl-tpot train`` options that set a :class:`~automl_tpot.TrainerConfig` field (the
#: destination is the field's name).
CONFIG_OPTIONS = (
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
    "worker_threads",
    "parallel_mode",
    "scheduler_file",
    "search_space",
    "random_state",
    "leaderboard_k",
    "parallel_fallback",
    "cluster_wait",
    "ensemble",
    "explain",
)

#: What a configuration default of ``None`` (or a computed one) means, in words.
_DEFAULT_WORDS = {
    "target_column": f"none: required, but for --demo, which predicts {DEMO_TARGET!r}",
    "metric": "roc_auc (binary), balanced_accuracy (multiclass), r2 (regression)",
    "generations": "until the time budget ends",
    "n_jobs": "min(cpu_count - 1, 8)",
    "memory_limit_mb": "no limit",
    "worker_threads": "threads for n_jobs <= 2 without --memory-limit-mb, else processes",
    "scheduler_file": "none",
    "random_state": "a fresh seed every run",
}


class _HelpFormatter(argparse.HelpFormatter):
    """Appends ``(default: ...)`` to options whose argparse default means something (not
    ``None``, not an off switch) and whose help does not state it already."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if "default" in text or action.default in (None, False, argparse.SUPPRESS):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE):
            return text + " (default: %(default)s)"
        return text


class _DeprecatedSpelling(argparse.Action):
    """An old option name: stores like the new one and leaves a note for ``main`` to print."""

    def __init__(self, *args: Any, replacement: str, **kwargs: Any):
        self.replacement = replacement
        super().__init__(*args, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        setattr(namespace, self.dest, values)
        notes = [*getattr(namespace, "deprecated_options", []), (option_string, self.replacement)]
        namespace.deprecated_options = notes


def config_default(name: str) -> str:
    """``(default: ...)`` for a TrainerConfig field: its default and its variable, if any."""
    import attrs

    from ..config import ENV_VARIABLES, TrainerConfig

    default = attrs.fields_dict(TrainerConfig)[name].default
    if name in _DEFAULT_WORDS:
        text = _DEFAULT_WORDS[name]
    elif isinstance(default, bool):
        text = "on" if default else "off"
    elif isinstance(default, float):
        text = f"{default:g}"
    else:
        text = str(default)
    variable = next((v for v, field in ENV_VARIABLES.items() if field == name), None)
    return f"(default: {text}" + (f"; or {variable})" if variable else ")")


def _metrics_names() -> list[str]:
    from ..metrics import available_metrics_backends

    return available_metrics_backends()


def _parser(commands: Any, name: str, help: str, description: str | None = None) -> Any:
    return commands.add_parser(
        name, help=help, description=description or help, formatter_class=_HelpFormatter
    )


def _add_train(commands: Any) -> None:
    train = _parser(commands, "train", "search for a model and store the run")
    train.add_argument("data", nargs="?", help="CSV or Parquet file with the target column")
    train.add_argument("--demo", action="store_true", help="train on the bundled demo table")

    def option(flag: str, dest: str, help: str, **kwargs: Any) -> None:
        train.add_argument(flag, dest=dest, help=f"{help} {config_default(dest)}", **kwargs)

    option("--target", "target_column", "the column to predict")
    option("--task", "task", "the task", choices=["auto", "classification", "regression"])
    option("--metric", "metric", "a scikit-learn scorer name, bigger is better")
    option("--time-left", "time_left", "seconds for the whole run", type=float)
    option("--per-run-limit", "per_run_limit", "seconds for one pipeline evaluation", type=float)
    option("--generations", "generations", "generations to evolve at most", type=int)
    option("--population-size", "population_size", "pipelines per generation", type=int)
    option("--cv", "cv", "cross-validation folds", type=int)
    option("--n-jobs", "n_jobs", "local evaluations at once (Dask workers)", type=int)
    option("--memory-limit-mb", "memory_limit_mb", "memory limit per worker (MiB)", type=int)
    option(
        "--worker-threads",
        "worker_threads",
        "run the local evaluations as threads of this process, or as worker processes",
        action=argparse.BooleanOptionalAction,
        default=None,
    )
    option("--parallel-mode", "parallel_mode", "where to run", choices=["local", "distributed"])
    option("--scheduler-file", "scheduler_file", "Dask scheduler file (distributed mode)")
    option(
        "--search-space",
        "search_space",
        "search space name (see 'spaces list'), config dict JSON or a .json file path",
    )
    option(
        "--parallel-fallback",
        "parallel_fallback",
        "when the Dask cluster fails, go on locally with 1 worker, or fail",
        action=argparse.BooleanOptionalAction,
        default=None,
    )
    option("--cluster-wait", "cluster_wait", "seconds to wait for the Dask cluster", type=float)
    option(
        "--ensemble",
        "ensemble",
        "average the best pipelines when that scores better in CV, or never",
        action=argparse.BooleanOptionalAction,
        default=None,
    )
    option(
        "--explain",
        "explain",
        "at the end, measure permutation importance and out-of-fold diagnostics, or skip it",
        action=argparse.BooleanOptionalAction,
        default=None,
    )
    option("--random-state", "random_state", "seed for a reproducible search", type=int)
    option("--leaderboard-k", "leaderboard_k", "pipelines kept on the leaderboard", type=int)
    train.add_argument("--out", default="runs", help="folder that receives the run")
    train.add_argument(
        "--storage",
        metavar="URL",
        help="where runs are stored instead of --out: a folder, file://, s3://bucket/prefix "
        "(endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY), memory://, or any registered scheme (default: --out)",
    )
    train.add_argument(
        "--metrics-backend",
        dest="metrics",
        default="none",
        metavar="NAME",
        help="metrics backend: " + ", ".join(_metrics_names()),
    )
    train.add_argument(  # the old spelling, one letter from --metric: kept, with a note
        "--metrics",
        dest="metrics",
        action=_DeprecatedSpelling,
        replacement="--metrics-backend",
        help=argparse.SUPPRESS,
    )
    train.add_argument(
        "--metrics-port",
        type=int,
        help="serve Prometheus metrics over HTTP on this port (default: not served)",
    )
    train.add_argument(
        "--metrics-addr", default="127.0.0.1", help="address the metrics server listens on"
    )
    train.add_argument(
        "--mlflow-tracking-uri",
        metavar="URI",
        help="MLflow tracking store for --metrics-backend mlflow (default: MLFLOW_TRACKING_URI)",
    )
    train.add_argument(
        "--mlflow-experiment",
        metavar="NAME",
        help="MLflow experiment for --metrics-backend mlflow (default: automl-tpot)",
    )
    train.add_argument("--run-id", help="identifier of the stored run (default: time + random)")
    train.add_argument(
        "--report",
        metavar="FILE",
        help="also write the run's HTML report to FILE, logged to MLflow with that backend "
        "(default: no report)",
    )
    train.add_argument(
        "--json",
        action="store_true",
        help="print the run's summary as JSON (with its run id and location), not a table",
    )
    train.add_argument("--quiet", action="store_true", help="no progress display")
    add_resume_arguments(train)


def _add_predict(commands: Any) -> None:
    predict = _parser(commands, "predict", "predict with a stored run's model")
    predict.add_argument(
        "run_dir",
        metavar="RUN",
        help="the run: its folder (holding model.joblib and run.json) or URL "
        "(s3://bucket/prefix/RUN_ID)",
    )
    predict.add_argument("data", help="CSV or Parquet file of rows to predict")
    predict.add_argument("--output", "-o", help="CSV file to write (default: standard output)")
    predict.add_argument(
        "--invalid-values",
        choices=["missing", "error"],
        help="a value of the wrong type for its column (text in a numeric column): treat it "
        "as missing, with a warning, or refuse the rows (default: the model's setting, "
        "'missing' unless it was trained otherwise)",
    )


def _run_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "run",
        metavar="RUN",
        help="the run: its folder or URL (s3://bucket/prefix/RUN_ID), or its id in --storage "
        "(a bare id not naming a folder is looked up in ./runs)",
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="the storage holding RUN, which is then an id (default: RUN names the run itself)",
    )


def _add_runs(commands: Any) -> None:
    runs = _parser(commands, "runs", "list or show stored runs")
    actions = runs.add_subparsers(dest="runs_command", required=True, metavar="ACTION")
    listing = _parser(actions, "list", "the complete runs in a storage, oldest first")
    listing.add_argument("--storage", metavar="URL", default="runs", help="the storage to list")
    listing.add_argument("--json", action="store_true", help="print them as a JSON array")
    show = _parser(actions, "show", "one run's summary, leaderboard and artifacts")
    _run_argument(show)
    show.add_argument("--json", action="store_true", help="print run.json (and location) as JSON")


def _add_report(commands: Any) -> None:
    report = _parser(
        commands,
        "report",
        "write a run's self-contained HTML report",
        "One HTML file with the summary, the leaderboard, the plots, the explanations, the "
        "data and the configuration; styles and images inline, nothing loaded from anywhere.",
    )
    _run_argument(report)
    report.add_argument("--output", "-o", default="report.html", help="the HTML file to write")


def _add_spaces(commands: Any) -> None:
    spaces = _parser(commands, "spaces", "list or show the installed search spaces")
    spaces_commands = spaces.add_subparsers(dest="spaces_command", required=True, metavar="ACTION")
    _parser(spaces_commands, "list", "name, provider distribution, tasks, description")
    show = _parser(spaces_commands, "show", "what one search space searches")
    show.add_argument("name", help="a search space name, e.g. linear-light or estimator:Ridge")
    show.add_argument(
        "--task",
        choices=["classification", "regression"],
        help="the task to build it for (default: the first it serves)",
    )
    show.add_argument("--rows", type=int, default=1000, help="table rows to size it for")
    show.add_argument("--features", type=int, default=10, help="table columns to size it for")


def _add_cluster(commands: Any) -> None:
    scheduler = _parser(
        commands, "scheduler", "start a Dask scheduler for distributed mode (runs dask scheduler)"
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

    worker = _parser(
        commands, "worker", "start a Dask worker for distributed mode (runs dask worker)"
    )
    worker.add_argument("--scheduler-file", required=True, help="the scheduler's address file")
    worker.add_argument(
        "--memory-limit",
        default="0",
        help="memory limit of the worker, e.g. 2GiB (default 0: none)",
    )
    worker.add_argument("--name", help="the worker's name (default: Dask's)")
    worker.add_argument("--host", help="address to listen on (default: Dask's)")
    worker.add_argument("--print", action="store_true", help="print the command, do not run it")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to render the CLI reference in the docs)."""
    parser = OneLineParser(
        prog="automl-tpot",
        description="Train and use TPOT models with budgets and artifacts.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train(commands)
    _add_predict(commands)
    _add_runs(commands)
    _add_report(commands)
    _add_spaces(commands)
    _add_cluster(commands)
    return parser
