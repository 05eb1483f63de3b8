"""Proof search: a graph of goal states, best-first search and MCTS, policies, a runner.

Lowest first: `graph` (the search graph; `graph_export` draws it) <- `policies` (what a search
asks a model; `unfolding`: goal-aware tactics) <- `budget` (limits, the `Env` protocol,
per-search accounting) <- `best_first`, `mcts`; `config` (SearchConfig, BudgetConfig) and
`mixture` (`search_setup`: a method's policy, value and arguments); `theorems`, `lean_source`,
`benchmarks`, `suites`, `core_lemmas` (what to prove); `lean_env` (a search's Lean), `search_log`
(the resumable log), `runner` (`prove_all`), `workers` (one server per thread or per Ray actor,
verified proofs), `distributed` (Ray), `report` (tables and plots; `report_html`: the page).
"""

from leancot.prover.best_first import best_first_search
from leancot.prover.budget import Budget, Env, ScriptedEnv, SearchResult, StopReason
from leancot.prover.graph import Edge, EdgeResult, Node, ProofGraph, Status
from leancot.prover.mcts import mcts_search
from leancot.prover.policies import (
    Candidate,
    ConstantValue,
    MixedPolicy,
    PortfolioPolicy,
    ScriptedPolicy,
    ScriptedValue,
    TacticPolicy,
    ValueFn,
)

__all__ = [
    "Budget",
    "Candidate",
    "ConstantValue",
    "Edge",
    "EdgeResult",
    "Env",
    "MixedPolicy",
    "Node",
    "PortfolioPolicy",
    "ProofGraph",
    "ScriptedEnv",
    "ScriptedPolicy",
    "ScriptedValue",
    "SearchResult",
    "Status",
    "StopReason",
    "TacticPolicy",
    "ValueFn",
    "best_first_search",
    "mcts_search",
]
