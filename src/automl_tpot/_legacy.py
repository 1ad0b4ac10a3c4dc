"""Import paths of the modules that moved when the package was grouped into layers (0.1.0).

``automl_tpot.trainer``, ``automl_tpot.results`` and the other old flat modules still import,
with a :class:`DeprecationWarning`, and resolve names from the modules that hold them now. Stored
models matter most here: a pickle names its classes by module path, so a ``model.joblib``
written before the move (``automl_tpot.transformers.CategoryCodes``, ...) still loads.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from typing import Any

#: old module -> the modules that hold its names now, searched in order.
MOVED: dict[str, tuple[str, ...]] = {
    "automl_tpot.trainer": ("automl_tpot.run.trainer", "automl_tpot.search.plan"),
    "automl_tpot.fallback": ("automl_tpot.run.fallback",),
    "automl_tpot.results": (
        "automl_tpot.run.result",
        "automl_tpot.records.evaluation",
        "automl_tpot.records.documents",
        "automl_tpot.utils.pipelines",
        "automl_tpot.utils.jsonio",
    ),
    "automl_tpot.objectives": ("automl_tpot.utils.pipelines",),
    "automl_tpot.progress": ("automl_tpot.records.events",),
    "automl_tpot.budget": ("automl_tpot.search.budget",),
    "automl_tpot.parallel": ("automl_tpot.cluster.session",),
    "automl_tpot.evaluation": ("automl_tpot.cluster.loop", "automl_tpot.cluster.worker"),
    "automl_tpot.transformers": ("automl_tpot.model.transformers",),
}


class _MovedModule(types.ModuleType):
    """A stand-in for an old module: attribute lookups go to the modules that hold them now."""

    def __init__(self, name: str, targets: tuple[str, ...]):
        super().__init__(name, f"Moved: see {', '.join(targets)}.")
        self.__targets = targets

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        for target in self.__targets:
            module = importlib.import_module(target)
            if hasattr(module, attribute):
                return getattr(module, attribute)
        raise AttributeError(f"module {self.__name__!r} has no attribute {attribute!r}")

    def __dir__(self) -> list[str]:
        names: set[str] = set()
        for target in self.__targets:
            names.update(dir(importlib.import_module(target)))
        return sorted(names)


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds the old module names (and only those); real modules always win."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in MOVED:
            return None
        return importlib.machinery.ModuleSpec(fullname, self)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        targets = MOVED[spec.name]
        warnings.warn(
            f"{spec.name} moved to {' and '.join(targets)}; import from there or from "
            "automl_tpot (the old path will be removed in a future release)",
            DeprecationWarning,
            stacklevel=2,
        )
        return _MovedModule(spec.name, targets)

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the names resolve on first access."""


def install() -> None:
    """Put the finder at the end of ``sys.meta_path`` (once)."""
    if not any(isinstance(finder, _MovedFinder) for finder in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
