"""Settings the examples share: a tiny budget, so each runs in well under a minute."""

from __future__ import annotations

import os
from pathlib import Path

#: Small on purpose: raise time_left, population_size and generations for real work.
TINY = dict(
    time_left=60,
    per_run_limit=10,
    population_size=6,
    generations=2,
    cv=3,
    n_jobs=1,
    random_state=0,
)


def output_folder() -> Path:
    """Where an example writes figures: $AUTOML_TPOT_EXAMPLE_OUT (the docs build sets it) or
    the current folder."""
    folder = Path(os.environ.get("AUTOML_TPOT_EXAMPLE_OUT", "."))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
