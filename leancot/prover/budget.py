"""What a search may spend, the environment it spends it on, and what it reports.

`Budget` keeps its limits separate (policy expansions, Lean calls, the per-tactic timeout, the
per-theorem wall clock); a search stops on whichever runs out first and says which in
`SearchResult.stop_reason`. `Meter` is the per-search account: it counts calls and times Lean,
the model and (by difference) the search itself with `perf_counter`.

`Env` is all a search needs from Lean: `start(statement)` and `step(state, tactic)`, both
returning a `TacticResult` value. `runner.LeanEnv` puts it on a `LeanServer`; `ScriptedEnv` is a
pure-Python table for tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from leancot.formats import NO_GOALS
from leancot.lean.results import (
    Crashed,
    LeanError,
    ProofFinished,
    TacticResult,
    TacticState,
    Timeout,
    goals_pp,
)
from leancot.prover.graph import ProofGraph
from leancot.prover.policies import (
    Candidate,
    ProposeFn,
    TacticPolicy,
    ValueCall,
    ValueFn,
    normalize,
    propose_fn,
    value_fn,
)

MIN_TACTIC_TIMEOUT_S = 0.05  # never hand Lean a smaller budget than this


class Env(Protocol):
    def start(self, statement: str, timeout: float | None = None) -> TacticResult: ...

    def step(self, state: Any, tactic: str, timeout: float | None = None) -> TacticResult: ...


class StopReason(StrEnum):
    PROVED = "proved"
    EXHAUSTED = "exhausted"  # nothing left to try: the root FAILED or the frontier is empty
    MAX_EXPANSIONS = "max_expansions"
    MAX_LEAN_CALLS = "max_lean_calls"
    WALL = "theorem_wall_s"
    START_FAILED = "start_failed"  # the statement did not give a proof state


@dataclass(frozen=True)
class Budget:
    """Limits of one search; None means unlimited. Lean calls include `start`."""

    max_expansions: int | None = 64
    max_lean_calls: int | None = 1024
    tactic_timeout_s: float | None = 10.0
    theorem_wall_s: float | None = 300.0

    def __post_init__(self) -> None:
        for name in ("max_expansions", "max_lean_calls", "tactic_timeout_s", "theorem_wall_s"):
            limit = getattr(self, name)
            if limit is not None and limit <= 0:
                raise ValueError(f"Budget.{name} must be positive or None, got {limit}")


DEFAULT_BUDGET = Budget()


@dataclass(frozen=True)
class SearchResult:
    """The outcome of one search. `wall_s - time_lean_s - time_model_s` is search overhead."""

    proved: bool
    proof: list[str] | None
    graph: ProofGraph
    lean_calls: int
    expansions: int
    wall_s: float
    time_lean_s: float
    time_model_s: float
    stop_reason: StopReason
    error: str | None = None  # why `start` failed, if it did

    @property
    def time_search_s(self) -> float:
        return max(0.0, self.wall_s - self.time_lean_s - self.time_model_s)


class Meter:
    """The account of one search: counts and times every env, policy and value call."""

    def __init__(self, budget: Budget, clock: Callable[[], float] = time.perf_counter) -> None:
        self.budget = budget
        self.clock = clock
        self.t0 = clock()
        self.lean_calls = 0
        self.expansions = 0
        self.time_lean = 0.0
        self.time_model = 0.0

    def elapsed(self) -> float:
        return self.clock() - self.t0

    def _wall_left(self) -> float | None:
        if self.budget.theorem_wall_s is None:
            return None
        return self.budget.theorem_wall_s - self.elapsed()

    def blocked(self, kind: str) -> StopReason | None:
        """Why a call of `kind` may not be made now, if so: "lean" (wall clock, Lean calls),
        "expand" (wall clock, expansions) or "model" (wall clock only)."""
        left = self._wall_left()
        if left is not None and left <= 0:
            return StopReason.WALL
        b = self.budget
        if kind == "lean" and b.max_lean_calls is not None:
            if self.lean_calls >= b.max_lean_calls:
                return StopReason.MAX_LEAN_CALLS
        if kind == "expand" and b.max_expansions is not None:
            if self.expansions >= b.max_expansions:
                return StopReason.MAX_EXPANSIONS
        return None

    def _timeout(self) -> float | None:
        limits = [t for t in (self.budget.tactic_timeout_s, self._wall_left()) if t is not None]
        return max(MIN_TACTIC_TIMEOUT_S, min(limits)) if limits else None

    def start(self, env: Env, statement: str) -> TacticResult:
        self.lean_calls += 1
        t = self.clock()
        try:
            return env.start(statement, timeout=self._timeout())
        finally:
            self.time_lean += self.clock() - t

    def step(self, env: Env, state: Any, tactic: str) -> TacticResult:
        self.lean_calls += 1
        t = self.clock()
        try:
            return env.step(state, tactic, timeout=self._timeout())
        finally:
            self.time_lean += self.clock() - t

    def propose(
        self, policy: TacticPolicy | ProposeFn, states: list[str], n: int
    ) -> list[list[Candidate]]:
        """One expansion per state."""
        self.expansions += len(states)
        t = self.clock()
        try:
            return normalize(states, propose_fn(policy)(states, n))
        finally:
            self.time_model += self.clock() - t

    def value(self, value: ValueFn | ValueCall, states: list[str]) -> list[float]:
        t = self.clock()
        try:
            out = [float(v) for v in value_fn(value)(states)]
        finally:
            self.time_model += self.clock() - t
        if len(out) != len(states):
            raise ValueError(f"the value function answered {len(out)} values for {len(states)}")
        return out

    def result(
        self, graph: ProofGraph, stop_reason: StopReason, error: str | None = None
    ) -> SearchResult:
        proof = graph.extract_proof() if graph.nodes else None
        return SearchResult(
            proved=proof is not None,
            proof=proof,
            graph=graph,
            lean_calls=self.lean_calls,
            expansions=self.expansions,
            wall_s=self.elapsed(),
            time_lean_s=self.time_lean,
            time_model_s=self.time_model,
            stop_reason=StopReason.PROVED if proof is not None else stop_reason,
            error=error,
        )


def describe(result: object) -> str:
    """A one-line account of a non-state result (why `start` gave no proof state)."""
    if isinstance(result, LeanError):
        return f"LeanError: {result.error}"
    if isinstance(result, Timeout):
        return f"Timeout after {result.seconds:g} s"
    if isinstance(result, Crashed):
        return f"Crashed: {result.reason}"
    return f"start gave {type(result).__name__}, not a proof state"


class ScriptedEnv:
    """A pure-Python `Env` for tests: `table[state][tactic]` is the state text after the tactic,
    "no goals" when it closes the proof, or any `TacticResult` value (e.g. a `Timeout`).

    `start` answers `start_states[statement]` (or `start_states` itself if it is a string).
    A tactic missing from the table is a `LeanError`. `calls` records (state, tactic) pairs.
    """

    def __init__(
        self,
        table: Mapping[str, Mapping[str, str | TacticResult]],
        start_states: Mapping[str, str] | str,
    ) -> None:
        self.table = table
        self.start_states = start_states
        self.calls: list[tuple[str, str]] = []
        self._ids = 0

    def _state(self, pp: str) -> TacticState:
        self._ids += 1
        goals = tuple(pp.split("\n\n"))
        return TacticState(goals_pp(goals), self._ids, goals)

    def start(self, statement: str, timeout: float | None = None) -> TacticResult:
        if isinstance(self.start_states, str):
            return self._state(self.start_states)
        pp = self.start_states.get(statement)
        if pp is None:
            return LeanError(f"unknown statement {statement!r}")
        return self._state(pp)

    def step(self, state: Any, tactic: str, timeout: float | None = None) -> TacticResult:
        self.calls.append((state.pp, tactic))
        after = self.table.get(state.pp, {}).get(tactic)
        if after is None:
            return LeanError(f"unknown tactic {tactic!r}")
        if not isinstance(after, str):
            return after
        if after == NO_GOALS:
            self._ids += 1
            return ProofFinished(self._ids)
        return self._state(after)
