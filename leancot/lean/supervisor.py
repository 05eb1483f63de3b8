"""Supervision of one Lean REPL process: timeouts, crashes, memory limits, recycling, standby,
freeing handles, stats.

`ReplSupervisor` owns a `ReplProcess` (process.py) and sends raw requests one at a time. Each
command and tactic carries a heartbeat limit derived from its wall-clock budget (limits.py), so a
runaway tactic ends inside Lean and the same process serves the next request: that reply is
answered with a `Timeout` value and nothing restarts. A request that Lean does not answer by its
hard deadline (the budget plus a grace), that kills the process, runs out of memory or gets a
garbled reply is answered with `Timeout`/`Crashed` and the process is replaced: by the standby
process when there is one (standby.py: a handover, with the cached header environments replayed)
or by a fresh start. Every replacement bumps `generation`, and a handle from an older generation
raises `StaleHandleError` instead of silently meaning something else in the new process
(`env_handles`, handles.py); so does a handle freed by `forget` (a `handle_scope` frees what a
theorem made). The Lean requests themselves (commands, tactics, verification) are `LeanServer`'s,
in server.py.
"""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Mapping
from typing import Any, Self

from leancot.lean.backends import Backend
from leancot.lean.freeing import HandleFreeing
from leancot.lean.handles import DEFAULT_CACHED_ENVS, HEADER_PREFIX, EnvHandles
from leancot.lean.limits import (
    HARD_GRACE_S,
    default_heartbeat_rate,
    hard_deadline_s,
    heartbeat_limit,
    hit_heartbeat_limit,
    reply_handles,
    with_heartbeats,
)
from leancot.lean.process import END_OF_OUTPUT, GIB, ReplProcess
from leancot.lean.protocol import encode_request, is_ready, parse_command_response
from leancot.lean.results import (
    CommandResult,
    Crashed,
    LeanCrashed,
    LeanProtocolError,
    LeanStartupError,
    StaleHandleError,
    Timeout,
)
from leancot.lean.standby import Standby
from leancot.lean.stats import ServerStats

logger = logging.getLogger(__name__)

WASM_RECYCLE_GB = 2.8  # default recycle threshold of embedded-Lean processes (RSS, whole tree)
WASM_HARD_RSS_GB = 3.5  # default kill threshold of embedded-Lean processes (RSS, whole tree)


class ReplSupervisor(HandleFreeing):
    """Owns one Lean REPL process; use as a context manager (the process tree dies on exit).

    `request_timeout` is the per-request wall-clock budget in seconds; each command and tactic
    runs under `heartbeats_per_s` times its budget heartbeats (None: the backend's default rate,
    limits.py; 0: no heartbeat limit), and an unanswered request is killed `hard_grace_s` after
    its budget. The process restarts after `max_requests` requests or above `max_rss_gb` GiB at
    the next safe point (`maybe_recycle`), and is killed at once above `hard_rss_gb` GiB during a
    request (reported as `Crashed`). With `standby`, a second process is kept started in the
    background and takes over on any restart. At most `cached_envs` environments are cached.
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
        standby: bool = False,
        heartbeats_per_s: float | None = None,
        hard_grace_s: float = HARD_GRACE_S,
        cached_envs: int = DEFAULT_CACHED_ENVS,
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
        if backend.name == "wasm":  # the wasm32 heap caps Lean at 2 GiB: police the RSS
            max_rss_gb = WASM_RECYCLE_GB if max_rss_gb is None else max_rss_gb
            hard_rss_gb = WASM_HARD_RSS_GB if hard_rss_gb is None else hard_rss_gb
        self.max_rss = None if max_rss_gb is None else int(max_rss_gb * GIB)
        self.hard_rss = None if hard_rss_gb is None else int(hard_rss_gb * GIB)
        self.poll_interval = poll_interval
        if heartbeats_per_s is None:
            heartbeats_per_s = default_heartbeat_rate(backend.name, backend.framing)
        self.heartbeats_per_s = heartbeats_per_s or None
        self.hard_grace_s = hard_grace_s
        self.use_standby = standby
        self.generation = 0
        self.version: str | None = None
        self.env_handles = EnvHandles(cached_envs)
        self._standby: Standby | None = None
        self._scopes: list[list[tuple[int, int]]] = []  # per open scope: (kind, handle) issued
        self._can_forget = backend.framing == "marker"
        self._proc: ReplProcess | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._started_once = False
        self._requests = self._restarts = self._recycles = self._timeouts = self._crashes = 0
        self._forged = self._lean_timeouts = self._handovers = self._forgotten = 0
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

    @property
    def private_dir(self) -> str | None:
        """The current process's private writable directory (see `Backend.private_dir_env`), the
        same path inside the WASM Lean as on the host; None without one or before `start`."""
        proc = self._proc
        return proc.private_dir if proc is not None else None

    @property
    def standby_ready(self) -> bool:
        """Whether a standby process is started and ready to take over."""
        standby = self._standby
        return standby is not None and standby.ready

    def current_rss(self) -> int:
        """Resident memory of the current process tree in bytes, sampled now (0 if none runs)."""
        proc = self._proc
        return proc.sample_rss() if proc is not None else 0

    def start(self) -> None:
        """Start the process and wait until it is ready (no-op if it runs)."""
        with self._lock:
            self._check_open()
            if self._proc is None:
                self._spawn()

    def close(self) -> None:
        """Kill the process tree. Safe to call twice, and from another thread mid-request."""
        self._closed = True
        proc, standby = self._proc, self._standby
        if standby is not None:
            standby.close()
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
        self._ensure_standby()

    def _ensure_standby(self) -> None:
        """Start a standby process in the background if there should be one and none is alive."""
        if not self.use_standby or self._closed:
            return
        if self._standby is not None and self._standby.healthy:
            return
        if self._standby is not None:
            self._standby.close()
        budget = max(self.request_timeout, self.startup_timeout)
        self._standby = Standby(self.backend, self.startup_timeout, budget)
        for key in self.env_handles.keys():
            if key.startswith(HEADER_PREFIX):
                self._standby.replay(key, key.removeprefix(HEADER_PREFIX))

    def set_standby(self, on: bool) -> None:
        """Keep a standby process from now on (started in the background), or stop keeping one."""
        with self._lock:
            self.use_standby = on
            if on and self._proc is not None:
                self._ensure_standby()
            elif not on and self._standby is not None:
                self._standby.close()
                self._standby = None

    def replay_on_standby(self, key: str, header: str) -> None:
        """Have the standby process (if any) elaborate `header` too, cached under `key`."""
        standby = self._standby
        if standby is not None:
            standby.replay(key, header)

    def _retire(self, proc: ReplProcess, background: bool = False) -> None:
        self._old_peaks.append(proc.peak_rss)
        if background:  # a handover: the caller should not wait for the old tree to be reaped
            threading.Thread(target=proc.kill, name="lean-retire", daemon=True).start()
        else:
            proc.kill()

    def _handover(self) -> bool:
        """Make the standby process the current one (a new generation); False if there is none.
        A standby still starting is waited for: it started before any fresh process could."""
        standby = self._standby
        if standby is None or not standby.healthy or not standby.wait(self.startup_timeout):
            return False
        taken = standby.take()
        if taken is None:
            return False
        self._standby = None
        proc, version, replies = taken
        self.generation += 1
        self._proc, self.version = proc, version
        envs: dict[str, CommandResult] = {}
        for key, reply in replies.items():
            result = parse_command_response(reply, self.generation)
            if isinstance(result, CommandResult) and result.ok:
                envs[key] = result
        self.env_handles.install(envs, self.generation)
        self._handovers += 1
        self._ensure_standby()
        return True

    def _restart(self, why: str) -> None:
        """Replace the current process: the standby's handover, else a fresh start (a new
        generation either way)."""
        old, self._proc = self._proc, None
        self._scopes = [[] for _ in self._scopes]  # their handles died with the process
        self._check_open()
        self._restarts += 1
        logger.info("restarting the Lean process: %s", why)
        if self._handover():
            if old is not None:
                self._retire(old, background=True)
            return
        if old is not None:
            self._retire(old)
        self.env_handles.clear_cache()
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
                self._forget_evicted()
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
        """Send one raw request; the raw JSON reply, or Timeout/Crashed.

        A command or tactic gets a heartbeat limit from its budget (unless it sets its own): a
        reply saying that limit was reached is a `Timeout` and the process lives on. Unanswered at
        the hard deadline, the process is replaced and the answer is `Timeout` too.
        `handle_generation` is the generation that issued a handle the request uses: if the
        process restarted since, StaleHandleError is raised and nothing is sent; so it is for a
        handle freed by `forget`.
        """
        budget = self.request_timeout if timeout is None else timeout
        if budget <= 0:
            raise ValueError(f"timeout must be positive, got {budget}")
        limit = None
        if self.heartbeats_per_s is not None:
            obj, limit = with_heartbeats(obj, heartbeat_limit(budget, self.heartbeats_per_s))
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
            env, state = obj.get("env"), obj.get("proofState")
            self.env_handles.check_live(
                env if isinstance(env, int) else None, state if isinstance(state, int) else None
            )
            proc = self._proc
            assert proc is not None
            while not proc.responses.empty():  # nothing should be pending; drop strays
                if proc.responses.get_nowait() is END_OF_OUTPUT:
                    return self._crash(proc, "the Lean process died before the request was sent")
            self._requests += 1
            proc.requests += 1
            proc.send(data)
            deadline = time.monotonic() + hard_deadline_s(budget, self.hard_grace_s)
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
                envs, states = reply_handles(item)
                if limit is not None and hit_heartbeat_limit(item, limit):
                    self._timeouts += 1
                    self._lean_timeouts += 1
                    self._forget(envs, states)  # the caller never sees these handles
                    return Timeout(budget)
                self._note_issued(envs, states)
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
                lean_timeouts=self._lean_timeouts,
                handovers=self._handovers,
                header_hits=self.env_handles.hits,
                header_misses=self.env_handles.misses,
                forgotten=self._forgotten,
            )
