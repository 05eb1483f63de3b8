"""Traced tactics (a saved reply of the real REPL) to LeanDojo Benchmark 4 theorem entries."""

import json
from pathlib import Path

import pytest

from leancot.extract.trace import (
    NO_GOALS,
    SourceText,
    Span,
    keep_step,
    state_text,
    traced_steps,
    traced_theorems,
)

FIXTURE = Path(__file__).parent.parent / "data" / "repl_all_tactics.json"


@pytest.fixture(scope="module")
def entries() -> dict[str, dict]:
    data = json.loads(FIXTURE.read_text(encoding="utf-8"))
    found = traced_theorems(
        data["source"], data["response"]["tactics"], file_path="Demo.lean", url="u", commit="c"
    )
    return {e["full_name"]: e for e in found}


def test_every_theorem_is_found_with_namespace(entries):
    assert sorted(entries) == ["Demo.add_zero'", "Demo.and_swap", "Demo.rw_demo"]


def test_leandojo_fields_and_one_based_positions(entries):
    thm = entries["Demo.add_zero'"]
    assert {"url", "commit", "file_path", "full_name", "start", "end", "traced_tactics"} <= set(thm)
    assert thm["start"] == [3, 1] and thm["end"] == [6, 22]
    assert thm["statement"] == "theorem add_zero' (n : Nat) : n + 0 = n"
    assert thm["proof"].startswith("by\n  induction n with")


def test_nested_steps_keep_their_depth_and_states(entries):
    steps = entries["Demo.add_zero'"]["traced_tactics"]
    assert [(s["depth"], s["tactic"].split()[0]) for s in steps] == [
        (0, "induction"),
        (1, "rfl"),
        (1, "simp"),
    ]
    assert steps[0]["state_before"] == "n : Nat\n⊢ n + 0 = n"
    assert steps[0]["state_after"] == NO_GOALS
    assert steps[2]["state_before"].startswith("case succ\nk : Nat\nih : k + 0 = k")


def test_structural_nodes_and_macro_pieces_are_not_steps(entries):
    tactics = [s["tactic"] for s in entries["Demo.and_swap"]["traced_tactics"]]
    assert tactics == ["obtain ⟨hp, hq⟩ := h", "constructor", "exact hq", "exact hp"]
    rw_steps = entries["Demo.rw_demo"]["traced_tactics"]
    assert [s["tactic"] for s in rw_steps] == ["rw [h, Nat.add_comm]"]  # not its `]`/`rfl`


def test_leandojo_export_rule_drops_focusing_dots_and_no_goals(entries):
    steps = entries["Demo.and_swap"]["traced_tactics"]
    assert all(keep_step(s) for s in steps)  # `· exact hq` is traced as `exact hq`
    assert not keep_step({"tactic": "constructor <;> · exact hq", "state_before": "⊢ p"})
    assert not keep_step({"tactic": "rfl", "state_before": NO_GOALS})


def test_source_text_addresses_code_points():
    src = SourceText("theorem t : ∀ n, n = n := by\n  intro n\n  rfl\n")
    assert src.slice(Span((2, 2), (2, 9))) == "intro n"
    assert src.offset(1, 12) == 12  # columns count code points, not bytes


def test_state_text():
    assert state_text([]) == NO_GOALS
    assert state_text(["⊢ p", "⊢ q"]) == "⊢ p\n\n⊢ q"


def test_bare_tokens_of_macro_expansions_are_not_steps():
    source = SourceText("theorem t (a : Bool) : a = a := by\n  cases a <;> rfl\n")
    block = Span((1, 32), (2, 17))

    def node(kind: str, start: tuple[int, int], end: tuple[int, int]) -> dict:
        return {
            "kind": kind,
            "pos": {"line": start[0], "column": start[1]},
            "endPos": {"line": end[0], "column": end[1]},
            "goalsBefore": ["a : Bool\n⊢ a = a"],
            "goalsAfter": [],
        }

    nodes = [
        node("Lean.Parser.Tactic.tactic_<;>_", (2, 2), (2, 17)),
        node("Lean.Parser.Tactic.tactic_<;>_", (2, 10), (2, 13)),  # the `<;>` token alone
        node("Lean.Parser.Tactic.cases", (2, 2), (2, 9)),
    ]
    steps = traced_steps(source, nodes, block)
    assert [s["tactic"] for s in steps] == ["cases a <;> rfl", "cases a"]
