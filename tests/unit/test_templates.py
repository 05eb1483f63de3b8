"""Tactic classification and the per-family thought templates (translate/templates.py)."""

from __future__ import annotations

import jinja2
import pytest

from leancot.translate.goals import parse_goal_state
from leancot.translate.templates import (
    FAMILIES,
    GENERIC,
    TEMPLATE_DIR,
    RenderedStep,
    classify_tactic,
    environment,
    render_step,
)

SUCC_LEN = "case cons\nα : Type u_1\nx : α\nxs l₂ : List α\nih : len (xs ++ l₂) = len xs + len l₂\n"

# (family, state before, tactic, state after, facts the thought must state)
STEPS = [
    (
        "intro",
        "⊢ ∀ (n : Nat), n + 0 = n",
        "intro n",
        "n : Nat\n⊢ n + 0 = n",
        ["universal", "`n : Nat`", "`n + 0 = n`"],
    ),
    (
        "intro",
        "p q : Prop\n⊢ p ∧ q → q ∧ p",
        "rintro ⟨hp, hq⟩",
        "p q : Prop\nhp : p\nhq : q\n⊢ q ∧ p",
        ["implication", "`hp : p`", "`hq : q`", "`q ∧ p`"],
    ),
    (
        "intro",
        "p : Prop\n⊢ ¬(p ∧ ¬p)",
        "intro h",
        "p : Prop\nh : p ∧ ¬p\n⊢ False",
        ["negation", "`h : p ∧ ¬p`", "`False`"],
    ),
    (
        "simp",
        SUCC_LEN + "⊢ len (x :: xs ++ l₂) = len (x :: xs) + len l₂",
        "simp only [List.cons_append, len]",
        SUCC_LEN + "⊢ len (xs ++ l₂) + 1 = len xs + 1 + len l₂",
        ["`List.cons_append`", "`len`", "`len (xs ++ l₂) + 1 = len xs + 1 + len l₂`"],
    ),
    (
        "simp",
        "case succ\nk : Nat\nih : k + 0 = k\n⊢ k + 1 + 0 = k + 1",
        "simp [ih]",
        "no goals",
        ["`ih : k + 0 = k`", "closes", "case `succ`", "completes the proof"],
    ),
    (
        "simp",
        "a b : Nat\nh : a + 0 = b\n⊢ b = a",
        "simp at h",
        "a b : Nat\nh : a = b\n⊢ b = a",
        ["at `h`", "`h` simplifies to `a = b`"],
    ),
    (
        "simp",
        "a b : Nat\nh : a = b\n⊢ b = a",
        "simp_all",
        "no goals",
        ["every hypothesis", "closes"],
    ),
    (
        "induction",
        "n : Nat\n⊢ n + 0 = n",
        "induction n",
        "case zero\n⊢ 0 + 0 = 0\n\ncase succ\nn✝ : Nat\na✝ : n✝ + 0 = n✝\n⊢ n✝ + 1 + 0 = n✝ + 1",
        [
            "induction on `n`",
            "`n : Nat`",
            "base case `zero`",
            "`0 + 0 = 0`",
            "inductive step `succ`",
            "induction hypothesis is `a✝ : n✝ + 0 = n✝`",
            "`n✝ + 1 + 0 = n✝ + 1`",
        ],
    ),
    (
        "induction",
        "α : Type u_1\nl : List α\n⊢ len l = l.length",
        "induction l with\n  | nil => rfl\n  | cons x xs ih =>\n    simp only [len]\n    rw [ih]",
        "no goals",
        [
            "induction on `l`",
            "base case `nil`",
            "`rfl`",
            "inductive step `cons`",
            "`x` and `xs`",
            "induction hypothesis `ih` states `len xs = xs.length`",
            "`simp only [len]; rw [ih]`",
        ],
    ),
    (
        "cases",
        "p q : Prop\nh : p ∨ q\n⊢ q ∨ p",
        "cases h",
        "case inl\np q : Prop\nh✝ : p\n⊢ q ∨ p\n\ncase inr\np q : Prop\nh✝ : q\n⊢ q ∨ p",
        ["`h : p ∨ q`", "disjunction", "case `inl`", "case `inr`", "`h✝ : p`", "`h✝ : q`"],
    ),
    (
        "cases",
        "p q : Prop\nh : p ∧ q\n⊢ q ∧ p",
        "obtain ⟨hp, hq⟩ := h",
        "p q : Prop\nhp : p\nhq : q\n⊢ q ∧ p",
        ["`h : p ∧ q`", "conjunction", "`hp : p`", "`hq : q`"],
    ),
    (
        "cases",
        "α : Type\np : α → Prop\nh : ∃ x, p x\n⊢ ∃ y, p y",
        "rcases h with ⟨x, hx⟩",
        "α : Type\np : α → Prop\nx : α\nhx : p x\n⊢ ∃ y, p y",
        ["existential", "`x : α`", "`hx : p x`"],
    ),
    (
        "cases",
        "b : Bool\n⊢ (!!b) = b",
        "cases b",
        "case false\n⊢ (!!false) = false\n\ncase true\n⊢ (!!true) = true",
        ["`b : Bool`", "case `false`", "case `true`", "`(!!true) = true`"],
    ),
    (
        "cases",
        "p q : Prop\nh : p ∨ q\n⊢ q ∨ p",
        "cases h with\n  | inl hp => exact Or.inr hp\n  | inr hq => exact Or.inl hq",
        "no goals",
        ["Case `inl`", "`hp`", "`exact Or.inr hp`", "Case `inr`", "`exact Or.inl hq`"],
    ),
    (
        "rw",
        SUCC_LEN + "⊢ len (xs ++ l₂) + 1 = len xs + 1 + len l₂",
        "rw [ih]",
        SUCC_LEN + "⊢ len xs + len l₂ + 1 = len xs + 1 + len l₂",
        [
            "`ih : len (xs ++ l₂) = len xs + len l₂`",
            "replacing `len (xs ++ l₂)` by `len xs + len l₂`",
            "`len xs + len l₂ + 1 = len xs + 1 + len l₂`",
        ],
    ),
    (
        "rw",
        "a b c : Nat\nh : a = b\n⊢ a + c = b + c",
        "rw [← h]",
        "no goals",
        ["`h : a = b`", "right to left", "replacing `b` by `a`", "`rfl`"],
    ),
    (
        "rw",
        "a b : Nat\n⊢ a + b = b + a",
        "rw [Nat.add_comm a b] at *",
        "a b : Nat\n⊢ b + a = b + a",
        ["`Nat.add_comm a b`", "everywhere"],
    ),
    (
        "exact",
        "case left\np q : Prop\nhp : p\nhq : q\n⊢ p\n\ncase right\np q : Prop\nhp : p\nhq : q\n⊢ q",
        "exact hp",
        "case right\np q : Prop\nhp : p\nhq : q\n⊢ q",
        ["`hp : p`", "exactly the goal", "case `left`", "One goal remains: case `right`"],
    ),
    (
        "exact",
        "a b c : Nat\nh₁ : a ≤ b\nh₂ : b ≤ c\n⊢ a ≤ c",
        "apply Nat.le_trans h₁",
        "case a\na b c : Nat\nh₁ : a ≤ b\nh₂ : b ≤ c\n⊢ b ≤ c",
        ["`Nat.le_trans`", "premises", "`b ≤ c`"],
    ),
    (
        "exact",
        "a b c : Nat\nh₁ : a ≤ b\nh₂ : b ≤ c\n⊢ a ≤ c",
        "exact Nat.le_trans h₁ h₂",
        "no goals",
        ["lemma `Nat.le_trans`", "`Nat.le_trans h₁ h₂`", "completes the proof"],
    ),
    ("exact", "p : Prop\nh : p\n⊢ p", "assumption", "no goals", ["`h : p`", "assumption"]),
    (
        "arith",
        "n : Nat\nh : n < 5\n⊢ n + 1 ≤ 5",
        "omega",
        "no goals",
        ["`n + 1 ≤ 5`", "linear arithmetic", "`h : n < 5`", "closes"],
    ),
    ("arith", "⊢ 2 + 2 = 4", "decide", "no goals", ["`2 + 2 = 4`", "decidable", "`decide`"]),
    ("arith", "x : Nat\n⊢ x * 1 = x", "norm_num", "no goals", ["`norm_num`", "closes"]),
    (
        "arith",
        "x y : Nat\nh : x < y\n⊢ x + 1 ≤ y",
        "linarith",
        "no goals",
        ["linear arithmetic", "`h : x < y`"],
    ),
    (
        "constructor",
        "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q",
        "constructor",
        "case left\np q : Prop\nhp : p\nhq : q\n⊢ p\n\ncase right\np q : Prop\nhp : p\nhq : q\n⊢ q",
        ["conjunction", "case `left`", "`p`", "case `right`", "`q`"],
    ),
    (
        "constructor",
        "p q : Prop\n⊢ p ∧ q ↔ q ∧ p",
        "constructor",
        "case mp\np q : Prop\n⊢ p ∧ q → q ∧ p\n\ncase mpr\np q : Prop\n⊢ q ∧ p → p ∧ q",
        ["equivalence", "both directions", "case `mp`", "case `mpr`"],
    ),
    (
        "constructor",
        "b : Bool\n⊢ ∃ c, c ≠ b",
        "exists !b",
        "b : Bool\n⊢ (!b) ≠ b",
        ["existential", "witness `!b`", "`(!b) ≠ b`"],
    ),
    (
        "constructor",
        "x : Nat\n⊢ ∃ y, y > x",
        "use x + 1",
        "x : Nat\n⊢ x + 1 > x",
        ["witness `x + 1`", "`x + 1 > x`"],
    ),
    (
        "constructor",
        "p q : Prop\nhp : p\n⊢ p ∨ q",
        "left",
        "case h\np q : Prop\nhp : p\n⊢ p",
        ["disjunction", "left side", "`p`"],
    ),
    (
        "constructor",
        "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q",
        "refine ⟨hp, ?_⟩",
        "p q : Prop\nhp : p\nhq : q\n⊢ q",
        ["components `hp` and `?_`", "`q`"],
    ),
    (
        "have",
        "a b : Nat\nh : a = b\n⊢ b = a",
        "have h2 : b = a := h.symm",
        "a b : Nat\nh : a = b\nh2 : b = a\n⊢ b = a",
        ["intermediate fact `h2 : b = a`", "`h.symm`"],
    ),
    (
        "have",
        "n : Nat\n⊢ double n = n + n",
        "show 2 * n = n + n",
        "n : Nat\n⊢ 2 * n = n + n",
        ["`2 * n = n + n`", "definitional"],
    ),
    (
        "have",
        "a b c : Nat\nh1 : a = b\nh2 : b = c\n⊢ a = c",
        "calc a = b := h1\n  _ = c := h2",
        "no goals",
        ["chain of 2 steps", "`a = b`", "`_ = c`", "transitivity"],
    ),
    (
        "have",
        "p q : Prop\nhq : q\n⊢ p ∧ q",
        "suffices hp : p by exact ⟨hp, hq⟩",
        "p q : Prop\nhq : q\n⊢ p",
        ["suffices", "`hp : p`", "`exact ⟨hp, hq⟩`", "`p`"],
    ),
    (
        "unfold",
        "n : Nat\n⊢ double n = 2 * n",
        "unfold double",
        "n : Nat\n⊢ n + n = 2 * n",
        ["definition of `double`", "`n + n = 2 * n`"],
    ),
    (
        "unfold",
        "case cons\nα : Type u_1\nx : α\nxs : List α\nih : app xs [] = xs\n"
        "⊢ app (x :: xs) [] = x :: xs",
        "simp only [app]",
        "case cons\nα : Type u_1\nx : α\nxs : List α\nih : app xs [] = xs\n"
        "⊢ x :: app xs [] = x :: xs",
        ["definition of `app`", "`x :: app xs [] = x :: xs`"],
    ),
    (
        "contradiction",
        "p : Prop\nh : p\nhn : ¬p\n⊢ False",
        "contradiction",
        "no goals",
        ["`h : p`", "`hn : ¬p`", "contradict"],
    ),
    (
        "contradiction",
        "h : False\n⊢ 1 = 2",
        "contradiction",
        "no goals",
        ["`h : False`", "impossible"],
    ),
    (
        "contradiction",
        "p q : Prop\nh : p\nhn : ¬p\n⊢ q",
        "exfalso",
        "p q : Prop\nh : p\nhn : ¬p\n⊢ False",
        ["`q`", "`False`", "contradiction"],
    ),
    (
        "contradiction",
        "p q : Prop\nh : p\nhn : ¬p\n⊢ q",
        "exact absurd h hn",
        "no goals",
        ["`h : p`", "`hn : ¬p`", "contradict"],
    ),
    (
        "contradiction",
        "x : Nat\n⊢ x = 0",
        "by_contra hx",
        "x : Nat\nhx : ¬x = 0\n⊢ False",
        ["contradiction", "`hx : ¬x = 0`"],
    ),
    (
        "funext",
        "f g : Nat → Nat\nh : ∀ (x : Nat), f x = g x\n⊢ f = g",
        "funext x",
        "f g : Nat → Nat\nh : ∀ (x : Nat), f x = g x\nx : Nat\n⊢ f x = g x",
        ["extensionality", "`x : Nat`", "`f x = g x`"],
    ),
    (
        "funext",
        "f g : Nat → Nat\n⊢ f = g",
        "ext n",
        "case h\nf g : Nat → Nat\nn : Nat\n⊢ f n = g n",
        ["extensionality", "`n : Nat`", "`f n = g n`"],
    ),
    (
        "specialize",
        "f g : Nat → Nat\nh : ∀ (x : Nat), f x = g x\nx : Nat\n⊢ f x = g x",
        "specialize h x",
        "f g : Nat → Nat\nx : Nat\nh : f x = g x\n⊢ f x = g x",
        ["`h : ∀ (x : Nat), f x = g x`", "for `x`", "`h` states `f x = g x`"],
    ),
    (
        "by_cases",
        "p : Prop\n⊢ p ∨ ¬p",
        "by_cases h : p",
        "case pos\np : Prop\nh : p\n⊢ p ∨ ¬p\n\ncase neg\np : Prop\nh : ¬p\n⊢ p ∨ ¬p",
        ["whether `p` holds", "case `pos`", "`h : p`", "case `neg`", "`h : ¬p`"],
    ),
    (
        "by_cases",
        "case neg\nα : Type u\nP : α → Prop\nx : α\n⊢ P x",
        "by_cases hx : P x",
        "case pos\nα : Type u\nP : α → Prop\nx : α\nhx : P x\n⊢ P x\n\n"
        "case neg\nα : Type u\nP : α → Prop\nx : α\nhx : ¬P x\n⊢ P x",
        ["2 cases", "case `pos` with `hx : P x`", "case `neg` with `hx : ¬P x`"],
    ),
    (
        "by_cases",
        "n : Nat\n⊢ (if n = 0 then 1 else n) > 0",
        "split",
        "case isTrue\nn : Nat\nh✝ : n = 0\n⊢ 1 > 0\n\ncase isFalse\nn : Nat\nh✝ : ¬n = 0\n⊢ n > 0",
        ["`if`", "case `isTrue`", "`h✝ : n = 0`", "case `isFalse`", "`n > 0`"],
    ),
    (
        "combinator",
        "a b : Bool\n⊢ (a && b) = (b && a)",
        "cases a <;> cases b <;> rfl",
        "no goals",
        ["`cases a`", "then `cases b` on every goal", "then `rfl`", "proof is complete"],
    ),
    (
        "combinator",
        "case zero\n⊢ 0 + 0 = 0\n\ncase succ\nn✝ : Nat\na✝ : n✝ + 0 = n✝\n⊢ n✝ + 1 + 0 = n✝ + 1",
        "all_goals simp",
        "no goals",
        ["`simp`", "each of the 2 open goals", "every goal"],
    ),
    ("combinator", "x : Nat\n⊢ x = x", "try rfl", "no goals", ["try `rfl`"]),
    (
        "combinator",
        "p : Prop\nh : p\n⊢ p ∧ p",
        "first | exact ⟨h, h⟩ | simp",
        "no goals",
        ["`exact ⟨h, h⟩`", "`simp`", "first that succeeds"],
    ),
    (
        "combinator",
        "p q : Prop\nhq : q\n⊢ p → q",
        "· intro _\n    exact hq",
        "no goals",
        ["2 tactics in sequence", "`intro _`", "`exact hq`"],
    ),
    (
        "rfl",
        "n : Nat\n⊢ n + 0 = n",
        "rfl",
        "no goals",
        ["`n + 0 = n`", "by definition", "reflexivity"],
    ),
    ("rfl", "n : Nat\n⊢ n * 0 = 0", "exact rfl", "no goals", ["reflexivity"]),
    ("rfl", "⊢ True", "trivial", "no goals", ["`True`", "trivially"]),
    (
        "generic",
        "a b : Nat\nh : a = b\n⊢ b = a",
        "subst h",
        "a : Nat\n⊢ a = a",
        ["`h : a = b`", "`a = a`", "`b` and `h` are no longer in the context"],
    ),
    (
        "generic",
        "xs : List Nat\n⊢ xs.reverse.reverse = xs",
        "grind",
        "no goals",
        ["`grind`", "`xs.reverse.reverse = xs`", "closes the goal"],
    ),
]


def _ids():
    return [f"{i}-{s[0]}-{s[2].split()[0]}" for i, s in enumerate(STEPS)]


@pytest.mark.parametrize("family, before, tactic, after, facts", STEPS, ids=_ids())
def test_family_thought_states_the_facts(family, before, tactic, after, facts):
    step = render_step(before, tactic, after)
    assert step.template == family, step.thought
    for fact in facts:
        assert fact in step.thought, f"{fact!r} missing from: {step.thought}"
    assert "\n" not in step.thought and "  " not in step.thought
    assert step.thought[0].isupper() and step.thought.endswith(".")


def test_every_family_has_a_template_file_and_an_example():
    assert {s[0] for s in STEPS} == set(FAMILIES)
    for family in FAMILIES:
        assert (TEMPLATE_DIR / f"{family}.j2").is_file()


@pytest.mark.parametrize(
    "tactic, family",
    [
        ("intro x y", "intro"),
        ("intros", "intro"),
        ("rintro ⟨x, hx⟩ | h", "intro"),
        ("simp", "simp"),
        ("simp only [Nat.add_zero, List.map_cons]", "simp"),
        ("simp at h ⊢", "simp"),
        ("simp_all", "simp"),
        ("dsimp", "simp"),
        ("simpa using h", "simp"),
        ("induction n with\n  | zero => simp\n  | succ k ih => simp <;> omega", "induction"),
        ("induction' n with k ih", "induction"),
        ("cases h", "cases"),
        ("rcases h with ⟨x, rfl⟩", "cases"),
        ("obtain ⟨x, hx⟩ := h", "cases"),
        ("match h with\n  | .inl a => exact a\n  | .inr b => exact b", "cases"),
        ("rw [h]", "rw"),
        ("rewrite [← Nat.add_comm]", "rw"),
        ("rw [← h] at h2", "rw"),
        ("erw [foo]", "rw"),
        ("rwa [h]", "rw"),
        ("exact h", "exact"),
        ("apply Nat.le_of_lt", "exact"),
        ("refine Nat.le_trans ?_ h", "exact"),
        ("exact_mod_cast h", "exact"),
        ("omega", "arith"),
        ("decide", "arith"),
        ("linarith", "arith"),
        ("norm_num [h]", "arith"),
        ("constructor", "constructor"),
        ("exists 2", "constructor"),
        ("use 2", "constructor"),
        ("left", "constructor"),
        ("right", "constructor"),
        ("refine ⟨?_, ?_⟩", "constructor"),
        ("exact ⟨h1, h2⟩", "constructor"),
        ("have h : p := by simp", "have"),
        ("show p", "have"),
        ("calc a = b := h\n  _ = c := h'", "have"),
        ("suffices h : p by simpa", "have"),
        ("unfold f", "unfold"),
        ("delta f", "unfold"),
        ("simp only [f]", "unfold"),
        ("simp only [List.length]", "unfold"),
        ("simp only [h]", "simp"),
        ("simp only [ih]", "simp"),
        ("simp only [← f]", "simp"),
        ("contradiction", "contradiction"),
        ("absurd h", "contradiction"),
        ("exfalso", "contradiction"),
        ("nomatch h", "contradiction"),
        ("exact absurd h1 h2", "contradiction"),
        ("exact False.elim h", "contradiction"),
        ("funext x", "funext"),
        ("ext x", "funext"),
        ("apply funext", "funext"),
        ("specialize h 2", "specialize"),
        ("by_cases h : x = 0", "by_cases"),
        ("split", "by_cases"),
        ("split_ifs with h", "by_cases"),
        ("cases a <;> simp", "combinator"),
        ("first | rfl | simp", "combinator"),
        ("repeat rw [h]", "combinator"),
        ("all_goals simp", "combinator"),
        ("any_goals omega", "combinator"),
        ("try simp", "combinator"),
        ("rfl", "rfl"),
        ("trivial", "rfl"),
        ("exact rfl", "rfl"),
        ("exact Iff.rfl", "rfl"),
        ("· simp", "simp"),
        ("· simp\n  omega", "combinator"),
        ("case succ k ih => simp [ih]", "simp"),
        ("next => rfl", "rfl"),
        ("(omega)", "arith"),
        ("subst h", "generic"),
        ("grind", "generic"),
        ("", "generic"),
        ("⟨weird⟩", "generic"),
    ],
)
def test_classify_tactic(tactic, family):
    assert classify_tactic(tactic) == family


def test_simp_only_of_a_hypothesis_is_simp_when_the_state_says_so():
    state = parse_goal_state("foo : a = b\n⊢ a = b")
    assert classify_tactic("simp only [foo]") == "unfold"
    assert classify_tactic("simp only [foo]", state) == "simp"


def test_rendering_is_deterministic_and_order_independent():
    first = [render_step(b, t, a) for _, b, t, a, _ in STEPS]
    second = [render_step(b, t, a) for _, b, t, a, _ in reversed(STEPS)]
    assert first == list(reversed(second))
    assert all(isinstance(s, RenderedStep) for s in first)


def test_nested_step_finishes_its_block_not_the_proof():
    top = render_step("case zero\n⊢ 0 + 0 = 0", "rfl", "no goals")
    nested = render_step("case zero\n⊢ 0 + 0 = 0", "rfl", "no goals", depth=1)
    assert "completes the proof" in top.thought
    assert "completes the proof" not in nested.thought
    assert "current block" in nested.thought


@pytest.mark.parametrize(
    "before, tactic, after",
    [
        ("", "", ""),
        ("garbage", "???", "more garbage"),
        ("no goals", "simp", "no goals"),
        ("⊢ p", "exact", "⊢ p"),
        ("⊢ p", "rw []", "⊢ p"),
        ("⊢ p", "cases", "no goals"),
        ("⊢ p", "induction", "⊢ p\n\n⊢ p"),
        ("⊢ p", "have", "⊢ p"),
        ("⊢ p", "specialize", "⊢ p"),
        ("⊢ p", "exists", "⊢ p"),
        ("⊢ p", "calc", "no goals"),
        ("⊢ p", "first", "no goals"),
        ("⊢ p", "iterate", "no goals"),
        ("⊢ p", "cases h with\n  | => x", "no goals"),
        ("⊢ p", "simp [", "⊢ q"),
        ("⊢ p", "rw [a] at", "⊢ q"),
        ("h :\n⊢", "intro", "⊢"),
    ],
)
def test_odd_input_still_renders(before, tactic, after):
    step = render_step(before, tactic, after)
    assert step.thought and step.template in FAMILIES


def test_environment_is_cached_strict_and_trims_blocks():
    env = environment()
    assert env is environment()
    assert env.undefined is jinja2.StrictUndefined
    assert env.trim_blocks and env.lstrip_blocks
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()


def test_long_expressions_are_cut():
    target = " + ".join(f"x{i}" for i in range(200)) + " = 0"
    step = render_step(f"⊢ {target}", "simp", "no goals")
    assert "…" in step.thought and len(step.thought) < 600


def test_generic_is_the_fallback_for_unknown_tactics():
    step = render_step("x : Nat\n⊢ x = x", "aesop", "no goals")
    assert step.template == GENERIC
    assert "`aesop`" in step.thought and "`x = x`" in step.thought


def test_arith_on_false_does_not_repeat_the_goal():
    step = render_step("n : Nat\nh : n + 1 ≤ n\n⊢ False", "omega", "no goals")
    assert step.thought.startswith("The goal is `False`. It is")
    assert "`h : n + 1 ≤ n`" in step.thought


def test_long_have_proof_is_summarised():
    block = "by\n    constructor\n" + "\n".join(f"    · exact lemma_{i} h" for i in range(8))
    step = render_step("h : p\n⊢ q", f"have key : a ↔ b := {block}", "h : p\nkey : a ↔ b\n⊢ q")
    assert "`key : a ↔ b`" in step.thought and "tactic block of its own" in step.thought
    assert "lemma_7" not in step.thought
