"""Open a page in Debian's headless Chromium and record what it did, over the DevTools protocol.

Why the DevTools protocol (through websocket-client) rather than Chromium's log: the protocol
reports every request the page makes (``Network.requestWillBeSent``), every console message and
uncaught exception, and every browser-side error (a blocked resource, a CSP violation) as
structured events, and answers questions about the rendered page (``Runtime.evaluate``), all
without a driver binary or a browser download. Chromium runs with the flags that keep it off
the network on its own (no background networking, component updates or sync) and a fresh
profile, so every request recorded is one the page asked for.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--remote-allow-origins=*",
)


@dataclass
class PageVisit:
    """What one page load did."""

    url: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    log_errors: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def foreign_requests(self) -> list[str]:
        """Requests for anything but the page itself and inline data."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _DevTools:
    def __init__(self, websocket_url: str):
        import websocket

        self.socket = websocket.create_connection(websocket_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        message_id = self.next_id
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, event: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == event for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {event} within {timeout}s")
            self.socket.settimeout(max(deadline - time.monotonic(), 0.1))
            self.events.append(json.loads(self.socket.recv()))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.socket.close()


def visit(path: Path, script: str, timeout: float = 60.0) -> PageVisit:
    """Load ``path`` in a fresh headless Chromium, wait for its load event, evaluate ``script``
    (an expression returning JSON-able facts about the page) and return what happened."""
    port = _free_port()
    url = path.resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="automl-tpot-chromium-") as profile:
        process = subprocess.Popen(
            [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}",
             f"--remote-debugging-port={port}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "LANG": "C.UTF-8"},
        )  # fmt: skip
        tools = None
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise RuntimeError("Chromium's DevTools endpoint did not answer") from None
                    time.sleep(0.2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as reply:
                targets = json.load(reply)
            page = next(t for t in targets if t.get("type") == "page")
            tools = _DevTools(page["webSocketDebuggerUrl"])
            for domain in ("Network", "Runtime", "Log", "Page"):
                tools.call(f"{domain}.enable")
            tools.events.clear()  # about:blank's own events
            tools.call("Page.navigate", url=url)
            tools.wait_for("Page.loadEventFired", timeout)
            facts = tools.call("Runtime.evaluate", expression=script, returnByValue=True)
            result = PageVisit(url=url, facts=facts["result"].get("value") or {})
            _record(tools.events, result)
            return result
        finally:
            if tools is not None:
                tools.close()
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


def _record(events: list[dict[str, Any]], result: PageVisit) -> None:
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Network.requestWillBeSent":
            result.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            result.console_errors.append(json.dumps(params.get("args"))[:500])
        elif method == "Runtime.exceptionThrown":
            result.exceptions.append(json.dumps(params.get("exceptionDetails"))[:500])
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            result.log_errors.append(params["entry"].get("text", "")[:500])
