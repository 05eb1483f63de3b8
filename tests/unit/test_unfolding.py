"""Goal-aware unfolding tactics: names read from pretty-printed states, templates, policy."""

import math

from leancot.prover.unfolding import UnfoldingPolicy, goal_constants, goal_tactics

KEEP = "α : Type u\nl : List α\n⊢ keep (fun x => true) l = l"
SUBSET = "α : Type u\n⊢ ∀ (s t : Set' α), Subset t (union s t)"
SUM_MONO = "m n : Nat\nh : m ≤ n\n⊢ sumTo m ≤ sumTo n"
SAFE_DIV = "a b q : Nat\nh : safeDiv a b = some q\n⊢ q * b ≤ a"


def test_constants_skip_bound_names_binders_universes_and_basic_types():
    assert goal_constants(KEEP) == ["keep"]  # not α, l, x, true, Type, u
    assert goal_constants("l : List Bool\n⊢ countTrue l ≤ l.length") == ["countTrue"]
    assert goal_constants(SUBSET) == ["Set'", "Subset", "union"]  # not s, t
    assert goal_constants(SAFE_DIV) == ["safeDiv"]  # from a hypothesis; not `some`
    assert goal_constants("n : Nat\n⊢ n + 0 = n") == []


def test_constants_skip_names_of_every_bracketed_binder():
    implicit = "⊢ ∀ {α : Type} [inst : BEq α] (x : α) (xs : List α), count x xs ≤ xs.length"
    assert goal_constants(implicit) == ["BEq", "count"]  # not inst, x, xs (a later binder)
    assert goal_constants("⊢ ∀ (a b : Nat) (h : a ≤ b), f a ≤ f b") == ["f"]
    assert goal_constants("⊢ ∀ ⦃a : Nat⦄, g a = a") == ["g"]
    assert goal_constants("⊢ (x : Nat) → x = x") == []


def test_constants_skip_inaccessible_variables_syntax_and_machine_integer_types():
    # `x✝` is an inaccessible variable (the hypotheses leave it out), not a constant `x`
    assert goal_constants("x✝ : List Nat\n⊢ foo x✝ = bar x✝") == ["foo", "bar"]
    assert goal_constants("x : UInt32\n⊢ (bif x == 0 then 1 else 2) = 2") == []
    assert goal_constants("⊢ ∀ (a : UInt8), g a = a.toNat") == ["g"]


def test_constants_read_only_the_first_goal_and_respect_the_limit():
    state = "x : Nat\n⊢ f (g (h (k x))) = 0\n\ncase other\n⊢ later = 1"
    assert goal_constants(state) == ["f", "g", "h", "k"]
    assert goal_constants(state, limit=2) == ["f", "g"]


def test_templates_induct_on_variables_and_order_hypotheses():
    tactics = goal_tactics(SUM_MONO)
    assert tactics[0] == "induction n <;> simp_all [sumTo]"
    assert "induction h <;> simp_all [sumTo] <;> omega" in tactics
    assert "unfold sumTo" in tactics
    assert len(tactics) == len(set(tactics))


def test_templates_for_binders_props_and_if_goals():
    assert "(intros; simp_all [Set', Subset, union, mem])" not in goal_tactics(SUBSET)
    assert "(intros; simp_all [Set', Subset, union])" in goal_tactics(SUBSET)
    props = goal_tactics("p q r : Prop\n⊢ p ∨ q ∧ r ↔ (p ∨ q) ∧ (p ∨ r)")
    assert props == ["by_cases hp : p <;> simp_all", "by_cases hq : q <;> simp_all"]
    branchy = goal_tactics("b : Bool\nn : Nat\n⊢ (if b = true then 1 else 0) + n ≤ n + 1")
    assert "split <;> omega" in branchy
    assert goal_tactics("⊢ 1 = 1") == []
    bools = goal_tactics("a b : Bool\n⊢ (a || b) = (b || a)")
    assert bools == ["cases b <;> simp_all", "cases a <;> simp_all"]  # no names: plain simp_all


def test_policy_ranks_with_normalised_zipf_logprobs_and_caps_n():
    policy = UnfoldingPolicy(max_tactics=3)
    [cands, none] = policy.propose([SUM_MONO, "⊢ 1 = 1"], n=8)
    assert none == []
    assert [c.tactic for c in cands] == goal_tactics(SUM_MONO)[:3]
    assert math.isclose(sum(math.exp(c.logprob) for c in cands), 1.0)
    assert cands[0].logprob > cands[1].logprob > cands[2].logprob
    assert len(policy.propose([SUM_MONO], n=2)[0]) == 2
