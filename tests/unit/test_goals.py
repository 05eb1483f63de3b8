"""Parsing pretty-printed Lean goal states (translate/goals.py)."""

from __future__ import annotations

import random

import pytest

from leancot.translate.goals import (
    Goal,
    GoalState,
    Hypothesis,
    head_connective,
    parse_goal,
    parse_goal_state,
)

SINGLE = "n : Nat\n⊢ n + 0 = n"

MULTI = """case zero
⊢ 0 + 0 = 0

case succ
n✝ : Nat
a✝ : n✝ + 0 = n✝
⊢ n✝ + 1 + 0 = n✝ + 1"""

GROUPED = """α : Type u_1
inst✝ : DecidableEq α
x y z : Nat
l₁ l₂ : List α
h : x ∈ l₁ ∧ y ∉ l₂
⊢ ∀ (w : Nat), w + x = x + w"""

LET = "n : Nat\nm : Nat := n + 1\nk : Nat := ⋯\n⊢ m = n + 1"

# Lean breaks after `h :` when the type is too wide; continuation lines are indented two more.
LONG = """f : Nat → Nat
h :
  ∀ (a b c : Nat),
    f (a + b + c) = f a + f b + f c + a * b * c + a * b + b * c + c * a + 12345678901234567890
x : Nat :=
  f 1 + f 2 + f 3 + f 4 + f 5 + f 6 + f 7 + f 8 + f 9 + f 10 + f 11 + f 12 + f 13 + f 14
⊢ f (1 + 2 + 3) =
    f 1 + f 2 + f 3 + 1 * 2 * 3 + 1 * 2 + 2 * 3 + 3 * 1 + 12345678901234567890"""

ROUND_TRIP = [
    "no goals",
    SINGLE,
    MULTI,
    GROUPED,
    LET,
    LONG,
    "⊢ True",
    "case h.e'_2\np : Prop\n⊢ p",
    "case inl.intro\nα : Type\nx : α\nhx : x = x\n⊢ ∃ y, y = x",
    "h : let x := 1;\n  x = 1\n⊢ False",
    "«my hyp» : 1 = 1\n⊢ True",
]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip(text):
    state = parse_goal_state(text)
    assert state.pp() == text
    assert parse_goal_state(state.pp()) == state


@pytest.mark.parametrize("text", ["no goals", "", "  \n", "no goals\n"])
def test_no_goals(text):
    state = parse_goal_state(text)
    assert state == GoalState(())
    assert state.finished and state.main is None and len(state) == 0
    assert state.pp() == "no goals"


def test_single_goal():
    state = parse_goal_state(SINGLE)
    assert state.goals == (Goal(None, (Hypothesis(("n",), "Nat"),), "n + 0 = n"),)
    assert state.main.target == "n + 0 = n"
    assert str(state) == SINGLE


def test_multiple_goals_and_cases():
    state = parse_goal_state(MULTI)
    assert [g.case for g in state.goals] == ["zero", "succ"]
    assert state.goals[0].hypotheses == ()
    succ = state.goals[1]
    assert succ.names == ("n✝", "a✝")
    assert succ.type_of("a✝") == "n✝ + 0 = n✝"
    assert succ.target == "n✝ + 1 + 0 = n✝ + 1"


def test_names_sharing_a_type_and_inaccessible_names():
    goal = parse_goal_state(GROUPED).main
    assert goal.hypotheses[2] == Hypothesis(("x", "y", "z"), "Nat")
    assert goal.hypotheses[3].names == ("l₁", "l₂")
    assert goal.type_of("inst✝") == "DecidableEq α"
    assert goal.type_of("y") == "Nat"
    assert goal.type_of("h") == "x ∈ l₁ ∧ y ∉ l₂"
    assert goal.names == ("α", "inst✝", "x", "y", "z", "l₁", "l₂", "h")
    # ` : ` inside the target's binder does not confuse the parser.
    assert goal.target == "∀ (w : Nat), w + x = x + w"


def test_let_bound_hypotheses():
    goal = parse_goal_state(LET).main
    assert goal.hypothesis("m") == Hypothesis(("m",), "Nat", "n + 1")
    assert goal.hypothesis("m").is_let
    assert goal.hypothesis("k").value == "⋯"
    assert not goal.hypothesis("n").is_let


def test_let_inside_a_type_is_not_a_let_binding():
    goal = parse_goal_state("h : let x := 1;\n  x = 1\n⊢ False").main
    assert goal.hypotheses[0].value is None
    assert goal.hypotheses[0].type == "let x := 1;\nx = 1"


def test_multi_line_types_values_and_targets_are_dedented():
    goal = parse_goal_state(LONG).main
    h = goal.hypothesis("h")
    assert h.type.startswith("∀ (a b c : Nat),\n  f (a + b + c)")
    assert h.broken
    x = goal.hypothesis("x")
    assert x.type == "Nat" and x.value.startswith("f 1 + f 2") and "\n" not in x.value
    assert goal.target.startswith("f (1 + 2 + 3) =\n  f 1 + f 2")


def test_broken_layout_does_not_affect_equality():
    assert Hypothesis(("h",), "p", broken=True) == Hypothesis(("h",), "p")
    assert Hypothesis(("h",), "p", broken=True).pp() == "h :\n  p"


def test_hypothesis_named_case_is_not_a_case_line():
    goal = parse_goal("case : Nat\n⊢ case = case")
    assert goal.case is None
    assert goal.hypotheses == (Hypothesis(("case",), "Nat"),)


def test_goals_header_is_skipped():
    state = parse_goal_state("2 goals\nx : Nat\n⊢ x = x\n\n⊢ True")
    assert len(state) == 2
    assert state.goals[0].names == ("x",)


def test_crlf_and_trailing_whitespace():
    state = parse_goal_state("x : Nat\r\n⊢ x = x\r\n")
    assert state.main == Goal(None, (Hypothesis(("x",), "Nat"),), "x = x")


@pytest.mark.parametrize(
    "text, target_has",
    [
        ("garbage without a turnstile", "garbage without a turnstile"),
        ("<error printing goals: unknown metavariable>", "<error printing goals"),
        ("x : Nat\n⊢ x = x\nstray line after target", "stray line after target"),
        ("⊢", ""),
    ],
)
def test_odd_text_is_kept_not_raised(text, target_has):
    goal = parse_goal_state(text).main
    assert target_has in goal.target


def test_unknown_line_among_hypotheses_stays_in_the_type_before_it():
    goal = parse_goal("h : p\n(weird line)\n⊢ q")
    assert "(weird line)" in goal.type_of("h")
    assert goal.target == "q"


def test_parser_never_raises_on_noise():
    rng = random.Random(0)
    alphabet = list("abc xyz:⊢\n\n :=()[]{}⟨⟩✝∀,case ") + ["case ", "⊢ ", " : ", "\n  ", " := "]
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        state = parse_goal_state(text)
        assert isinstance(state.pp(), str)
        assert all(isinstance(g, Goal) for g in parse_goal_state(state.pp()).goals)


def test_parse_of_pp_is_a_fixed_point_on_noise():
    rng = random.Random(1)
    pieces = ["x : Nat", "⊢ x = x", "case foo", "  continued", "h :", "y : T := v", "junk", ""]
    for _ in range(300):
        text = "\n".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        once = parse_goal_state(text)
        twice = parse_goal_state(once.pp())
        assert parse_goal_state(twice.pp()) == twice


def test_states_compare_and_hash_by_content():
    a = parse_goal_state(MULTI)
    b = parse_goal_state(MULTI + "\n")
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1


@pytest.mark.parametrize(
    "expr, shape",
    [
        ("∀ (n : Nat), n + 0 = n", "forall"),
        ("∃ x, p x ∧ q x", "exists"),
        ("p → q", "implies"),
        ("p ∨ q → r", "implies"),
        ("a ∧ b ↔ c", "iff"),
        ("p ∧ q", "and"),
        ("p ∨ q", "or"),
        ("¬p", "not"),
        ("¬∃ x, p x ∧ q", "not"),
        ("¬p ∧ q", "and"),
        ("¬a = b", "not"),
        ("(a = b)", "eq"),
        ("List.length (a :: l) = l.length + 1", "eq"),
        ("f <$> x = y", "eq"),
        ("x ≠ y", "ne"),
        ("a ≤ b", "le"),
        ("a < b", "lt"),
        ("x ∈ s ∪ t", "mem"),
        ("True", "true"),
        ("False", "false"),
        ("fun x => x", "fun"),
        ("if n = 0 then p else q", "ite"),
        ("Nat", "other"),
        ("List α", "other"),
    ],
)
def test_head_connective(expr, shape):
    assert head_connective(expr) == shape
