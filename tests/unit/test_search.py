"""Best-first search and MCTS on scripted trees (golden runs), budgets, and the policies."""

from __future__ import annotations

import math
import random
import time

import pytest

from leancot.lean.results import Timeout
from leancot.prover import (
    Budget,
    Candidate,
    ConstantValue,
    MixedPolicy,
    PortfolioPolicy,
    ScriptedEnv,
    ScriptedPolicy,
    ScriptedValue,
    Status,
    StopReason,
    best_first_search,
    mcts_search,
)
from leancot.prover.mcts import puct, softmax
from leancot.prover.policies import hypotheses, instantiated

# Tree 1: the cheaper-looking branch (a) is a dead end; b then z proves.
T1_ENV = {
    "⊢ R": {"a": "⊢ A", "b": "⊢ B"},  # "bad" is not in the table: a Lean error
    "⊢ A": {"x": "⊢ D"},
    "⊢ B": {"z": "no goals"},
}
T1_POLICY = {
    "⊢ R": [("a", -0.1), ("b", -0.5), ("bad", -0.2)],
    "⊢ A": [("x", -1.0), ("y", -2.0)],
    "⊢ B": [Candidate("close it", "z", -0.1)],
}

# Tree 2: a long dead end on the left (preferred by the policy), a transposition from B into
# the left branch (b2), and the proof b, b1, b11 on the right.
T2_ENV = {
    "⊢ R": {"a": "⊢ A", "b": "⊢ B"},
    "⊢ A": {"a1": "⊢ A1"},
    "⊢ A1": {"a2": "⊢ A2"},
    "⊢ A2": {"a3": "⊢ A3"},
    "⊢ B": {"b1": "⊢ B1", "b2": "⊢ A1"},
    "⊢ B1": {"b11": "no goals"},
}
T2_POLICY = {
    "⊢ R": [("a", -0.1), ("b", -0.7), ("c", -1.0)],
    "⊢ A": [("a1", -0.1), ("a1'", -0.2)],
    "⊢ A1": [("a2", 0.0)],
    "⊢ A2": [("a3", 0.0)],
    "⊢ A3": [("a4", 0.0)],
    "⊢ B": [("b2", -0.1), ("b1", -0.3)],
    "⊢ B1": [("b11", 0.0)],
}
DEFAULT_BUDGET = Budget()
MCTS_BUDGET = Budget(max_expansions=50)
T2_PRM = {"⊢ A": 0.1, "⊢ A1": 0.1, "⊢ A2": 0.05, "⊢ B": 0.9, "⊢ B1": 0.95}


def run_best_first(priority="logprob", values=None, budget=DEFAULT_BUDGET, table=T1_POLICY):
    env, policy = ScriptedEnv(T1_ENV, "⊢ R"), ScriptedPolicy(table)
    value = ScriptedValue(values) if values is not None else None
    result = best_first_search(
        env, "theorem t : R", policy=policy, value=value, priority=priority, budget=budget
    )
    result.graph.check_invariants()
    return result, env, policy


def run_mcts(value, budget=MCTS_BUDGET, **kwargs):
    env, policy = ScriptedEnv(T2_ENV, "⊢ R"), ScriptedPolicy(T2_POLICY)
    result = mcts_search(env, "theorem t : R", policy=policy, value=value, budget=budget, **kwargs)
    result.graph.check_invariants()
    return result, env, policy


# --- best-first ------------------------------------------------------------------------------


def test_best_first_golden_logprob():
    result, env, policy = run_best_first()
    assert policy.calls == ["⊢ R", "⊢ A", "⊢ B"]  # expansion order by cumulative logprob
    assert env.calls == [
        ("⊢ R", "a"),
        ("⊢ R", "b"),
        ("⊢ R", "bad"),
        ("⊢ A", "x"),
        ("⊢ A", "y"),
        ("⊢ B", "z"),
    ]
    assert result.proved and result.proof == ["b", "z"]
    assert result.stop_reason is StopReason.PROVED
    assert (result.lean_calls, result.expansions) == (7, 3)  # start counts as a Lean call
    g = result.graph
    assert [n.state for n in g.nodes] == ["⊢ R", "⊢ A", "⊢ B", "⊢ D"]
    # A stays OPEN: its child D was never expanded, so A is not known to fail
    assert [n.status for n in g.nodes] == [Status.PROVED, Status.OPEN, Status.PROVED, Status.OPEN]
    assert [e.result.value for e in g.edges] == ["ok", "ok", "error", "ok", "error", "proved"]
    assert g.edges[-1].thought == "close it"
    assert 0 <= result.time_lean_s + result.time_model_s <= result.wall_s


@pytest.mark.parametrize(
    "priority, values, order",
    [
        ("logprob", None, ["⊢ R", "⊢ A", "⊢ B"]),
        ("value", {"⊢ A": 0.5, "⊢ B": 0.6}, ["⊢ R", "⊢ B"]),
        # mix: A = -0.1 + log 0.5 = -0.79 beats B = -0.5 + log 0.6 = -1.01
        ("mix", {"⊢ A": 0.5, "⊢ B": 0.6}, ["⊢ R", "⊢ A", "⊢ B"]),
        ("mix", {"⊢ A": 0.1, "⊢ B": 0.9}, ["⊢ R", "⊢ B"]),
    ],
)
def test_best_first_priorities(priority, values, order):
    result, _, policy = run_best_first(priority, values)
    assert policy.calls == order
    assert result.proof == ["b", "z"]
    if values is not None:
        assert result.graph.find("⊢ B").prior_value == values["⊢ B"]


def test_best_first_value_priority_needs_a_value_function():
    with pytest.raises(ValueError, match="needs a value function"):
        run_best_first("value", None)
    with pytest.raises(ValueError, match="priority must be"):
        run_best_first("bogus", {})


@pytest.mark.parametrize(
    "budget, reason, lean_calls, expansions",
    [
        (Budget(max_expansions=1), StopReason.MAX_EXPANSIONS, 4, 1),
        (Budget(max_expansions=2), StopReason.MAX_EXPANSIONS, 6, 2),
        (Budget(max_lean_calls=3), StopReason.MAX_LEAN_CALLS, 3, 1),
        (Budget(max_lean_calls=1), StopReason.MAX_LEAN_CALLS, 1, 1),
        (Budget(max_expansions=3, max_lean_calls=7), StopReason.PROVED, 7, 3),
    ],
)
def test_best_first_budgets(budget, reason, lean_calls, expansions):
    result, _, _ = run_best_first(budget=budget)
    assert result.stop_reason is reason
    assert result.proved == (reason is StopReason.PROVED)
    assert (result.lean_calls, result.expansions) == (lean_calls, expansions)


def test_best_first_finds_what_no_search_does_not():
    nothing, _, _ = run_best_first(table={})  # a policy with nothing to say
    assert not nothing.proved and nothing.stop_reason is StopReason.EXHAUSTED
    assert nothing.graph.root.status is Status.FAILED
    greedy, _, _ = run_best_first(table={s: c[:1] for s, c in T1_POLICY.items()})
    assert not greedy.proved and greedy.stop_reason is StopReason.EXHAUSTED
    found, _, _ = run_best_first()
    assert found.proved


def test_start_failure_is_reported():
    env = ScriptedEnv(T1_ENV, {"other": "⊢ R"})
    result = best_first_search(env, "theorem t : R", policy=ScriptedPolicy(T1_POLICY))
    assert result.stop_reason is StopReason.START_FAILED and not result.proved
    assert "unknown statement" in (result.error or "")
    assert result.graph.nodes == [] and result.graph.to_json()["root"] is None


class SlowEnv(ScriptedEnv):
    """Each tactic takes `delay` seconds; records the timeouts it was given."""

    def __init__(self, *args, delay: float) -> None:
        super().__init__(*args)
        self.delay = delay
        self.timeouts: list[float | None] = []

    def step(self, state, tactic, timeout=None):
        self.timeouts.append(timeout)
        time.sleep(self.delay)
        return super().step(state, tactic, timeout)


@pytest.mark.parametrize("search", ["best_first", "mcts"])
def test_wall_clock_budget_stops_the_search(search):
    # steps of 0.2 s against a 0.5 s theorem clock: wide enough for a loaded machine's jitter
    env = SlowEnv(T2_ENV, "⊢ R", delay=0.2)
    budget = Budget(theorem_wall_s=0.5, tactic_timeout_s=0.4)
    kwargs = {"policy": ScriptedPolicy(T2_POLICY), "budget": budget}
    if search == "mcts":
        result = mcts_search(env, "t", value=ConstantValue(), **kwargs)
    else:
        result = best_first_search(env, "t", **kwargs)
    assert result.stop_reason is StopReason.WALL and not result.proved
    assert 2 <= len(env.timeouts) <= 4
    assert all(t is not None and t <= 0.4 for t in env.timeouts)
    assert env.timeouts[-1] < 0.4  # capped by what is left of the theorem's wall clock
    assert result.time_lean_s >= 0.2 * len(env.timeouts) * 0.9


def test_timeouts_are_dead_edges():
    env = ScriptedEnv({"⊢ R": {"a": Timeout(2.0), "b": "no goals"}}, "⊢ R")
    result = best_first_search(env, "t", policy=ScriptedPolicy({"⊢ R": ["a", "b"]}))
    assert result.proof == ["b"]
    assert [e.result.value for e in result.graph.edges] == ["timeout", "proved"]
    assert result.graph.edges[0].error == "timeout after 2 s"


# --- MCTS ------------------------------------------------------------------------------------


def test_puct_formula():
    assert puct(0.5, 0.2, 4, 1, 1.5) == pytest.approx(0.5 + 1.5 * 0.2 * 2 / 2)
    assert softmax([0.0, math.log(3.0)]) == pytest.approx([0.25, 0.75])
    assert softmax([]) == []


def test_mcts_golden_constant_value():
    result, env, policy = run_mcts(ConstantValue(0.5))
    assert policy.calls == ["⊢ R", "⊢ A", "⊢ B", "⊢ A1", "⊢ B1", "⊢ A2", "⊢ A3"]
    assert env.calls == [
        ("⊢ R", "a"),
        ("⊢ R", "b"),
        ("⊢ A", "a1"),
        ("⊢ R", "c"),
        ("⊢ A", "a1'"),
        ("⊢ B", "b2"),  # a transposition into A1
        ("⊢ B", "b1"),
        ("⊢ A1", "a2"),
        ("⊢ A2", "a3"),
        ("⊢ A3", "a4"),
        ("⊢ B1", "b11"),
    ]
    assert result.proof == ["b", "b1", "b11"]
    assert (result.lean_calls, result.expansions) == (12, 7)
    g = result.graph
    assert [(n.state, n.visits, n.value_sum, n.status.value) for n in g.nodes] == [
        ("⊢ R", 11, 4.0, "PROVED"),
        ("⊢ A", 5, 1.5, "FAILED"),
        ("⊢ B", 4, 2.0, "PROVED"),
        ("⊢ A1", 5, 2.0, "FAILED"),
        ("⊢ B1", 1, 0.5, "PROVED"),
        ("⊢ A2", 3, 1.0, "FAILED"),
        ("⊢ A3", 2, 0.5, "FAILED"),
    ]
    assert [(e.tactic, e.visits) for e in g.edges] == [
        ("a", 5),
        ("b", 4),
        ("a1", 3),
        ("c", 1),
        ("a1'", 1),
        ("b2", 2),
        ("b1", 1),
        ("a2", 3),
        ("a3", 2),
        ("a4", 1),
        ("b11", 0),
    ]
    assert len(g.find("⊢ A1").in_edges) == 2


def test_mcts_golden_prm_value():
    result, env, policy = run_mcts(ScriptedValue(T2_PRM))
    assert policy.calls == ["⊢ R", "⊢ A", "⊢ B", "⊢ A1", "⊢ B1"]
    assert env.calls == [
        ("⊢ R", "a"),
        ("⊢ R", "b"),
        ("⊢ B", "b2"),
        ("⊢ R", "c"),
        ("⊢ B", "b1"),
        ("⊢ B1", "b11"),
    ]
    assert result.proof == ["b", "b1", "b11"]
    assert [(n.visits, round(n.value_sum, 6)) for n in result.graph.nodes] == [
        (6, 2.55),
        (1, 0.1),
        (3, 1.95),
        (1, 0.1),
        (1, 0.95),
    ]


def test_mcts_value_that_prefers_the_right_branch_needs_fewer_expansions():
    constant, _, _ = run_mcts(ConstantValue(0.5))
    guided, _, _ = run_mcts(ScriptedValue(T2_PRM))
    assert constant.proved and guided.proved
    assert guided.expansions < constant.expansions
    assert guided.lean_calls < constant.lean_calls


def test_mcts_golden_root_noise_with_a_seed():
    result, env, _ = run_mcts(ConstantValue(0.5), dirichlet_alpha=0.3, seed=0)
    assert env.calls[:4] == [("⊢ R", "a"), ("⊢ R", "c"), ("⊢ A", "a1"), ("⊢ A", "a1'")]
    assert [(e.tactic, e.visits) for e in result.graph.edges][:5] == [
        ("a", 5),
        ("c", 1),
        ("a1", 3),
        ("a1'", 1),
        ("b", 4),
    ]
    again, env2, _ = run_mcts(ConstantValue(0.5), dirichlet_alpha=0.3, seed=0)
    assert env2.calls == env.calls and again.proof == result.proof == ["b", "b1", "b11"]


def test_mcts_novelty_bonus_runs_and_keeps_invariants():
    plain, _, _ = run_mcts(ConstantValue(0.0))
    assert plain.graph.root.value_sum == 0.0
    result, env, _ = run_mcts(ConstantValue(0.0), novelty_bonus=1.0)
    assert result.proved
    # each of the 5 new states backs up 0 + 1; the transposition b2 backs up A1's mean, 1.0
    assert len(result.graph.nodes) == 6 and ("⊢ B", "b2") in env.calls
    assert result.graph.root.value_sum == 6.0


@pytest.mark.parametrize(
    "budget, reason, lean_calls, expansions",
    [
        (Budget(max_expansions=3), StopReason.MAX_EXPANSIONS, 4, 3),
        (Budget(max_lean_calls=4), StopReason.MAX_LEAN_CALLS, 4, 4),
        (Budget(max_expansions=1), StopReason.MAX_EXPANSIONS, 2, 1),
    ],
)
def test_mcts_budgets(budget, reason, lean_calls, expansions):
    result, _, _ = run_mcts(ConstantValue(0.5), budget=budget)
    assert result.stop_reason is reason and not result.proved
    assert (result.lean_calls, result.expansions) == (lean_calls, expansions)


def test_mcts_exhausts_a_tree_without_proof():
    env = ScriptedEnv({"⊢ R": {"a": "⊢ A"}}, "⊢ R")
    policy = ScriptedPolicy({"⊢ R": ["a", "b"], "⊢ A": ["c"]})
    result = mcts_search(env, "t", policy=policy, value=ConstantValue())
    assert result.stop_reason is StopReason.EXHAUSTED and not result.proved
    assert result.graph.root.status is Status.FAILED
    result.graph.check_invariants()


# --- policies --------------------------------------------------------------------------------

STATE = "case succ\nn m : Nat\nxs : List Nat\nh : n < m ∧\n  m < 10\nk✝ : Nat\n⊢ n + 0 < 10"


def test_hypotheses_parse_names_types_and_continuations():
    assert hypotheses(STATE) == [
        ("n", "Nat"),
        ("m", "Nat"),
        ("xs", "List Nat"),
        ("h", "n < m ∧ m < 10"),
    ]
    assert hypotheses("⊢ True") == []


def test_portfolio_instantiates_per_state():
    assert instantiated(STATE) == [
        "exact h",
        "induction n <;> simp",
        "cases n <;> simp",
        "induction m <;> simp",
        "cases m <;> simp",
        "induction xs <;> simp",
        "cases xs <;> simp",
        "simp at h",
        "cases h",
    ]
    policy = PortfolioPolicy()
    tactics = policy.tactics_for(STATE)
    assert tactics[:9] == ["rfl", "decide", "simp", "omega", "simp_all", "trivial",
                           "contradiction", "assumption", "exact h"]  # fmt: skip
    assert "exact?" not in tactics and len(tactics) == len(set(tactics))
    [cands] = policy.propose([STATE], 5)
    assert [c.tactic for c in cands] == tactics[:5]
    assert all(a.logprob > b.logprob for a, b in zip(cands, cands[1:], strict=False))
    full = policy.propose([STATE], 1000)[0]
    assert sum(math.exp(c.logprob) for c in full) == pytest.approx(1.0)
    [uniform] = PortfolioPolicy(scores="uniform", instantiate=False).propose(["⊢ p"], 100)
    assert {c.logprob for c in uniform} == {-math.log(len(uniform))}


def test_mixed_policy_puts_the_model_first_and_dedups():
    model = ScriptedPolicy({"⊢ p": [Candidate("by arithmetic", "omega", -0.3), ("simp  ", -1.0)]})
    mixed = MixedPolicy(model, PortfolioPolicy(instantiate=False), portfolio_n=4)
    [cands] = mixed.propose(["⊢ p"], 2)
    assert [c.tactic for c in cands] == ["omega", "simp  ", "rfl", "decide"]
    assert cands[0] == Candidate("by arithmetic", "omega", -0.3)


def test_plain_callables_work_as_strategies():
    env = ScriptedEnv(T1_ENV, "⊢ R")
    table = ScriptedPolicy(T1_POLICY)
    result = mcts_search(
        env,
        "t",
        policy=lambda states, n: table.propose(states, n),
        value=lambda states: [0.5] * len(states),
    )
    assert result.proof == ["b", "z"]


def test_a_policy_answering_the_wrong_shape_is_an_error():
    env = ScriptedEnv(T1_ENV, "⊢ R")
    with pytest.raises(ValueError, match="answered 0 lists for 1 states"):
        best_first_search(env, "t", policy=lambda states, n: [])


# --- random trees: both searches agree with a brute-force provability check ------------------


def random_problem(seed: int, size: int = 12):
    """A random state graph (cycles, transpositions, errors, proofs) and a policy over it."""
    rng = random.Random(seed)
    states = [f"⊢ s{i}" for i in range(size)]
    env: dict[str, dict[str, str]] = {}
    policy: dict[str, list[tuple[str, float]]] = {}
    for s in states:
        tactics = [f"t{j}" for j in range(rng.randint(0, 4))]
        policy[s] = [(t, -rng.random() * 3) for t in tactics]
        env[s] = {}
        for t in tactics:
            r = rng.random()
            if r < 0.08:
                env[s][t] = "no goals"
            elif r < 0.85:
                env[s][t] = rng.choice(states)
    return env, policy


def provable(env, policy) -> set[str]:
    """Least fixed point: a state is provable if some policy tactic closes it or leads to one."""
    good: set[str] = set()
    changed = True
    while changed:
        changed = False
        for s, cands in policy.items():
            if s not in good and any(
                env[s].get(t) == "no goals" or env[s].get(t) in good for t, _ in cands
            ):
                good.add(s)
                changed = True
    return good


def replay(env, proof) -> bool:
    state = "⊢ s0"
    for t in proof:
        state = env[state][t]
    return state == "no goals"


@pytest.mark.parametrize("seed", range(40))
def test_random_trees(seed):
    env_table, table = random_problem(seed)
    expect = "⊢ s0" in provable(env_table, table)
    big = Budget(max_expansions=None, max_lean_calls=None, theorem_wall_s=None)
    runs = {
        "best_first": lambda env, pol: best_first_search(env, "t", policy=pol, budget=big),
        "mcts": lambda env, pol: mcts_search(
            env, "t", policy=pol, value=ScriptedValue({}, 0.3), budget=big, novelty_bonus=0.5
        ),
    }
    for name, search in runs.items():
        result = search(ScriptedEnv(env_table, "⊢ s0"), ScriptedPolicy(table))
        result.graph.check_invariants()
        assert result.proved == expect, name
        if expect:
            assert replay(env_table, result.proof), name
        else:
            assert result.stop_reason is StopReason.EXHAUSTED
            assert result.graph.root.status is Status.FAILED, name
