"""The TPOT boundary: the only code that touches TPOT beyond its documented public API.

Everything else in the library talks to the typed views here:

* :mod:`.compat`: the TPOT releases this was written for, checked at import;
* :mod:`.history`: TPOT's history of evaluations (its column names and codes), read as
  :class:`~automl_tpot.tpot_boundary.history.SearchHistory` and turned into typed records;
* :mod:`.evolver`: our evolver, whose evaluation loop, clock and generation end go through
  :class:`~automl_tpot.tpot_boundary.evolver.EvolverHooks`;
* :mod:`.estimator`: building, fitting and reading a ``TPOTEstimator``;
* :mod:`.nodes`: search-space nodes whose individuals mutate locally.

``tests/test_tpot_contract.py`` fits real TPOT briefly and checks every assumption made here.
"""

from .compat import SUPPORTED_RANGE, check_tpot, installed_tpot_version

check_tpot()

from .estimator import (  # noqa: E402 - only once the installed TPOT is known to fit
    FittedSearch,
    NothingEvaluated,
    TPOTSettings,
    build_estimator,
    fit_estimator,
)
from .evolver import (  # noqa: E402
    EvaluationBatch,
    EvaluationRequest,
    EvolverHooks,
    EvolverSnapshot,
    GenerationState,
)
from .history import (  # noqa: E402
    INVALID,
    TIMEOUT,
    ScoredPipeline,
    SearchHistory,
    evaluation_work,
    sample_folds,
    sample_rows,
    unfitted_pipeline,
)
from .snapshot import SnapshotDraft  # noqa: E402

__all__ = [
    "INVALID",
    "SUPPORTED_RANGE",
    "TIMEOUT",
    "EvaluationBatch",
    "EvaluationRequest",
    "EvolverHooks",
    "EvolverSnapshot",
    "FittedSearch",
    "GenerationState",
    "NothingEvaluated",
    "ScoredPipeline",
    "SearchHistory",
    "SnapshotDraft",
    "TPOTSettings",
    "build_estimator",
    "check_tpot",
    "evaluation_work",
    "fit_estimator",
    "installed_tpot_version",
    "sample_folds",
    "sample_rows",
    "unfitted_pipeline",
]
