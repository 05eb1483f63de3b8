"""MCTS with step values (a path value scores each candidate step before Lean runs it) and the
screen that drops a model's unparsable samples; scripted policies and values, no Lean."""

from __future__ import annotations

import math

import pytest

from leancot.prover import Budget, ConstantValue, ScriptedEnv, ScriptedPolicy, mcts_search
from leancot.prover.config import SearchConfig
from leancot.prover.graph import ProofGraph
from leancot.prover.mixture import SampledPolicy, search_setup
from leancot.prover.policies import DEFAULT_PORTFOLIO, plausible_tactic
from leancot.prover.unfolding import goal_tactics

# The root's policy prefers three tactics that Lean rejects; the fourth closes the proof.
ENV = {"⊢ R": {"good": "⊢ G"}, "⊢ G": {"close": "no goals"}}
POLICY = {
    "⊢ R": [("bad1", -0.1), ("bad2", -0.2), ("bad3", -0.3), ("good", -0.4)],
    "⊢ G": [("close", 0.0)],
}


class StepTable:
    """A value scoring a one-step attempt by its tactic (table, else 0.5), states at 0.5;
    records the steps it is asked about."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table
        self.calls: list[tuple[str, list[str]]] = []

    def value(self, states):
        return [0.5] * len(states)

    def value_steps(self, state, steps):
        self.calls.append((state, [tac for _, tac in steps]))
        return [self.table.get(tac, 0.5) for _, tac in steps]


def run(value, **kwargs):
    env, policy = ScriptedEnv(ENV, "⊢ R"), ScriptedPolicy(POLICY)
    budget = Budget(max_expansions=None, max_lean_calls=50)
    result = mcts_search(env, "t", policy=policy, value=value, budget=budget, **kwargs)
    result.graph.check_invariants()
    return result, env


SCORES = {"bad1": 0.1, "bad2": 0.1, "bad3": 0.2, "good": 0.9, "close": 0.95}


def test_step_values_try_the_steps_the_value_believes_in_first():
    without, env_without = run(StepTable(SCORES))
    assert [t for _, t in env_without.calls] == ["bad1", "bad2", "bad3", "good", "close"]
    value = StepTable(SCORES)
    result, env = run(value, step_values=True)
    assert result.proof == ["good", "close"]
    assert [t for _, t in env.calls] == ["good", "close"]
    assert (result.lean_calls, without.lean_calls) == (3, 6)  # start included
    # one batch per expansion, from the node's own state
    assert value.calls == [("⊢ R", ["bad1", "bad2", "bad3", "good"]), ("⊢ G", ["close"])]
    # the child took its step's score; below the root a step is worth at most its node
    assert result.graph.find("⊢ G").prior_value == pytest.approx(0.9)


def test_a_step_is_worth_at_most_the_node_it_starts_from():
    from leancot.prover.budget import Meter
    from leancot.prover.mcts import _expand, _Search

    env = ScriptedEnv(ENV, "⊢ R")
    s = _Search(ProofGraph(), Meter(Budget()), step_values=True)
    root = s.graph.add_root("⊢ R", env.start("t"))
    edge, _ = s.graph.add_edge(root.id, "good", env.step(root.handle, "good"))
    child = s.graph.nodes[edge.dst]
    child.prior_value = 0.3
    value = StepTable({"close": 0.95, "bad1": 0.1})
    policy = ScriptedPolicy({"⊢ G": ["close", "bad1"], "⊢ R": ["good"]})
    _expand(s, child, policy, value, 4)
    assert [sl.score for sl in s.slots[child.id]] == [0.3, 0.1]
    _expand(s, root, policy, StepTable({"good": 0.9}), 4)
    assert [sl.score for sl in s.slots[root.id]] == [0.9]  # the root has no steps to cap it


def test_a_value_without_step_scores_leaves_the_search_unchanged():
    plain, env_plain = run(ConstantValue(0.5))
    stepped, env_stepped = run(ConstantValue(0.5), step_values=True)
    assert env_plain.calls == env_stepped.calls
    assert plain.proof == stepped.proof


def test_step_values_keep_exploring_when_the_value_is_wrong():
    # the value believes in the three failing tactics: they run first, then the prior's turn
    wrong = {"bad1": 0.9, "bad2": 0.8, "bad3": 0.7, "good": 0.05}
    result, env = run(StepTable(wrong), step_values=True)
    assert result.proved
    assert [t for _, t in env.calls] == ["bad1", "bad2", "bad3", "good", "close"]


def test_prm_value_scores_steps_as_one_step_attempts_with_intent_thoughts():
    from leancot.prover.prm_value import PRMValue

    class RecordingPRM:
        def __init__(self):
            self.items = []

        def score_batch(self, items):
            self.items.extend(items)
            return [[0.25 if "omega" in steps[-1][1] else 0.75] for _, steps in items]

    prm = RecordingPRM()
    values = PRMValue(prm).value_steps("n : Nat\n⊢ n + 0 = n", [("raw", "simp"), ("", "omega")])
    assert values == [0.75, 0.25]
    assert [state for state, _ in prm.items] == ["n : Nat\n⊢ n + 0 = n"] * 2
    assert all(len(steps) == 1 and steps[0][0] != "raw" for _, steps in prm.items)
    assert PRMValue(prm).value_steps("⊢ True", []) == []


def test_search_setup_hands_step_values_to_mcts_off_by_default():
    class FakePRM:
        def score_batch(self, items):
            return [[0.5] * len(steps) for _, steps in items]

    class Model:
        def propose(self, states, n, **kw):
            return [[("", "simp", -1.0)] for _ in states]

    _, _, kwargs = search_setup("mcts_prm", model=Model(), prm=FakePRM())
    assert kwargs["step_values"] is False
    on = SearchConfig(step_values=True)
    assert search_setup("mcts_prm", on, model=Model(), prm=FakePRM())[2]["step_values"] is True
    assert "step_values" not in search_setup("best_first", model=Model())[2]


@pytest.mark.parametrize(
    "text, ok",
    [
        ("cases b <;> rfl", True),
        ("(intros; simp_all [f])", True),
        ("· simp", True),
        ("exact ⟨h.1, h.2⟩", True),
        ("rw [Nat.add_comm] at h", True),
        ("The goal is `x :: app xs`.", False),  # prose
        ("simp only [x, List Nat), some_comm]", False),  # unbalanced
        ("exact (f x", False),
        ("", False),
        ("Nat.succ_le", False),  # a term, not a tactic
    ],
)
def test_plausible_tactic(text, ok):
    assert plausible_tactic(text) is ok


def test_every_fixed_tactic_passes_the_screen():
    state = "l : List Nat\nn : Nat\nh : n ≤ 3\np : Prop\n⊢ ∀ x, (if p then f x else g n) = keep l"
    assert all(map(plausible_tactic, DEFAULT_PORTFOLIO))
    assert all(map(plausible_tactic, goal_tactics(state)))


def test_sampled_policy_drops_samples_that_cannot_parse():
    class Model:
        def propose(self, states, n, **kw):
            return [[("", "The goal is `x`.", -0.5), ("", "simp", -1.0), ("", "omega", -2.0)]]

    cands = SampledPolicy(Model()).propose(["⊢ x = x"], 3)[0]
    assert [c.tactic for c in cands] == ["simp", "omega"]
    assert sum(math.exp(c.logprob) for c in cands) == pytest.approx(1.0)


# --- states equal up to names ----------------------------------------------------------------


def test_alpha_key_renames_hypotheses_and_binders_only():
    from leancot.prover.renaming import alpha_key, local_names

    inaccessible = "y y✝ : Nat\n⊢ min y.pred y✝.pred = (min y y✝).pred"
    named = "y x : Nat\n⊢ min y.pred x.pred = (min y x).pred"
    assert alpha_key(inaccessible) == alpha_key(named)
    assert alpha_key(named) == "v0 v1 : Nat\n⊢ min v0.pred v1.pred = (min v0 v1).pred"
    binders = "h : Type u_1\n⊢ ∀ {α_1 : Type u_1} {f : h → α_1} {x : Option h}, f <$> x = g f x"
    other = "α✝ : Type u_1\n⊢ ∀ {β : Type u_1} {k : α✝ → β} {y : Option α✝}, k <$> y = g k y"
    assert alpha_key(binders) == alpha_key(other)
    assert local_names(binders) == ["h", "α_1", "f", "x"]
    # not equivalent: one more hypothesis, a different global, swapped roles
    assert alpha_key("x : Nat\n⊢ ∀ (y : Nat), x = y") != alpha_key("x y : Nat\n⊢ x = y")
    assert alpha_key("n : Nat\n⊢ f n = 0") != alpha_key("n : Nat\n⊢ g n = 0")
    assert alpha_key("a b : Nat\n⊢ a ≤ b") != alpha_key("a b : Nat\n⊢ b ≤ a")


# `intro x` and `intro` reach the same problem under two names; `b` reaches another one.
ALPHA_ENV = {
    "⊢ ∀ (x : Nat), P x": {"intro x": "x : Nat\n⊢ P x", "intro": "x✝ : Nat\n⊢ P x✝", "b": "⊢ Q"},
    "⊢ Q": {"q": "no goals"},
}
ALPHA_POLICY = {
    "⊢ ∀ (x : Nat), P x": [("intro x", -0.1), ("intro", -0.2), ("b", -0.3)],
    "x : Nat\n⊢ P x": [("stuck", 0.0)],
    "x✝ : Nat\n⊢ P x✝": [("stuck", 0.0)],
    "⊢ Q": [("q", 0.0)],
}


@pytest.mark.parametrize("dedup", [False, True])
def test_alpha_dedup_does_not_search_a_renamed_state_again(dedup):
    env = ScriptedEnv(ALPHA_ENV, "⊢ ∀ (x : Nat), P x")
    policy = ScriptedPolicy(ALPHA_POLICY)
    budget = Budget(max_expansions=None, max_lean_calls=50)
    result = mcts_search(
        env, "t", policy=policy, value=ConstantValue(0.5), budget=budget, alpha_dedup=dedup
    )
    result.graph.check_invariants()
    assert result.proof == ["b", "q"]
    twin = result.graph.find("x✝ : Nat\n⊢ P x✝")
    if dedup:
        assert "x✝ : Nat\n⊢ P x✝" not in policy.calls  # never expanded
        assert twin.status.value == "FAILED" and twin.out_edges == []
        assert result.lean_calls < mcts_without_dedup_calls()
    else:
        assert "x✝ : Nat\n⊢ P x✝" in policy.calls


def mcts_without_dedup_calls() -> int:
    env = ScriptedEnv(ALPHA_ENV, "⊢ ∀ (x : Nat), P x")
    budget = Budget(max_expansions=None, max_lean_calls=50)
    policy = ScriptedPolicy(ALPHA_POLICY)
    return mcts_search(env, "t", policy=policy, value=ConstantValue(0.5), budget=budget).lean_calls


def test_search_setup_turns_alpha_dedup_on_for_mcts_by_default():
    class FakePRM:
        def score_batch(self, items):
            return [[0.5] * len(steps) for _, steps in items]

    assert search_setup("mcts_prm", prm=FakePRM())[2]["alpha_dedup"] is True
    off = SearchConfig(alpha_dedup=False)
    assert search_setup("mcts_prm", off, prm=FakePRM())[2]["alpha_dedup"] is False


def test_c_puct_reaches_mcts_and_must_not_be_negative():
    class FakePRM:
        def score_batch(self, items):
            return [[0.5] * len(steps) for _, steps in items]

    assert search_setup("mcts_prm", prm=FakePRM())[2]["c_puct"] == 1.0
    wide = SearchConfig(c_puct=2.5)
    assert search_setup("mcts_prm", wide, prm=FakePRM())[2]["c_puct"] == 2.5
    with pytest.raises(ValueError, match="c_puct"):
        SearchConfig(c_puct=-1.0)


# The root's likeliest step opens a long chain of fresh states the value likes; the root's
# unlikely second step closes the proof at once.
CHAIN = {"⊢ A": {"intro": "⊢ B1", "simp": "no goals"}}
CHAIN |= {f"⊢ B{i}": {f"step{i}": f"⊢ B{i + 1}"} for i in range(1, 30)}
CHAIN_POLICY = {"⊢ A": [("intro", -0.1), ("simp", -3.0)]}
CHAIN_POLICY |= {f"⊢ B{i}": [(f"step{i}", 0.0)] for i in range(1, 31)}


def chain_calls(**kwargs) -> list[str]:
    env, policy = ScriptedEnv(CHAIN, "⊢ A"), ScriptedPolicy(CHAIN_POLICY)
    budget = Budget(max_expansions=None, max_lean_calls=64)
    result = mcts_search(env, "t", policy=policy, value=ConstantValue(0.9), budget=budget, **kwargs)
    result.graph.check_invariants()
    assert result.proof == ["simp"]
    return [tactic for _, tactic in env.calls]


def test_root_breadth_runs_the_roots_steps_before_puct_follows_the_likeliest():
    plain = chain_calls()
    assert plain[:3] == ["intro", "step1", "step2"]  # PUCT follows the chain first
    assert len(plain) > 10
    assert chain_calls(root_breadth=2) == ["intro", "simp"]
    assert chain_calls(root_breadth=1)[:2] == ["intro", "step1"]  # one root step: plain PUCT

    class FakePRM:
        def score_batch(self, items):
            return [[0.5] * len(steps) for _, steps in items]

    assert search_setup("mcts_prm", prm=FakePRM())[2]["root_breadth"] == 0
    assert (
        search_setup("mcts_prm", SearchConfig(root_breadth=4), prm=FakePRM())[2]["root_breadth"]
        == 4
    )
    with pytest.raises(ValueError, match="root_breadth"):
        SearchConfig(root_breadth=-1)
    with pytest.raises(ValueError, match="root_breadth"):
        mcts_search(
            ScriptedEnv(CHAIN, "⊢ A"),
            "t",
            policy=ScriptedPolicy(CHAIN_POLICY),
            value=ConstantValue(),
            root_breadth=-1,
        )
