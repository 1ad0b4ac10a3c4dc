"""The AutoML fallback: a strong default model for when the TPOT search produces none.

A host that must end every job with a usable model (``ENABLE_AUTOML_FALLBACK``) gets a
histogram gradient-boosting model with library defaults, behind the same preprocessing the
search would have used, cross-validated with the run's metric and folds. It is stored with the
same artifacts as a searched run (``leaderboard.json`` etc. describe the baseline), so nothing
downstream needs a special case; ``run.json`` says ``"status": "fallback"``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .config import TrainerConfig
from .data import PreparedData, build_preprocessor, prepare_training_data
from .errors import ConfigError, TrainingError
from .model import TabularModel
from .objectives import pipeline_complexity
from .results import (
    STATUS_OK,
    TrainingResult,
    describe_pipeline,
    leaderboard_from_records,
    pareto_front_from_records,
)

__all__ = ["FALLBACK_ENV", "baseline_estimator", "fallback_enabled", "train_baseline"]

#: The environment switch of the host deployment.
FALLBACK_ENV = "ENABLE_AUTOML_FALLBACK"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


def fallback_enabled(enable: bool | None = None, env: Mapping[str, str] | None = None) -> bool:
    """Whether the fallback is on: ``enable`` when given, else ``ENABLE_AUTOML_FALLBACK`` (off
    when unset).

    Raises:
        ConfigError: the variable holds something other than 1/0, true/false, yes/no, on/off.
    """
    import os

    if enable is not None:
        if not isinstance(enable, bool):
            raise ConfigError("enable_fallback", enable, "True, False or None")
        return enable
    raw = (os.environ if env is None else env).get(FALLBACK_ENV, "")
    value = str(raw).strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(FALLBACK_ENV, raw, "1/0, true/false, yes/no or on/off", source="environment")


def baseline_estimator(task: str, random_state: int | None) -> Any:
    """Default ``HistGradientBoosting``: strong on tabular data, fast, and never worse off for
    missing values or unscaled features."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == "classification":
        return HistGradientBoostingClassifier(random_state=random_state)
    return HistGradientBoostingRegressor(random_state=random_state)


def train_baseline(
    table: Any,
    config: TrainerConfig,
    *,
    reason: str,
    alerts: list[Any] | None = None,
) -> TrainingResult:
    """Fit the baseline on ``table`` with the run's preprocessing, metric and folds, using at
    most ``config.n_jobs`` threads.

    The result has one evaluated individual (the baseline, ``variation="fallback"``), which is
    also the leaderboard and the Pareto front; ``stopped_by`` is ``"fallback"`` and ``notes``
    carry ``reason``. Nothing is stored: :meth:`automl_tpot.Trainer.save` does that.

    Raises:
        DataError: the table itself is unusable (as for the search).
        TrainingError: the baseline could not be fitted either.
    """
    from sklearn.model_selection import cross_val_score
    from threadpoolctl import threadpool_limits

    from .trainer import _metric_name, default_metric

    started = time.monotonic()
    prepared: PreparedData = prepare_training_data(
        table, config.target_column, config.task, config.cv
    )
    n_classes = None if prepared.classes is None else len(prepared.classes)
    metric = config.metric
    if metric is None:
        metric = default_metric(prepared.task, n_classes)
    estimator = baseline_estimator(prepared.task, config.random_state)
    try:
        preprocessor = build_preprocessor(prepared.feature_types)
        features = preprocessor.fit_transform(prepared.features, prepared.y)
        # The job's CPU share, not every core: on a busy machine OpenMP's spinning threads made
        # the default boosting model 80 times slower than one thread.
        with threadpool_limits(limits=config.n_jobs):
            submitted = time.time()
            scores = cross_val_score(
                estimator,
                features,
                prepared.y,
                scoring=metric,
                cv=prepared.cv,
                error_score="raise",
            )
            completed = time.time()
            estimator.fit(features, prepared.y)
    except Exception as error:
        raise TrainingError(
            f"the fallback baseline ({type(estimator).__name__}) failed too: "
            f"{type(error).__name__}: {error}"
        ) from error
    score = float(scores.mean())
    record: dict[str, Any] = {
        "id": 0,
        "pipeline": describe_pipeline(estimator),
        "status": STATUS_OK,
        "error": None,
        "score": score,
        "metric": _metric_name(metric),
        "complexity": pipeline_complexity(estimator),
        "generation": None,
        "parents": [],
        "variation": "fallback",
        "pareto_front": 1,
        "submitted_at": submitted,
        "completed_at": completed,
        "eval_seconds": round(completed - submitted, 4),
    }
    model = TabularModel(
        preprocessor=preprocessor,
        estimator=estimator,
        feature_columns=list(prepared.features.columns),
        task=prepared.task,
        classes=prepared.classes,
        target_column=config.target_column,
    )
    return TrainingResult(
        model=model,
        task=prepared.task,
        task_reason=prepared.task_reason,
        metric=_metric_name(metric),
        best_score=score,
        best_pipeline=record["pipeline"],
        leaderboard=leaderboard_from_records([record], config.leaderboard_k),
        pareto_front=pareto_front_from_records([record]),
        evaluated_individuals=[record],
        generations_completed=0,
        population_size=config.population_size,
        stopped_by="fallback",
        timings={"fallback": round(time.monotonic() - started, 3)},
        feature_types=prepared.feature_types,
        parallel={
            "mode_requested": config.parallel_mode,
            "mode_used": "in_process",
            "n_workers": 1,
        },
        config=config,
        notes=[f"automl fallback: {reason}", *prepared.notes],
        alerts=list(alerts or ()),
    )
