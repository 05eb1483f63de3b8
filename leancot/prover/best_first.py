"""Best-first proof search (GPT-f, Polu & Sutskever 2020; ReProver, Yang et al. 2023).

Repeatedly take the open, unexpanded node of highest priority, ask the policy for candidates,
run each in Lean and add the results to the graph, until the root is PROVED, nothing is left,
or the budget runs out. Priorities:
- "logprob": cumulative log-probability of the best known path from the root (sum of the edges'
  logprobs);
- "value": the value function's estimate of the node (a PRM's probability of success);
- "mix": `logprob + mix_weight * log(max(value, VALUE_FLOOR))`, the value read as one more
  probability factor of the path.
Ties go to the node found first.

Best-first runs every candidate of a node before it values any child, so a value ranks nodes
but cannot change which of a node's tactics Lean runs first. With `value_prior_weight` w > 0
and a value that scores single steps (`value_steps(state, steps)`, e.g.
`outcome_value.OutcomeValue`), an expansion scores all its candidates in one batched call and
runs them in the order of the mixed prior of `policies.mix_priors`:
`(1 - w) * softmax(logprobs) + w * score / sum(scores)` (stable: ties keep the policy's order),
so a closer the value likes runs before the portfolio's earlier tactics. A value whose step
score is its child's value (`steps_score_children`) then values the new children from those
scores, without a second call.

A value function with a `value_paths(root_state, paths)` method (e.g. a PRM adapter, which scores
steps rather than states) is given, for each scored node, the `(thought, tactic)` steps of the
edges that first reached it from the root (`node_path`); a plain one gets the states.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from leancot.lean.results import TacticState
from leancot.prover.budget import (
    DEFAULT_BUDGET,
    Budget,
    Env,
    Meter,
    SearchResult,
    StopReason,
    describe,
)
from leancot.prover.graph import EdgeResult, Node, ProofGraph, Status
from leancot.prover.policies import (
    Candidate,
    ProposeFn,
    TacticPolicy,
    ValueCall,
    ValueFn,
    dedup,
    mix_priors,
    softmax,
)

Priority = Literal["logprob", "value", "mix"]
DEFAULT_NUM_CANDIDATES = 8
VALUE_FLOOR = 1e-6  # log(0) guard for "mix"


def node_path(graph: ProofGraph, node: Node) -> list[tuple[str, str]]:
    """`(thought, tactic)` of the edges that first reached `node`, from the root down.

    A node's first in-edge is the `ok` edge that created it (edges into known nodes come later),
    so following first in-edges walks a tree back to the root.
    """
    steps = []
    while node.id != graph.root.id:
        edge = graph.edges[node.in_edges[0]]
        steps.append((edge.thought, edge.tactic))
        node = graph.nodes[edge.src]
    return steps[::-1]


def node_state_path(graph: ProofGraph, node: Node) -> list[tuple[str, str, str]]:
    """`(state before, thought, tactic)` of the edges that first reached `node` (as
    `node_path`, with the state each step started from)."""
    steps = []
    while node.id != graph.root.id:
        edge = graph.edges[node.in_edges[0]]
        src = graph.nodes[edge.src]
        steps.append((src.state, edge.thought, edge.tactic))
        node = src
    return steps[::-1]


def value_call(value: Any, graph: ProofGraph, nodes: list[Node]) -> Any:
    """What to call to score `nodes`: `value` itself, or a call that hands it the root state
    and each node's path instead of the states: `value_state_paths` (steps with the state they
    start from) if it has one, else `value_paths` (`(thought, tactic)` steps)."""
    root_state = graph.root.state
    state_paths = getattr(value, "value_state_paths", None)
    if state_paths is not None:
        with_states = [node_state_path(graph, n) for n in nodes]
        return lambda states: state_paths(root_state, with_states)
    value_paths = getattr(value, "value_paths", None)
    if value_paths is None:
        return value
    paths = [node_path(graph, n) for n in nodes]
    return lambda states: value_paths(root_state, paths)


def value_order(
    meter: Meter, value: Any, state: str, candidates: list[Candidate], weight: float
) -> tuple[list[Candidate], list[float | None]]:
    """`candidates` sorted by the mixed prior of the policy and the value's step scores (one
    batched call), best first, ties in the policy's order; with their scores."""
    steps = [(c.thought, c.tactic) for c in candidates]
    raw = meter.value(lambda _: value.value_steps(state, steps), [state] * len(candidates))
    mixed = mix_priors(softmax([c.logprob for c in candidates]), list(raw), weight)
    order = sorted(range(len(candidates)), key=lambda i: -mixed[i])
    return [candidates[i] for i in order], [float(raw[i]) for i in order]


@dataclass
class _Search:
    """The state of one best-first search."""

    graph: ProofGraph
    meter: Meter
    priority: Priority
    mix_weight: float
    logprob: dict[int, float] = field(default_factory=dict)  # best cumulative logprob
    queue: list[tuple[float, int, int]] = field(default_factory=list)
    order: itertools.count = field(default_factory=itertools.count)

    def score(self, node: Node) -> float:
        if self.priority == "logprob":
            return self.logprob[node.id]
        v = node.prior_value if node.prior_value is not None else 0.0
        if self.priority == "value":
            return v
        return self.logprob[node.id] + self.mix_weight * math.log(max(v, VALUE_FLOOR))

    def push(self, node: Node) -> None:
        heapq.heappush(self.queue, (-self.score(node), next(self.order), node.id))


def best_first_search(
    env: Env,
    statement: str,
    *,
    policy: TacticPolicy | ProposeFn,
    value: ValueFn | ValueCall | None = None,
    priority: Priority = "logprob",
    budget: Budget = DEFAULT_BUDGET,
    num_candidates: int = DEFAULT_NUM_CANDIDATES,
    mix_weight: float = 1.0,
    value_prior_weight: float = 0.0,
) -> SearchResult:
    """Search for a proof of `statement`; see the module docstring for the priorities and for
    `value_prior_weight` (the value's share of the order a node's candidates run in)."""
    if priority not in ("logprob", "value", "mix"):
        raise ValueError(f"priority must be 'logprob', 'value' or 'mix', not {priority!r}")
    if not 0.0 <= value_prior_weight <= 1.0:
        raise ValueError(f"value_prior_weight must be in [0, 1], got {value_prior_weight}")
    if priority != "logprob" and value is None:
        raise ValueError(f"priority={priority!r} needs a value function (value=...)")
    s = _Search(ProofGraph(), Meter(budget), priority, mix_weight)
    graph, meter = s.graph, s.meter
    if (why := meter.blocked("lean")) is not None:
        return meter.result(graph, why)
    start = meter.start(env, statement)
    if not isinstance(start, TacticState):
        return meter.result(graph, StopReason.START_FAILED, describe(start))
    root = graph.add_root(start.pp, start)
    s.logprob[root.id] = 0.0
    if priority != "logprob":
        if (why := meter.blocked("model")) is not None:
            return meter.result(graph, why)
        assert value is not None
        root.prior_value = meter.value(value_call(value, graph, [root]), [root.state])[0]
    s.push(root)

    while s.queue:
        if root.status is not Status.OPEN:
            return meter.result(graph, StopReason.EXHAUSTED)
        if (why := meter.blocked("expand")) is not None:
            return meter.result(graph, why)
        neg, _, nid = heapq.heappop(s.queue)
        node = graph.nodes[nid]
        if node.expanded or node.status is not Status.OPEN or -neg != s.score(node):
            continue  # closed, resolved, or a stale entry superseded by a better path
        candidates = dedup(meter.propose(policy, [node.state], num_candidates)[0])
        scores: list[float | None] = [None] * len(candidates)
        if value_prior_weight > 0 and hasattr(value, "value_steps") and candidates:
            if (why := meter.blocked("model")) is not None:
                return meter.result(graph, why)
            candidates, scores = value_order(
                meter, value, node.state, candidates, value_prior_weight
            )
        fresh: list[Node] = []
        fresh_scores: list[float | None] = []
        for cand, score in zip(candidates, scores, strict=True):
            if (why := meter.blocked("lean")) is not None:
                return meter.result(graph, why)
            result = meter.step(env, node.handle, cand.tactic)
            edge, new = graph.add_edge(
                nid, cand.tactic, result, thought=cand.thought, logprob=cand.logprob
            )
            if root.status is Status.PROVED:
                return meter.result(graph, StopReason.PROVED)
            if edge.result is not EdgeResult.OK or edge.dst is None:
                continue
            child = graph.nodes[edge.dst]
            through = s.logprob[nid] + cand.logprob
            if new:
                s.logprob[child.id] = through
                fresh.append(child)
                fresh_scores.append(score)
            elif through > s.logprob[child.id] and not child.expanded:
                s.logprob[child.id] = through  # a better path to a queued node: requeue
                if child.status is Status.OPEN:
                    s.push(child)
        graph.close(nid)
        if fresh and priority != "logprob":
            if (why := meter.blocked("model")) is not None:
                return meter.result(graph, why)
            assert value is not None
            if getattr(value, "steps_score_children", False) and None not in fresh_scores:
                values = fresh_scores  # the step scores of the ordering are the children's values
            else:
                values = meter.value(value_call(value, graph, fresh), [c.state for c in fresh])
            for child, v in zip(fresh, values, strict=True):
                child.prior_value = v
        for child in fresh:
            s.push(child)
    return meter.result(graph, StopReason.EXHAUSTED)
