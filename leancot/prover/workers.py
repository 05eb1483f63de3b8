"""Proving a theorem list on Lean servers: one search thread per server, every claimed proof
re-checked from scratch by `leancot.lean.verify`.

- `FileContextEnv`: a `LeanEnv` that elaborates each theorem's header (its file context) with the
  server's start-up budget before the search starts: set-up work, not a step of the search, so a
  long header never hits the per-tactic timeout (which restarts Lean). For a restated core
  lemma it is ban-aware: a tactic naming the lemma is refused without a Lean call, and a step
  that closes the proof is checked at once by the same `forbid_source_lemmas` check the final
  verdict uses; a closing the ban refuses becomes an error edge, so the search goes on to look
  for an honest proof (`omega`, `decide`, `induction ...`) instead of stopping on one the
  verifier will reject. The final verification is unchanged.
- `WorkerServers`: binds one server to each prover thread and verifies on that thread's server.
- `PooledServers`: routes each theorem instead (`PooledEnv`): the search and the verification of
  a theorem run on the pool server that already holds its header's environment when one is free
  (`LeanPool.acquire(header=...)`, as kimina-lean-server keeps a REPL per import header), so a
  suite whose theorems come from several files elaborates each header about once per server.
- `prove_theorems`: `runner.prove_all` over `PooledServers`; a restated core lemma's proof may
  not use the lemma itself (`core_lemmas.forbid_source_lemmas`).
- `prove_theorems_ray`: the same on Ray actors (`distributed.prove_all_ray`), each starting a
  Lean server of its own (`OwnLeanServer`) and verifying on it (`VerifyOnActorServer`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leancot.lean.pool import LeanPool
from leancot.lean.results import LeanError, ProofFinished, TacticResult, TacticState
from leancot.lean.server import LeanServer
from leancot.prover.benchmarks import Theorem
from leancot.prover.budget import Budget
from leancot.prover.core_lemmas import banned_constant, forbid_source_lemmas, uses_constant
from leancot.prover.lean_env import LeanEnv
from leancot.prover.runner import format_proof, prove_all
from leancot.prover.search_log import RunSummary

logger = logging.getLogger(__name__)


class FileContextEnv(LeanEnv):
    """A `LeanEnv` whose header (set by the runner's `use_header`) is elaborated before each
    theorem without the per-tactic timeout; the search then reuses the cached environment.

    `banned`: statement -> the constant its proof may not use (restated core lemmas); `check`:
    `verify(statement, proof, header)` with that ban applied. On such a theorem a tactic naming
    the constant is refused without a Lean call, and a step that closes the proof is checked by
    `check` (one verification, not counted as a search step); a refused closing is an error."""

    def __init__(
        self,
        server: LeanServer,
        header: str = "",
        *,
        banned: Mapping[str, str] | None = None,
        check: Callable[[str, str, str], object] | None = None,
    ) -> None:
        super().__init__(server, header)
        self.banned = dict(banned or {})
        self.check = check
        self._theorem: tuple[str, str] | None = None  # (statement, its banned constant)
        self.refused = 0  # closings the ban refused during the searches

    def start(self, statement: str, timeout: float | None = None) -> Any:
        if self.header.strip():
            self.server.header_env(self.header)
        constant = self.banned.get(statement)
        self._theorem = (statement, constant) if constant is not None else None
        return super().start(statement, timeout)

    def step(self, state: TacticState, tactic: str, timeout: float | None = None) -> TacticResult:
        if self._theorem is None:
            return super().step(state, tactic, timeout)
        statement, constant = self._theorem
        if uses_constant(tactic, constant):
            return LeanError(f"the tactic names {constant}, the lemma this theorem restates")
        result = super().step(state, tactic, timeout)
        if isinstance(result, ProofFinished) and self.check is not None:
            proof = format_proof([*self._paths.get(state.pp, ()), tactic])
            verdict = self.check(statement, proof, self.header)
            if not bool(getattr(verdict, "ok", verdict)):
                self.refused += 1
                reasons = "; ".join(map(str, getattr(verdict, "reasons", ()))) or "refused"
                return LeanError(f"the proof is refused: {reasons}", result.messages)
        return result


class WorkerServers:
    """One LeanServer per prover thread: `make_env` binds the next server to the calling
    thread, `verify` checks proofs on the server of the thread that asks."""

    def __init__(
        self,
        servers: Sequence[LeanServer],
        verify_timeout: float | None,
        trust_header: bool = False,
        *,
        banned: Mapping[str, str] | None = None,
        check: Callable[[str, str, str], object] | None = None,
    ) -> None:
        self.servers = list(servers)
        self.banned = dict(banned or {})
        self.check = check
        self.verify_timeout = verify_timeout
        self.trust_header = trust_header
        self._local = threading.local()
        self._next = 0
        self._lock = threading.Lock()

    def make_env(self) -> FileContextEnv:
        with self._lock:
            server = self.servers[self._next % len(self.servers)]
            self._next += 1
        self._local.server = server
        return FileContextEnv(server, banned=self.banned, check=self.check)

    def verify(self, statement: str, proof: str, header: str = "") -> Any:
        """`leancot.lean.verify` from scratch: the header, then the theorem with its proof."""
        from leancot.lean.verify import verify

        server = getattr(self._local, "server", None) or self.servers[0]
        return verify(
            statement,
            proof,
            header,
            server=server,
            timeout=self.verify_timeout,
            trust_header=self.trust_header,
        )


class PooledServers(WorkerServers):
    """Theorem-level routing on a `LeanPool`: `make_env` gives each prover thread a `PooledEnv`,
    which leases, for each theorem, the free server holding the theorem's header (the search
    and its verification both run there); `verify` checks on the server the calling thread
    leases. The pool's `header_hit_rate` counts the leases that found their header cached."""

    def __init__(
        self,
        pool: LeanPool,
        verify_timeout: float | None,
        trust_header: bool = False,
        *,
        banned: Mapping[str, str] | None = None,
        check: Callable[[str, str, str], object] | None = None,
    ) -> None:
        super().__init__(pool.servers, verify_timeout, trust_header, banned=banned, check=check)
        self.pool = pool

    def make_env(self) -> PooledEnv:
        return PooledEnv(self, banned=self.banned, check=self.check)

    def bind(self, server: LeanServer | None) -> None:
        """The server the calling thread's verifications run on (None: none leased)."""
        self._local.server = server


class PooledEnv(FileContextEnv):
    """A `FileContextEnv` that holds a pool server for one theorem at a time: `use_header` (the
    runner calls it before each theorem) frees the last theorem's handles, returns its server to
    the pool and leases the one `LeanPool.acquire(header=...)` routes the new header to; `start`
    leases one if none is held; `close` returns it."""

    def __init__(
        self,
        workers: PooledServers,
        *,
        banned: Mapping[str, str] | None = None,
        check: Callable[[str, str, str], object] | None = None,
    ) -> None:
        super().__init__(workers.pool.servers[0], banned=banned, check=check)
        self.workers = workers
        self._lease: contextlib.ExitStack | None = None

    @property
    def leased(self) -> bool:
        """Whether this env holds a pool server now."""
        return self._lease is not None

    def use_header(self, header: str) -> None:
        super().use_header(header)
        self._take(header)

    def start(self, statement: str, timeout: float | None = None) -> Any:
        if self._lease is None:
            self._take(self.header)
        return super().start(statement, timeout)

    def close(self) -> None:
        self._give_back()

    def _take(self, header: str) -> None:
        """Give the held server back and lease the one the pool routes `header` to."""
        self._give_back()
        lease = contextlib.ExitStack()
        self.server = lease.enter_context(
            self.workers.pool.acquire(header=header if header.strip() else None)
        )
        self._lease = lease
        self.workers.bind(self.server)

    def _give_back(self) -> None:
        """Free the last theorem's handles on the held server, then return it to the pool."""
        if self._lease is None:
            return
        try:
            self.free_handles()
        finally:
            lease, self._lease = self._lease, None
            self.workers.bind(None)
            lease.close()


def prove_theorems(
    theorems: Sequence[Theorem],
    servers: Sequence[LeanServer] | LeanPool,
    *,
    method: str,
    policy: Any,
    out_path: Path,
    budget: Budget,
    value: Any = None,
    search_kwargs: Mapping[str, Any] | None = None,
    progress: bool = True,
    trust_header: bool = False,
    ban_aware: bool = True,
) -> RunSummary:
    """`prove_all` with one worker per server; every claimed proof re-checked by `verify`
    (the theorems' headers are untrusted text too unless `trust_header`), and refused when it
    uses the core lemma its theorem restates. With `ban_aware` the searches of restated core
    lemmas check each closing against that ban as they go (`FileContextEnv`); without it they
    stop at the first closing and the final verdict alone applies the ban.

    Each theorem is routed to a server holding its header (`PooledServers`); `servers` may be a
    `LeanPool` or running servers (pooled here for the routing; the caller still owns them)."""
    pool = servers if isinstance(servers, LeanPool) else LeanPool.from_servers(servers)
    workers = PooledServers(pool, verify_timeout=budget.theorem_wall_s, trust_header=trust_header)
    checked = forbid_source_lemmas(workers.verify, theorems)
    if ban_aware:
        workers.banned = {
            str(t["statement"]): c for t in theorems if (c := banned_constant(t)) is not None
        }
        workers.check = checked
    summary = prove_all(
        theorems,
        workers.make_env,
        method=method,
        policy=policy,
        verify=checked,
        out_path=out_path,
        value=value,
        budget=budget,
        workers=pool.n,
        search_kwargs=search_kwargs,
        progress=progress,
    )
    if pool.header_hit_rate is not None:
        logger.info(
            "header routing: %d of %d theorem leases found their header cached",
            pool.header_hits,
            pool.header_requests,
        )
    return summary


class OwnServerEnv(FileContextEnv):
    """A `FileContextEnv` that owns its server: `close()` stops the Lean process."""

    def close(self) -> None:
        super().close()
        self.server.close()


@dataclass(frozen=True)
class OwnLeanServer:
    """`make_env` of a Ray actor: start a Lean server of its own on the node it runs on.

    `make_backend` (e.g. `leancot.lean.backends.wasm_backend`) is called in the actor, so the
    backend finds that node's Lean; it must pickle (a module-level function or a partial)."""

    make_backend: Callable[[], Any]
    request_timeout: float = 600.0

    def __call__(self) -> OwnServerEnv:
        server = LeanServer(self.make_backend(), request_timeout=self.request_timeout)
        server.start()
        return OwnServerEnv(server)


@dataclass(frozen=True)
class VerifyOnActorServer:
    """`make_verify` of a Ray actor: `leancot.lean.verify` from scratch on the actor's own
    server, with the core-lemma ban of `prove_theorems`."""

    verify_timeout: float | None
    trust_header: bool = False
    theorems: tuple[Mapping[str, Any], ...] = field(default=())

    def __call__(self, env: FileContextEnv) -> Callable[..., Any]:
        workers = WorkerServers([env.server], self.verify_timeout, self.trust_header)
        return forbid_source_lemmas(workers.verify, self.theorems)


def prove_theorems_ray(
    theorems: Sequence[Theorem],
    make_backend: Callable[[], Any],
    *,
    num_workers: int,
    method: str,
    policy: Any,
    out_path: Path,
    budget: Budget,
    address: str | None,
    value: Any = None,
    search_kwargs: Mapping[str, Any] | None = None,
    progress: bool = True,
    trust_header: bool = False,
    request_timeout: float = 600.0,
) -> RunSummary:
    """`prove_theorems` on `num_workers` Ray actors (one CPU and one Lean server each) of the
    cluster at `address` (`ray.init`'s: "auto", "ray://HOST:10001", "local", or None: the
    cluster of `RAY_ADDRESS` or of `ray start` on this machine, else a new local one)."""
    from leancot.prover.distributed import prove_all_ray

    return prove_all_ray(
        theorems,
        OwnLeanServer(make_backend, request_timeout),
        num_workers=num_workers,
        method=method,
        policy=policy,
        out_path=out_path,
        make_verify=VerifyOnActorServer(budget.theorem_wall_s, trust_header, tuple(theorems)),
        value=value,
        budget=budget,
        search_kwargs=search_kwargs,
        address=address,
        progress=progress,
    )
