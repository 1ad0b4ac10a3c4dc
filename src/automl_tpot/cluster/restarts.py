"""What the scheduler says about a worker Dask restarted for memory.

A pipeline that exhausts its worker's memory shows up in the client only as a lost or killed
task; the scheduler's ``worker-restart-memory`` events tell it apart from a worker that died
for another reason, so the evaluation is recorded as a memory failure and not run again.
"""

from __future__ import annotations

from typing import Any

__all__ = ["memory_restart_since"]


def memory_restart_since(client: Any, since: float) -> str | None:
    """The reason to record when Dask restarted a worker for memory at or after ``since``
    (Unix seconds, less one for clock steps), else ``None``; bounded by a 5 s timeout, so a
    scheduler that is gone does not hold the evaluation loop."""
    try:
        events = client.sync(
            client.scheduler.events, topic="worker-restart-memory", callback_timeout=5
        )
    except Exception:
        return None
    for stamp, event in events:
        if stamp >= since - 1 and isinstance(event, dict):
            used = event.get("rss", 0) / 2**20
            return f"the worker was restarted by Dask after using {used:.0f} MiB, over its limit"
    return None
