"""Three ways to say what TPOT searches: a preset by name, a TPOT 0.12-style config dict, and
a TPOT SearchSpace object built from EstimatorNode and ChoicePipeline.

    python examples/custom_search_space.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.datasets import load_diabetes

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import TINY  # noqa: E402

from automl_tpot import Trainer, TrainerConfig  # noqa: E402

CONFIG_DICT = {
    # class path -> parameter values: a list is a choice, a {low, high} mapping a range
    "sklearn.linear_model.Ridge": {"alpha": {"low": 0.01, "high": 100.0, "log": True}},
    "sklearn.tree.DecisionTreeRegressor": {"max_depth": [2, 3, 4, 5]},
}


def search_space_object():
    """A TPOT 1.x search space: a scaler or nothing, then Ridge or k-nearest neighbours."""
    from ConfigSpace import ConfigurationSpace, Float, Integer
    from sklearn.linear_model import Ridge
    from sklearn.neighbors import KNeighborsRegressor
    from sklearn.preprocessing import StandardScaler
    from tpot.builtin_modules import Passthrough
    from tpot.search_spaces.nodes import EstimatorNode
    from tpot.search_spaces.pipelines import ChoicePipeline, SequentialPipeline

    ridge = ConfigurationSpace()
    ridge.add(Float("alpha", (0.01, 100.0), log=True))
    knn = ConfigurationSpace()
    knn.add(Integer("n_neighbors", (2, 30)))
    scaler = ChoicePipeline([EstimatorNode(StandardScaler, {}), EstimatorNode(Passthrough, {})])
    model = ChoicePipeline([EstimatorNode(Ridge, ridge), EstimatorNode(KNeighborsRegressor, knn)])
    return SequentialPipeline([scaler, model])


def main() -> None:
    table = load_diabetes(as_frame=True).frame  # regression: disease progression
    for label, space in [
        ("preset 'linear-light'", "linear-light"),
        ("config dict", CONFIG_DICT),
        ("SearchSpace object", search_space_object()),
    ]:
        config = TrainerConfig(target_column="target", search_space=space, **TINY)
        result = Trainer(config, store=False).train(table)
        print(f"{label}: {result.metric} {result.best_score:.4f} with {result.best_pipeline}")


if __name__ == "__main__":
    main()
