"""Freeing Lean handles: the `forget` request and handle scopes, a part of `ReplSupervisor`.

Our REPL (`lean_project/LeanCot/Repl.lean`, section "Freeing handles") keeps every environment and
proof state it issued until a `forget` request frees them. `HandleFreeing.handle_scope()` collects
the handles issued inside it and frees them on exit, except the environments the server caches
(headers); the prover wraps each theorem in one and the extractor each file, so that the memory of
a long run stays flat instead of growing until a recycle. The community REPL has no `forget`: there
nothing is sent and the process is recycled as before.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from leancot.lean.handles import EnvHandles
from leancot.lean.protocol import error_text
from leancot.lean.results import Crashed, Timeout

logger = logging.getLogger(__name__)

FORGET_TIMEOUT_S = 30.0


class HandleFreeing:
    """`forget`, `handle_scope`, `open_scope`/`close_scope` for a supervisor (mixin)."""

    env_handles: EnvHandles
    _lock: threading.RLock
    _scopes: list[list[tuple[int, int]]]
    _can_forget: bool
    _forgotten: int
    _closed: bool
    _proc: Any

    def request(
        self, obj: Mapping[str, Any], timeout: float | None = None, **kw: Any
    ) -> dict[str, Any] | Timeout | Crashed:
        raise NotImplementedError

    def _note_issued(self, envs: list[int], states: list[int]) -> None:
        if self._scopes:
            self._scopes[-1].extend([(0, e) for e in envs] + [(1, p) for p in states])

    def forget(self, envs: Sequence[int] = (), proof_states: Sequence[int] = ()) -> int:
        """Free environments and proof states of the current process in Lean (our REPL's
        `forget` request); a later use of one raises StaleHandleError. The number freed."""
        with self._lock:
            return self._forget(list(envs), list(proof_states))

    def _forget(self, envs: list[int], states: list[int]) -> int:
        pinned = self.env_handles.pinned()
        envs = sorted({e for e in envs if e not in pinned})
        states = sorted(set(states))
        if not (envs or states) or not self._can_forget or self._proc is None:
            return 0
        reply = self.request({"forget": {"envs": envs, "proofStates": states}}, FORGET_TIMEOUT_S)
        if not isinstance(reply, dict):
            return 0
        if error_text(reply) is not None:
            logger.warning("this REPL cannot free handles: %s", error_text(reply))
            self._can_forget = False
            return 0
        self.env_handles.mark_forgotten(envs, states)
        self._forgotten += len(envs) + len(states)
        return len(envs) + len(states)

    def _forget_evicted(self) -> None:
        evicted = self.env_handles.take_evicted()
        if evicted:
            self._forget(evicted, [])

    @contextmanager
    def handle_scope(self) -> Iterator[None]:
        """Free, on exit, every handle issued inside (except cached environments): wrap the work
        of one theorem or file in it so that Lean's memory stays flat over a long run."""
        mark = self.open_scope()
        try:
            yield
        finally:
            self.close_scope(mark)

    def open_scope(self) -> int:
        """Start collecting issued handles; the scope's depth, for `close_scope`."""
        with self._lock:
            self._scopes.append([])
            return len(self._scopes)

    def close_scope(self, depth: int) -> int:
        """Free the handles issued since `open_scope` returned `depth` (and close inner scopes)."""
        with self._lock:
            issued: list[tuple[int, int]] = []
            while len(self._scopes) >= depth and self._scopes:
                issued.extend(self._scopes.pop())
            if self._closed or self._proc is None:
                return 0
            envs = [h for kind, h in issued if kind == 0]
            states = [h for kind, h in issued if kind == 1]
            freed = self._forget(envs, states)
            self._forget_evicted()
            return freed
