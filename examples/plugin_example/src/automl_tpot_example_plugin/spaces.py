"""The plugin module: hook implementations automl-tpot finds through the entry point."""

from __future__ import annotations

from ConfigSpace import ConfigurationSpace, Float, Integer
from sklearn.linear_model import Ridge

from automl_tpot.plugins import SearchSpaceDefinition, hookimpl


class ShrunkRidge(Ridge):
    """Ridge regression with a stronger default penalty; an estimator config dicts may name."""

    def __init__(self, alpha: float = 10.0, *, fit_intercept: bool = True):
        super().__init__(alpha=alpha, fit_intercept=fit_intercept)


def trees(context):
    """Extra trees or random forest, with as many trees as the table affords."""
    from sklearn import ensemble
    from sklearn.preprocessing import StandardScaler
    from tpot.builtin_modules import Passthrough
    from tpot.search_spaces.nodes import EstimatorNode
    from tpot.search_spaces.pipelines import ChoicePipeline, SequentialPipeline

    suffix = "Classifier" if context.task == "classification" else "Regressor"
    n_trees = 50 if context.n_rows > 10_000 else 100
    nodes = []
    for kind in ("ExtraTrees", "RandomForest"):
        space = ConfigurationSpace({"n_estimators": n_trees})
        space.add(Float("max_features", (0.1, 1.0), default=0.5))
        space.add(Integer("min_samples_leaf", (1, 10), default=1))
        nodes.append(EstimatorNode(getattr(ensemble, kind + suffix), space))
    scaler = ChoicePipeline([EstimatorNode(StandardScaler, {}), EstimatorNode(Passthrough, {})])
    return SequentialPipeline([scaler, ChoicePipeline(nodes)])


@hookimpl
def automl_tpot_search_spaces():
    return [
        SearchSpaceDefinition(
            name="example-trees",
            build=trees,
            tasks=("classification", "regression"),
            description="example plugin: extra trees or random forest",
            details="An optional scaler, then ExtraTrees or RandomForest with tuned "
            "max_features and min_samples_leaf.",
        )
    ]


@hookimpl
def automl_tpot_estimators():
    return [ShrunkRidge]
