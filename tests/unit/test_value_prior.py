"""The value's share of the order a node's untried steps run in (`value_prior_weight`): MCTS
mixes the value's step scores into the PUCT prior, best-first runs a node's candidates in the
mixed order. Scripted Lean and policy and a recording scorer: these check which tactics the
searches send to Lean first and how often they ask the value, not proofs."""

from __future__ import annotations

import pytest

from leancot.prover import (
    Budget,
    ConstantValue,
    ScriptedEnv,
    ScriptedPolicy,
    best_first_search,
    mcts_search,
)
from leancot.prover.budget import Meter
from leancot.prover.config import SearchConfig
from leancot.prover.graph import ProofGraph
from leancot.prover.mcts import _expand, _Search
from leancot.prover.mixture import search_setup
from leancot.prover.outcome_value import OutcomeValue
from leancot.prover.policies import mix_priors, softmax

# The policy prefers `a` (a dead end two steps deep) and three tactics Lean rejects; `b`'s
# state closes with `close`.
ENV = {
    "⊢ R": {"a": "⊢ A", "b": "⊢ B"},
    "⊢ A": {"a2": "⊢ A2"},
    "⊢ B": {"close": "no goals"},
}
POLICY = {
    "⊢ R": [("a", -0.1), ("bad1", -0.2), ("bad2", -0.3), ("b", -0.4)],
    "⊢ A": [("a2", -0.1)],
    "⊢ A2": [],
    "⊢ B": [("bad1", -0.1), ("close", -0.2)],
}
LIKES_B = {"a": 0.05, "bad1": 0.05, "bad2": 0.05, "b": 0.8, "close": 0.95, "a2": 0.05}


class StepScores:
    """A scoring model (`score_batch`, like `HFPRM`): P by the last step's tactic; records
    each batch it was asked (state, tactics)."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table
        self.batches: list[list[tuple[str, str]]] = []

    def score_batch(self, items):
        self.batches.append([(state, steps[-1][1]) for state, steps in items])
        return [[self.table.get(steps[-1][1], 0.5)] for _, steps in items]


def run(method, model, **kwargs):
    env, policy = ScriptedEnv(ENV, "⊢ R"), ScriptedPolicy(POLICY)
    budget = Budget(max_expansions=None, max_lean_calls=50)
    value = OutcomeValue(model)
    if method == "best_first":
        kwargs.setdefault("priority", "value")
        result = best_first_search(env, "t", policy=policy, value=value, budget=budget, **kwargs)
    else:
        result = mcts_search(env, "t", policy=policy, value=value, budget=budget, **kwargs)
    result.graph.check_invariants()
    return result, [t for _, t in env.calls]


def test_mix_priors_is_the_weighted_sum_of_the_prior_and_the_value_shares():
    priors, scores = [0.7, 0.2, 0.1], [0.1, 0.3, 0.6]
    assert mix_priors(priors, scores, 0.0) == pytest.approx(priors)
    assert mix_priors(priors, scores, 1.0) == pytest.approx([0.1, 0.3, 0.6])
    assert mix_priors(priors, [1.0, 3.0, 0.0], 0.5) == pytest.approx([0.475, 0.475, 0.05])
    assert sum(mix_priors(priors, scores, 0.3)) == pytest.approx(1.0)
    # no information in the value (all 0, or below 0): its share is spread evenly
    assert mix_priors([1.0, 0.0], [0.0, -1.0], 1.0) == pytest.approx([0.5, 0.5])
    assert mix_priors([], [], 0.5) == []


def test_mcts_sends_the_first_lean_call_to_the_step_the_value_likes():
    _, plain = run("mcts", StepScores(LIKES_B))
    assert plain[0] == "a"  # the policy's favourite
    model = StepScores(LIKES_B)
    result, calls = run("mcts", model, value_prior_weight=1.0)
    assert result.proof == ["b", "close"]
    assert calls == ["b", "close"]
    # one batch per expansion, every candidate of the node, from the node's own state; the
    # child's value is its step's score (no second call for ⊢ B)
    assert model.batches == [
        [("⊢ R", "a"), ("⊢ R", "bad1"), ("⊢ R", "bad2"), ("⊢ R", "b")],
        [("⊢ B", "bad1"), ("⊢ B", "close")],
    ]
    assert result.graph.find("⊢ B").prior_value == pytest.approx(0.8)


def test_mcts_slot_priors_are_the_mixed_prior():
    env = ScriptedEnv(ENV, "⊢ R")
    s = _Search(ProofGraph(), Meter(Budget()), value_prior_weight=0.25)
    root = s.graph.add_root("⊢ R", env.start("t"))
    _expand(s, root, ScriptedPolicy(POLICY), OutcomeValue(StepScores(LIKES_B)), 8)
    policy_prior = softmax([lp for _, lp in POLICY["⊢ R"]])
    scores = [LIKES_B[t] for t, _ in POLICY["⊢ R"]]
    expected = mix_priors(policy_prior, scores, 0.25)
    assert [sl.prior for sl in s.slots[root.id]] == pytest.approx(expected)
    assert [sl.step_score for sl in s.slots[root.id]] == pytest.approx(scores)
    assert all(sl.score is None for sl in s.slots[root.id])  # Q-initialisation stays off


def test_mcts_without_the_weight_asks_no_step_scores():
    model = StepScores(LIKES_B)
    off, calls_off = run("mcts", model)
    assert all(len(batch) == 1 for batch in model.batches)  # node values only
    zero, calls_zero = run("mcts", StepScores(LIKES_B), value_prior_weight=0.0)
    assert calls_off == calls_zero and off.proof == zero.proof


def test_mcts_keeps_exploring_when_the_value_is_wrong():
    wrong = {"a": 0.9, "a2": 0.9, "bad1": 0.5, "bad2": 0.5, "b": 0.01}
    result, calls = run("mcts", StepScores(wrong), value_prior_weight=1.0)
    assert result.proof == ["b", "close"]
    assert calls[0] == "a" and "b" in calls


def test_best_first_runs_a_nodes_candidates_in_the_value_order():
    _, plain = run("best_first", StepScores(LIKES_B))
    assert plain[:4] == ["a", "bad1", "bad2", "b"]
    model = StepScores(LIKES_B)
    result, calls = run("best_first", model, value_prior_weight=1.0)
    assert result.proof == ["b", "close"]
    # b first at the root (ties after it keep the policy's order), close first at ⊢ B
    assert calls == ["b", "a", "bad1", "bad2", "close"]
    # the children were valued from the ordering's step scores: no call per new child
    assert model.batches == [
        [("⊢ R", "a"), ("⊢ R", "bad1"), ("⊢ R", "bad2"), ("⊢ R", "b")],
        [("⊢ B", "bad1"), ("⊢ B", "close")],
    ]
    assert result.graph.find("⊢ A").prior_value == pytest.approx(0.05)


def test_best_first_mixed_order_keeps_the_policy_where_the_value_is_unsure():
    flat = {t: 0.5 for t in ("a", "bad1", "bad2", "b", "close", "a2")}
    _, calls = run("best_first", StepScores(flat), value_prior_weight=0.5)
    assert calls[:4] == ["a", "bad1", "bad2", "b"]  # equal scores: the policy's order


def test_a_value_without_step_scores_leaves_the_order_alone():
    env, policy = ScriptedEnv(ENV, "⊢ R"), ScriptedPolicy(POLICY)
    budget = Budget(max_expansions=None, max_lean_calls=50)
    best_first_search(
        env, "t", policy=policy, value=ConstantValue(0.5), priority="value", budget=budget,
        value_prior_weight=1.0,
    )  # fmt: skip
    assert [t for _, t in env.calls][:4] == ["a", "bad1", "bad2", "b"]


def test_the_weight_is_checked_and_reaches_the_searches():
    with pytest.raises(ValueError, match="value_prior_weight"):
        SearchConfig(value_prior_weight=1.5)
    with pytest.raises(ValueError, match="value_prior_weight"):
        run("mcts", StepScores({}), value_prior_weight=-0.1)
    with pytest.raises(ValueError, match="value_prior_weight"):
        run("best_first", StepScores({}), value_prior_weight=2.0)
    model = OutcomeValue(StepScores({}))
    config = SearchConfig(value_prior_weight=0.5)
    assert search_setup("mcts_prm", prm=model)[2]["value_prior_weight"] == 0.0
    assert search_setup("mcts_prm", config, prm=model)[2]["value_prior_weight"] == 0.5
    valued = SearchConfig(value_prior_weight=0.5, priority="value")
    assert search_setup("best_first", valued, model=object(), prm=model)[2][
        "value_prior_weight"
    ] == 0.5  # fmt: skip
    # best_first without a value has no value to order by
    assert "value_prior_weight" not in search_setup("best_first", config, model=object())[2]
