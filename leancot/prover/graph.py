"""The proof search graph: goal states as nodes, tactics as edges (ReProver `search_tree.py`).

A node is one proof state, deduplicated by its pretty-printed text, so two tactic orders that
reach the same state (a transposition) meet in one node; several open goals are one node whose
text holds them all. An edge is one tactic tried on a node, with the policy's thought and
log-probability and what Lean answered: `ok` (a new or known state), `proved` (no goals left),
`error` or `timeout`.

Status rules, applied as edges are added and nodes are closed:
- a node is PROVED when some edge from it finishes the proof or leads to a PROVED node;
- a node is FAILED when it is fully expanded (no more edges will be added) and every edge from
  it is dead: an error, a timeout, or an `ok` edge into a FAILED node;
- otherwise it is OPEN. Both statuses propagate upward along `ok` edges.

A tactic that leads back to its own state or to one of that state's ancestors makes no progress;
it is recorded as an `error` edge (with `dst` set and an explaining message), so the graph of `ok`
edges stays acyclic and statuses stay well defined.

`to_json`/`from_json` are the graph's form in a search log; `graph_export` gives it to other
tools (networkx, GraphML, a PNG/SVG drawing).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import networkx as nx

from leancot.lean.results import (
    Crashed,
    LeanError,
    ProofFinished,
    TacticResult,
    TacticState,
    Timeout,
)


class Status(StrEnum):
    OPEN = "OPEN"
    PROVED = "PROVED"
    FAILED = "FAILED"


class EdgeResult(StrEnum):
    OK = "ok"
    PROVED = "proved"
    ERROR = "error"
    TIMEOUT = "timeout"


@dataclass(eq=False)
class Node:
    """One proof state. `handle` is the environment's object to run tactics from (not logged)."""

    id: int
    state: str
    depth: int
    handle: Any = field(default=None, repr=False)
    status: Status = Status.OPEN
    expanded: bool = False  # fully expanded: no more edges will be added
    prior_value: float | None = None  # the value function's estimate (PRM)
    visits: int = 0
    value_sum: float = 0.0
    out_edges: list[int] = field(default_factory=list)
    in_edges: list[int] = field(default_factory=list)

    @property
    def num_goals(self) -> int:
        goals = getattr(self.handle, "goals", ())
        if goals:
            return len(goals)
        return sum(1 for line in self.state.splitlines() if line.startswith("⊢"))

    @property
    def value(self) -> float | None:
        """The mean backed-up value if visited, else the value function's estimate."""
        if self.visits:
            return self.value_sum / self.visits
        return self.prior_value


@dataclass(eq=False)
class Edge:
    id: int
    src: int
    dst: int | None
    tactic: str
    thought: str
    logprob: float
    result: EdgeResult
    error: str | None = None
    visits: int = 0
    value_sum: float = 0.0


def _classify(result: TacticResult) -> tuple[EdgeResult, str | None]:
    if isinstance(result, TacticState):
        return EdgeResult.OK, None
    if isinstance(result, ProofFinished):
        return EdgeResult.PROVED, None
    if isinstance(result, Timeout):
        return EdgeResult.TIMEOUT, f"timeout after {result.seconds:g} s"
    if isinstance(result, Crashed):
        return EdgeResult.ERROR, f"crashed: {result.reason}"
    if isinstance(result, LeanError):
        return EdgeResult.ERROR, result.error
    raise TypeError(f"not a tactic result: {type(result).__name__}")


class ProofGraph:
    """Nodes, edges and statuses of one search. Node 0 is the root."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self._by_state: dict[str, int] = {}
        self.dag = nx.MultiDiGraph()  # node ids; one keyed edge per `ok` edge

    # --- building --------------------------------------------------------------------------

    @property
    def root(self) -> Node:
        if not self.nodes:
            raise ValueError("the graph is empty: call add_root first")
        return self.nodes[0]

    def add_root(self, state: str, handle: Any = None) -> Node:
        if self.nodes:
            raise ValueError("the graph already has a root")
        return self._new_node(state, handle, depth=0)

    def find(self, state: str) -> Node | None:
        nid = self._by_state.get(state)
        return None if nid is None else self.nodes[nid]

    def _new_node(self, state: str, handle: Any, depth: int) -> Node:
        node = Node(id=len(self.nodes), state=state, depth=depth, handle=handle)
        self.nodes.append(node)
        self._by_state[state] = node.id
        self.dag.add_node(node.id)
        return node

    def add_edge(
        self,
        src: int,
        tactic: str,
        result: TacticResult,
        *,
        thought: str = "",
        logprob: float = 0.0,
    ) -> tuple[Edge, bool]:
        """Record `tactic` run on node `src` with Lean's `result`; (the edge, whether its
        destination is a new node). Updates statuses."""
        parent = self.nodes[src]
        if parent.expanded:
            raise ValueError(f"node {src} is closed (fully expanded); no edge can be added")
        kind, error = _classify(result)
        dst: int | None = None
        new = False
        if isinstance(result, TacticState):
            known = self.find(result.pp)
            if known is None:
                dst, new = self._new_node(result.pp, result, parent.depth + 1).id, True
            else:
                dst = known.id
                if dst == src or nx.has_path(self.dag, dst, src):
                    kind = EdgeResult.ERROR
                    error = f"no progress: the tactic leads back to an earlier state (node {dst})"
        edge = Edge(len(self.edges), src, dst, tactic, thought, float(logprob), kind, error)
        self.edges.append(edge)
        parent.out_edges.append(edge.id)
        if dst is not None:
            self.nodes[dst].in_edges.append(edge.id)
        if kind is EdgeResult.OK:
            assert dst is not None
            self.dag.add_edge(src, dst, key=edge.id)
            if self.nodes[dst].status is Status.PROVED:
                self._propagate_proved(src)
        elif kind is EdgeResult.PROVED:
            self._propagate_proved(src)
        return edge, new

    def close(self, nid: int) -> None:
        """Mark node `nid` fully expanded: it gets no more edges and may become FAILED."""
        self.nodes[nid].expanded = True
        self._propagate_failed(nid)

    def is_dead(self, edge: Edge) -> bool:
        """An edge that cannot contribute to a proof (now or later)."""
        if edge.result is EdgeResult.PROVED:
            return False
        if edge.result is not EdgeResult.OK:
            return True
        assert edge.dst is not None
        return self.nodes[edge.dst].status is Status.FAILED

    def _proving(self, edge: Edge) -> bool:
        if edge.result is EdgeResult.PROVED:
            return True
        return (
            edge.result is EdgeResult.OK
            and edge.dst is not None
            and self.nodes[edge.dst].status is Status.PROVED
        )

    def _propagate_proved(self, nid: int) -> None:
        stack = [nid]
        while stack:
            node = self.nodes[stack.pop()]
            if node.status is not Status.OPEN:
                continue
            node.status = Status.PROVED
            stack.extend(
                self.edges[e].src for e in node.in_edges if self.edges[e].result is EdgeResult.OK
            )

    def _propagate_failed(self, nid: int) -> None:
        stack = [nid]
        while stack:
            node = self.nodes[stack.pop()]
            if node.status is not Status.OPEN or not node.expanded:
                continue
            if all(self.is_dead(self.edges[e]) for e in node.out_edges):
                node.status = Status.FAILED
                stack.extend(
                    self.edges[e].src
                    for e in node.in_edges
                    if self.edges[e].result is EdgeResult.OK
                )

    # --- reading ---------------------------------------------------------------------------

    def proof_edges(self) -> list[Edge] | None:
        """The edges of a shortest proof from the root (ties: earliest edge), or None."""
        if not self.nodes or self.root.status is not Status.PROVED:
            return None
        proved = [n.id for n in self.nodes if n.status is Status.PROVED]
        sub = self.dag.subgraph(proved)
        dist: dict[int, int] = {}
        best: dict[int, Edge] = {}
        for nid in reversed(list(nx.topological_sort(sub))):
            for eid in self.nodes[nid].out_edges:
                edge = self.edges[eid]
                if edge.result is EdgeResult.PROVED:
                    d = 1
                elif self._proving(edge) and edge.dst in dist:
                    d = 1 + dist[edge.dst]
                else:
                    continue
                if d < dist.get(nid, math.inf):
                    dist[nid], best[nid] = d, edge
        path, nid = [], 0
        while True:
            edge = best[nid]
            path.append(edge)
            if edge.result is EdgeResult.PROVED:
                return path
            assert edge.dst is not None
            nid = edge.dst

    def extract_proof(self) -> list[str] | None:
        """The tactics of a shortest proof from the root, or None if the root is not PROVED."""
        edges = self.proof_edges()
        return None if edges is None else [e.tactic for e in edges]

    def check_invariants(self) -> None:
        """Raise AssertionError if the graph is inconsistent (used by tests)."""
        assert len(self._by_state) == len(self.nodes), "states must be unique"
        for i, node in enumerate(self.nodes):
            assert node.id == i and self._by_state[node.state] == i
            assert all(self.edges[e].src == i for e in node.out_edges)
            assert all(self.edges[e].dst == i for e in node.in_edges)
            if i:
                assert any(self.edges[e].result is EdgeResult.OK for e in node.in_edges), (
                    f"node {i} is not reached by an ok edge"
                )
            proving = any(self._proving(self.edges[e]) for e in node.out_edges)
            all_dead = all(self.is_dead(self.edges[e]) for e in node.out_edges)
            if node.status is Status.PROVED:
                assert proving, f"node {i} is PROVED without a proving edge"
            elif node.status is Status.FAILED:
                assert node.expanded and all_dead, f"node {i} is FAILED but has a live edge"
            else:
                assert not proving, f"node {i} is OPEN but has a proving edge"
                assert not (node.expanded and all_dead), f"node {i} should be FAILED"
            assert sum(self.edges[e].visits for e in node.out_edges) <= node.visits
        ok = 0
        for j, edge in enumerate(self.edges):
            assert edge.id == j
            if edge.result is EdgeResult.OK:
                ok += 1
                assert edge.dst is not None and self.dag.has_edge(edge.src, edge.dst, key=j)
            elif edge.result is EdgeResult.PROVED:
                assert edge.dst is None
            assert edge.id in self.nodes[edge.src].out_edges
        assert self.dag.number_of_edges() == ok
        assert nx.is_directed_acyclic_graph(self.dag)

    # --- the search-log form ----------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """`root`, `nodes` and `edges` as in a search log (docs/FORMATS.md#search-logs)."""
        return {
            "root": 0 if self.nodes else None,
            "nodes": [
                {
                    "id": n.id,
                    "state": n.state,
                    "status": str(n.status),
                    "visits": n.visits,
                    "value": n.value,
                }
                for n in self.nodes
            ],
            "edges": [
                {
                    "src": e.src,
                    "dst": e.dst,
                    "tactic": e.tactic,
                    "thought": e.thought,
                    "logprob": e.logprob,
                    "result": str(e.result),
                    "error": e.error,
                    "visits": e.visits,
                }
                for e in self.edges
            ],
        }

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> ProofGraph:
        """Rebuild a graph (without environment handles) from `to_json` output or a log line."""
        graph = cls()
        for n in obj["nodes"]:
            node = graph._new_node(n["state"], None, depth=0)
            node.status = Status(n["status"])
            node.visits = int(n.get("visits") or 0)
            value = n.get("value")
            if value is not None and node.visits:
                node.value_sum = float(value) * node.visits
            elif value is not None:
                node.prior_value = float(value)
        for e in obj["edges"]:
            edge = Edge(
                len(graph.edges),
                e["src"],
                e["dst"],
                e["tactic"],
                e.get("thought", ""),
                float(e.get("logprob", 0.0)),
                EdgeResult(e["result"]),
                e.get("error"),
                int(e.get("visits") or 0),
            )
            graph.edges.append(edge)
            graph.nodes[edge.src].out_edges.append(edge.id)
            if edge.dst is not None:
                graph.nodes[edge.dst].in_edges.append(edge.id)
            if edge.result is EdgeResult.OK:
                graph.dag.add_edge(edge.src, edge.dst, key=edge.id)
        depth = nx.single_source_shortest_path_length(graph.dag, 0) if graph.nodes else {}
        for node in graph.nodes:
            node.expanded = node.status is Status.FAILED  # a FAILED node gets no more edges
            node.depth = depth.get(node.id, 0)
        return graph
