"""From a table to training data: loading, the target and the task, feature types and the
preprocessing that becomes the exported model's first step."""

from .preparation import (
    DataSource,
    FeatureTypes,
    PreparedData,
    as_category_strings,
    as_float_booleans,
    build_preprocessor,
    detect_feature_types,
    infer_task,
    load_table,
    output_columns,
    prepare_training_data,
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
    "prepare_training_data",
]
