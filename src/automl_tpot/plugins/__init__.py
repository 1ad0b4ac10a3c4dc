"""Plugins: pluggy hook specifications and the registry of the search spaces they provide."""

from .registry import (
    ENTRY_POINT_GROUP,
    PROJECT,
    SearchSpaceDefinition,
    SearchSpaceHooks,
    SearchSpaceRegistry,
    hookimpl,
    hookspec,
    load_registry,
)

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
