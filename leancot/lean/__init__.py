"""Lean processes and the wire protocol: start a REPL, run commands and tactics, verify proofs.

Typical use: `with LeanServer(wasm_backend()) as server:` then
`state = server.start_proof("theorem t (n : Nat) : n + 0 = n")` and
`server.run_tac(state, "simp")`, or `verify(statement, proof, server=server)`.
"""

from leancot.lean.backends import Backend, native_backend, repl_backend, wasm_backend
from leancot.lean.pool import LeanPool
from leancot.lean.results import (
    CommandOutcome,
    CommandResult,
    Crashed,
    LeanCrashed,
    LeanError,
    LeanInfraError,
    LeanProtocolError,
    LeanStartupError,
    Message,
    ProofFinished,
    Sorry,
    StaleHandleError,
    TacticResult,
    TacticState,
    Timeout,
    TracedTactic,
)
from leancot.lean.screen import ScreenHit, screen
from leancot.lean.server import LeanServer, ServerStats
from leancot.lean.verdicts import FileReport, TheoremReport, Verdict
from leancot.lean.verify import check_file, verify

__all__ = [
    "Backend",
    "CommandOutcome",
    "CommandResult",
    "Crashed",
    "FileReport",
    "LeanCrashed",
    "LeanError",
    "LeanInfraError",
    "LeanPool",
    "LeanProtocolError",
    "LeanServer",
    "LeanStartupError",
    "Message",
    "ProofFinished",
    "ScreenHit",
    "ServerStats",
    "Sorry",
    "StaleHandleError",
    "TacticResult",
    "TacticState",
    "TheoremReport",
    "Timeout",
    "TracedTactic",
    "Verdict",
    "check_file",
    "native_backend",
    "repl_backend",
    "screen",
    "verify",
    "wasm_backend",
]
