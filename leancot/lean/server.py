"""The Lean request API: commands, tactics and verification on one supervised REPL process.

`LeanServer` runs `lean_project/LeanCot/Repl.lean` (or the community `repl` binary; see
backends.py) under a `ReplSupervisor` (supervisor.py: timeouts, crashes, memory limits,
recycling, stats) and turns its replies into values (results.py): `run_cmd`, `start_proof`,
`run_tac`, `verify_text`, and environments cached per process (`header_env`, `memo_env`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from leancot.lean.handles import header_key
from leancot.lean.protocol import (
    command_request,
    parse_command_response,
    parse_tactic_response,
    start_from_command,
    tactic_request,
)
from leancot.lean.results import (
    CommandOutcome,
    CommandResult,
    Crashed,
    LeanError,
    LeanProtocolError,
    TacticResult,
    TacticState,
    Timeout,
)
from leancot.lean.supervisor import ReplSupervisor, ServerStats


class LeanServer(ReplSupervisor):
    """Lean requests on one supervised REPL process; use as a context manager (the process tree
    dies on exit). The limits (`request_timeout`, `max_requests`, `max_rss_gb`, ...) are
    `ReplSupervisor`'s; a handle (`CommandResult`, `TacticState`) from before a restart raises
    `StaleHandleError`.
    """

    def run_cmd(
        self,
        cmd: str,
        env: CommandResult | int | None = None,
        timeout: float | None = None,
        *,
        all_tactics: bool = False,
    ) -> CommandOutcome:
        """Elaborate `cmd` in `env` (None: process its own imports; a recycle point).

        `all_tactics=True` also returns every tactic run, with its goals (`CommandResult.tactics`).
        """
        if env is None:
            self.maybe_recycle()
        env_id, generation = self.env_handles.resolve(env, self.generation)
        request = command_request(cmd, env_id, all_tactics)
        raw = self.request(request, timeout, handle_generation=generation)
        if isinstance(raw, (Timeout, Crashed)):
            return raw
        result = parse_command_response(raw, self.generation)
        if isinstance(result, CommandResult):
            self.env_handles.record(result.env, self.generation)
        return result

    def header_env(self, header: str, timeout: float | None = None) -> CommandOutcome:
        """The environment of a header (import lines), cached per header while the process lives.

        Importing is start-up work: the default budget is `startup_timeout`, not `request_timeout`.
        The cache is an LRU: a later `header_env`/`memo_env` may evict this environment and free it
        in Lean, so fetch it again rather than hold it across such calls.
        """
        self.maybe_recycle()
        budget = max(self.request_timeout, self.startup_timeout) if timeout is None else timeout
        key = header_key(header)
        result = self.memo_env(key, lambda: self.run_cmd(header, None, budget))
        if isinstance(result, CommandResult) and result.ok:
            self.replay_on_standby(key, header)
        return result

    def memo_env(self, key: str, make: Callable[[], CommandOutcome]) -> CommandOutcome:
        """`make()`'s environment, cached under `key` while the process lives (if it is ok)."""
        cached = self.env_handles.cached(key, self.generation)
        if cached is not None:
            return cached
        result = make()
        if isinstance(result, CommandResult) and result.ok:
            self.env_handles.remember(key, result, self.generation)
        return result

    def verify_text(
        self,
        text: str,
        env: CommandResult | int | None,
        *,
        mode: str,
        reference: str | None = None,
        fields: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any] | Timeout | Crashed:
        """Our REPL's `verify` request (see Repl.lean and verify.py): Lean's raw findings.

        `mode` "theorem" checks one theorem against `reference` (its statement with `:= sorry`);
        "file" checks the commands of a file (and stores the environment, `env` in the reply).
        """
        if self.backend.framing != "marker":
            raise ValueError(
                "verification needs leancot's own REPL (the wasm or native backend): the "
                f"{self.backend.name!r} backend has no `verify` request"
            )
        env_id, generation = self.env_handles.resolve(env, self.generation)
        request: dict[str, Any] = {"verify": text, "mode": mode}
        if env_id is not None:  # absent: the base environment
            request["env"] = env_id
        if reference is not None:
            request["reference"] = reference
        request.update(fields or {})
        raw = self.request(request, timeout, handle_generation=generation)
        if isinstance(raw, dict) and isinstance(raw.get("env"), int):
            self.env_handles.record(raw["env"], self.generation)
        return raw

    def library_constants(
        self,
        roots: Sequence[str] = ("Init",),
        kinds: Sequence[str] = ("theorem",),
        env: CommandResult | int | None = None,
        timeout: float | None = None,
    ) -> list[dict[str, Any]]:
        """The constants that modules under `roots` declare, of `kinds` ("theorem", "axiom",
        "definition", ...), in the environment `env` (its imports): our REPL's `constants`
        request. Each is `{"name", "kind", "module", "levels"}`."""
        if self.backend.framing != "marker":
            raise ValueError(
                f"listing constants needs leancot's own REPL, not the {self.backend.name!r} backend"
            )
        env_id, generation = self.env_handles.resolve(env, self.generation)
        request: dict[str, Any] = {"constants": True, "roots": list(roots), "kinds": list(kinds)}
        if env_id is not None:  # absent: the base environment
            request["env"] = env_id
        raw = self.request(request, timeout, handle_generation=generation)
        if not isinstance(raw, dict) or not isinstance(raw.get("constants"), list):
            message = raw.get("message", raw) if isinstance(raw, dict) else raw
            raise LeanProtocolError(f"listing constants failed: {message}")
        return list(raw["constants"])

    def start_proof(
        self, statement: str, env: CommandResult | int | None = None, timeout: float | None = None
    ) -> TacticState | LeanError | Timeout | Crashed:
        """The goal of a theorem statement (` := by sorry` is appended if it has no `:=`)."""
        cmd = statement if ":=" in statement else statement.rstrip() + " := by sorry"
        result = self.run_cmd(cmd, env, timeout)
        if not isinstance(result, CommandResult):
            return result
        return start_from_command(result)

    def run_tac(
        self, state: TacticState, tactic: str, timeout: float | None = None
    ) -> TacticResult:
        """Run one tactic on a proof state; any earlier state may be reused (backtracking)."""
        if not isinstance(state, TacticState):
            raise TypeError(f"run_tac needs a TacticState, not {type(state).__name__}")
        request = tactic_request(tactic, state.id)
        raw = self.request(request, timeout, handle_generation=state.generation)
        if isinstance(raw, (Timeout, Crashed)):
            return raw
        return parse_tactic_response(raw, self.generation)


__all__ = ["LeanServer", "ServerStats"]
