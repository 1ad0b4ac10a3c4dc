"""Sphinx configuration for the automl-tpot documentation.

``docs/_ext/automl_tpot_docs.py`` generates the configuration table, the CLI reference and the
executed examples' output at build time, and fails the build (under ``-W``) when a name in
``automl_tpot.__all__`` is not documented. ``AUTOML_TPOT_DOCS_EXECUTE=0`` skips running the
examples for a fast build.
"""

from __future__ import annotations

import sys
from pathlib import Path

import automl_tpot

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "automl-tpot"
author = "automl-tpot developers"
copyright = "2026, automl-tpot developers"
release = automl_tpot.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "automl_tpot_docs",
]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence", "deflist"]
# _generated/ holds fragments the extension writes; pages include them, they are not pages.
exclude_patterns = ["_build", "_generated", "_ext", "Thumbs.db", ".DS_Store"]
html_theme = "furo"
html_title = f"automl-tpot {release}"
html_static_path: list[str] = []

autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
nitpicky = False
