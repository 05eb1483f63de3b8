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
