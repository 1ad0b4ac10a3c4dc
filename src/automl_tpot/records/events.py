"""The events a run reports while it runs: a finished generation, an operational alert.

Metrics backends receive them and ``run.json`` stores the alerts, so they are plain frozen
records with one JSON view each.
"""

from __future__ import annotations

from typing import Any

import attrs
from attrs import define

from ..errors import ConfigError

__all__ = ["ALERT_KINDS", "Alert", "EvaluationProgress", "GenerationProgress"]


@define(frozen=True)
class GenerationProgress:
    """One finished generation.

    Attributes:
        generation: generations finished so far (the initial population is generation 1).
        elapsed: seconds since the run started.
        best_score: the best cross-validated score so far (``None`` before any success).
        evaluations: pipelines evaluated so far.
        failures: evaluations that failed or timed out so far.
        metric: the name of the optimised metric (``best_score`` is measured in it).
        population_size: the population size searched with.
    """

    generation: int
    elapsed: float
    best_score: float | None
    evaluations: int
    failures: int
    metric: str | None = None
    population_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe view."""
        return attrs.asdict(self)


#: The kinds of :class:`Alert`: the time budget cut the search short; a pipeline or worker ran
#: out of memory; the parallel backend fell back (e.g. Dask to one local process); the AutoML
#: search fell back to a simpler trainer.
ALERT_KINDS = ("timeout", "oom", "parallel_fallback", "automl_fallback")


def _alert_kind(_instance: Any, _attribute: attrs.Attribute, value: Any) -> None:
    if value not in ALERT_KINDS:
        raise ConfigError("kind", value, "one of " + ", ".join(map(repr, ALERT_KINDS)))


@define(frozen=True)
class Alert:
    """An operational event: ``kind`` is one of :data:`ALERT_KINDS`; ``reason`` says what
    happened in words."""

    kind: str = attrs.field(validator=_alert_kind)
    reason: str = attrs.field(converter=str)

    def to_dict(self) -> dict[str, str]:
        """A JSON-safe view."""
        return {"kind": self.kind, "reason": self.reason}


@define(frozen=True)
class EvaluationProgress:
    """One evaluation finished during the search (for live displays; many per generation).

    Attributes:
        generation: the generation being evaluated (the initial population is generation 1).
        evaluations: evaluations finished so far in this search.
        failures: those of them that failed or ran out of time.
        best_score: the best score so far in this search (``None`` before any success).
        elapsed: seconds since the run started.
        seconds_left: seconds until the run's whole budget (``time_left``) ends.
        metric: the name of the optimised metric.
    """

    generation: int
    evaluations: int
    failures: int
    best_score: float | None
    elapsed: float
    seconds_left: float
    metric: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe view."""
        return attrs.asdict(self)
