"""The architecture the docs promise (docs/architecture.md): the layers, who may import whom,
only the TPOT boundary touching TPOT's internals, and modules small enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "automl_tpot"

#: Each top-level module or package of automl_tpot, by layer (1 is the bottom). A module may
#: import only from its own layer or below; backends (layer 4) thus never import the Trainer.
LAYERS: dict[str, int] = {
    "errors": 1,
    "records": 1,
    "utils": 1,
    "config": 2,
    "data": 2,
    "model": 2,
    "tpot_boundary": 3,
    "plugins": 4,
    "search_spaces": 4,
    "storage": 4,
    "metrics": 4,
    "search": 5,
    "cluster": 5,
    "ensemble": 5,
    "explain": 5,
    "run": 6,
    "jobs": 7,
    "cli": 7,
    "report": 7,
    "estimators": 7,
    "__init__": 7,
    "__main__": 7,
    "_legacy": 7,
}

#: Imports that break the layering on purpose, each (module, what it imports) with its reason.
ALLOWED_UPWARD_IMPORTS = {
    # TrainingResult.report() / plot_*() / leaderboard_frame(): a result draws its own report,
    # as users expect of it; the import is inside those methods, so the run layer never loads
    # the report package (nor matplotlib) unless a report is asked for.
    ("run/result.py", "automl_tpot.report"),
}

#: TPOT's internals: its private attributes, its history's column names, and its modules
#: beyond the documented search-space components. Only the boundary may name them.
TPOT_PRIVATE_NAMES = {
    "_evolver",
    "_evolver_instance",
    "selected_best_score",
    "fitted_pipeline_",
    "scheduled_timeout_time",
    "max_time_mins",
    "max_eval_time_mins",
    "parallel_eval_objective_list",
    "EstimatorNodeIndividual",
    "BaseEvolver",
    "unique_id",
    "export_pipeline",
    "Eval Error",
    "Submitted Timestamp",
    "Completed Timestamp",
    "Variation_Function",
    "Pareto_Front",
    "Individual",
    "TPOTEstimator",
}
TPOT_PUBLIC_MODULES = ("tpot.search_spaces", "tpot.builtin_modules")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _unit(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imports(path: Path) -> list[tuple[int, str]]:
    """``(line, absolute module)`` of every import of automl_tpot or tpot in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ["automl_tpot", *path.relative_to(PACKAGE).parent.parts]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names = [f"{module}.{alias.name}" for alias in node.names]
            found.extend((node.lineno, name) for name in [module, *names])
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_every_module_belongs_to_a_layer():
    units = {_unit(path) for path in _modules()}
    assert units <= set(LAYERS), f"place these in LAYERS: {sorted(units - set(LAYERS))}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_imports_only_its_own_layer_or_below(path):
    layer = LAYERS[_unit(path)]
    where = path.relative_to(PACKAGE).as_posix()
    for line, module in _imports(path):
        parts = module.split(".")
        if parts[0] != "automl_tpot" or len(parts) < 2 or parts[1] not in LAYERS:
            continue
        if (where, ".".join(parts[:2])) in ALLOWED_UPWARD_IMPORTS:
            continue
        assert LAYERS[parts[1]] <= layer, (
            f"{path.relative_to(PACKAGE)}:{line} (layer {layer}) imports {module} "
            f"(layer {LAYERS[parts[1]]})"
        )


def test_the_allowed_upward_imports_are_function_level():
    """An allowed exception may not become a module-level import (it would load the upper
    layer with the lower one)."""
    for where, module in ALLOWED_UPWARD_IMPORTS:
        tree = ast.parse((PACKAGE / where).read_text(encoding="utf-8"))
        package = ["automl_tpot", *Path(where).parent.parts]
        for node in tree.body:  # module-level statements only
            if not isinstance(node, ast.ImportFrom):
                continue
            base = package[: len(package) - (node.level - 1)] if node.level else []
            imported = ".".join([*base, node.module or ""])
            assert not imported.startswith(module), f"{where}:{node.lineno} imports {imported}"


def _code_names(tree: ast.AST) -> set[str]:
    """Attribute and variable names and string constants that are not docstrings."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            docstrings.add(id(first.value))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.keyword) and node.arg:
            names.add(node.arg)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            names.add(node.value)
    return names


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if _unit(p) != "tpot_boundary"],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_only_the_boundary_touches_tpots_internals(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not _code_names(tree) & TPOT_PRIVATE_NAMES
    for line, module in _imports(path):
        if module == "tpot" or not module.startswith("tpot."):
            continue
        assert module.startswith(TPOT_PUBLIC_MODULES), (
            f"{path.relative_to(PACKAGE)}:{line} imports {module}: TPOT internals belong in "
            "automl_tpot.tpot_boundary"
        )


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_readable(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 420, f"{path.relative_to(PACKAGE)} has {lines} lines: split it"


def test_the_trainer_class_only_conducts():
    tree = ast.parse((PACKAGE / "run" / "trainer.py").read_text(encoding="utf-8"))
    (trainer,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Trainer"]
    assert trainer.end_lineno - trainer.lineno <= 210
