"""MCTS with step values (a path value scores each candidate step before Lean runs it) and the
screen that drops a model's unparsable samples; scripted policies and values, no Lean."""

from __future__ import annotations

import math

import pytest

from leancot.prover import Budget, ConstantValue, ScriptedEnv, ScriptedPolicy, mcts_search
from leancot.prover.best_first import step_value_call
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
    """A path value scoring a path by the tactic of its last step (table, else 0.5); records
    every batch of paths it is asked about."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table
        self.calls: list[list[list[tuple[str, str]]]] = []

    def value_paths(self, root_state, paths):
        self.calls.append([list(p) for p in paths])
        return [self.table.get(p[-1][1], 0.5) if p else 0.5 for p in paths]


class StateStepTable(StepTable):
    """The same, through `value_state_paths` (steps with the state they start from)."""

    def value_state_paths(self, root_state, paths):
        return self.value_paths(root_state, [[(t, tac) for _, t, tac in p] for p in paths])


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
    # one call for the root, one batch per expansion; the child took its step's score
    assert value.calls[0] == [[]]
    assert value.calls[1] == [[("", t)] for t in ("bad1", "bad2", "bad3", "good")]
    assert value.calls[2] == [[("", "good"), ("", "close")]]
    assert len(value.calls) == 3
    assert result.graph.find("⊢ G").prior_value == pytest.approx(0.9)


def test_step_values_read_state_paths_too():
    value = StateStepTable(SCORES)
    result, env = run(value, step_values=True)
    assert [t for _, t in env.calls] == ["good", "close"]


def test_a_state_value_cannot_score_steps_and_the_search_is_unchanged():
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


def test_step_value_call_extends_the_path_through_the_node():
    env = ScriptedEnv(ENV, "⊢ R")
    graph = ProofGraph()
    root = graph.add_root("⊢ R", env.start("t"))
    edge, _ = graph.add_edge(root.id, "good", env.step(root.handle, "good"), thought="th")
    child = graph.nodes[edge.dst]
    value = StateStepTable({})
    call = step_value_call(value, graph, child, [("a", "x"), ("b", "y")])
    assert call(["⊢ G", "⊢ G"]) == [0.5, 0.5]
    assert value.calls == [[[("th", "good"), ("a", "x")], [("th", "good"), ("b", "y")]]]
    assert step_value_call(ConstantValue(0.5), graph, child, [("", "x")]) is None


def test_search_setup_turns_step_values_on_for_mcts_by_default():
    class FakePRM:
        def score_batch(self, items):
            return [[0.5] * len(steps) for _, steps in items]

    class Model:
        def propose(self, states, n, **kw):
            return [[("", "simp", -1.0)] for _ in states]

    _, _, kwargs = search_setup("mcts_prm", model=Model(), prm=FakePRM())
    assert kwargs["step_values"] is True
    off = SearchConfig(step_values=False)
    assert search_setup("mcts_prm", off, model=Model(), prm=FakePRM())[2]["step_values"] is False
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
