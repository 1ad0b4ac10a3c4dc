"""One read-only view of a run, whether it was read back from storage or is still in memory.

The report, the plots and the leaderboard frame read only this view, so a stored run and a
fresh :class:`~automl_tpot.TrainingResult` show the same things: both are turned into the JSON
documents the run writer stores (the documents are built in one place,
:mod:`automl_tpot.records.documents`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from attrs import define, field

from ..records.explanations import diagnostics_document, importance_document
from ..run.result import TrainingResult
from ..storage import StoredRun

__all__ = ["RunLike", "RunView", "as_view"]


@define(frozen=True, eq=False)
class RunView:
    """A run's manifest and documents, as plain JSON values.

    Attributes:
        run_id: the run's identifier (``None`` for a result that was not stored).
        location: where it is stored (``None`` likewise).
        status: ``run.json``'s status (``not stored`` for a result that was not).
        created_at: when the manifest was written (or the view made, for a result).
        config: the configuration (``TrainerConfig.to_dict()``).
        summary: ``run.json``'s summary.
        versions: Python's and the packages' versions.
        leaderboard: the leaderboard's entries, best first.
        pareto_front: the front's points.
        evaluations: every evaluation (the objects of ``evaluated_individuals.json``).
        importance: ``importance.json``, when the run has it.
        diagnostics: ``diagnostics.json``, when the run has it.
    """

    run_id: str | None
    location: str | None
    status: str
    created_at: str
    config: Mapping[str, Any]
    summary: Mapping[str, Any]
    versions: Mapping[str, str]
    leaderboard: list[dict[str, Any]] = field(factory=list)
    pareto_front: list[dict[str, Any]] = field(factory=list)
    evaluations: list[dict[str, Any]] = field(factory=list)
    importance: dict[str, Any] | None = None
    diagnostics: dict[str, Any] | None = None

    @property
    def metric(self) -> str:
        """The optimised metric's name."""
        return str(self.summary.get("metric", ""))

    @property
    def task(self) -> str:
        """``classification`` or ``regression``."""
        return str(self.summary.get("task", ""))

    def failures_by_kind(self) -> dict[str, int]:
        """Failed evaluations by what stopped them (``error``; ``not_finished`` when the budget
        ended the search first), most frequent first."""
        kinds = Counter(
            str(record.get("error") or record.get("status"))
            for record in self.evaluations
            if record.get("status") != "ok"
        )
        return dict(kinds.most_common())

    @classmethod
    def from_stored(cls, stored: StoredRun) -> RunView:
        """The view of a run read back with :func:`~automl_tpot.storage.load_run`."""
        manifest = stored.manifest
        return cls(
            run_id=stored.run_id,
            location=stored.location,
            status=str(manifest.get("status", "")),
            created_at=str(manifest.get("created_at", "")),
            config=manifest.get("config", {}),
            summary=manifest.get("summary", {}),
            versions=manifest.get("versions", {}),
            leaderboard=list(stored.leaderboard.get("entries", [])),
            pareto_front=list(stored.pareto_front.get("front", [])),
            evaluations=list(stored.evaluated_individuals.get("individuals", [])),
            importance=stored.importance,
            diagnostics=stored.diagnostics,
        )

    @classmethod
    def from_result(cls, result: TrainingResult) -> RunView:
        """The view of a result in memory, as its stored run would read."""
        from ..run.writer import package_versions

        explanations = result.explanations
        if explanations is not None and not explanations.computed:
            explanations = None
        if result.location is None:
            status = "not stored"
        else:
            status = "fallback" if result.stopped_by == "fallback" else "complete"
        return cls(
            run_id=result.run_id,
            location=result.location,
            status=status,
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            config=result.config.to_dict(),
            summary=result.summary(),
            versions=package_versions(),
            leaderboard=result.leaderboard,
            pareto_front=result.pareto_front,
            evaluations=result.evaluated_individuals,
            importance=None
            if explanations is None
            else importance_document(result.run_id, explanations),
            diagnostics=None
            if explanations is None
            else diagnostics_document(result.run_id, explanations),
        )


#: What the report and the plots accept.
RunLike = RunView | StoredRun | TrainingResult


def as_view(run: RunLike) -> RunView:
    """``run`` as a :class:`RunView` (a stored run, a training result, or a view already).

    Raises:
        TypeError: ``run`` is none of these.
    """
    if isinstance(run, RunView):
        return run
    if isinstance(run, StoredRun):
        return RunView.from_stored(run)
    if isinstance(run, TrainingResult):
        return RunView.from_result(run)
    raise TypeError(
        f"expected a StoredRun, a TrainingResult or a RunView, not {type(run).__name__}"
    )
