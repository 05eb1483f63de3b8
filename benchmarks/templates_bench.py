"""How fast the step templates render, and how many steps get a family-specific template.

Usage: python benchmarks/templates_bench.py [traced.json | steps.jsonl] [--repeat N]

Without a file it renders a built-in set of realistic steps. `template_rate(records)` is the
function other benchmarks call.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from leancot.translate.templates import FAMILIES, GENERIC, environment, render_step

SAMPLE = [
    ("n : Nat\n⊢ n + 0 = n", "induction n with\n  | zero => rfl\n  | succ k ih => simp",
     "no goals"),
    ("⊢ ∀ (n : Nat), n + 0 = n", "intro n", "n : Nat\n⊢ n + 0 = n"),
    ("p q : Prop\nh : p ∨ q\n⊢ q ∨ p", "cases h", "case inl\np q : Prop\nh✝ : p\n⊢ q ∨ p\n\n"
     "case inr\np q : Prop\nh✝ : q\n⊢ q ∨ p"),
    ("a b c : Nat\nh : a = b\n⊢ a + c = b + c", "rw [h]", "no goals"),
    ("k : Nat\nih : k + 0 = k\n⊢ k + 1 + 0 = k + 1", "simp [ih]", "no goals"),
    ("n : Nat\nh : n < 5\n⊢ n + 1 ≤ 5", "omega", "no goals"),
    ("p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q", "constructor",
     "case left\np q : Prop\nhp : p\nhq : q\n⊢ p\n\ncase right\np q : Prop\nhp : p\nhq : q\n⊢ q"),
    ("a b : Nat\nh : a = b\n⊢ b = a", "have h2 : b = a := h.symm",
     "a b : Nat\nh : a = b\nh2 : b = a\n⊢ b = a"),
    ("b : Bool\n⊢ (!!b) = b", "cases b <;> rfl", "no goals"),
    ("p : Prop\nh : p\n⊢ p", "exact h", "no goals"),
]  # fmt: skip


def template_rate(records: Iterable[Mapping[str, Any]]) -> tuple[float, float]:
    """(steps rendered per second, share of steps with a family-specific template).

    `records` are step records or traced tactics: dicts with state_before, tactic, state_after
    (and optionally depth). Templates are compiled before the clock starts.
    """
    steps = [
        (r.get("state_before", ""), r["tactic"], r.get("state_after", "no goals"),
         int(r.get("depth", 0)))
        for r in records
    ]  # fmt: skip
    if not steps:
        return 0.0, 0.0
    for family in FAMILIES:
        environment().get_template(f"{family}.j2")
    start = time.perf_counter()
    specific = 0
    for before, tactic, after, depth in steps:
        if render_step(before, tactic, after, depth=depth).template != GENERIC:
            specific += 1
    elapsed = time.perf_counter() - start
    return len(steps) / max(elapsed, 1e-9), specific / len(steps)


def _records_from(path: Path) -> list[dict[str, Any]]:
    """Step records (.jsonl) or traced theorems (.json list) -> step-like dicts."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    data = json.loads(text)
    theorems = data if isinstance(data, list) else [data]
    return [t for thm in theorems for t in thm.get("traced_tactics", [])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, help="traced theorems or step records")
    parser.add_argument("--repeat", type=int, default=200, help="times to repeat the records")
    args = parser.parse_args(argv)
    if args.path is None:
        records = [{"state_before": b, "tactic": t, "state_after": a} for b, t, a in SAMPLE]
    else:
        records = _records_from(args.path)
    records = records * max(1, args.repeat)
    rate, specific = template_rate(records)
    families = Counter(render_step(r["state_before"], r["tactic"], r["state_after"]).template
                       for r in records[: len(records) // max(1, args.repeat)])  # fmt: skip
    print(f"{'steps':>10} {'steps/s':>10} {'specific':>9}")
    print(f"{len(records):>10} {rate:>10.0f} {specific:>9.1%}")
    print()
    print(f"{'template':<14} {'steps':>6}")
    for name, count in families.most_common():
        print(f"{name:<14} {count:>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
