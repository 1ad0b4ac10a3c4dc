"""Plugins: pluggy hook specifications and the registry of search spaces they provide.

Every search space, the package's own presets included, arrives through one entry-point group,
:data:`ENTRY_POINT_GROUP`. The package registers its presets in its own ``pyproject.toml``
exactly as a third party would, so the mechanism third parties rely on is the one every run uses::

    [project.entry-points."automl_tpot.search_spaces"]
    my_spaces = "my_package.spaces"

The module named there implements one or both hooks of :class:`SearchSpaceHooks`, marked with
:data:`hookimpl`. Names are global: two distributions claiming the same search-space name is an
error that names both.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

import pluggy
from attrs import define, field

from ..errors import SearchSpaceError

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROJECT",
    "SearchSpaceDefinition",
    "SearchSpaceHooks",
    "SearchSpaceRegistry",
    "hookimpl",
    "hookspec",
    "load_registry",
]

PROJECT = "automl_tpot"
#: The one entry-point group search-space plugins (built-in and third-party) register under.
ENTRY_POINT_GROUP = "automl_tpot.search_spaces"
TASKS = ("classification", "regression")

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


def _str_tuple(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


@define(frozen=True)
class SearchSpaceDefinition:
    """One named search space a plugin offers.

    Attributes:
        name: what users write as ``search_space`` (lower case, no spaces).
        build: ``build(context)`` returns a TPOT ``SearchSpace`` sized to the
            :class:`~automl_tpot.search_spaces.SearchContext`; a parametrised definition gets
            ``build(context, argument)`` for ``"name:argument"``.
        tasks: the tasks the space serves, a subset of ``("classification", "regression")``.
        description: one line for ``automl-tpot spaces list``.
        details: a longer text for ``automl-tpot spaces show`` (what the space searches).
        parametrized: whether the name takes an argument, as in ``estimator:NAME``.
    """

    name: str = field()
    build: Callable[..., Any] = field()
    tasks: tuple[str, ...] = field(default=TASKS, converter=_str_tuple)
    description: str = ""
    details: str = ""
    parametrized: bool = False

    @name.validator
    def _check_name(self, _attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value or value != value.strip() or ":" in value:
            raise SearchSpaceError(
                f"search space name {value!r}: expected a non-empty string without ':' or "
                "surrounding spaces"
            )

    @build.validator
    def _check_build(self, _attribute: Any, value: Any) -> None:
        if not callable(value):
            raise SearchSpaceError(f"search space {self.name!r}: build must be callable")

    @tasks.validator
    def _check_tasks(self, _attribute: Any, value: tuple[str, ...]) -> None:
        if not value or any(task not in TASKS for task in value):
            raise SearchSpaceError(
                f"search space {self.name!r}: tasks {value!r}; expected a non-empty subset of "
                f"{TASKS!r}"
            )


class SearchSpaceHooks:
    """The hooks a search-space plugin may implement (mark implementations with ``hookimpl``)."""

    @hookspec
    def automl_tpot_search_spaces(self) -> Iterable[SearchSpaceDefinition]:
        """Return the search spaces this plugin offers, as :class:`SearchSpaceDefinition`."""

    @hookspec
    def automl_tpot_estimators(self) -> Iterable[type]:
        """Return estimator or transformer classes that config dicts may name.

        Config dicts resolve class paths only inside scikit-learn, xgboost, lightgbm and TPOT's
        built-ins; classes returned here are added, by their dotted path and by their class name.
        """


@define(frozen=True)
class RegisteredSpace:
    """A definition and the distribution that provided it."""

    definition: SearchSpaceDefinition
    distribution: str
    entry_point: str

    @property
    def name(self) -> str:
        return self.definition.name


@define(frozen=True)
class SearchSpaceRegistry:
    """Every search space and extra estimator class the installed plugins provide.

    Attributes:
        spaces: search-space name -> registered definition.
        estimators: class path (and short name) -> class, from ``automl_tpot_estimators``.
        estimator_sources: class path -> distribution that registered it.
    """

    spaces: Mapping[str, RegisteredSpace]
    estimators: Mapping[str, type]
    estimator_sources: Mapping[str, str]

    def names(self) -> list[str]:
        """Every name, sorted; parametrised ones as ``name:ARG``."""
        return sorted(
            f"{space.name}:NAME" if space.definition.parametrized else space.name
            for space in self.spaces.values()
        )

    def get(self, spec: str) -> tuple[RegisteredSpace, str | None]:
        """Find ``spec`` (``"name"`` or ``"name:argument"``); raise listing the names if unknown."""
        name, sep, argument = spec.partition(":")
        space = self.spaces.get(name.strip())
        if space is not None and bool(sep) == space.definition.parametrized:
            if sep and not argument.strip():
                raise SearchSpaceError(
                    f"search space {spec!r}: {name}:NAME needs a NAME after the colon"
                )
            return space, (argument.strip() if sep else None)
        if space is not None and space.definition.parametrized:
            raise SearchSpaceError(f"search space {spec!r} takes an argument: write {name}:NAME")
        raise SearchSpaceError(
            f"unknown search space {spec!r}; available: {', '.join(self.names())}"
        )


def _distribution_name(entry_point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(entry_point, "dist", None)
    return dist.metadata["Name"] if dist is not None else "<unknown distribution>"


def _plugin_manager() -> tuple[pluggy.PluginManager, dict[str, tuple[str, str]]]:
    """Load every entry point of the group into a fresh plugin manager.

    Returns the manager and, per registered plugin name, its (distribution, entry point) pair.
    Entry points are read through ``importlib.metadata`` (rather than pluggy's loader) so a
    broken plugin is reported with its distribution and entry point.
    """
    manager = pluggy.PluginManager(PROJECT)
    manager.add_hookspecs(SearchSpaceHooks)
    origins: dict[str, tuple[str, str]] = {}
    importlib.invalidate_caches()  # see plugins installed since the interpreter started
    entry_points = sorted(
        importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
        key=lambda ep: (_distribution_name(ep), ep.name),
    )
    for entry_point in entry_points:
        distribution = _distribution_name(entry_point)
        label = f"{entry_point.name} = {entry_point.value}"
        plugin_name = f"{distribution}:{entry_point.name}"
        if plugin_name in origins:  # the same distribution seen twice on sys.path
            continue
        try:
            plugin = entry_point.load()
            if manager.is_registered(plugin):  # two entry points naming one module
                continue
            manager.register(plugin, name=plugin_name)
        except Exception as error:
            raise SearchSpaceError(
                f"search-space plugin {label!r} of distribution {distribution!r} "
                f"(entry-point group {ENTRY_POINT_GROUP!r}) failed to load: {error}"
            ) from error
        origins[plugin_name] = (distribution, label)
    return manager, origins


def load_registry() -> SearchSpaceRegistry:
    """Read the installed plugins now and return what they register.

    Raises :class:`SearchSpaceError` when a plugin fails to load, returns something other than
    definitions or classes, or claims a name another plugin already claimed.
    """
    manager, origins = _plugin_manager()
    spaces: dict[str, RegisteredSpace] = {}
    # Each implementation is called on its own (rather than through ``manager.hook``, which
    # returns one merged list) so every result is tied to the distribution that provided it.
    for impl in manager.hook.automl_tpot_search_spaces.get_hookimpls():
        distribution, label = origins[impl.plugin_name]
        for definition in cast("Iterable[object]", impl.function() or ()):
            if not isinstance(definition, SearchSpaceDefinition):
                raise SearchSpaceError(
                    f"search-space plugin {label!r} of distribution {distribution!r} returned "
                    f"{definition!r}; expected automl_tpot.plugins.SearchSpaceDefinition"
                )
            previous = spaces.get(definition.name)
            if previous is not None:
                raise SearchSpaceError(
                    f"search space {definition.name!r} is claimed by two plugins: "
                    f"{previous.entry_point!r} of distribution {previous.distribution!r} and "
                    f"{label!r} of distribution {distribution!r}; uninstall one of them"
                )
            spaces[definition.name] = RegisteredSpace(definition, distribution, label)

    estimators: dict[str, type] = {}
    sources: dict[str, str] = {}
    for impl in manager.hook.automl_tpot_estimators.get_hookimpls():
        distribution, label = origins[impl.plugin_name]
        for cls in cast("Iterable[object]", impl.function() or ()):
            if not isinstance(cls, type) or not hasattr(cls, "fit"):
                raise SearchSpaceError(
                    f"search-space plugin {label!r} of distribution {distribution!r} registered "
                    f"{cls!r} as an estimator; expected a class with a fit method"
                )
            for key in (f"{cls.__module__}.{cls.__qualname__}", cls.__name__):
                if key in estimators and estimators[key] is not cls:
                    raise SearchSpaceError(
                        f"estimator name {key!r} is registered by two plugins: distribution "
                        f"{sources[key]!r} and distribution {distribution!r}"
                    )
                estimators[key] = cls
                sources[key] = distribution
    return SearchSpaceRegistry(spaces=spaces, estimators=estimators, estimator_sources=sources)
