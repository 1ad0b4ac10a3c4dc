"""The bundled demo table: ``automl-tpot train --demo`` and the examples train on it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DEMO_TARGET", "demo_table"]

DEMO_TARGET = "diagnosis"


def demo_table() -> pd.DataFrame:
    """The bundled demo: scikit-learn's breast cancer table, labels as words, some gaps.

    The target holds ``"malignant"`` / ``"benign"`` and a few measurements are blanked out, so
    the demo exercises label decoding and imputation, with nothing downloaded.
    """
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer(as_frame=True)
    table = bunch.frame.drop(columns="target")
    table[DEMO_TARGET] = np.asarray(bunch.target_names)[bunch.target.to_numpy()]
    rng = np.random.default_rng(0)
    for column in ("mean radius", "worst texture"):
        table.loc[rng.random(len(table)) < 0.05, column] = np.nan
    return table
