"""One benchmark job in a child process: a hard time limit, and the memory of its process tree.

A run's memory is not its own process's: our Trainer's Dask workers, FLAML's and AutoGluon's
helper processes and joblib's workers are children (or grandchildren) of the fitting process.
:class:`TreeSampler` polls the child and all its descendants from the parent and keeps the
largest sum over the tree: of RSS every ``interval`` seconds, and of PSS and USS (which count
pages shared between processes once; more costly to read) every ``full_every`` samples.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

MIB = 2**20


@dataclass
class TreeMemory:
    """The largest memory of a process tree seen over its life (bytes; ``None``: not read)."""

    peak_rss: int = 0
    peak_pss: int | None = None
    peak_uss: int | None = None
    peak_processes: int = 0
    samples: int = 0

    def to_record(self) -> dict[str, float | int | None]:
        """MiB figures for a result record."""

        def mib(value: int | None) -> float | None:
            return None if value is None else round(value / MIB, 1)

        return {
            "peak_rss_mb": mib(self.peak_rss),
            "peak_pss_mb": mib(self.peak_pss),
            "peak_uss_mb": mib(self.peak_uss),
            "peak_processes": self.peak_processes,
            "memory_samples": self.samples,
        }


@dataclass
class TreeSampler:
    """Samples the memory of ``pid`` and its descendants on a thread until :meth:`stop`."""

    pid: int
    interval: float = 0.2
    full_every: int = 5
    limit: int | None = None  # bytes of RSS over the tree; above it, ``exceeded`` is set
    memory: TreeMemory = field(default_factory=TreeMemory)
    exceeded: threading.Event = field(default_factory=threading.Event)
    seen: dict[int, float] = field(default_factory=dict)  # pid -> create_time
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> TreeSampler:
        self._thread = threading.Thread(target=self._loop, name="tree-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> TreeMemory:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.memory

    def _loop(self) -> None:
        count = 0
        while not self._stop.is_set():
            if not self.sample(full=count % self.full_every == 0):
                return
            count += 1
            self._stop.wait(self.interval)

    def tree(self) -> list[psutil.Process]:
        """The process and its living descendants (empty once the process is gone)."""
        try:
            root = psutil.Process(self.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def sample(self, full: bool = True) -> bool:
        """Read the tree once; False when the root process has ended."""
        processes = self.tree()
        if not processes:
            return False
        rss = pss = uss = 0
        counted = 0
        for process in processes:
            try:
                if full:
                    info = process.memory_full_info()
                    pss += getattr(info, "pss", 0)
                    uss += info.uss
                else:
                    info = process.memory_info()
                rss += info.rss
                counted += 1
                self.seen.setdefault(process.pid, process.create_time())
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        memory = self.memory
        memory.samples += 1
        memory.peak_rss = max(memory.peak_rss, rss)
        memory.peak_processes = max(memory.peak_processes, counted)
        if self.limit is not None and rss > self.limit:
            self.exceeded.set()
        if full:
            memory.peak_pss = max(memory.peak_pss or 0, pss)
            memory.peak_uss = max(memory.peak_uss or 0, uss)
        return True

    def survivors(self) -> list[psutil.Process]:
        """Processes seen in the tree that still run (the same process, not a reused pid)."""
        alive = []
        for pid, created in self.seen.items():
            try:
                process = psutil.Process(pid)
                if process.create_time() == created and process.status() != "zombie":
                    alive.append(process)
            except psutil.NoSuchProcess:
                continue
        return alive


@dataclass
class Finished:
    """How a limited child process ended."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool
    wall_seconds: float
    over_memory: bool
    memory: TreeMemory
    leftover_processes: int = 0
    leftover_names: list[str] = field(default_factory=list)

    def to_record(self) -> dict[str, object]:
        """The memory figures and what was left behind, for a result record."""
        record: dict[str, object] = {
            **self.memory.to_record(),
            "leftover_processes": self.leftover_processes,
        }
        if self.leftover_names:
            record["leftover_names"] = self.leftover_names
        return record


def _name(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())[:120]
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return f"pid {process.pid}"


def _kill(processes: list[psutil.Process], own_child: int | None = None) -> None:
    """SIGKILL each process and wait for them, except ``own_child``: its exit status is left
    for its ``Popen`` to collect (psutil would reap it and the status would be lost)."""
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs([p for p in processes if p.pid != own_child], timeout=10)


def run_limited(
    command: list[str],
    timeout: float,
    *,
    interval: float = 0.2,
    full_every: int = 5,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    grace: float = 3.0,
    memory_limit: int | None = None,
) -> Finished:
    """Run ``command`` in a session of its own; kill its whole tree after ``timeout`` seconds,
    or as soon as the tree's RSS exceeds ``memory_limit`` bytes (before the machine swaps or
    its out-of-memory killer picks a victim).

    Whatever the child leaves running when it ends (a Dask worker it did not close) and does
    not end within ``grace`` seconds is killed too, and counted in ``leftover_processes``.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        child = subprocess.Popen(
            command, stdout=out, stderr=err, start_new_session=True, env=env, cwd=cwd, text=True
        )
        sampler = TreeSampler(
            child.pid, interval=interval, full_every=full_every, limit=memory_limit
        ).start()
        deadline = started + timeout
        timed_out = over_memory = False
        try:
            while child.poll() is None:
                over_memory = sampler.exceeded.is_set()
                timed_out = time.monotonic() >= deadline
                if over_memory or timed_out:
                    sampler.sample(full=False)  # the processes started since the last sample
                    _kill(sampler.tree(), own_child=child.pid)
                    child.wait()
                    break
                sampler.exceeded.wait(min(0.2, max(deadline - time.monotonic(), 0)))
        finally:
            memory = sampler.stop()
        wall = time.monotonic() - started
        killed = timed_out or over_memory
        # helpers that end on their own once their parent has gone (multiprocessing's resource
        # tracker) get a moment to do so before they count as left behind
        _, leftovers = psutil.wait_procs(sampler.survivors(), timeout=grace)
        names = [_name(process) for process in leftovers]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # the rest of its session, if any
        _kill(leftovers)
        out.seek(0)
        err.seek(0)
        return Finished(
            returncode=child.returncode,
            stdout=out.read(),
            stderr=err.read(),
            timed_out=timed_out,
            wall_seconds=round(wall, 2),
            over_memory=over_memory,
            memory=memory,
            leftover_processes=0 if killed else len(leftovers),
            leftover_names=[] if killed else names,
        )
