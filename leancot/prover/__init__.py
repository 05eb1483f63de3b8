"""Proof search: a graph of goal states, best-first search and MCTS, policies, a runner.

Layers: `graph` (pure search graph) <- `policies` (what a search asks a model) <- `budget`
(limits, the `Env` protocol, per-search accounting) <- `best_first`, `mcts` <- `runner`.
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
