"""Where the final model errs, from its out-of-fold predictions: the body of
``diagnostics.json`` (documented in ``docs/artifacts.md``).

Classification: the confusion matrix, and from the probabilities ROC and precision-recall
curves (the positive class for a binary target, one against the rest per class otherwise).
Regression: a sample of predicted against actual values and a summary of the residuals. Curves
and samples are thinned to a bounded number of points, so the artifact stays small whatever the
table's size.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["classification_diagnostics", "regression_diagnostics"]

#: Points kept per curve at most.
MAX_CURVE_POINTS = 200
#: Classes that get curves of their own at most (the most frequent ones).
MAX_CURVE_CLASSES = 10
#: Predicted-against-actual points kept at most.
MAX_SCATTER_POINTS = 500
#: Bins of the residuals' histogram.
RESIDUAL_BINS = 20


def _thin(x: np.ndarray, y: np.ndarray) -> list[list[float]]:
    """At most MAX_CURVE_POINTS ``[x, y]`` pairs, the first and the last kept."""
    if len(x) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_CURVE_POINTS).round().astype(int))
        x, y = x[keep], y[keep]
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(x, y, strict=True)]


def _curves(y: np.ndarray, proba: np.ndarray, labels: list[str]) -> list[dict[str, Any]]:
    from sklearn.metrics import (
        average_precision_score,
        precision_recall_curve,
        roc_auc_score,
        roc_curve,
    )

    if len(labels) == 2:
        chosen = [1]
    else:
        counts = np.bincount(y, minlength=len(labels))
        chosen = sorted(np.argsort(-counts, kind="stable")[:MAX_CURVE_CLASSES].tolist())
    curves: list[dict[str, Any]] = []
    for index in chosen:
        positive = (y == index).astype(int)
        if positive.min() == positive.max():  # a class absent from the scored rows
            continue
        score = proba[:, index]
        fpr, tpr, _ = roc_curve(positive, score)
        curves.append(
            {
                "kind": "roc",
                "class": labels[index],
                "area": round(float(roc_auc_score(positive, score)), 6),
                "x": "false_positive_rate",
                "y": "true_positive_rate",
                "points": _thin(fpr, tpr),
            }
        )
        precision, recall, _ = precision_recall_curve(positive, score)
        curves.append(
            {
                "kind": "precision_recall",
                "class": labels[index],
                "area": round(float(average_precision_score(positive, score)), 6),
                "x": "recall",
                "y": "precision",
                "points": _thin(recall[::-1], precision[::-1]),
            }
        )
    return curves


def classification_diagnostics(
    y: np.ndarray, prediction: np.ndarray, probabilities: bool, classes: np.ndarray
) -> dict[str, Any]:
    """Diagnostics of class indices ``y`` against out-of-fold ``prediction`` (probabilities,
    one column per class in ``classes`` order, or class indices when ``probabilities`` is
    false)."""
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix

    labels = [str(label) for label in classes]
    y = np.asarray(y, dtype=int)
    predicted = np.argmax(prediction, axis=1) if probabilities else prediction.astype(int)
    matrix = confusion_matrix(y, predicted, labels=list(range(len(labels))))
    return {
        "task": "classification",
        "rows": int(len(y)),
        "classes": labels,
        "probabilities": bool(probabilities),
        "accuracy": round(float(accuracy_score(y, predicted)), 6),
        "balanced_accuracy": round(float(balanced_accuracy_score(y, predicted)), 6),
        "confusion_matrix": matrix.astype(int).tolist(),
        "curves": _curves(y, prediction, labels) if probabilities else [],
    }


def regression_diagnostics(y: np.ndarray, prediction: np.ndarray, seed: int) -> dict[str, Any]:
    """Diagnostics of actual values ``y`` against out-of-fold ``prediction``."""
    from sklearn.metrics import r2_score

    y = np.asarray(y, dtype=float)
    prediction = np.asarray(prediction, dtype=float)
    residuals = y - prediction
    index = np.arange(len(y))
    if len(index) > MAX_SCATTER_POINTS:
        rng = np.random.default_rng(seed)
        index = np.sort(rng.choice(index, MAX_SCATTER_POINTS, replace=False))
    counts, edges = np.histogram(residuals, bins=RESIDUAL_BINS)
    quantiles = np.quantile(residuals, [0.05, 0.25, 0.5, 0.75, 0.95])

    def number(value: float) -> float:
        return round(float(value), 6)

    return {
        "task": "regression",
        "rows": int(len(y)),
        "points": [[number(y[i]), number(prediction[i])] for i in index],
        "sampled": bool(len(index) < len(y)),
        "residuals": {
            "mean": number(residuals.mean()),
            "std": number(residuals.std()),
            "mae": number(np.abs(residuals).mean()),
            "rmse": number(np.sqrt(np.mean(residuals**2))),
            "r2": number(r2_score(y, prediction)) if len(y) > 1 else None,
            "quantiles": {
                key: number(value)
                for key, value in zip(("5", "25", "50", "75", "95"), quantiles, strict=True)
            },
            "histogram": {
                "edges": [number(edge) for edge in edges],
                "counts": counts.astype(int).tolist(),
            },
        },
    }
