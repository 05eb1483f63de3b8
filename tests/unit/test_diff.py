"""What a tactic changed between two goal states (translate/diff.py)."""

from __future__ import annotations

from leancot.translate.diff import HypChange, diff_goals, diff_states
from leancot.translate.goals import Hypothesis, parse_goal, parse_goal_state


def diff(before: str, after: str):
    return diff_states(parse_goal_state(before), parse_goal_state(after))


def test_intro_introduces_and_rewrites_the_target():
    d = diff("p q : Prop\n⊢ p ∧ q → q ∧ p", "p q : Prop\nh : p ∧ q\n⊢ q ∧ p")
    assert d.main is not None and not d.main_closed
    assert d.main.introduced == (Hypothesis(("h",), "p ∧ q"),)
    assert d.main.removed == () and d.main.changed == ()
    assert d.main.target_changed
    assert (d.main.before.target, d.main.after.target) == ("p ∧ q → q ∧ p", "q ∧ p")
    assert not d.closed and not d.created and not d.finished and d.untouched == 0


def test_introduced_names_keep_their_grouping():
    d = diff("⊢ ∀ (a b : Nat), a + b = b + a", "a b : Nat\n⊢ a + b = b + a")
    assert d.main.introduced == (Hypothesis(("a", "b"), "Nat"),)


def test_closing_the_last_goal_finishes():
    d = diff("n : Nat\n⊢ n + 0 = n", "no goals")
    assert d.finished and d.main_closed and d.main is None
    assert [g.target for g in d.closed] == ["n + 0 = n"]
    assert d.created == ()


def test_closing_the_main_goal_leaves_the_others_untouched():
    before = "case left\nhp : p\n⊢ p\n\ncase right\nhq : q\n⊢ q"
    d = diff(before, "case right\nhq : q\n⊢ q")
    assert d.main_closed and not d.finished
    assert [g.case for g in d.closed] == ["left"]
    assert d.untouched == 1 and d.created == ()


def test_split_into_cases_names_them_and_their_new_hypotheses():
    d = diff(
        "p q : Prop\nh : p ∨ q\n⊢ q ∨ p",
        "case inl\np q : Prop\nh✝ : p\n⊢ q ∨ p\n\ncase inr\np q : Prop\nh✝ : q\n⊢ q ∨ p",
    )
    assert d.split and d.main_closed
    assert [g.case for g in d.created] == ["inl", "inr"]
    inl, inr = d.created
    assert inl.introduced == (Hypothesis(("h✝",), "p"),)
    assert inl.removed == (Hypothesis(("h",), "p ∨ q"),)
    assert inr.introduced == (Hypothesis(("h✝",), "q"),)
    assert not inl.target_changed


def test_induction_cases_carry_the_induction_hypothesis():
    d = diff(
        "n : Nat\n⊢ n + 0 = n",
        "case zero\n⊢ 0 + 0 = 0\n\ncase succ\nn✝ : Nat\na✝ : n✝ + 0 = n✝\n⊢ n✝ + 1 + 0 = n✝ + 1",
    )
    zero, succ = d.created
    assert zero.case == "zero" and zero.removed == (Hypothesis(("n",), "Nat"),)
    assert [h.names for h in succ.introduced] == [("n✝",), ("a✝",)]
    assert succ.after.target == "n✝ + 1 + 0 = n✝ + 1"


def test_changed_hypothesis_type():
    d = diff("a b : Nat\nh : a + 0 = b\n⊢ b = a", "a b : Nat\nh : a = b\n⊢ b = a")
    assert d.main.changed == (HypChange("h", "a + 0 = b", "a = b"),)
    assert not d.main.target_changed and d.main.context_changed


def test_removed_hypotheses():
    d = diff("a b : Nat\nh : a = b\n⊢ b = a", "a : Nat\n⊢ a = a")
    assert d.main.removed == (Hypothesis(("b",), "Nat"), Hypothesis(("h",), "a = b"))


def test_let_value_change_counts_as_a_change():
    d = diff("x : Nat := 1\n⊢ x = 1", "x : Nat := 2\n⊢ x = 1")
    assert [c.name for c in d.main.changed] == ["x"]


def test_goals_match_by_case_name_before_position():
    before = "case zero\n⊢ 0 = 0\n\ncase succ\nk : Nat\n⊢ k + 1 = k + 1\n\ncase other\n⊢ True"
    # `zero` closed, `succ` simplified, `other` moved in front: names decide, not positions.
    after = "case other\n⊢ True\n\ncase succ\nk : Nat\n⊢ True"
    d = diff(before, after)
    assert [g.case for g in d.closed] == ["zero"]
    assert d.untouched == 1
    assert d.created == ()
    assert d.main is None and d.main_closed


def test_goals_match_by_position_when_untagged():
    d = diff("⊢ a = a\n\n⊢ b = b", "⊢ a' = a'\n\n⊢ b' = b'")
    assert d.main is not None and d.main.after.target == "a' = a'"
    assert not d.closed and not d.created


def test_side_goal_next_to_a_surviving_main_goal():
    before = "case a\nx : Nat\n⊢ P x"
    after = "case a\nx : Nat\nh : Q x\n⊢ P x\n\ncase h\nx : Nat\n⊢ Q x"
    d = diff(before, after)
    assert d.main is not None and d.main.introduced == (Hypothesis(("h",), "Q x"),)
    assert [g.case for g in d.created] == ["h"]
    assert not d.main_closed and not d.split


def test_successors_read_a_split_in_order_even_when_a_tag_repeats():
    before = "case neg\nx : Nat\n⊢ P x"
    after = "case pos\nx : Nat\nh : Q x\n⊢ P x\n\ncase neg\nx : Nat\nh : ¬Q x\n⊢ P x"
    d = diff(before, after)
    assert d.main is not None and [g.case for g in d.created] == ["pos"]
    assert [g.case for g in d.successors] == ["pos", "neg"]
    assert [g.introduced[0].type for g in d.successors] == ["Q x", "¬Q x"]


def test_successors_leave_out_untouched_goals():
    d = diff("⊢ p ∧ q\n\ncase other\n⊢ r", "case left\n⊢ p\n\ncase right\n⊢ q\n\ncase other\n⊢ r")
    assert [g.case for g in d.successors] == ["left", "right"]
    assert diff("⊢ p\n\n⊢ q", "⊢ q").successors == ()


def test_unchanged_state_has_no_effect():
    d = diff("x : Nat\n⊢ x = x", "x : Nat\n⊢ x = x")
    assert d.no_effect and d.untouched == 1 and d.main.unchanged


def test_whitespace_only_target_change_is_not_a_change():
    d = diff("⊢ a +\n    b = c", "⊢ a + b = c")
    assert not d.main.target_changed


def test_diff_goals_directly():
    g = diff_goals(parse_goal("x y : Nat\n⊢ x = y"), parse_goal("x : Nat\nz : Int\n⊢ x = x"))
    assert g.introduced == (Hypothesis(("z",), "Int"),)
    assert g.removed == (Hypothesis(("y",), "Nat"),)


def test_empty_before_state():
    d = diff("no goals", "⊢ True")
    assert d.main is None and not d.main_closed
    assert [g.after.target for g in d.created] == ["True"]
