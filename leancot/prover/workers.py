"""Proving a theorem list on Lean servers: one search thread per server, every claimed proof
re-checked from scratch by `leancot.lean.verify`.

- `FileContextEnv`: a `LeanEnv` that elaborates each theorem's header (its file context) with the
  server's start-up budget before the search starts: set-up work, not a step of the search, so a
  long header never hits the per-tactic timeout (which restarts Lean).
- `WorkerServers`: binds one server to each prover thread and verifies on that thread's server.
- `prove_theorems`: `runner.prove_all` over both; a restated core lemma's proof may not use the
  lemma itself (`core_lemmas.forbid_source_lemmas`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leancot.lean.server import LeanServer
from leancot.prover.benchmarks import Theorem
from leancot.prover.budget import Budget
from leancot.prover.core_lemmas import forbid_source_lemmas
from leancot.prover.lean_env import LeanEnv
from leancot.prover.runner import prove_all
from leancot.prover.search_log import RunSummary


class FileContextEnv(LeanEnv):
    """A `LeanEnv` whose header (set by the runner's `use_header`) is elaborated before each
    theorem without the per-tactic timeout; the search then reuses the cached environment."""

    def start(self, statement: str, timeout: float | None = None) -> Any:
        if self.header.strip():
            self.server.header_env(self.header)
        return super().start(statement, timeout)


class WorkerServers:
    """One LeanServer per prover thread: `make_env` binds the next server to the calling
    thread, `verify` checks proofs on the server of the thread that asks."""

    def __init__(
        self,
        servers: Sequence[LeanServer],
        verify_timeout: float | None,
        trust_header: bool = False,
    ) -> None:
        self.servers = list(servers)
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
        return FileContextEnv(server)

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


def prove_theorems(
    theorems: Sequence[Theorem],
    servers: Sequence[LeanServer],
    *,
    method: str,
    policy: Any,
    out_path: Path,
    budget: Budget,
    value: Any = None,
    search_kwargs: Mapping[str, Any] | None = None,
    progress: bool = True,
    trust_header: bool = False,
) -> RunSummary:
    """`prove_all` with one worker per server; every claimed proof re-checked by `verify`
    (the theorems' headers are untrusted text too unless `trust_header`), and refused when it
    uses the core lemma its theorem restates."""
    workers = WorkerServers(
        servers, verify_timeout=budget.theorem_wall_s, trust_header=trust_header
    )
    return prove_all(
        theorems,
        workers.make_env,
        method=method,
        policy=policy,
        verify=forbid_source_lemmas(workers.verify, theorems),
        out_path=out_path,
        value=value,
        budget=budget,
        workers=len(servers),
        search_kwargs=search_kwargs,
        progress=progress,
    )
