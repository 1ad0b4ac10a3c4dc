"""The commands besides train and predict: ``spaces list`` / ``spaces show`` (the installed
search spaces) and ``scheduler`` / ``worker`` (Dask's own, with the settings TPOT needs)."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from .common import EXIT_FAILED, EXIT_OK, UsageError

__all__ = ["cluster_command", "spaces_command"]


def spaces_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..plugins import load_registry

    registry = load_registry()
    if args.spaces_command == "list":
        rows = [
            (
                f"{space.name}:NAME" if space.definition.parametrized else space.name,
                space.distribution,
                ",".join(space.definition.tasks),
                space.definition.description,
            )
            for space in sorted(registry.spaces.values(), key=lambda s: s.name)
        ]
        header = ("NAME", "PROVIDER", "TASKS", "DESCRIPTION")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        for row in [header, *rows]:
            cells = [f"{cell:<{widths[i]}}" for i, cell in enumerate(row[:3])]
            print("  ".join([*cells, row[3]]), file=out)
        return EXIT_OK
    return _show_space(registry, args, out)


def _show_space(registry: Any, args: argparse.Namespace, out: TextIO) -> int:
    from ..search_spaces import SearchContext, describe_search_space, resolve_search_space

    if args.rows < 10 or args.features < 1:
        raise UsageError("--rows must be >= 10 and --features >= 1")
    space, _argument = registry.get(args.name)
    definition = space.definition
    task = args.task or definition.tasks[0]
    names = tuple(f"x{i}" for i in range(args.features))
    context = SearchContext(
        task=task,
        n_rows=args.rows,
        n_features=args.features,
        n_classes=2 if task == "classification" else None,
        numeric_columns=names,
        categorical_columns=(),
        random_state=0,
        column_indices={name: (i,) for i, name in enumerate(names)},
        feature_names=names,
    )
    built = resolve_search_space(args.name, context, registry)
    print(f"{args.name}  (from {space.distribution}; entry point {space.entry_point})", file=out)
    print(f"tasks: {', '.join(definition.tasks)}", file=out)
    print(definition.details or definition.description, file=out)
    print(f"\nBuilt for {task} on {args.rows} rows x {args.features} numeric features:", file=out)
    for line in describe_search_space(built, indent=1):
        print(line, file=out)
    return EXIT_OK


def cluster_command(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    import shlex

    from ..cluster.commands import (
        WORKER_ENVIRONMENT,
        exec_command,
        scheduler_command,
        worker_command,
    )

    if args.command == "scheduler":
        command = scheduler_command(
            args.scheduler_file,
            idle_timeout=args.idle_timeout,
            host=args.host,
            port=args.port,
            dashboard=not args.no_dashboard,
        )
        env: dict[str, str] = {}
    else:
        command = worker_command(
            args.scheduler_file, memory_limit=args.memory_limit, name=args.name, host=args.host
        )
        env = dict(WORKER_ENVIRONMENT)
    line = " ".join([*(f"{k}={v}" for k, v in env.items()), shlex.join(command)])
    if args.print:
        print(line, file=out)
        return EXIT_OK
    print(f"automl-tpot {args.command}: exec {line}", file=err)
    exec_command(command, env)
    return EXIT_FAILED  # pragma: no cover - exec does not return
