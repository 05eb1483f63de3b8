"""Monte-Carlo tree search over tactic states with PUCT selection and a value function (PRM).

Each simulation walks down from the root choosing, at every node, the slot (one policy
candidate: a tactic tried already, or not yet) that maximises the PUCT score of AlphaGo Zero /
AlphaZero (Silver et al. 2017, Nature 550 "Mastering the game of Go without human knowledge",
Methods; Silver et al. 2018, Science 362):

    a* = argmax_a  Q(s, a) + c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))

with N(s) the visits of node s, N(s, a) and Q(s, a) the visits and mean backed-up value of the
slot, P(s, a) the prior: a softmax of the policy's log-probabilities over the node's candidates.
An untried slot has Q = the node's own mean value (first-play urgency as in Leela Zero). When
the walk picks an untried slot, the tactic runs in Lean (the only Lean call of a simulation):
- a new state becomes a leaf: the policy is asked for its candidates (an expansion) and the
  value function scores it; that score is backed up;
- an error, a timeout or a dead state backs up ERROR_VALUE;
- a known open state (a transposition) backs up its current value;
- a finished proof ends the search.
Backup adds the value to N and W of every node and slot on the path (no discount, no sign
flip: one player). With `novelty_bonus` > 0, a simulation that reaches a state never seen before
backs up `value + novelty_bonus`, the intrinsic reward of RMaxTS (Xin et al. 2024,
"DeepSeek-Prover-V1.5", Sec. 3.2), which rewards exploring new tactic states when the value is
uninformative. Optional Dirichlet noise on the root priors follows AlphaZero.
A value function with `value_paths(root_state, paths)` (a PRM) scores the path of
`(thought, tactic)` steps to the leaf (best_first.value_call).

With `step_values` and a value that scores single steps (`value_steps(state, steps)`: a PRM
scores steps, so it can score one before Lean runs it), an expansion also scores every
candidate as a one-step attempt from the node's state, in one batch. The step's value is
min(the node's path value, that score): the PRM's `min` aggregate, with the node's path
already scored (the root has no steps, so its children take the score itself; a value with
`caps_step_values = False`, a state value such as `outcome_value.OutcomeValue`, is not capped:
a step nearer a proof may be worth more than its node). An untried slot
then has Q = its step's value instead of the first-play urgency, so the steps the value doubts
are tried after the others, and an untried slot keeps its Q when its siblings fail; a new
child takes its step's value without a second call. This is the Q-initialisation of unvisited
actions from a learned estimate (as in AlphaGo's use of a value for unexpanded moves, Silver et
al. 2016, Nature 529, "Mastering the game of Go with deep neural networks and tree search"),
read here as: a PRM trained on first-error labels predicts which tactics Lean will reject, so
the Lean calls go to the others first.

With `value_prior_weight` w > 0 and a value that scores single steps, the same one batched
call per expansion (shared with `step_values`) also enters the prior:

    P(s, a) = (1 - w) * softmax(policy logprobs)_a + w * v(s, a) / sum_b v(s, b)

with v(s, a) the value's score of the untried step (uniform when every score is 0), so at a
fresh node, where every untried slot has the same Q, the first Lean calls go to the steps the
value likes. This is PUCT's prior made from two sources (AlphaGo's prior came from a policy
net alone; here the policy is a mixture of samples and a fixed portfolio whose
log-probabilities do not rank the portfolio's tactics, which the outcome value was trained to
rank). A value whose step score is its child's value (`steps_score_children`, e.g.
`outcome_value.OutcomeValue`) then gives each new child its step's score without a second
call.

With `root_breadth` k > 0 the first k simulations each try a different untried root step, in
the order of the root's priors, before PUCT chooses: every one of the root's k most likely
steps gets its Lean call, as Gumbel AlphaZero visits its m sampled root actions before it
narrows them down (Danihelka et al. 2022, ICLR, "Policy improvement by planning with Gumbel",
Sec. 4). A one-step proof among them is then found within k calls, where plain PUCT may first
follow a child the value likes down a path that leads nowhere.

With `alpha_dedup`, a new state equal to a known one up to the names of its variables
(`renaming.alpha_key`: `intro x` and `intro` on the same `∀`) is not searched a second time:
it is closed at once (FAILED, no expansion, no value call) and its path backs up the value of
the state it duplicates. No proof is lost: the equivalent state is searched where it was found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from leancot.lean.results import TacticState
from leancot.prover.best_first import DEFAULT_NUM_CANDIDATES, value_call
from leancot.prover.budget import (
    DEFAULT_BUDGET,
    Budget,
    Env,
    Meter,
    SearchResult,
    StopReason,
    describe,
)
from leancot.prover.graph import Edge, Node, ProofGraph, Status
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
from leancot.prover.renaming import alpha_key

DEFAULT_C_PUCT = 1.0  # exploration constant c_puct of the PUCT rule
ERROR_VALUE = 0.0  # value backed up for an error, a timeout or a dead end
DIRICHLET_FRACTION = 0.25  # AlphaZero's epsilon: share of noise in the root priors
SELECTION_DEPTH_LIMIT = 10_000  # guard; the ok-edge graph is acyclic, so never reached


@dataclass
class _Slot:
    """One candidate of a node: its prior, and its edge once the tactic has run."""

    cand: Candidate
    prior: float
    edge: int | None = None
    score: float | None = None  # the value of the path through the step, before it runs
    step_score: float | None = None  # the value's raw score of the step, before it runs


@dataclass
class _Search:
    """The state of one MCTS run."""

    graph: ProofGraph
    meter: Meter
    step_values: bool = False
    alpha_dedup: bool = False
    value_prior_weight: float = 0.0
    slots: dict[int, list[_Slot]] = field(default_factory=dict)
    by_key: dict[str, int] = field(default_factory=dict)  # alpha_key -> first node with it

    def duplicate_of(self, node: Node) -> Node | None:
        """With `alpha_dedup`, the known node `node` equals up to names (None if new)."""
        if not self.alpha_dedup:
            return None
        first = self.by_key.setdefault(alpha_key(node.state), node.id)
        return None if first == node.id else self.graph.nodes[first]


def puct(q: float, prior: float, parent_visits: int, visits: int, c_puct: float) -> float:
    """Q(s,a) + c_puct * P(s,a) * sqrt(N(s)) / (1 + N(s,a))  (Silver et al. 2017)."""
    return q + c_puct * prior * math.sqrt(parent_visits) / (1 + visits)


def mcts_search(
    env: Env,
    statement: str,
    *,
    policy: TacticPolicy | ProposeFn,
    value: ValueFn | ValueCall,
    budget: Budget = DEFAULT_BUDGET,
    c_puct: float = DEFAULT_C_PUCT,
    novelty_bonus: float = 0.0,
    num_candidates: int = DEFAULT_NUM_CANDIDATES,
    dirichlet_alpha: float | None = None,
    seed: int = 0,
    step_values: bool = False,
    alpha_dedup: bool = False,
    value_prior_weight: float = 0.0,
    root_breadth: int = 0,
) -> SearchResult:
    """Search for a proof of `statement` by MCTS; see the module docstring.

    `num_candidates` is the policy's `n` per expansion; `dirichlet_alpha` (e.g. 0.3) mixes
    Dirichlet noise drawn with `seed` into the root priors; without it the run is deterministic
    (ties go to the policy's earlier candidate). `step_values`: score each candidate step with
    the value before it runs (a value with `value_steps` only; others ignore it); `alpha_dedup`:
    do not search a state equal to a known one up to names; `value_prior_weight`: the value's
    share of each node's prior (0: the policy's alone); `root_breadth`: how many of the root's
    steps run, in prior order, before PUCT chooses; see the module docstring.
    """
    if c_puct < 0 or novelty_bonus < 0 or root_breadth < 0:
        raise ValueError("c_puct, novelty_bonus and root_breadth must be non-negative")
    if not 0.0 <= value_prior_weight <= 1.0:
        raise ValueError(f"value_prior_weight must be in [0, 1], got {value_prior_weight}")
    s = _Search(ProofGraph(), Meter(budget), step_values, alpha_dedup, value_prior_weight)
    graph, meter = s.graph, s.meter
    if (why := meter.blocked("lean")) is not None:
        return meter.result(graph, why)
    start = meter.start(env, statement)
    if not isinstance(start, TacticState):
        return meter.result(graph, StopReason.START_FAILED, describe(start))
    root = graph.add_root(start.pp, start)
    s.duplicate_of(root)
    if (why := _expand(s, root, policy, value, num_candidates)) is not None:
        return meter.result(graph, why)
    root.visits, root.value_sum = 1, root.prior_value or 0.0
    if dirichlet_alpha is not None and s.slots[root.id]:
        rng = np.random.default_rng(seed)
        noise = rng.dirichlet([dirichlet_alpha] * len(s.slots[root.id]))
        for slot, eta in zip(s.slots[root.id], noise, strict=True):
            slot.prior = (1 - DIRICHLET_FRACTION) * slot.prior + DIRICHLET_FRACTION * float(eta)

    while root.status is Status.OPEN:
        if (why := meter.blocked("model")) is not None:
            return meter.result(graph, why)
        nodes, slots, node = [root], [], root
        for _ in range(SELECTION_DEPTH_LIMIT):
            slot = _select(s, node, c_puct, root_breadth if node is root else 0)
            if slot is None:  # every slot tried and dead: the node is FAILED
                assert node.status is Status.FAILED, f"node {node.id} is open with no slot"
                leaf_value = ERROR_VALUE
                break
            slots.append(slot)
            if slot.edge is not None:
                edge = graph.edges[slot.edge]
                assert edge.dst is not None
                node = graph.nodes[edge.dst]
                nodes.append(node)
                continue
            if (why := meter.blocked("lean")) is not None:
                return meter.result(graph, why)
            edge, new = _run(s, env, node, slot)
            if root.status is Status.PROVED:
                return meter.result(graph, StopReason.PROVED)
            if graph.is_dead(edge):
                leaf_value = ERROR_VALUE
                break
            assert edge.dst is not None
            child = graph.nodes[edge.dst]
            nodes.append(child)
            if not new:  # a transposition into an open state: back up what it is worth
                leaf_value = child.value or 0.0
                break
            if (twin := s.duplicate_of(child)) is not None:  # the same state up to names
                graph.close(child.id)
                leaf_value = twin.value or 0.0
                break
            if slot.score is not None:  # scored before it ran: the same path, no second call
                child.prior_value = slot.score
            elif slot.step_score is not None and getattr(value, "steps_score_children", False):
                child.prior_value = slot.step_score
            if (why := _expand(s, child, policy, value, num_candidates)) is not None:
                return meter.result(graph, why)
            if child.status is Status.FAILED:  # the policy had nothing for it
                leaf_value = ERROR_VALUE
            else:
                leaf_value = (child.prior_value or 0.0) + novelty_bonus
            break
        else:
            raise AssertionError("MCTS selection did not reach a leaf")
        _backup(graph, nodes, slots, leaf_value)
    return meter.result(graph, StopReason.EXHAUSTED)


def _expand(
    s: _Search,
    node: Node,
    policy: TacticPolicy | ProposeFn,
    value: ValueFn | ValueCall,
    n: int,
) -> StopReason | None:
    """Ask the policy for the node's candidates and the value function for the node's value
    (unless its parent's step score gave it one) and, with `step_values` or a value prior,
    each step's score (one batched call)."""
    for kind in ("expand", "model"):
        if (why := s.meter.blocked(kind)) is not None:
            return why
    cands = dedup(s.meter.propose(policy, [node.state], n)[0])
    priors = softmax([c.logprob for c in cands])
    slots = [_Slot(c, p) for c, p in zip(cands, priors, strict=True)]
    s.slots[node.id] = slots
    if not cands:
        s.graph.close(node.id)
        return None
    if node.prior_value is None:
        node.prior_value = s.meter.value(value_call(value, s.graph, [node]), [node.state])[0]
    value_steps = getattr(value, "value_steps", None)
    if value_steps is None or not (s.step_values or s.value_prior_weight > 0):
        return None
    steps = [(c.thought, c.tactic) for c in cands]
    scores = s.meter.value(lambda _: value_steps(node.state, steps), [node.state] * len(cands))
    for slot, score in zip(slots, scores, strict=True):
        slot.step_score = score
    if s.value_prior_weight > 0:
        mixed = mix_priors(priors, scores, s.value_prior_weight)
        for slot, prior in zip(slots, mixed, strict=True):
            slot.prior = prior
    if s.step_values:
        capped = getattr(value, "caps_step_values", True) and node.id != s.graph.root.id
        ceiling = (node.prior_value or 0.0) if capped else 1.0
        for slot, score in zip(slots, scores, strict=True):
            slot.score = min(ceiling, score)
    return None


def _q(graph: ProofGraph, node: Node, slot: _Slot) -> tuple[float, int]:
    """(Q, N) of a slot; an untried slot has Q = its step's value if it was scored, else (and
    an unvisited one) the node's mean value."""
    fpu = node.value_sum / node.visits if node.visits else 0.0
    if slot.edge is None:
        return (fpu if slot.score is None else slot.score), 0
    edge = graph.edges[slot.edge]
    if edge.visits:
        return edge.value_sum / edge.visits, edge.visits
    return fpu, 0


def _select(s: _Search, node: Node, c_puct: float, breadth: int = 0) -> _Slot | None:
    """The node's slot to follow: while fewer than `breadth` of its slots have run, the untried
    one with the highest prior (ties: the earlier); else the PUCT maximum over the slots whose
    edge is untried or leads to an open node (None when there is none)."""
    graph = s.graph
    slots = s.slots.get(node.id, [])
    untried = [slot for slot in slots if slot.edge is None]
    if untried and len(slots) - len(untried) < breadth:
        return max(untried, key=lambda slot: slot.prior)
    best, best_score = None, -math.inf
    for slot in slots:
        if slot.edge is not None:
            edge = graph.edges[slot.edge]
            if graph.is_dead(edge) or graph.nodes[edge.dst].status is not Status.OPEN:
                continue
        q, n = _q(graph, node, slot)
        score = puct(q, slot.prior, node.visits, n, c_puct)
        if score > best_score:
            best, best_score = slot, score
    return best


def _run(s: _Search, env: Env, node: Node, slot: _Slot) -> tuple[Edge, bool]:
    """Run the slot's tactic in Lean and record the edge; close the node after its last slot."""
    result = s.meter.step(env, node.handle, slot.cand.tactic)
    edge, new = s.graph.add_edge(
        node.id, slot.cand.tactic, result, thought=slot.cand.thought, logprob=slot.cand.logprob
    )
    slot.edge = edge.id
    if all(sl.edge is not None for sl in s.slots[node.id]):
        s.graph.close(node.id)
    return edge, new


def _backup(graph: ProofGraph, nodes: list[Node], slots: list[_Slot], value: float) -> None:
    for node in nodes:
        node.visits += 1
        node.value_sum += value
    for slot in slots:
        if slot.edge is not None:
            edge = graph.edges[slot.edge]
            edge.visits += 1
            edge.value_sum += value
