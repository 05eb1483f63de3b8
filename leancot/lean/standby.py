"""A standby Lean process: started in the background so that a restart costs a handover.

`Standby` starts a `ReplProcess` (process.py) on a thread and waits until it is ready; the
supervisor (supervisor.py) queues the headers it has cached (`replay`) and the standby elaborates
them, so that after a handover the header environments are there again under new handles. `take()`
hands the process over with the environments it replayed (header key -> raw `cmd` reply), or None
when it is not ready yet (the supervisor then starts a process the slow way).
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from typing import Any

from leancot.lean.backends import Backend
from leancot.lean.process import END_OF_OUTPUT, ReplProcess
from leancot.lean.protocol import encode_request, error_text, is_ready
from leancot.lean.results import LeanInfraError

logger = logging.getLogger(__name__)

HANDOVER_WAIT_S = 1.0  # how long `take` waits for a header replay in flight to finish


def exchange(
    proc: ReplProcess,
    request: dict[str, Any],
    timeout: float,
    stop: threading.Event | None = None,
) -> dict[str, Any] | None:
    """Send one request to an idle process and wait for its reply (the nonce checked when the
    framing has one); None on a timeout, death, garbage or once `stop` is set."""
    nonce = None
    if proc.backend.framing == "marker":
        nonce = secrets.token_hex(16)
        request = {**request, "nonce": nonce}
    proc.requests += 1
    proc.send(encode_request(request))
    deadline = time.monotonic() + timeout
    while (remaining := deadline - time.monotonic()) > 0:
        if stop is not None and stop.is_set():
            return None
        try:
            item = proc.responses.get(timeout=min(remaining, 0.05))
        except queue.Empty:
            continue
        if item is END_OF_OUTPUT or not isinstance(item, dict):
            return None
        if is_ready(item) or (nonce is not None and item.get("nonce") != nonce):
            continue
        return {k: v for k, v in item.items() if k != "nonce"}
    return None


class Standby:
    """One process being started (and fed headers) on a background thread."""

    def __init__(self, backend: Backend, startup_timeout: float, replay_timeout: float) -> None:
        self.backend = backend
        self.startup_timeout = startup_timeout
        self.replay_timeout = replay_timeout
        self.version: str | None = None
        self.error: str | None = None
        self._proc: ReplProcess | None = None
        self._starting: ReplProcess | None = None
        self._ready = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stop = threading.Event()
        self._headers: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._envs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._taken = False
        self._thread = threading.Thread(target=self._run, name="lean-standby", daemon=True)
        self._thread.start()

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._proc is not None and self._proc.alive()

    @property
    def healthy(self) -> bool:
        """Starting or ready (not failed, not dead, not taken)."""
        if self.error is not None or self._taken:
            return False
        return not self._ready.is_set() or self.ready

    def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the standby to be ready; whether it is."""
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if self.error is not None or time.monotonic() >= deadline:
                return False
        return self.ready

    def replay(self, key: str, header: str) -> None:
        """Elaborate `header` on the standby too (its environment is cached under `key`)."""
        with self._lock:
            if key not in self._envs and not self._taken:
                self._headers.put((key, header))

    def _run(self) -> None:
        try:
            proc = ReplProcess(self.backend)
        except LeanInfraError as e:
            self.error = str(e)
            return
        with self._lock:
            self._starting = proc
            closed = self._taken
        if closed:
            proc.kill()
            return
        try:
            self.version = proc.wait_ready(self.startup_timeout)
        except LeanInfraError as e:
            self.error = str(e)
            proc.kill()
            return
        with self._lock:
            if self._taken:  # closed while starting
                proc.kill()
                return
            self._proc, self._starting = proc, None
        self._ready.set()
        while (item := self._headers.get()) is not None:
            key, header = item
            self._idle.clear()
            try:
                reply = exchange(proc, {"cmd": header}, self.replay_timeout, self._stop)
                with self._lock:
                    if reply is not None and error_text(reply) is None and "env" in reply:
                        self._envs[key] = reply
            finally:
                self._idle.set()
            if reply is None:
                if not self._stop.is_set():
                    logger.info("the standby Lean process failed to replay a header")
                return

    def take(self) -> tuple[ReplProcess, str | None, dict[str, dict[str, Any]]] | None:
        """The ready process, its version and its replayed header replies; None if not ready
        (then the standby keeps starting, and a later `take` may succeed). A header replay still
        running after HANDOVER_WAIT_S is abandoned (its late reply carries a nonce of its own,
        which the new owner ignores)."""
        if not self.ready:
            return None
        self._idle.wait(HANDOVER_WAIT_S)
        with self._lock:
            self._taken = True
            proc, envs = self._proc, dict(self._envs)
            self._proc = None
        self._stop.set()
        self._headers.put(None)
        self._thread.join(timeout=1.0)  # it no longer reads the process's replies
        assert proc is not None
        return proc, self.version, envs

    def close(self) -> None:
        """Kill the standby process (if it is not taken)."""
        with self._lock:
            self._taken = True
            proc, self._proc = self._proc, None
            starting, self._starting = self._starting, None
        self._stop.set()
        self._headers.put(None)
        for p in (proc, starting):
            if p is not None:
                p.kill()
