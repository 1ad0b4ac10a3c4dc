"""Read a stored run's Pareto front (score against pipeline complexity) and its permutation
importance, plot them, and write the run's HTML report.

    python examples/pareto_front.py            # trains a small run first
    python examples/pareto_front.py runs RUN   # or reads an existing run: storage URL, run id
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TINY, output_folder  # noqa: E402

from automl_tpot import Trainer, TrainerConfig, load_run, storage_from_url  # noqa: E402
from automl_tpot.report import plot_importance, plot_pareto_front, write_report  # noqa: E402


def train_a_run(storage) -> str:
    from sklearn.datasets import load_breast_cancer

    table = load_breast_cancer(as_frame=True).frame
    settings = dict(TINY, population_size=8, generations=3, time_left=90)
    config = TrainerConfig(target_column="target", search_space="choice", **settings)
    return Trainer(config, storage=storage).train(table).run_id


def main() -> None:
    if len(sys.argv) == 3:
        storage, run_id = storage_from_url(sys.argv[1]), sys.argv[2]
    else:
        storage = storage_from_url("runs")
        run_id = train_a_run(storage)

    run = load_run(storage, run_id)
    front = run.pareto_front["front"]  # tp_pareto_front.json
    metric = run.pareto_front["metric"]
    everything = [i for i in run.evaluated_individuals["individuals"] if i["status"] == "ok"]
    print(f"run {run_id}: {len(everything)} successful evaluations, {len(front)} on the front")
    for member in front:
        print(f"  {metric} {member['score']:.4f}  complexity {member['complexity']:>4}  "
              f"{member['pipeline']}")

    folder = output_folder()
    plot_pareto_front(run).savefig(folder / "pareto_front.png", dpi=100)
    print("figure written to pareto_front.png")
    if run.importance is not None:  # importance.json: written when the run explained its model
        print("most important raw columns (drop in the score when shuffled):")
        for column in run.importance["columns"][:5]:
            print(f"  {column['mean']:+.4f} +- {column['std']:.4f}  {column['column']}")
        plot_importance(run).savefig(folder / "importance.png", dpi=100)
        print("figure written to importance.png")
    write_report(run, folder / "report.html")
    print("report written to report.html")


if __name__ == "__main__":
    main()
