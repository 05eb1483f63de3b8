"""Values a Lean process returns, and the few exceptions for infrastructure faults.

Expected Lean outcomes (an error in a tactic, a timeout, a crash that killed the process) are
values of the unions below; exceptions are only for faults of the machinery itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TypeAlias

SORRY_WARNING = re.compile(r"declaration uses ['`‘]sorry['`’]")


@dataclass(frozen=True)
class Message:
    """One Lean message; lines are 1-based, columns 0-based (as Lean reports them)."""

    severity: str
    line: int
    column: int
    end_line: int | None
    end_column: int | None
    text: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def is_sorry_warning(self) -> bool:
        return self.severity == "warning" and SORRY_WARNING.search(self.text) is not None

    def shifted(self, lines: int) -> Message:
        """The same message with its line numbers moved by `lines`."""
        end = None if self.end_line is None else self.end_line + lines
        return Message(
            self.severity, self.line + lines, self.column, end, self.end_column, self.text
        )

    def __str__(self) -> str:
        return f"{self.line}:{self.column}: {self.severity}: {self.text}"


@dataclass(frozen=True)
class Sorry:
    """A `sorry` in a command, with the goal it stands for and a proof state to continue from."""

    line: int
    column: int
    end_line: int | None
    end_column: int | None
    goal: str
    proof_state: int | None


@dataclass(frozen=True)
class TracedTactic:
    """A tactic run while elaborating a command (requested with `all_tactics=True`).

    Positions are Lean's: 1-based lines, columns in Unicode code points. Our REPL fills `kind`,
    `decl`, `goals_after` and `constants`; the community REPL fills `text` and `proof_state`.
    """

    line: int
    column: int
    end_line: int | None
    end_column: int | None
    kind: str = ""
    decl: str | None = None
    goals_before: tuple[str, ...] = ()
    goals_after: tuple[str, ...] = ()
    constants: tuple[str, ...] = ()
    text: str | None = None
    proof_state: int | None = None


@dataclass(frozen=True)
class CommandResult:
    """The answer to a command: the new environment handle, messages and sorries."""

    env: int
    messages: tuple[Message, ...] = ()
    sorries: tuple[Sorry, ...] = ()
    generation: int = field(default=0, compare=False)
    tactics: tuple[TracedTactic, ...] = field(default=(), compare=False)

    @property
    def errors(self) -> tuple[Message, ...]:
        return tuple(m for m in self.messages if m.is_error)

    @property
    def ok(self) -> bool:
        """No error messages (a `sorry` may still be present: see `has_sorry`)."""
        return not self.errors

    @property
    def has_sorry(self) -> bool:
        return bool(self.sorries) or any(m.is_sorry_warning for m in self.messages)


def goals_pp(goals: tuple[str, ...]) -> str:
    """The canonical text of a goal list: goals separated by a blank line."""
    return "\n\n".join(goals)


@dataclass(frozen=True)
class TacticState:
    """Open goals after a tactic. Equal and hashed by the pretty-printed text `pp` only."""

    pp: str
    id: int = field(compare=False)
    goals: tuple[str, ...] = field(default=(), compare=False)
    messages: tuple[Message, ...] = field(default=(), compare=False)
    generation: int = field(default=0, compare=False)

    @property
    def num_goals(self) -> int:
        return len(self.goals)


@dataclass(frozen=True)
class ProofFinished:
    """No goals remain."""

    id: int
    messages: tuple[Message, ...] = ()
    generation: int = field(default=0, compare=False)


@dataclass(frozen=True)
class LeanError:
    """Lean rejected the request (a tactic error, an unknown handle, a malformed request)."""

    error: str
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Timeout:
    """The request ran past its budget: Lean stopped it at the heartbeat limit derived from the
    budget (the process and its handles live on), or it was killed at the hard deadline and the
    process replaced (`ServerStats.lean_timeouts` / `generation` tell which)."""

    seconds: float


@dataclass(frozen=True)
class Crashed:
    """The request killed the process (or it ran out of memory); the server restarted."""

    reason: str


TacticResult: TypeAlias = TacticState | ProofFinished | LeanError | Timeout | Crashed
CommandOutcome: TypeAlias = CommandResult | LeanError | Timeout | Crashed


class LeanInfraError(RuntimeError):
    """Base class of faults of the machinery around Lean (not of the Lean code it checks)."""


class LeanStartupError(LeanInfraError):
    """The Lean process did not start or did not become ready in time."""


class LeanCrashed(LeanInfraError):
    """The Lean process died and could not be restarted."""


class LeanProtocolError(LeanInfraError):
    """Lean wrote something that is not a valid protocol response."""


class StaleHandleError(LeanInfraError, ValueError):
    """An env or proof-state handle from a process that has since been restarted."""
