"""Ask Lean whether a proposed tactic is valid at a held-out goal state.

A pretty-printed state alone cannot be given to Lean, so states are reached by replay: for each
traced theorem (LeanDojo Benchmark 4 entry) the top-level steps are indexed by their
`state_before`, and a query starts the theorem's proof and replays the gold tactics before that
step (cached, so each theorem is replayed once). States not in the index get `None`: unknown,
not counted as invalid.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from leancot.lean.results import ProofFinished, TacticState
from leancot.lean.server import LeanServer


class LeanStateChecker:
    """`check(state, tactic) -> True | False | None` (None: the state cannot be reached)."""

    def __init__(
        self,
        server: LeanServer,
        theorems: Iterable[Mapping[str, Any]],
        *,
        timeout: float = 10.0,
    ) -> None:
        self.server = server
        self.timeout = timeout
        self._routes: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._reached: dict[tuple[str, tuple[str, ...]], TacticState | None] = {}
        for thm in theorems:
            statement = thm.get("statement")
            if not statement:
                continue
            prefix: list[str] = []
            for step in thm["traced_tactics"]:
                if step.get("depth", 0) != 0:
                    continue
                self._routes.setdefault(step["state_before"], (statement, tuple(prefix)))
                prefix.append(step["tactic"])

    def known(self, state: str) -> bool:
        return state in self._routes

    def _reach(self, statement: str, prefix: tuple[str, ...]) -> TacticState | None:
        key = (statement, prefix)
        if key in self._reached:
            cached = self._reached[key]
            if cached is None or cached.generation == self.server.generation:
                return cached
        if prefix:
            before = self._reach(statement, prefix[:-1])
            result = None if before is None else self.server.run_tac(before, prefix[-1])
        else:
            result = self.server.start_proof(statement, timeout=self.timeout * 6)
        state = result if isinstance(result, TacticState) else None
        self._reached[key] = state
        return state

    def __call__(self, state: str, tactic: str) -> bool | None:
        route = self._routes.get(state)
        if route is None:
            return None
        start = self._reach(*route)
        if start is None:
            return None
        result = self.server.run_tac(start, tactic, timeout=self.timeout)
        return isinstance(result, (TacticState, ProofFinished))
