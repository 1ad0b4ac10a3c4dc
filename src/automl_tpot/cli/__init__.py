"""The ``automl-tpot`` command line."""

from .demo import DEMO_TARGET, demo_table
from .main import main
from .parser import build_parser

__all__ = ["DEMO_TARGET", "build_parser", "demo_table", "main"]
