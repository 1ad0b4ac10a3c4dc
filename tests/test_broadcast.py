"""The objective's data on the workers: broadcast once, released once outgrown."""

from __future__ import annotations

import time

import numpy as np

from automl_tpot.cluster.broadcast import DataCache

from .helpers.local_dask import local_client


def _held(client, future) -> int:
    """On how many workers ``future``'s data lies."""
    return len(client.who_has([future]).get(future.key, ()))


def _released(client, key: str, timeout: float = 10.0) -> bool:
    """Whether the scheduler forgets ``key`` within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if key not in client.who_has():
            return True
        time.sleep(0.1)
    return False


def test_data_is_broadcast_once_to_every_worker_and_reused():
    cache = DataCache()
    X, y = np.arange(200.0).reshape(100, 2), np.arange(100)
    with local_client(2) as client:
        first = cache.resolve(client, {"X": X, "y": y, "cv": 3})
        second = cache.resolve(client, {"X": X, "y": y, "cv": 3})
        assert first["cv"] == 3
        assert first["X"] is second["X"] and first["y"] is second["y"]
        assert _held(client, first["X"]) == 2  # every worker holds the matrix
        assert np.array_equal(client.submit(lambda a: a, first["X"]).result(), X)


def test_an_outgrown_sample_is_released_from_the_workers():
    cache = DataCache()
    small = np.ones((50, 3))
    larger = np.ones((200, 3))
    with local_client(1) as client:
        old = cache.resolve(client, {"X": small})["X"]
        key = old.key
        del old  # the loop keeps no futures of its own between generations
        new = cache.resolve(client, {"X": larger})["X"]
        assert _held(client, new) == 1
        assert _released(client, key), "the outgrown sample still lies on a worker"
        # the cache no longer knows the small sample: passed again, it is scattered again
        again = cache.resolve(client, {"X": small})["X"]
        assert again.key == key and _held(client, again) == 1


def test_a_new_client_scatters_again():
    cache = DataCache()
    X = np.zeros((10, 2))
    with local_client(1) as client:
        cache.resolve(client, {"X": X})
    with local_client(1) as client:
        future = cache.resolve(client, {"X": X})["X"]
        assert future.status == "finished" and _held(client, future) == 1
