"""`LeanEnv`: the search's `Env` protocol on a `LeanServer` (which runs
`lean_project/LeanCot/Repl.lean`), in the environment of a theorem's header.

A handle dies with the Lean process that made it (a timeout or crash restarts the process); a
step on such a stale state replays the tactics that first reached it from a fresh start of the
proof, so a search goes on across restarts. The handles of one theorem (its proof states, the
verification's environment) are freed in Lean when the next theorem starts (`handle_scope`,
leancot/lean/freeing.py), so memory stays flat over a run.
"""

from __future__ import annotations

from leancot.lean.results import (
    CommandResult,
    LeanError,
    StaleHandleError,
    TacticResult,
    TacticState,
)
from leancot.lean.server import LeanServer
from leancot.prover.theorems import bare_statement, goal_command


class LeanEnv:
    """The `Env` protocol on a `LeanServer`, in the environment of `header` (imports, opens).

    Handles die with the Lean process (a timeout or crash restarts it); a step on a stale state
    replays the tactics that first reached it from a fresh start. `replays` counts those.
    """

    def __init__(self, server: LeanServer, header: str = "") -> None:
        self.server = server
        self.header = header
        self.replays = 0
        self._statement: str | None = None
        self._paths: dict[str, tuple[str, ...]] = {}
        self._fresh: dict[str, TacticState] = {}
        self._scope: int | None = None  # the server's handle scope of the current theorem

    def use_header(self, header: str) -> None:
        """Prove the next theorems in the environment of `header` (cached per header by the
        server); a theorem from a file carries the file's text before it as its header."""
        self.header = header

    def _start(self, statement: str, timeout: float | None) -> TacticResult:
        env = None
        if self.header.strip():
            hdr = self.server.header_env(self.header, timeout)
            if not isinstance(hdr, CommandResult):
                return hdr
            if not hdr.ok:
                return LeanError("the header does not elaborate", hdr.messages)
            env = hdr
        return self.server.start_proof(goal_command(statement), env, timeout)

    def free_handles(self) -> None:
        """Free the handles of the last theorem."""
        if self._scope is not None:
            self.server.close_scope(self._scope)
            self._scope = None

    def close(self) -> None:
        """Done with this env: free the handles of the last theorem (the server stays up)."""
        self.free_handles()

    def start(self, statement: str, timeout: float | None = None) -> TacticResult:
        self.free_handles()  # a safe point: no handle of the last theorem is needed
        self._scope = self.server.open_scope()
        self.server.maybe_recycle()
        self._statement = statement = bare_statement(statement)
        self._paths.clear()
        self._fresh.clear()
        result = self._start(statement, timeout)
        if isinstance(result, TacticState):
            self._paths[result.pp] = ()
            self._fresh[result.pp] = result
        return result

    def step(self, state: TacticState, tactic: str, timeout: float | None = None) -> TacticResult:
        for attempt in range(2):
            handle = self._current(state, timeout)
            if not isinstance(handle, TacticState):
                return handle
            try:
                result = self.server.run_tac(handle, tactic, timeout)
            except StaleHandleError:
                if attempt:
                    raise
                continue
            if isinstance(result, TacticState):
                path = self._paths.get(state.pp, ()) + (tactic,)
                self._paths.setdefault(result.pp, path)
                self._fresh[result.pp] = result
            return result
        raise AssertionError("unreachable")

    def _current(self, state: TacticState, timeout: float | None) -> TacticResult:
        """A handle for `state` valid in the current Lean process (replaying if needed)."""
        generation = self.server.generation
        if state.generation == generation:
            return state
        cached = self._fresh.get(state.pp)
        if cached is not None and cached.generation == generation:
            return cached
        path = self._paths.get(state.pp)
        if path is None or self._statement is None:
            return LeanError(f"stale state with no known path to replay:\n{state.pp}")
        self.replays += 1
        current = self._start(self._statement, timeout)
        tactics = iter(path)
        while isinstance(current, TacticState):
            self._fresh[current.pp] = current  # every state on the way is fresh now
            tac = next(tactics, None)
            if tac is None:
                break
            current = self.server.run_tac(current, tac, timeout)
        if not isinstance(current, TacticState) or current.pp != state.pp:
            return LeanError(
                f"replaying {len(path)} tactics after a restart did not reach the state"
            )
        self._fresh[state.pp] = current
        return current
