"""Which TPOT this boundary was written for, and a check that the installed one is that TPOT.

The boundary reaches into TPOT beyond its documented API (the evolver class the estimator
builds, the population's history and its column names, the individuals' mutation). A minor
release may rename any of that, and a silent rename would drop stop requests or deadline moves
instead of failing. So at import the installed version must be in :data:`SUPPORTED_RANGE` and
every name the boundary uses must exist; otherwise
:class:`~automl_tpot.errors.TPOTCompatibilityError`
says which version was found and what is missing.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version

from ..errors import TPOTCompatibilityError

__all__ = ["REQUIRED", "SUPPORTED_RANGE", "check_tpot", "installed_tpot_version"]

#: The TPOT releases the boundary was written and contract-tested for: 1.1.x.
SUPPORTED_RANGE = ((1, 1), (1, 2))

#: module -> attribute -> the attributes of that attribute (methods of a class) the boundary uses.
REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "tpot": {"TPOTEstimator": ("fit",), "Population": ()},
    "tpot.evolvers.base_evolver": {
        "BaseEvolver": (
            "optimize",
            "step",
            "evaluate_population",
            "evaluate_population_full",
            "get_unevaluated_individuals",
        ),
    },
    "tpot.population": {
        "Population": ("update_column", "remove_invalid_from_population", "get_column"),
    },
    "tpot.search_spaces.nodes.estimator_node": {
        "EstimatorNode": ("generate",),
        "EstimatorNodeIndividual": ("mutate", "unique_id", "export_pipeline"),
    },
    "tpot.search_spaces.base": {"SearchSpace": ("generate",)},
}


def installed_tpot_version() -> str:
    """The installed TPOT's version string (``"unknown"`` when it has no metadata)."""
    try:
        return version("tpot")
    except PackageNotFoundError:
        return "unknown"


def _release(text: str) -> tuple[int, int]:
    parts = []
    for piece in text.split(".")[:2]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else -1)
    while len(parts) < 2:
        parts.append(0)
    return parts[0], parts[1]


def check_tpot(found: str | None = None) -> None:
    """Raise :class:`TPOTCompatibilityError` unless TPOT is in the supported range and has every
    name in :data:`REQUIRED`.

    ``found`` overrides the installed version (for tests of the check itself).
    """
    found = installed_tpot_version() if found is None else found
    low, high = SUPPORTED_RANGE
    wanted = f">={low[0]}.{low[1]},<{high[0]}.{high[1]}"
    if not low <= _release(found) < high:
        raise TPOTCompatibilityError(found, wanted, f"version {found} is outside {wanted}")
    for module_name, attributes in REQUIRED.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise TPOTCompatibilityError(found, wanted, f"module {module_name}: {error}") from error
        for attribute, members in attributes.items():
            owner = getattr(module, attribute, None)
            if owner is None:
                raise TPOTCompatibilityError(found, wanted, f"{module_name}.{attribute}")
            for member in members:
                if not hasattr(owner, member):
                    raise TPOTCompatibilityError(
                        found, wanted, f"{module_name}.{attribute}.{member}"
                    )
