"""A test fixture: a small synthetic-but-structured corpus for the training tests and the
learning benchmark (`benchmarks/learning.py` without a dataset).

Eight theorem families (Nat arithmetic, propositional logic, lists) instantiated with random
variable names give CoT step records and search logs as docs/FORMATS.md lays them out
(#step-records, #search-logs), split by `split_of` like extracted theorems. Each search log
holds the proof path plus wrong sibling steps that Lean would reject (`error`) or that lead to a
dead end (a FAILED node), and some attempts stop short (not proved). A wrong step is either a
plausible slip with the right thought, or the right step of another family, so telling good from
bad needs the goal state, not just the step text. The goal states are written
the way Lean pretty-prints them but nothing here was checked by Lean.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from leancot.extract.dataset import split_of
from leancot.formats import NO_GOALS
from leancot.translate.corpora import step_id

NAMES = ["a", "b", "c", "m", "n", "k", "x", "y", "z", "i", "j", "t", "u", "v", "w", "r", "s"]
PROPS = ["p", "q", "r", "s", "P", "Q", "R", "A", "B", "C"]


@dataclass(frozen=True)
class _Step:
    state: str
    thought: str
    tactic: str
    wrong: tuple[tuple[str, str, str], ...]  # (tactic, thought, "error" | "failed")


def _family(kind: int, v1: str, v2: str, p: str, q: str) -> tuple[str, list[_Step]]:
    if kind == 0:
        st = f"{v1} : ℕ\n⊢ {v1} + 0 = {v1}"
        return f"({v1} : ℕ) : {v1} + 0 = {v1}", [
            _Step(
                st,
                "Adding zero on the right reduces by definition, so simp closes it.",
                "simp",
                (
                    ("exact Nat.zero_add " + v1, "Use zero_add.", "error"),
                    ("intro h", "Introduce the hypothesis.", "error"),
                ),
            ),
        ]
    if kind == 1:
        st = f"{v1} {v2} : ℕ\n⊢ {v1} + {v2} = {v2} + {v1}"
        return f"({v1} {v2} : ℕ) : {v1} + {v2} = {v2} + {v1}", [
            _Step(
                st,
                "This is commutativity of addition on ℕ.",
                f"exact Nat.add_comm {v1} {v2}",
                (
                    (f"exact Nat.mul_comm {v1} {v2}", "Swap the factors.", "error"),
                    ("rfl", "Both sides are equal by definition.", "error"),
                ),
            ),
        ]
    if kind == 2:
        ctx = f"{p} {q} : Prop\nh{p} : {p}\nh{q} : {q}"
        both = f"case left\n{ctx}\n⊢ {p}\n\ncase right\n{ctx}\n⊢ {q}"
        return f"({p} {q} : Prop) (h{p} : {p}) (h{q} : {q}) : {p} ∧ {q}", [
            _Step(
                f"{ctx}\n⊢ {p} ∧ {q}",
                "A conjunction is proved by proving both sides.",
                "constructor",
                (
                    ("left", "Prove the left disjunct.", "error"),
                    (f"exact h{p}", "The hypothesis matches.", "error"),
                ),
            ),
            _Step(
                both,
                f"The first goal is exactly the hypothesis h{p}.",
                f"exact h{p}",
                ((f"exact h{q}", "Use the other hypothesis.", "error"),),
            ),
            _Step(
                f"case right\n{ctx}\n⊢ {q}",
                f"The remaining goal is h{q}.",
                f"exact h{q}",
                ((f"exact h{p}", "Use the first hypothesis.", "error"),),
            ),
        ]
    if kind == 3:
        return f": ∀ {v1} : ℕ, {v1} ≤ {v1} + 1", [
            _Step(
                f"⊢ ∀ ({v1} : ℕ), {v1} ≤ {v1} + 1",
                "Introduce the universally quantified number.",
                f"intro {v1}",
                (
                    ("omega", "Linear arithmetic.", "failed"),
                    ("constructor", "Split the goal.", "error"),
                ),
            ),
            _Step(
                f"{v1} : ℕ\n⊢ {v1} ≤ {v1} + 1",
                "This is linear arithmetic, omega decides it.",
                "omega",
                ((f"exact Nat.le_refl {v1}", "Reflexivity of ≤.", "error"),),
            ),
        ]
    if kind == 4:
        st = f"α : Type u_1\n{v1} : List α\n⊢ {v1} ++ [] = {v1}"
        return f"{{α : Type u_1}} ({v1} : List α) : {v1} ++ [] = {v1}", [
            _Step(
                st,
                "Appending the empty list is a simp lemma.",
                "simp",
                (
                    (f"induction {v1}", "Induct on the list.", "failed"),
                    ("exact List.nil_append", "Use nil_append.", "error"),
                ),
            ),
        ]
    if kind == 5:
        return f"({p} : Prop) : {p} → {p}", [
            _Step(
                f"{p} : Prop\n⊢ {p} → {p}",
                "To prove an implication, assume its premise.",
                "intro h",
                (("exact h", "Use the hypothesis.", "error"), ("constructor", "Split.", "error")),
            ),
            _Step(
                f"{p} : Prop\nh : {p}\n⊢ {p}",
                "The goal is the hypothesis h.",
                "exact h",
                (("simp", "Simplify.", "error"),),
            ),
        ]
    if kind == 6:
        st = f"{v1} : ℕ\n⊢ {v1} * 1 = {v1}"
        return f"({v1} : ℕ) : {v1} * 1 = {v1}", [
            _Step(
                st,
                "Multiplying by one is the identity.",
                f"exact Nat.mul_one {v1}",
                (
                    (f"exact Nat.add_zero {v1}", "Adding zero.", "error"),
                    (f"cases {v1}", "Case on the number.", "failed"),
                ),
            ),
        ]
    ctx = f"{p} {q} : Prop\nh{p} : {p}"
    return f"({p} {q} : Prop) (h{p} : {p}) : {p} ∨ {q}", [
        _Step(
            f"{ctx}\n⊢ {p} ∨ {q}",
            f"We have a proof of {p}, so prove the left disjunct.",
            "left",
            (("right", "Prove the right disjunct.", "failed"), ("constructor", "Split.", "error")),
        ),
        _Step(
            f"case h\n{ctx}\n⊢ {p}",
            f"The goal is the hypothesis h{p}.",
            f"exact h{p}",
            (("assumption_mod_cast", "Cast and close.", "error"),),
        ),
    ]


def _after(steps: list[_Step], i: int) -> str:
    return steps[i + 1].state if i + 1 < len(steps) else NO_GOALS


def synthetic_corpus(
    num_theorems: int = 240, *, seed: int = 0, proved_frac: float = 0.8
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(step records, search logs) for `num_theorems` random theorem instances."""
    rng = random.Random(seed)
    records, logs = [], []
    for t in range(num_theorems):
        kind = t % 8
        names = (*rng.sample(NAMES, 2), *rng.sample(PROPS, 2))
        signature, steps = _family(kind, *names)
        # Wrong steps that are right elsewhere: the PRM has to read the state to reject them.
        pool = [(s.tactic, s.thought) for j in range(8) if j != kind for s in _family(j, *names)[1]]
        steps = [
            _Step(
                s.state,
                s.thought,
                s.tactic,
                (
                    *((tac, s.thought, how) for tac, _, how in s.wrong[:1]),
                    (*rng.choice(pool), rng.choice(("error", "error", "failed"))),
                ),
            )
            for s in steps
        ]
        full_name = f"Synthetic.thm_{t}"
        split = split_of(full_name)
        for i, s in enumerate(steps):
            records.append(
                {
                    "id": step_id(full_name, i),
                    "full_name": full_name,
                    "split": split,
                    "step": i,
                    "depth": 0,
                    "state_before": s.state,
                    "tactic": s.tactic,
                    "state_after": _after(steps, i),
                    "thought": s.thought,
                    "template": "synthetic",
                    "verified": True,
                    "source": "extract",
                }
            )
        logs.append(
            _search_log(
                rng,
                full_name,
                f"theorem thm_{t} {signature}",
                split,
                steps,
                proved=rng.random() < proved_frac,
            )
        )
    return records, logs


def _search_log(
    rng: random.Random,
    full_name: str,
    statement: str,
    split: str,
    steps: list[_Step],
    *,
    proved: bool,
) -> dict[str, Any]:
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []

    def node(state: str, status: str, value: float | None) -> int:
        nodes.append(
            {
                "id": len(nodes),
                "state": state,
                "status": status,
                "visits": 0 if value is None else rng.randint(1, 8),
                "value": value,
            }
        )
        return len(nodes) - 1

    def edge(src: int, dst: int | None, s_tac: str, thought: str, result: str, err=None):
        edges.append(
            {
                "src": src,
                "dst": dst,
                "tactic": s_tac,
                "thought": thought,
                "logprob": round(-rng.random() * 3, 3),
                "result": result,
                "error": err,
            }
        )

    path_len = len(steps) if proved else max(0, len(steps) - 1)
    current = node(steps[0].state, "PROVED" if proved else "OPEN", 0.8 if proved else 0.3)
    for i, s in enumerate(steps):
        for tac, thought, kind in s.wrong:
            if kind == "error":
                edge(current, None, tac, thought, "error", f"tactic '{tac.split()[0]}' failed")
            else:
                dead = node(f"{s.state}\n\ncase dead\n⊢ False", "FAILED", 0.0)
                edge(current, dead, tac, thought, "ok")
        if i >= path_len:
            break
        last = i == len(steps) - 1
        status = "PROVED" if proved else "OPEN"
        nxt = node(_after(steps, i), status, None if last else rng.uniform(0.5, 1.0))
        edge(current, nxt, s.tactic, s.thought, "proved" if last else "ok")
        current = nxt
    return {
        "full_name": full_name,
        "statement": statement,
        "split": split,
        "method": "best_first",
        "proved": proved,
        "proof": [s.tactic for s in steps] if proved else None,
        "root": 0,
        "nodes": nodes,
        "edges": edges,
        "lean_calls": len(edges),
        "wall_s": round(rng.uniform(0.1, 2.0), 3),
    }
