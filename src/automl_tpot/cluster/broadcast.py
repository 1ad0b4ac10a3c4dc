"""The data every evaluation takes, broadcast to the workers once per client.

Scattering the training matrix with each submission would copy it once per evaluation; TPOT's
own loop scatters it to one worker, which then runs every evaluation. Broadcast once, each
worker holds it, and an evaluation pinned to any worker finds it there. A search on growing
samples of a large table passes new matrices as the sample grows: the ones no longer passed
are released, so the workers hold only the current sample (and the memory of the outgrown ones
goes back).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DataCache"]


class DataCache:
    """Objective arguments broadcast to the workers once per client, not once per evaluation."""

    def __init__(self) -> None:
        self._client: Any = None
        self._futures: dict[int, tuple[Any, Any]] = {}

    def resolve(self, client: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` with every data value replaced by its broadcast future (scattered when
        this client has not seen it yet); the futures of data no longer passed are dropped."""
        if client is not self._client:
            self._client, self._futures = client, {}
        resolved = {}
        for name, value in kwargs.items():
            if _is_data(value):
                cached = self._futures.get(id(value))
                # scattered data dies with the workers holding it: scatter it again then
                if cached is None or cached[0] is not value or cached[1].status != "finished":
                    cached = (value, client.scatter(value, broadcast=True, hash=True))
                    self._futures[id(value)] = cached
                resolved[name] = cached[1]
            else:
                resolved[name] = value
        passed = {id(value) for value in kwargs.values() if _is_data(value)}
        for key in [key for key in self._futures if key not in passed]:
            del self._futures[key]  # the last reference: Dask releases the workers' copies
        return resolved


def _is_data(value: Any) -> bool:
    return isinstance(value, np.ndarray) or type(value).__module__.startswith(("pandas", "scipy"))
