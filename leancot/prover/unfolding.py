"""Goal-aware tactics: unfold the definitions a goal mentions, by induction or case split.

A fixed portfolio cannot name the definitions of the file a theorem lives in (`simp [keep]`,
`induction l <;> simp_all [countTrue]`), and a small policy rarely copies such names right. This
policy reads the names from the pretty-printed state, as premise selection does for the names a
goal contains, and instantiates a few templates with them and with the state's variables. It is
one more source in the searches' mixture; the baseline portfolio does not use it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from leancot.prover.policies import Candidate, hypotheses

IDENT = re.compile(r"(?<![\w.'])[A-Za-z_][\w'!?]*(?:\.[A-Za-z_][\w'!?]*)*")
# Words that are syntax, sorts, logical constants or types whose unfolding never helps `simp`.
NOT_UNFOLDABLE = frozenset(
    """fun let have show from if then else match with do by at in return this bif
    Type Sort Prop True False true false Nat Int List Bool Option String Char Fin Array Unit
    UInt8 UInt16 UInt32 UInt64 USize Float
    some none Eq Ne Iff And Or Not Exists HAdd HMul HSub HDiv HMod LE LT GE GT id
    """.split()
)
VARIABLE_TYPE = re.compile(r"^(Nat|ℕ|Bool|List\b.*|Option\b.*)$")
ORDER_HYPOTHESIS = re.compile(r"^\S+ ≤ \S+$")


BINDERS = re.compile(r"(?:fun|∀|∃|λ)\s*((?:[^,:=⦃⦄]|=(?!>))*?)\s*(?::|,|=>)")
# A bracketed binder anywhere (`(x y : T)`, `{α : Type}`, `[inst : C]`, `⦃a : T⦄`): the names
# before its colon are bound (BINDERS sees only the first binder after `∀`/`fun`).
BRACKET_BINDER = re.compile(r"[({\[⦃]\s*((?:[A-Za-z_][\w'!?]*\s+)*[A-Za-z_][\w'!?]*)\s*:(?!=)")


def goal_constants(state: str, limit: int = 4) -> list[str]:
    """Names in the first goal (hypotheses and target) that may be definitions to unfold:
    not bound in the context or by a binder, not syntax, a universe or a basic type, in order
    of first appearance."""
    hyps = hypotheses(state)
    bound = {name for name, _ in hyps}
    types = [t for _, t in hyps if not t.startswith(("Type", "Sort"))]
    target = next(
        (line[1:] for line in state.split("\n\n")[0].splitlines() if line.startswith("⊢")), ""
    )
    text = "\n".join([*types, target])
    for group in [*BINDERS.findall(text), *BRACKET_BINDER.findall(text)]:
        bound.update(re.findall(r"[\w'!?]+", group))
    found: list[str] = []
    for match in IDENT.finditer(text):
        name = match.group(0)
        if text.startswith("✝", match.end()):  # an inaccessible variable (`x✝`), not a constant
            continue
        if name in found or name.split(".")[0] in bound or name in NOT_UNFOLDABLE:
            continue
        if name.startswith("_") or re.fullmatch(r"u_\d+", name):
            continue
        found.append(name)
        if len(found) == limit:
            break
    return found


def goal_tactics(state: str) -> list[str]:
    """Tactics built from the state's definitions and variables, most specific first: induction
    and unfolding with the definitions, then a case split on each variable (Bool, Nat, List,
    Option), on each Prop variable, and on an `if` in the target."""
    names = goal_constants(state)
    hyps = hypotheses(state)
    variables = [n for n, t in hyps if VARIABLE_TYPE.match(t)]
    props = [n for n, t in hyps if t == "Prop"]
    orders = [n for n, t in hyps if ORDER_HYPOTHESIS.match(t)]
    target = next((line for line in state.splitlines() if line.startswith("⊢")), "")
    out: list[str] = []
    if names:
        lemmas = ", ".join(names)
        for x in variables[-2:][::-1]:
            out += [
                f"induction {x} <;> simp_all [{lemmas}]",
                f"induction {x} <;> simp_all [{lemmas}] <;> omega",
            ]
        for h in orders:
            out.append(f"induction {h} <;> simp_all [{lemmas}] <;> omega")
        out += [f"simp_all [{lemmas}]", f"(simp_all [{lemmas}]; omega)", f"unfold {names[0]}"]
        if target.startswith(("⊢ ∀", "⊢ ¬")) or " → " in target:
            out.append(f"(intros; simp_all [{lemmas}])")
    closer = f"simp_all [{', '.join(names)}]" if names else "simp_all"
    for x in variables[-2:][::-1]:
        out.append(f"cases {x} <;> {closer}")
    if re.search(r"\bif\b", target):
        out += ["split <;> omega", "split <;> simp_all"]
    for p in props[:2]:
        out.append(f"by_cases h{p} : {p} <;> simp_all")
    return list(dict.fromkeys(out))


class UnfoldingPolicy:
    """`goal_tactics` of each state, with Zipf log-probabilities by rank (like the portfolio)."""

    def __init__(self, max_tactics: int = 12) -> None:
        self.max_tactics = max_tactics

    def propose(self, states: Sequence[str], n: int) -> list[list[Candidate]]:
        out = []
        for state in states:
            tactics = goal_tactics(state)[: min(n, self.max_tactics)]
            weights = [1.0 / (i + 1) for i in range(len(tactics))]
            total = sum(weights)
            out.append(
                [
                    Candidate("", t, math.log(w / total))
                    for t, w in zip(tactics, weights, strict=True)
                ]
            )
        return out
