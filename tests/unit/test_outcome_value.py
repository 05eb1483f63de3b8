"""`prover.outcome_value.OutcomeValue` in the searches: a node's value is the score of the step
that reached it, read from the state that step started from; scripted Lean and policy (no Lean:
these check how the searches order their work, not proofs)."""

from __future__ import annotations

import json

import pytest

from leancot.models.prompts import format_step
from leancot.prover import Budget, ScriptedEnv, ScriptedPolicy, best_first_search, mcts_search
from leancot.prover.config import SearchConfig
from leancot.prover.mixture import as_value, search_setup
from leancot.prover.outcome_value import VALUE_KIND, OutcomeValue, model_kind
from leancot.prover.prm_value import PRMValue
from leancot.train.rows import prm_step_text

# Two first steps Lean accepts; only `b`'s state has a proof (`close`), two steps deep.
ENV = {
    "⊢ R": {"a": "⊢ A", "b": "⊢ B"},
    "⊢ A": {"a2": "⊢ A2"},
    "⊢ A2": {"a3": "⊢ A3"},
    "⊢ B": {"close": "no goals"},
}
POLICY = {
    "⊢ R": [("a", -0.1), ("b", -0.2)],
    "⊢ A": [("a2", -0.1)],
    "⊢ A2": [("a3", -0.1)],
    "⊢ B": [("close", -0.1)],
}


class StepScores:
    """A scoring model (`score_batch`, like `HFPRM`): P by the last step's tactic, recording
    what it was asked."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table, self.items = table, []

    def score_batch(self, items):
        self.items.extend(items)
        return [[self.table.get(steps[-1][1], 0.5)] for _, steps in items]


def search(kind, model, **kwargs):
    env, policy = ScriptedEnv(ENV, "⊢ R"), ScriptedPolicy(POLICY)
    budget = Budget(max_expansions=None, max_lean_calls=50)
    value = OutcomeValue(model)
    if kind == "best_first":
        result = best_first_search(
            env, "t", policy=policy, value=value, priority="value", budget=budget, **kwargs
        )
    else:
        result = mcts_search(env, "t", policy=policy, value=value, budget=budget, **kwargs)
    result.graph.check_invariants()
    return result, env, value


def test_best_first_follows_the_step_the_outcome_value_believes_in():
    model = StepScores({"a": 0.1, "b": 0.9})
    result, env, value = search("best_first", model)
    assert result.proof == ["b", "close"]
    assert [t for _, t in env.calls] == ["a", "b", "close"]  # ⊢ A is never expanded
    assert result.graph.find("⊢ B").prior_value == pytest.approx(0.9)
    assert result.graph.root.prior_value == value.empty_value  # the root has no step
    # each node scored by its last step only, from the state that step started from
    assert [(s, [t for _, t in steps]) for s, steps in model.items] == [
        ("⊢ R", ["a"]),
        ("⊢ R", ["b"]),
    ]
    # ... as the rows it was trained on read it: the intent thought of that state and tactic
    for state, steps in model.items:
        assert format_step(*steps[0]) == prm_step_text(state, steps[0][1])


def test_a_wrong_outcome_value_costs_calls_not_the_proof():
    model = StepScores({"a": 0.9, "a2": 0.9, "b": 0.1})
    result, env, _ = search("best_first", model)
    assert result.proof == ["b", "close"]
    assert [t for _, t in env.calls] == ["a", "b", "a2", "a3", "close"]


def test_mcts_uses_the_outcome_value_as_leaf_value_and_step_value():
    model = StepScores({"a": 0.05, "b": 0.95, "close": 0.99})
    result, env, _ = search("mcts", model, step_values=True)
    assert result.proof == ["b", "close"]
    assert [t for _, t in env.calls] == ["b", "close"]  # `a` scored low: never run
    plain, env_plain, _ = search("mcts", StepScores({}), step_values=True)
    assert [t for _, t in env_plain.calls][:2] == ["a", "b"]  # uninformed: the prior's order
    assert plain.lean_calls > result.lean_calls


def test_empty_and_unscorable_paths_get_the_empty_value():
    class Cut:
        def score_batch(self, items):
            return [[float("nan")] for _ in items]

    value = OutcomeValue(Cut(), empty_value=0.25)
    assert value.value_state_paths("⊢ R", [[], [("⊢ R", "", "a")]]) == [0.25, 0.25]
    assert value.value_steps("⊢ R", []) == []
    with pytest.raises(TypeError, match="score_batch"):
        OutcomeValue(object())


def test_search_setup_takes_a_value_as_it_is_and_wraps_a_prm(tmp_path):
    model = StepScores({})
    value = OutcomeValue(model)
    assert as_value(value) is value
    assert isinstance(as_value(model), PRMValue)
    _, got, _ = search_setup("mcts_prm", SearchConfig(), prm=value)
    assert got is value
    _, got, _ = search_setup("best_first", SearchConfig(priority="value"), model=None, prm=model)
    # without a policy model best_first is the baseline and uses no value
    assert got is None
    (tmp_path / "leancot_train.json").write_text(json.dumps({"kind": VALUE_KIND}))
    assert model_kind(tmp_path) == VALUE_KIND
    assert model_kind(tmp_path / "missing") is None
    (tmp_path / "leancot_train.json").write_text("{")
    with pytest.raises(ValueError, match="leancot_train.json"):
        model_kind(tmp_path)


def test_mcts_step_values_of_a_state_value_are_not_capped_by_the_node():
    from leancot.prover.budget import Meter
    from leancot.prover.graph import ProofGraph
    from leancot.prover.mcts import _expand, _Search

    env = ScriptedEnv(ENV, "⊢ R")
    s = _Search(ProofGraph(), Meter(Budget()), step_values=True)
    root = s.graph.add_root("⊢ R", env.start("t"))
    edge, _ = s.graph.add_edge(root.id, "b", env.step(root.handle, "b"))
    child = s.graph.nodes[edge.dst]
    child.prior_value = 0.2  # far from sure a proof lies below ⊢ B ...
    value = OutcomeValue(StepScores({"close": 0.9}))
    _expand(s, child, ScriptedPolicy(POLICY), value, 4)
    assert [sl.score for sl in s.slots[child.id]] == [0.9]  # ... but `close` looks good
    capped = PRMValue(StepScores({"close": 0.9}))
    s.slots.clear()
    _expand(s, child, ScriptedPolicy(POLICY), capped, 4)
    assert [sl.score for sl in s.slots[child.id]] == [0.2]  # a PRM's step: at most its path
