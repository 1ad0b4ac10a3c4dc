"""A real S3-compatible server for the tests: moto's standalone server in a subprocess.

A subprocess (not a thread) so a test can kill it like a crashed MinIO, and so its settings
(authentication, request recording) stay out of the test process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

KEY = "AKIATESTKEY123456"
SECRET = "test-secret-Zq8w3Lr9Vx"  # the tests assert this string never appears in errors


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """``python -m moto.server`` on 127.0.0.1; stopped (or killed) by the test that started it.

    Args:
        port: the port (a free one when omitted; reuse a port to restart "the same" server).
        auth: make the server check credentials (every request, none known: all are denied).
        recording: a file where the server appends every request it receives, so a restarted
            server can be brought back to the state the killed one had (moto keeps state in
            memory only).
    """

    def __init__(
        self, port: int | None = None, *, auth: bool = False, recording: Path | None = None
    ):
        self.port = port or free_port()
        self.auth = auth
        self.recording = recording
        self.process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        env = dict(os.environ)
        for name in ("AWS_ENDPOINT_URL", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
            env.pop(name, None)
        if self.auth:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
        if self.recording is not None:
            env["MOTO_ENABLE_RECORDING"] = "True"
            env["MOTO_RECORDER_FILEPATH"] = str(self.recording)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/", timeout=1):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"moto server did not answer on {self.endpoint} in {timeout:g}s")

    def kill(self) -> None:
        """Die like a crashed server: SIGKILL, no goodbye."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def replay(self) -> None:
        """Replay the recorded requests into this (fresh) server."""
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/recorder/replay-recording", method="POST"
        )
        with urllib.request.urlopen(request, timeout=60):
            pass

    def storage(self, url: str):
        """The fsspec backend for ``url`` on this server, with the test credentials."""
        from automl_tpot.storage import FsspecStorage

        return FsspecStorage(url, endpoint_url=self.endpoint, key=KEY, secret=SECRET)

    def create_bucket(self, name: str) -> None:
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=KEY,
            aws_secret_access_key=SECRET,
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=name)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@pytest.fixture(scope="module")
def s3_server():
    """One server for a test module (tests use their own buckets or prefixes)."""
    with MotoServer() as server:
        yield server


@pytest.fixture
def bucket(s3_server, request) -> str:
    """A fresh, empty bucket named after the test."""
    name = "t-" + "".join(c if c.isalnum() else "-" for c in request.node.name.lower())[:50]
    name = name.strip("-") + f"-{os.getpid() % 1000}"
    s3_server.create_bucket(name)
    return name
