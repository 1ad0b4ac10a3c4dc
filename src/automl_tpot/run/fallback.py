"""The AutoML fallback: a strong default model for when the TPOT search produces none.

A host that must end every job with a usable model (``ENABLE_AUTOML_FALLBACK``) gets a
histogram gradient-boosting model with library defaults, behind the same preprocessing the
search would have used, cross-validated with the run's metric and folds. It is stored with the
same artifacts as a searched run (``leaderboard.json`` etc. describe the baseline), so nothing
downstream needs a special case; ``run.json`` says ``"status": "fallback"``.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any

from ..config import TrainerConfig
from ..data import PreparedData, build_preprocessor, load_table, prepare_training_data
from ..errors import ConfigError, TrainingError
from ..model import TabularModel
from ..records.evaluation import STATUS_OK, EvaluationRecord
from ..records.events import Alert
from ..search.plan import metric_name, resolve_metric
from ..utils.environment import parse_bool
from ..utils.pipelines import describe_pipeline, pipeline_complexity
from .result import TrainingResult

__all__ = ["FALLBACK_ENV", "baseline_estimator", "fallback_enabled", "train_baseline"]

#: The environment switch of the host deployment.
FALLBACK_ENV = "ENABLE_AUTOML_FALLBACK"


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
    return parse_bool(raw, FALLBACK_ENV, variable="environment", empty=False)


def baseline_estimator(task: str, random_state: int | None) -> Any:
    """Default ``HistGradientBoosting``: strong on tabular data, fast, and never worse off for
    missing values or unscaled features."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == "classification":
        return HistGradientBoostingClassifier(random_state=random_state)
    return HistGradientBoostingRegressor(random_state=random_state)


def train_baseline(
    data: Any,
    config: TrainerConfig,
    *,
    reason: str,
    alerts: list[Alert] | None = None,
) -> TrainingResult:
    """Fit the baseline on ``data`` (a table, or the :class:`~automl_tpot.data.PreparedData`
    the search used) with the run's preprocessing, metric and folds, using at most
    ``config.n_jobs`` threads.

    The result has one evaluated individual (the baseline, ``variation="fallback"``), which is
    also the leaderboard and the Pareto front; ``stopped_by`` is ``"fallback"`` and ``notes``
    carry ``reason``. Nothing is stored: :meth:`automl_tpot.Trainer.save` does that.

    Raises:
        DataError: the table itself is unusable (as for the search).
        TrainingError: the baseline could not be fitted either.
    """
    from sklearn.model_selection import cross_val_score
    from threadpoolctl import threadpool_limits

    started = time.monotonic()
    prepared = (
        data
        if isinstance(data, PreparedData)
        else prepare_training_data(load_table(data), config.target_column, config.task, config.cv)
    )
    metric = resolve_metric(config, prepared)
    seed = config.random_state if config.random_state is not None else secrets.randbelow(2**32)
    estimator = baseline_estimator(prepared.task, seed)
    try:
        preprocessor = build_preprocessor(prepared.feature_types, prepared.target_type)
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
    record = EvaluationRecord(
        id=0,
        pipeline=describe_pipeline(estimator),
        status=STATUS_OK,
        score=score,
        metric=metric_name(metric),
        complexity=pipeline_complexity(estimator),
        variation="fallback",
        pareto_front=1,
        submitted_at=submitted,
        completed_at=completed,
    )
    model = TabularModel.from_fitted(preprocessor, estimator, prepared)
    return TrainingResult(
        model=model,
        task=prepared.task,
        task_reason=prepared.task_reason,
        metric=metric_name(metric),
        best_score=score,
        best_pipeline=record.pipeline or "",
        evaluations=[record],
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
        seed=seed,
    )
