"""The plugin mechanism: entry points, the registry, name clashes and broken plugins.

Distributions here are real: a ``.dist-info`` folder with ``METADATA`` and ``entry_points.txt``
on ``sys.path``, found by ``importlib.metadata`` exactly as an installed package is.
"""

from __future__ import annotations

import importlib.metadata
import sys
import textwrap
from pathlib import Path

import pytest

from automl_tpot.errors import SearchSpaceError
from automl_tpot.plugins import (
    ENTRY_POINT_GROUP,
    SearchSpaceDefinition,
    load_registry,
)
from automl_tpot.search_spaces import resolve_search_space

from .conftest import prepared_context

BUILT_INS = {
    "auto",
    "linear",
    "linear-light",
    "graph",
    "graph-light",
    "choice",
    "fss",
    "symbolic-regression",
    "symbolic-classification",
    "estimator",
}


def make_distribution(root: Path, name: str, module: str, source: str) -> None:
    """Write a minimal installed distribution ``name`` whose plugin module is ``module``."""
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\nspaces = {module}\n", encoding="utf-8"
    )


@pytest.fixture
def plugin_dir(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in [m for m in sys.modules if m.startswith("_plugin_under_test")]:
        del sys.modules[module]


def test_builtins_arrive_through_the_packages_own_entry_point():
    entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    ours = [ep for ep in entry_points if ep.dist is not None and ep.dist.name == "automl-tpot"]
    assert [ep.value for ep in ours] == ["automl_tpot.search_spaces.presets"]

    registry = load_registry()
    provided = {
        name for name, space in registry.spaces.items() if space.distribution == "automl-tpot"
    }
    assert provided == BUILT_INS
    assert "estimator:NAME" in registry.names()


def test_unknown_name_lists_the_available_ones():
    _, _, context = prepared_context("classification", n_rows=60)
    with pytest.raises(SearchSpaceError) as caught:
        resolve_search_space("no-such-space", context)
    message = str(caught.value)
    assert "'no-such-space'" in message
    for name in ("linear-light", "choice", "fss", "estimator:NAME"):
        assert name in message


def test_a_third_party_distribution_is_discovered(plugin_dir):
    make_distribution(
        plugin_dir,
        "tiny-spaces",
        "_plugin_under_test_tiny",
        """
        from automl_tpot.plugins import SearchSpaceDefinition, hookimpl

        def build(context):
            from sklearn.linear_model import Ridge
            from tpot.search_spaces.nodes import EstimatorNode
            return EstimatorNode(Ridge, {"alpha": float(context.n_features)})

        @hookimpl
        def automl_tpot_search_spaces():
            return [SearchSpaceDefinition("tiny-ridge", build, ("regression",), "one ridge")]
    """,
    )
    registry = load_registry()
    assert registry.spaces["tiny-ridge"].distribution == "tiny-spaces"
    _, _, context = prepared_context("regression", n_rows=60)
    space = resolve_search_space("tiny-ridge", context, registry)
    assert space.space == {"alpha": float(context.n_features)}  # it was told the context
    _, _, classification = prepared_context("classification", n_rows=60)
    with pytest.raises(SearchSpaceError, match="serves regression, not classification"):
        resolve_search_space("tiny-ridge", classification, registry)


def test_two_distributions_claiming_one_name_are_both_named(plugin_dir):
    make_distribution(
        plugin_dir,
        "rival-spaces",
        "_plugin_under_test_rival",
        """
        from automl_tpot.plugins import SearchSpaceDefinition, hookimpl

        @hookimpl
        def automl_tpot_search_spaces():
            return [SearchSpaceDefinition("linear-light", lambda context: None)]
    """,
    )
    with pytest.raises(SearchSpaceError) as caught:
        load_registry()
    message = str(caught.value)
    assert "'linear-light'" in message
    assert "'automl-tpot'" in message and "'rival-spaces'" in message


def test_a_broken_plugin_is_reported_with_its_distribution(plugin_dir):
    make_distribution(
        plugin_dir,
        "broken-spaces",
        "_plugin_under_test_broken",
        """
        raise ImportError("a dependency is missing")
    """,
    )
    with pytest.raises(SearchSpaceError, match="broken-spaces.*a dependency is missing"):
        load_registry()


def test_a_plugin_returning_no_search_space_is_rejected(plugin_dir):
    make_distribution(
        plugin_dir,
        "lazy-spaces",
        "_plugin_under_test_lazy",
        """
        from automl_tpot.plugins import SearchSpaceDefinition, hookimpl

        @hookimpl
        def automl_tpot_search_spaces():
            return [SearchSpaceDefinition("lazy", lambda context: "not a search space")]
    """,
    )
    registry = load_registry()
    _, _, context = prepared_context("classification", n_rows=60)
    with pytest.raises(SearchSpaceError, match="lazy-spaces.*expected a tpot SearchSpace"):
        resolve_search_space("lazy", context, registry)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"name": "a:b"}, "without ':'"),
        ({"name": ""}, "non-empty"),
        ({"tasks": ("clustering",)}, "subset"),
        ({"tasks": ()}, "subset"),
        ({"build": "not callable"}, "callable"),
    ],
)
def test_definitions_are_validated(kwargs, fragment):
    fields = {"name": "ok", "build": lambda context: None, **kwargs}
    with pytest.raises(SearchSpaceError, match=fragment):
        SearchSpaceDefinition(**fields)


def test_a_parametrised_name_needs_its_argument():
    registry = load_registry()
    with pytest.raises(SearchSpaceError, match="estimator:NAME"):
        registry.get("estimator")
    with pytest.raises(SearchSpaceError, match="needs a NAME"):
        registry.get("estimator:")
    with pytest.raises(SearchSpaceError, match="unknown search space 'choice:x'"):
        registry.get("choice:x")
