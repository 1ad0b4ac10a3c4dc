"""Combine the results of several ``run.py`` invocations into one table and plot.

Usage::

    python benchmarks/report.py results/base60/results.json results/ours60/results.json \
        --out benchmarks/results/combined

Later files win when two hold the same (dataset, budget, system, seed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from summary import markdown_table, plot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="+", help="results.json files written by run.py")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    records: dict[tuple, dict] = {}
    machines = []
    for path in args.results:
        document = json.loads(Path(path).read_text())
        machines.append(document.get("machine", "unknown machine"))
        for record in document["records"]:
            key = (record["dataset"], record["budget"], record["system"], record.get("seed", 0))
            records[key] = record
    combined = list(records.values())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    machine = "; ".join(sorted(set(machines)))
    (out / "results.json").write_text(
        json.dumps({"machine": machine, "records": combined}, indent=2)
    )
    (out / "results.md").write_text(f"Machine: {machine}\n" + markdown_table(combined))
    plot(combined, out / "score_vs_budget.png")
    print(markdown_table(combined))
    return 0


if __name__ == "__main__":
    sys.exit(main())
