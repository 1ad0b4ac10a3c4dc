"""The one way to tell a backend or a listener something without letting it fail the run.

Metrics backends, progress callbacks and fallback listeners are the host's code: a failure in
them is logged (with its traceback) and the run goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["notify"]

log = logging.getLogger("automl_tpot")


def notify(call: Callable[..., object], *args: object, what: str) -> bool:
    """Call ``call(*args)``; log and swallow any exception. Returns whether it succeeded.

    ``what`` names the call in the warning ("metrics backend on alert", ...).
    """
    try:
        call(*args)
    except Exception:
        log.warning("%s failed; ignoring", what, exc_info=True)
        return False
    return True
