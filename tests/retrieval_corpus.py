"""A test fixture: a small extracted dataset in LeanDojo Benchmark 4 layout (`corpus.jsonl`,
`random/{train,val,test}.json`) whose tactics name premises, and a small typed library, for the
retriever tests. The premises and states are written as Lean prints them; nothing here was
checked by Lean (the integration test reads real library premises).
"""

from __future__ import annotations

import json
from pathlib import Path

from leancot.models.premises import Premise

LIBRARY = [
    Premise("Nat.add_comm", "Nat.add_comm : ∀ (n m : Nat), n + m = m + n", "theorem"),
    Premise("Nat.mul_comm", "Nat.mul_comm : ∀ (n m : Nat), n * m = m * n", "theorem"),
    Premise("Nat.add_zero", "Nat.add_zero : ∀ (n : Nat), n + 0 = n", "theorem"),
    Premise("Nat.mul_one", "Nat.mul_one : ∀ (n : Nat), n * 1 = n", "theorem"),
    Premise("Nat.le_refl", "Nat.le_refl : ∀ (n : Nat), n ≤ n", "theorem"),
    Premise(
        "List.length_append",
        "List.length_append : ∀ {α : Type u_1} {as bs : List α}, "
        "(as ++ bs).length = as.length + bs.length",
        "theorem",
    ),
    Premise(
        "List.reverse_reverse",
        "List.reverse_reverse : ∀ {α : Type u_1} (as : List α), as.reverse.reverse = as",
        "theorem",
    ),
    Premise("Bool.not_not", "Bool.not_not : ∀ (b : Bool), (!!b) = b", "theorem"),
    Premise("Or.inl", "Or.inl : ∀ {a b : Prop}, a → a ∨ b", "constructor"),
    Premise("And.intro", "And.intro : ∀ {a b : Prop}, a → b → a ∧ b", "constructor"),
]

FILES = {
    "Arith.lean": [
        ("Arith.double", "def double (n : Nat) : Nat", "definition"),
        ("Arith.double_zero", "theorem double_zero : double 0 = 0", "theorem"),
        (
            "Arith.double_add",
            "theorem double_add (a b : Nat) : double (a + b) = double a + double b",
            "theorem",
        ),  # noqa: E501
        ("Arith.triple", "def triple (n : Nat) : Nat", "definition"),
    ],
    "Lists.lean": [
        ("Lists.twice", "def twice (l : List Nat) : List Nat", "definition"),
        (
            "Lists.twice_length",
            "theorem twice_length (l : List Nat) : (twice l).length = 2 * l.length",
            "theorem",
        ),  # noqa: E501
    ],
}

# (split, file, theorem, state, premises named by the tactic)
TACTICS = [
    (
        "train",
        "Arith.lean",
        "Arith.double_add",
        "a b : Nat\n⊢ double (a + b) = double a + double b",
        ["Arith.double"],
    ),  # noqa: E501
    (
        "train",
        "Arith.lean",
        "Arith.double_add",
        "a b : Nat\n⊢ a + b + (a + b) = a + a + (b + b)",
        ["Nat.add_comm"],
    ),  # noqa: E501
    (
        "train",
        "Lists.lean",
        "Lists.twice_length",
        "l : List Nat\n⊢ (twice l).length = 2 * l.length",
        ["Lists.twice"],
    ),  # noqa: E501
    (
        "train",
        "Lists.lean",
        "Lists.twice_length",
        "l : List Nat\n⊢ (l ++ l).length = 2 * l.length",
        ["List.length_append"],
    ),  # noqa: E501
    ("val", "Arith.lean", "Arith.triple_zero", "⊢ triple 0 = 0", ["Arith.triple"]),
    ("test", "Arith.lean", "Arith.double_zero", "⊢ double 0 = 0", ["Arith.double", "Nat.add_zero"]),  # noqa: E501
    (
        "test",
        "Lists.lean",
        "Lists.rev_rev",
        "l : List Nat\n⊢ l.reverse.reverse = l",
        ["List.reverse_reverse"],
    ),  # noqa: E501
    ("test", "Arith.lean", "Arith.m1", "n : Nat\n⊢ n * 1 = n", ["Nat.mul_one", "Not.in_index"]),
]


def write_dataset(root: Path) -> Path:
    """Write the fixture dataset under `root`; return `root`."""
    with (root / "corpus.jsonl").open("w", encoding="utf-8") as f:
        for path, decls in FILES.items():
            premises = [{"full_name": n, "code": c, "kind": k} for n, c, k in decls]
            f.write(json.dumps({"path": path, "imports": [], "premises": premises}) + "\n")
    (root / "random").mkdir(parents=True, exist_ok=True)
    for split in ("train", "val", "test"):
        entries: dict[str, dict] = {}
        for s, path, thm, state, names in TACTICS:
            if s != split:
                continue
            entry = entries.setdefault(
                thm, {"file_path": path, "full_name": thm, "traced_tactics": []}
            )
            premises = [{"full_name": n, "def_path": "", "def_pos": None} for n in names]
            entry["traced_tactics"].append(
                {"tactic": "simp [...]", "state_before": state, "annotated_tactic": ["", premises]}
            )
        text = json.dumps(list(entries.values()), ensure_ascii=False)
        (root / "random" / f"{split}.json").write_text(text, encoding="utf-8")
    return root
