"""The portfolio's reading of a goal state (`policies.hypotheses`, through
`translate.goals.parse_goal_state`) and the tactics it builds from it (`instantiated`)."""

from __future__ import annotations

from leancot.prover.policies import hypotheses, instantiated


def test_hypotheses_of_the_first_goal_one_per_name():
    state = "case succ\nx y : Nat\nh : x ≤ y\n⊢ x + 1 ≤ y + 1\n\ncase zero\nz : Nat\n⊢ 0 ≤ z"
    assert hypotheses(state) == [("x", "Nat"), ("y", "Nat"), ("h", "x ≤ y")]


def test_wrapped_types_come_back_on_one_line():
    state = (
        "f : ℕ → ℕ\nh :\n  ∀ (a b : ℕ),\n    f (a + b) = f a + f b\nk : f 0 =\n    0\n⊢ f 1 = f 1"
    )
    assert hypotheses(state) == [
        ("f", "ℕ → ℕ"),
        ("h", "∀ (a b : ℕ), f (a + b) = f a + f b"),
        ("k", "f 0 = 0"),
    ]


def test_let_values_stay_after_the_type_and_inaccessible_names_are_left_out():
    state = "n✝ : Nat\nx : Nat := 5\n⊢ x = 5"
    assert hypotheses(state) == [("x", "Nat := 5")]


def test_no_goals_or_no_hypotheses():
    assert hypotheses("no goals") == []
    assert hypotheses("⊢ True") == []
    assert hypotheses("") == []


def test_instantiated_uses_props_and_inductive_variables():
    state = "n : Nat\nl : List Nat\nh : n ≠ 0\n⊢ n + l.length > 0"
    assert instantiated(state) == [
        "exact h",
        "induction n <;> simp",
        "cases n <;> simp",
        "induction l <;> simp",
        "cases l <;> simp",
        "simp at h",
        "cases h",
    ]
