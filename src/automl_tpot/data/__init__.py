"""From a table to training data: loading, the target and the task, feature types and the
preprocessing that becomes the exported model's first step."""

from .loading import DataSource, load_table
from .preparation import (
    FeatureTypes,
    PreparedData,
    detect_feature_types,
    infer_task,
    prepare_table,
    prepare_training_data,
)
from .preprocessing import (
    as_category_strings,
    as_float_booleans,
    build_preprocessor,
    output_columns,
)

__all__ = [
    "DataSource",
    "FeatureTypes",
    "PreparedData",
    "as_category_strings",
    "as_float_booleans",
    "build_preprocessor",
    "detect_feature_types",
    "infer_task",
    "load_table",
    "output_columns",
    "prepare_table",
    "prepare_training_data",
]
