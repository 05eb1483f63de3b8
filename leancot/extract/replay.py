"""Ask Lean what a proposed tactic does at a held-out goal state.

A pretty-printed state alone cannot be given to Lean, so states are reached by replay: for each
traced theorem (LeanDojo Benchmark 4 entry) the top-level steps are indexed by their
`state_before`, and a query starts the theorem's proof and replays the gold tactics before that
step (cached, so each theorem is replayed once). A theorem whose statement needs its file (its
definitions, `namespace`, `open`s) is started in the environment of its header: the file's text
before it, as `prover.benchmarks.load_leandojo_split` gives it. Headers of one file extend each
other, so each is elaborated as the text it adds to the longest header already elaborated (one
pass over each file, as `pipeline/negatives.py` does). States not in the index, or that Lean
cannot reach, get `None`: unknown, not counted as invalid.

`outcome(state, tactic)` names what the tactic did: `REJECTED` (an error or a timeout),
`UNCHANGED` (accepted, same goals), `CHANGED` (accepted, other goals) or `CLOSED` (the goal it
was applied to is solved: no goals remain, or exactly the other goals). `progress(o)` is the
criterion of the held-out policy metrics: accepted and the state changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from leancot.lean.results import CommandResult, ProofFinished, StaleHandleError, TacticState
from leancot.lean.server import LeanServer

REJECTED, UNCHANGED, CHANGED, CLOSED = "rejected", "unchanged", "changed", "closed"
OUTCOMES = (REJECTED, UNCHANGED, CHANGED, CLOSED)

Route = tuple[str, str, tuple[str, ...]]  # (header, statement, gold tactics before the state)


def progress(outcome: str | None) -> bool:
    """Lean accepted the tactic and the state changed (it may have closed the goal)."""
    return outcome in (CHANGED, CLOSED)


class LeanStateChecker:
    """`check(state, tactic) -> True | False | None` (None: the state cannot be reached), and
    `outcome(state, tactic)` (one of `OUTCOMES`, or None).

    `headers` maps a theorem's `full_name` to its header (imports and file context); a theorem
    mapping may also carry a `header` field. Without one the statement is started bare.
    """

    def __init__(
        self,
        server: LeanServer,
        theorems: Iterable[Mapping[str, Any]],
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self._routes: dict[str, Route] = {}
        self._reached: dict[Route, TacticState | None] = {}
        self._contexts: dict[str, CommandResult] = {}
        self._outcomes: dict[tuple[str, str], str | None] = {}
        headers = headers or {}
        for thm in theorems:
            statement = thm.get("statement")
            if not statement:
                continue
            header = thm.get("header") or headers.get(thm.get("full_name", ""), "")
            prefix: list[str] = []
            for step in thm["traced_tactics"]:
                if step.get("depth", 0) != 0:
                    continue
                self._routes.setdefault(step["state_before"], (header, statement, tuple(prefix)))
                prefix.append(step["tactic"])

    def known(self, state: str) -> bool:
        return state in self._routes

    # -- reaching a state -------------------------------------------------------------------------

    def _context(self, header: str) -> CommandResult | None:
        """The environment after `header`: the longest elaborated header it extends, plus the
        rest of its text; a header that extends none is elaborated from its imports."""
        if not header.strip():
            return None
        live = {
            h: env for h, env in self._contexts.items() if env.generation == self.server.generation
        }
        self._contexts = live
        if header in live:
            return live[header]
        base = max((h for h in live if header.startswith(h)), key=len, default=None)
        if base is None:
            result = self.server.header_env(header, self.timeout * 6)
        else:
            result = self.server.run_cmd(header[len(base) :], live[base], self.timeout * 6)
        if not isinstance(result, CommandResult) or not result.ok:
            return None
        self._contexts[header] = result
        return result

    def _start(self, header: str, statement: str) -> TacticState | None:
        env = self._context(header)
        if header.strip() and env is None:
            return None
        result = self.server.start_proof(statement, env, timeout=self.timeout * 6)
        return result if isinstance(result, TacticState) else None

    def _reach(self, route: Route) -> TacticState | None:
        header, statement, prefix = route
        if route in self._reached:
            cached = self._reached[route]
            if cached is None or cached.generation == self.server.generation:
                return cached
        if prefix:
            before = self._reach((header, statement, prefix[:-1]))
            result = None if before is None else self.server.run_tac(before, prefix[-1])
            state = result if isinstance(result, TacticState) else None
        else:
            state = self._start(header, statement)
        self._reached[route] = state
        return state

    def reach(self, state: str) -> TacticState | None:
        """Lean's state for a known `state` (replayed), or None."""
        route = self._routes.get(state)
        if route is None:
            return None
        for attempt in range(2):
            try:
                return self._reach(route)
            except StaleHandleError:  # Lean restarted during the replay: once more from scratch
                if attempt:
                    raise
        return None

    # -- asking about a tactic --------------------------------------------------------------------

    def outcome(self, state: str, tactic: str) -> str | None:
        """What `tactic` does at `state` (one of `OUTCOMES`), None when the state is unknown or
        Lean cannot reach it. Answers are cached per (state, tactic)."""
        key = (state, tactic)
        if key in self._outcomes:
            return self._outcomes[key]
        verdict = None
        for attempt in range(2):
            start = self.reach(state)
            if start is None:
                break
            try:
                verdict = _verdict(start, self.server.run_tac(start, tactic, timeout=self.timeout))
                break
            except StaleHandleError:
                if attempt:
                    raise
        self._outcomes[key] = verdict
        return verdict

    def __call__(self, state: str, tactic: str) -> bool | None:
        """Lean accepts `tactic` at `state` (whatever it does), None if the state is unknown."""
        verdict = self.outcome(state, tactic)
        return None if verdict is None else verdict != REJECTED


def _verdict(start: TacticState, result: Any) -> str:
    if isinstance(result, ProofFinished):
        return CLOSED
    if not isinstance(result, TacticState):
        return REJECTED
    if result.pp == start.pp:
        return UNCHANGED
    if start.goals and tuple(result.goals) == tuple(start.goals[1:]):
        return CLOSED
    return CHANGED
