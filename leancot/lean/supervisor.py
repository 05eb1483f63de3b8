"""Supervision of one Lean REPL process: timeouts, crashes, memory limits, recycling, stats.

`ReplSupervisor` owns a `ReplProcess` (process.py) and sends raw requests one at a time. A
request that times out, kills the process, runs out of memory or gets a garbled reply is answered
with a `Timeout`/`Crashed` value and the process is restarted; every restart bumps `generation`,
and a handle from an older generation raises `StaleHandleError` instead of silently meaning
something else in the new process (`env_handles`, handles.py). The Lean requests themselves
(commands, tactics, verification) are `LeanServer`'s, in server.py.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from leancot.lean.backends import Backend
from leancot.lean.handles import EnvHandles
from leancot.lean.process import END_OF_OUTPUT, GIB, ReplProcess
from leancot.lean.protocol import encode_request, is_ready
from leancot.lean.results import (
    Crashed,
    LeanCrashed,
    LeanProtocolError,
    LeanStartupError,
    StaleHandleError,
    Timeout,
)

logger = logging.getLogger(__name__)

WASM_RECYCLE_GB = 2.8  # default recycle threshold of embedded-Lean processes (RSS, whole tree)


@dataclass(frozen=True)
class ServerStats:
    """Counters of one LeanServer; RSS in bytes over the whole process tree."""

    requests: int
    restarts: int
    recycles: int
    timeouts: int
    crashes: int
    generation: int
    peak_rss: int
    process_peak_rss: tuple[int, ...]
    forged_replies: int = 0  # reply lines without the request's nonce (printed by checked code)

    @property
    def peak_rss_gb(self) -> float:
        return self.peak_rss / GIB


class ReplSupervisor:
    """Owns one Lean REPL process; use as a context manager (the process tree dies on exit).

    `request_timeout` is the per-request wall-clock budget in seconds. The process restarts after
    `max_requests` requests or above `max_rss_gb` GiB at the next safe point (`maybe_recycle`),
    and is killed at once above `hard_rss_gb` GiB during a request (reported as `Crashed`).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        request_timeout: float = 60.0,
        startup_timeout: float | None = None,
        max_requests: int | None = None,
        max_rss_gb: float | None = None,
        hard_rss_gb: float | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        if request_timeout <= 0:
            raise ValueError(f"request_timeout must be positive, got {request_timeout}")
        if max_requests is not None and max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, got {max_requests}")
        self.backend = backend
        self.request_timeout = request_timeout
        self.startup_timeout = (
            backend.startup_timeout if startup_timeout is None else startup_timeout
        )
        self.max_requests = max_requests
        if max_rss_gb is None and backend.name == "wasm":
            max_rss_gb = WASM_RECYCLE_GB  # the wasm32 heap caps Lean at 2 GiB
        self.max_rss = None if max_rss_gb is None else int(max_rss_gb * GIB)
        self.hard_rss = None if hard_rss_gb is None else int(hard_rss_gb * GIB)
        self.poll_interval = poll_interval
        self.generation = 0
        self.version: str | None = None
        self.env_handles = EnvHandles()
        self._proc: ReplProcess | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._started_once = False
        self._requests = self._restarts = self._recycles = self._timeouts = self._crashes = 0
        self._forged = 0
        self._old_peaks: list[int] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        pid = self._proc.pid if self._proc is not None else None
        name = type(self).__name__
        return f"{name}({self.backend.name}, pid={pid}, generation={self.generation})"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the process and wait until it is ready (no-op if it runs)."""
        with self._lock:
            self._check_open()
            if self._proc is None:
                self._spawn()

    def close(self) -> None:
        """Kill the process tree. Safe to call twice, and from another thread mid-request."""
        self._closed = True
        proc = self._proc
        if proc is not None:
            proc.kill()
        with self._lock:
            if self._proc is not None:
                self._retire(self._proc)
                self._proc = None

    def _check_open(self) -> None:
        if self._closed:
            raise LeanCrashed("the Lean server is closed")

    def _spawn(self) -> None:
        proc = ReplProcess(self.backend)
        try:
            self.version = proc.wait_ready(self.startup_timeout)
        except BaseException:
            proc.kill()
            raise
        if self._started_once:
            self.generation += 1
        self._started_once = True
        self._proc = proc

    def _retire(self, proc: ReplProcess) -> None:
        proc.kill()
        self._old_peaks.append(proc.peak_rss)

    def _restart(self, why: str) -> None:
        """Kill the current process and start a new one (a new generation)."""
        old, self._proc = self._proc, None
        if old is not None:
            self._retire(old)
        self.env_handles.clear_cache()
        self._check_open()
        self._restarts += 1
        logger.info("restarting the Lean process: %s", why)
        try:
            self._spawn()
        except LeanStartupError as e:
            self.generation += 1  # handles of the dead process are stale even if none runs now
            raise LeanCrashed(f"restarting Lean after {why} failed: {e}") from e

    def maybe_recycle(self) -> bool:
        """Restart if the process served `max_requests` or is above `max_rss_gb`; a safe point."""
        with self._lock:
            proc = self._proc
            if proc is None or self._closed:
                return False
            why = None
            if self.max_requests is not None and proc.requests >= self.max_requests:
                why = f"{proc.requests} requests"
            elif self.max_rss is not None:
                rss = proc.sample_rss()
                if rss > self.max_rss:
                    why = f"RSS {rss / GIB:.2f} GiB above {self.max_rss / GIB:.2f} GiB"
            if why is None:
                return False
            self._recycles += 1
            self._restart(f"recycling ({why})")
            return True

    # --- requests ----------------------------------------------------------------------------

    def request(
        self,
        obj: Mapping[str, Any],
        timeout: float | None = None,
        *,
        handle_generation: int | None = None,
    ) -> dict[str, Any] | Timeout | Crashed:
        """Send one raw request; the raw JSON reply, or Timeout/Crashed (the process restarted).

        `handle_generation` is the generation that issued a handle the request uses: if the
        process restarted since, StaleHandleError is raised and nothing is sent.
        """
        budget = self.request_timeout if timeout is None else timeout
        if budget <= 0:
            raise ValueError(f"timeout must be positive, got {budget}")
        nonce = None
        if self.backend.framing == "marker":
            # our REPL echoes it: a reply line printed by checked code cannot know it
            nonce = secrets.token_hex(16)
            obj = {**obj, "nonce": nonce}
        data = encode_request(obj)
        with self._lock:
            self._check_open()
            if self._proc is None:
                self._spawn()
            elif not self._proc.alive():
                self._restart("the process exited between requests")
            if handle_generation is not None and handle_generation != self.generation:
                raise StaleHandleError(
                    f"handle from Lean process generation {handle_generation}, but the server "
                    f"restarted since (now generation {self.generation}); start again from a "
                    "fresh command"
                )
            proc = self._proc
            assert proc is not None
            while not proc.responses.empty():  # nothing should be pending; drop strays
                if proc.responses.get_nowait() is END_OF_OUTPUT:
                    return self._crash(proc, "the Lean process died before the request was sent")
            self._requests += 1
            proc.requests += 1
            proc.send(data)
            deadline = time.monotonic() + budget
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._timeouts += 1
                    proc.sample_rss()
                    self._restart(f"a request ran past its {budget:g} s budget")
                    return Timeout(budget)
                try:
                    item = proc.responses.get(timeout=min(remaining, self.poll_interval))
                except queue.Empty:
                    rss = proc.sample_rss()
                    if self.hard_rss is not None and rss > self.hard_rss:
                        return self._crash(
                            proc,
                            f"memory: the Lean process tree used {rss / GIB:.2f} GiB, above the "
                            f"hard limit of {self.hard_rss / GIB:.2f} GiB",
                            kill_first=True,
                        )
                    continue
                if item is END_OF_OUTPUT:
                    return self._crash(proc, None)
                if isinstance(item, LeanProtocolError):
                    return self._crash(proc, str(item), kill_first=True)
                if is_ready(item):
                    continue
                if nonce is not None:
                    if item.get("nonce") != nonce:
                        self._forged += 1
                        logger.warning("ignored a reply line without this request's nonce")
                        continue
                    item = {k: v for k, v in item.items() if k != "nonce"}
                proc.sample_rss(max_age=1.0)
                return item

    def _crash(self, proc: ReplProcess, reason: str | None, kill_first: bool = False) -> Crashed:
        if kill_first:
            proc.kill()
        if self._closed:
            return Crashed("the Lean server was closed during the request")
        if reason is None:
            reason = proc.death_reason()
        self._crashes += 1
        self._restart(reason)
        return Crashed(reason)

    @property
    def stats(self) -> ServerStats:
        with self._lock:
            peaks = list(self._old_peaks)
            if self._proc is not None:
                peaks.append(self._proc.peak_rss)
            return ServerStats(
                requests=self._requests,
                restarts=self._restarts,
                recycles=self._recycles,
                timeouts=self._timeouts,
                crashes=self._crashes,
                generation=self.generation,
                peak_rss=max(peaks, default=0),
                process_peak_rss=tuple(peaks),
                forged_replies=self._forged,
            )
