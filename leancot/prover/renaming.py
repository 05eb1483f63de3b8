"""Proof states equal up to the names of their variables (alpha-equivalence of pretty-printed
goals).

`intro`, `intro x`, `intros` and `rintro h` on `⊢ ∀ x, P x` give `x✝ : α ⊢ P x✝`, `x : α ⊢ P x`,
... : different texts (so different graph nodes) for one problem, each of which a search would
expand again. `alpha_key(state)` renames the state's local names (its hypotheses, in every goal,
and the variables its binders bind: `∀ (x y : T)`, `{α : Type}`, `[inst : C]`, `fun x =>`) to
`v0, v1, ...` in order of first appearance, so alpha-equivalent states get one key. Global names
(dotted or not) are left alone unless a local name shadows them. The key is for deduplication
only: a state is never replaced by another (its tactics name its own variables).
"""

from __future__ import annotations

import re

from leancot.translate.goals import parse_goal_state

NAME_CHARS = r"\w'!?✝₀-₉"
TOKEN = re.compile(rf"(?<![{NAME_CHARS}.])[^\W\d][{NAME_CHARS}]*")
NAMES = rf"[^\W\d][{NAME_CHARS}]*(?:\s+[^\W\d][{NAME_CHARS}]*)*"
BINDER_GROUP = re.compile(rf"[({{\[⦃]\s*({NAMES})\s*:(?!=)")
LAMBDA_BINDER = re.compile(rf"(?:fun|∀|∃|λ)\s+({NAMES})\s*(?:,|=>|:)")


def local_names(state: str) -> list[str]:
    """The names a state binds: hypotheses of every goal, then binder variables, in order of
    first appearance (each once)."""
    names: list[str] = []
    for goal in parse_goal_state(state).goals:
        for hyp in goal.hypotheses:
            names.extend(hyp.names)
    for pattern in (BINDER_GROUP, LAMBDA_BINDER):
        for group in pattern.findall(state):
            names.extend(group.split())
    return list(dict.fromkeys(n for n in names if TOKEN.fullmatch(n)))


def alpha_key(state: str) -> str:
    """`state` with its local names replaced by `v0, v1, ...` in order of first appearance in
    the text (so the key does not depend on the order `local_names` found them)."""
    local = set(local_names(state))
    mapping: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        name = match.group(0)
        if name not in local:
            return name
        return mapping.setdefault(name, f"v{len(mapping)}")

    return TOKEN.sub(rename, state)
