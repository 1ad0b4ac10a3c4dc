"""Train on a pandas DataFrame, predict on raw rows, and look at what the run stored.

    python examples/train_dataframe.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.datasets import load_wine

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TINY  # noqa: E402

from automl_tpot import FilesystemStorage, Trainer, TrainerConfig, load_model  # noqa: E402


def main() -> None:
    table = load_wine(as_frame=True).frame  # 178 wines, 13 measurements, 3 cultivars
    table["target"] = table["target"].map({0: "barolo", 1: "grignolino", 2: "barbera"})

    config = TrainerConfig(target_column="target", **TINY)
    storage = FilesystemStorage("runs")
    result = Trainer(config, storage=storage).train(table)

    print(f"task: {result.task} ({result.task_reason})")
    print(f"metric: {result.metric}, best score {result.best_score:.4f}")
    print(f"best pipeline: {result.best_pipeline}")
    print(f"generations: {result.generations_completed}, stopped by: {result.stopped_by}")
    print("leaderboard:")
    for entry in result.leaderboard[:3]:
        print(f"  {entry['rank']}. {entry['score']:.4f}  {entry['pipeline']}")

    new_rows = table.drop(columns="target").head(3)
    print("predictions:", list(result.model.predict(new_rows)))

    print(f"run {result.run_id} stored in {Path(result.location).name}/:")
    for path in sorted(Path(result.location).iterdir()):
        print(f"  {path.name}")
    again = load_model(storage, result.run_id)  # what a serving process does
    agrees = list(again.predict(new_rows)) == list(result.model.predict(new_rows))
    print("reloaded model agrees:", agrees)


if __name__ == "__main__":  # local Dask workers are processes: keep the guard
    main()
