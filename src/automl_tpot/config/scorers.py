"""Which task a scikit-learn scorer name serves, so a metric that cannot score the target is
refused before any worker starts (``roc_auc`` on a regression target would otherwise fail every
pipeline of the search).

The task comes from where scikit-learn defines the score function (its regression metrics
live in ``sklearn.metrics._regression``; classification, ranking and clustering metrics compare
labels or class probabilities), which holds across scikit-learn releases.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXAMPLE_SCORERS", "scorer_task"]

#: Scorer names a message suggests, per task.
EXAMPLE_SCORERS = {
    "classification": "'accuracy', 'balanced_accuracy', 'roc_auc' (binary), 'f1_macro' or "
    "'neg_log_loss'",
    "regression": "'r2', 'neg_mean_squared_error', 'neg_root_mean_squared_error' or "
    "'neg_mean_absolute_error'",
}


def scorer_task(name: str) -> str | None:
    """``"classification"`` or ``"regression"`` for a scikit-learn scorer name; ``None`` when
    the name is not a scorer or its task cannot be told."""
    from sklearn.metrics import get_scorer

    try:
        scorer: Any = get_scorer(name)
    except (ValueError, TypeError):
        return None
    module = str(getattr(getattr(scorer, "_score_func", None), "__module__", "") or "")
    if module.startswith("sklearn.metrics._regression"):
        return "regression"
    if module.startswith(
        (
            "sklearn.metrics._classification",
            "sklearn.metrics._ranking",
            "sklearn.metrics.cluster",
            "sklearn.metrics._scorer",
        )
    ):
        return "classification"
    return None
