"""Read a stored run's Pareto front (score against pipeline complexity) and plot it.

    python examples/pareto_front.py            # trains a small run first
    python examples/pareto_front.py runs RUN   # or reads an existing run: storage URL, run id
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TINY, output_folder  # noqa: E402

from automl_tpot import Trainer, TrainerConfig, load_run, storage_from_url  # noqa: E402


def train_a_run(storage) -> str:
    from sklearn.datasets import load_breast_cancer

    table = load_breast_cancer(as_frame=True).frame
    settings = dict(TINY, population_size=8, generations=3, time_left=60)
    config = TrainerConfig(target_column="target", search_space="choice", **settings)
    return Trainer(config, storage=storage).train(table).run_id


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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

    figure, axes = plt.subplots(figsize=(6.4, 4.0))
    axes.scatter([i["complexity"] for i in everything], [i["score"] for i in everything],
                 color="lightgray", label="evaluated pipelines")
    axes.step([m["complexity"] for m in front][::-1], [m["score"] for m in front][::-1],
              where="post", marker="o", color="tab:blue", label="Pareto front")
    axes.set_xlabel("complexity (lower is simpler)")
    axes.set_ylabel(f"cross-validated {metric}")
    axes.set_title("Pareto front of one run")
    axes.legend(loc="lower right")
    figure.tight_layout()
    path = output_folder() / "pareto_front.png"
    figure.savefig(path, dpi=100)
    print(f"figure written to {path.name}")


if __name__ == "__main__":
    main()
