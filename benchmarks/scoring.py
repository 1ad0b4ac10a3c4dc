"""Held-out scores, computed the same way for every system.

Imports only numpy and scikit-learn, so that AutoGluon's worker, which runs in its own virtual
environment, scores with this very module.
"""

from __future__ import annotations

from typing import Any


def score_predictions(
    task: str,
    y_true: Any,
    predictions: Any,
    probabilities: Any = None,
    classes: Any = None,
) -> dict[str, Any]:
    """ROC AUC (binary), balanced accuracy and log loss (multiclass), R² (regression).

    ``probabilities`` has one column per entry of ``classes``, in that order.
    """
    import numpy as np
    from sklearn.metrics import balanced_accuracy_score, log_loss, r2_score, roc_auc_score

    if task == "regression":
        return {"score": float(r2_score(y_true, np.asarray(predictions))), "score_name": "r2"}
    classes = np.asarray(classes)
    y_true = np.asarray(y_true)
    if len(classes) == 2:
        positive = np.asarray(probabilities)[:, 1]
        return {
            "score": float(roc_auc_score(y_true == classes[1], positive)),
            "score_name": "roc_auc",
        }
    predictions = np.asarray(predictions)
    if predictions.dtype.kind in "iu" and classes.dtype.kind not in "iu":
        predictions = classes[predictions]  # raw TPOT returns its encoded labels
    out: dict[str, Any] = {
        "score": float(balanced_accuracy_score(y_true, predictions)),
        "score_name": "balanced_accuracy",
    }
    if probabilities is None:
        out["log_loss"] = None
    else:
        out["log_loss"] = float(log_loss(y_true, np.asarray(probabilities), labels=classes))
    return out


def score(model: Any, X_test: Any, y_test: Any, task: str) -> dict[str, Any]:
    """Score a fitted scikit-learn style model (``predict``, ``predict_proba``, ``classes_``)."""
    if task == "regression":
        return score_predictions(task, y_test, model.predict(X_test))
    classes = model.classes_
    try:
        probabilities = model.predict_proba(X_test)
        error = None
    except Exception as caught:  # a pipeline without probabilities
        probabilities, error = None, f"{type(caught).__name__}: {caught}"[:200]
    if probabilities is None and len(classes) == 2:
        raise ValueError(f"ROC AUC needs class probabilities: {error}")
    predictions = model.predict(X_test) if len(classes) > 2 else None
    out = score_predictions(task, y_test, predictions, probabilities, classes)
    if error:
        out["log_loss_error"] = error
    return out
