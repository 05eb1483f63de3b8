"""What the searches ask a model: tactic candidates for a state (policy) and a score (value).

`TacticPolicy.propose(states, n)` follows the scoring API of leancot/models: for each state, up to
`n` candidates `(thought, tactic, logprob)`, in the order given. `ValueFn.value(states)` gives one
number per state, higher is more promising (a PRM's probability that the state is provable).
Plain callables with the same signatures work too.

Here: `PortfolioPolicy`, the fixed tactic-portfolio baseline (the same short list on every state,
plus tactics instantiated with the state's own variables and hypotheses); `MixedPolicy`, a model's
candidates followed by the portfolio's; `ScriptedPolicy`/`ScriptedValue` tables for tests.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, NamedTuple, Protocol

from leancot.translate.goals import parse_goal_state


class Candidate(NamedTuple):
    """One proposed step. A plain `(thought, tactic, logprob)` tuple is accepted as well."""

    thought: str
    tactic: str
    logprob: float


class TacticPolicy(Protocol):
    def propose(self, states: list[str], n: int) -> list[list[Candidate]]: ...


class ValueFn(Protocol):
    def value(self, states: list[str]) -> list[float]: ...


ProposeFn = Callable[[list[str], int], Sequence[Sequence[tuple[str, str, float]]]]
ValueCall = Callable[[list[str]], Sequence[float]]


def propose_fn(policy: TacticPolicy | ProposeFn) -> ProposeFn:
    return policy.propose if hasattr(policy, "propose") else policy  # type: ignore[union-attr,return-value]


def value_fn(value: ValueFn | ValueCall) -> ValueCall:
    return value.value if hasattr(value, "value") else value  # type: ignore[union-attr,return-value]


def normalize(states: list[str], out: Sequence[Sequence[tuple]]) -> list[list[Candidate]]:
    """Check a policy's answer has one list per state; make every item a `Candidate`."""
    if len(out) != len(states):
        raise ValueError(f"the policy answered {len(out)} lists for {len(states)} states")
    return [[Candidate(str(t), str(c), float(lp)) for t, c, lp in cands] for cands in out]


def tactic_key(tactic: str) -> str:
    """Tactics that differ only in whitespace are the same tactic."""
    return " ".join(tactic.split())


def dedup(cands: Iterable[Candidate]) -> list[Candidate]:
    """Keep the first candidate of each tactic (a policy lists its best first)."""
    seen: set[str] = set()
    out = []
    for c in cands:
        key = tactic_key(c.tactic)
        if key and key not in seen:
            seen.add(key)
            out.append(c)
    return out


def softmax(logprobs: list[float]) -> list[float]:
    """The probabilities of `logprobs` renormalised over the list (MCTS's policy prior)."""
    if not logprobs:
        return []
    top = max(logprobs)
    weights = [math.exp(lp - top) for lp in logprobs]
    total = sum(weights)
    return [w / total for w in weights]


def mix_priors(priors: list[float], scores: list[float], weight: float) -> list[float]:
    """`(1 - weight) * priors + weight * scores / sum(scores)` (uniform shares when the scores
    sum to 0; negative scores count as 0): the mixed prior of
    `mcts_search` and the candidate order of `best_first_search` with a `value_prior_weight`."""
    if not priors:
        return []
    clipped = [max(0.0, v) for v in scores]
    total = sum(clipped)
    shares = [v / total for v in clipped] if total > 0 else [1.0 / len(priors)] * len(priors)
    return [(1 - weight) * p + weight * v for p, v in zip(priors, shares, strict=True)]


TACTIC_START = re.compile(r"^(?:[a-z][\w!?'.]*|[(·{⟨])")
CLOSING = {")": "(", "]": "[", "}": "{", "⟩": "⟨"}


def plausible_tactic(text: str) -> bool:
    """Whether `text` can parse as a tactic: it starts as one does (a lower-case tactic name,
    a parenthesised sequence, a focusing dot, a brace block or an anonymous constructor), holds
    no backtick (prose quoting code: "The goal is `x = y`"), and its brackets balance. A
    screen for a model's samples, so that text Lean would reject unparsed costs no Lean call;
    every tactic of the portfolio and of the goal-aware templates passes it."""
    text = text.strip()
    if not text or "`" in text or not TACTIC_START.match(text):
        return False
    stack: list[str] = []
    for ch in text:
        if ch in "([{⟨":
            stack.append(ch)
        elif ch in CLOSING:
            if not stack or stack.pop() != CLOSING[ch]:
                return False
    return not stack


# --- the tactic portfolio -------------------------------------------------------------------

CLOSERS = (
    "rfl",
    "decide",
    "simp",
    "omega",
    "simp_all",
    "trivial",
    "contradiction",
    "assumption",
)
# A sequence is parenthesised: the REPL runs one tactic per request, and `(t1; t2)` is one tactic.
STRUCTURAL = (
    "constructor",
    "intro",
    "intros",
    "(intros; simp)",
    "(intros; simp_all)",
    "(intros; omega)",
    "(intro n; induction n <;> simp)",
    "induction n <;> simp_all",
    "cases h",
    "simp at *",
    "constructor <;> simp",
    "exists 0",
)
DEFAULT_PORTFOLIO = CLOSERS + STRUCTURAL

INDUCTIVE_TYPE = re.compile(r"^(Nat|ℕ|List\b.*)$")
PROP_MARKERS = re.compile(r"[=≠≤≥<>∧∨¬→↔∣∈∉∃∀⊆]|\bTrue\b|\bFalse\b")


def hypotheses(state: str) -> list[tuple[str, str]]:
    """(name, type) of the accessible hypotheses of the first goal of a pretty-printed state.

    A type Lean wrapped over several lines comes back on one; a `let` variable's type ends with
    ` := value`. Inaccessible names (`x✝`) are left out.
    """
    goal = parse_goal_state(state).main
    if goal is None:
        return []
    out = []
    for hyp in goal.hypotheses:
        text = hyp.type if hyp.value is None else f"{hyp.type} := {hyp.value}"
        text = " ".join(line.strip() for line in text.split("\n"))
        out += [(name, text) for name in hyp.names if "✝" not in name]
    return out


def instantiated(state: str) -> list[str]:
    """Tactics built from the state's variables of type Nat/List and its hypotheses."""
    tactics = []
    hyps = hypotheses(state)
    for name, typ in hyps:
        if PROP_MARKERS.search(typ):
            tactics.append(f"exact {name}")
    for name, typ in hyps:
        if INDUCTIVE_TYPE.match(typ):
            tactics += [f"induction {name} <;> simp", f"cases {name} <;> simp"]
    for name, typ in hyps:
        if PROP_MARKERS.search(typ):
            tactics += [f"simp at {name}", f"cases {name}"]
    return tactics


class PortfolioPolicy:
    """The fair baseline: a fixed ordered tactic list, the same for every state.

    Order per state: the closing tactics, then tactics instantiated with the state's names
    (`exact h`, `induction x <;> simp`, `cases x <;> simp`, `simp at h`, `cases h`), then the
    structural ones. `scores="rank"` gives the i-th tactic log-probability log(w_i / sum w) with
    w_i = 1/(i+1) (Zipf); `"uniform"` gives every tactic log(1/K).
    """

    def __init__(
        self,
        tactics: Sequence[str] = DEFAULT_PORTFOLIO,
        *,
        scores: Literal["rank", "uniform"] = "rank",
        instantiate: bool = True,
        num_closers: int | None = None,
    ) -> None:
        if scores not in ("rank", "uniform"):
            raise ValueError(f"scores must be 'rank' or 'uniform', not {scores!r}")
        self.tactics = tuple(tactics)
        self.scores = scores
        self.instantiate = instantiate
        self.num_closers = len(CLOSERS) if num_closers is None else num_closers

    def tactics_for(self, state: str) -> list[str]:
        """All tactics this policy tries on `state`, in order, without duplicates."""
        extra = instantiated(state) if self.instantiate else []
        ordered = [*self.tactics[: self.num_closers], *extra, *self.tactics[self.num_closers :]]
        return list(dict.fromkeys(ordered))

    def _logprobs(self, k: int) -> list[float]:
        if self.scores == "uniform":
            return [-math.log(k)] * k
        weights = [1.0 / (i + 1) for i in range(k)]
        total = sum(weights)
        return [math.log(w / total) for w in weights]

    def propose(self, states: list[str], n: int) -> list[list[Candidate]]:
        out = []
        for state in states:
            tactics = self.tactics_for(state)
            logprobs = self._logprobs(len(tactics))
            cands = [Candidate("", t, lp) for t, lp in zip(tactics, logprobs, strict=True)]
            out.append(cands[: max(n, 0)])
        return out


def bind_theorem(policy: Any, theorem: Mapping[str, Any]) -> Any:
    """`policy.for_theorem(theorem)` where the policy has it (one that retrieves premises for
    the theorem it searches), else the policy itself."""
    bind = getattr(policy, "for_theorem", None)
    return bind(theorem) if callable(bind) else policy


class MixedPolicy:
    """A model's candidates first, then the portfolio's that the model did not propose.

    Up to `n` model candidates plus up to `portfolio_n` (default `n`) portfolio ones per state;
    duplicates (same tactic up to whitespace) keep the model's thought and log-probability.
    """

    def __init__(
        self,
        model: TacticPolicy | ProposeFn,
        portfolio: TacticPolicy | ProposeFn,
        *,
        portfolio_n: int | None = None,
    ) -> None:
        self.model = model
        self.portfolio = portfolio
        self.portfolio_n = portfolio_n

    def for_theorem(self, theorem: Mapping[str, Any]) -> MixedPolicy:
        """Both parts bound to `theorem` (`bind_theorem`)."""
        return MixedPolicy(
            bind_theorem(self.model, theorem),
            bind_theorem(self.portfolio, theorem),
            portfolio_n=self.portfolio_n,
        )

    def propose(self, states: list[str], n: int) -> list[list[Candidate]]:
        model = normalize(states, propose_fn(self.model)(states, n))
        k = n if self.portfolio_n is None else self.portfolio_n
        extra = normalize(states, propose_fn(self.portfolio)(states, k))
        return [dedup([*m, *p]) for m, p in zip(model, extra, strict=True)]


# --- scripted strategies for tests ------------------------------------------------------------

ScriptEntry = Candidate | tuple[str, str, float] | tuple[str, float] | str


def _candidate(entry: ScriptEntry) -> Candidate:
    if isinstance(entry, str):
        return Candidate("", entry, 0.0)
    if len(entry) == 2:
        tactic, logprob = entry  # type: ignore[misc]
        return Candidate("", str(tactic), float(logprob))
    return Candidate(*entry)  # type: ignore[arg-type]


class ScriptedPolicy:
    """Candidates from a table `state -> [Candidate | (tactic, logprob) | tactic]`.

    Unknown states get no candidates. `calls` records the states asked about, in order.
    """

    def __init__(self, table: Mapping[str, Sequence[ScriptEntry]]) -> None:
        self.table = {s: [_candidate(e) for e in entries] for s, entries in table.items()}
        self.calls: list[str] = []

    def propose(self, states: list[str], n: int) -> list[list[Candidate]]:
        self.calls.extend(states)
        return [list(self.table.get(s, []))[: max(n, 0)] for s in states]


class ConstantValue:
    """The same value for every state (no value model)."""

    def __init__(self, constant: float = 0.5) -> None:
        self.constant = float(constant)

    def value(self, states: list[str]) -> list[float]:
        return [self.constant] * len(states)


class ScriptedValue:
    """Values from a table `state -> value`; `default` for the rest."""

    def __init__(self, table: Mapping[str, float], default: float = 0.5) -> None:
        self.table = dict(table)
        self.default = float(default)
        self.calls: list[str] = []

    def value(self, states: list[str]) -> list[float]:
        self.calls.extend(states)
        return [float(self.table.get(s, self.default)) for s in states]
