"""The ``automl-tpot`` command line."""

from .main import DEMO_TARGET, build_parser, demo_table, main

__all__ = ["DEMO_TARGET", "build_parser", "demo_table", "main"]
