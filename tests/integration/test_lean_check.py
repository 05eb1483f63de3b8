"""Tactic validity at held-out states, checked by the real WASM Lean through proof replay."""

import pytest

from leancot.extract.replay import LeanStateChecker

pytestmark = [pytest.mark.slow, pytest.mark.lean]

THEOREM = {
    "full_name": "demo",
    "statement": "theorem demo (p q : Prop) (hp : p) (hq : q) : p ∧ q",
    "traced_tactics": [
        {
            "tactic": "constructor",
            "depth": 0,
            "state_before": "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q",
        },
        {"tactic": "exact hp", "depth": 0, "state_before": "case left\n..."},
        {"tactic": "exact hq", "depth": 0, "state_before": "case right\n..."},
    ],
}


def test_valid_invalid_and_unknown_states(lean_server):
    check = LeanStateChecker(lean_server, [THEOREM])
    start = "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q"
    assert check(start, "constructor") is True
    assert check(start, "exact hp") is False
    assert check("case left\n...", "exact hp") is True  # reached by replaying `constructor`
    assert check("case right\n...", "exact hp") is False
    assert check("⊢ something else", "rfl") is None
    assert check.known(start) and not check.known("⊢ something else")


FILE = """namespace Demo

def double (n : Nat) : Nat := n + n

theorem double_zero : double 0 = 0 := by
  rfl
"""
NEXT = "\ntheorem double_two : double 2 = 4 := by\n  rfl\n"


def test_file_context_and_outcomes(lean_server):
    """A statement that names a definition of its file is started in its header (the file's
    text before it); a second header that extends the first is elaborated from it."""
    demo = {
        "full_name": "Demo.double_zero",
        "statement": "theorem double_zero : double 0 = 0",
        "traced_tactics": [{"tactic": "rfl", "depth": 0, "state_before": "⊢ double 0 = 0"}],
    }
    two = {
        "full_name": "Demo.uses_two",
        "statement": "theorem uses_two (h : True) : double 2 = 4 ∧ True",
        "header": FILE + NEXT,
        "traced_tactics": [
            {"tactic": "constructor", "depth": 0, "state_before": "h : True\n⊢ double 2 = 4 ∧ True"}
        ],
    }
    header = FILE.split("theorem")[0]
    check = LeanStateChecker(lean_server, [demo, two], headers={"Demo.double_zero": header})
    assert check.outcome("⊢ double 0 = 0", "rfl") == "closed"
    assert check.outcome("⊢ double 0 = 0", "exact h") == "rejected"
    assert check("⊢ double 0 = 0", "skip") is True
    assert check.outcome("⊢ double 0 = 0", "skip") == "unchanged"
    state = "h : True\n⊢ double 2 = 4 ∧ True"
    assert check.outcome(state, "constructor") == "changed"
    assert check.outcome(state, "exact ⟨rfl, h⟩") == "closed"
    assert check.outcome(state, "refine ⟨double_two, ?_⟩") == "changed"  # from the header
    bare = LeanStateChecker(lean_server, [{**demo, "full_name": "x"}])
    assert bare.outcome("⊢ double 0 = 0", "rfl") is None  # `double` is unknown without the file
