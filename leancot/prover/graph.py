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
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
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

    # --- export ----------------------------------------------------------------------------

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

    def to_networkx(self) -> nx.MultiDiGraph:
        """A plain-attribute copy for export: state nodes `n<id>`, plus one terminal node per
        proved edge (`qed<edge>`) and per dead edge without a state (`dead<edge>`)."""
        out = nx.MultiDiGraph()
        for n in self.nodes:
            attrs: dict[str, Any] = {
                "kind": "state",
                "state": n.state,
                "status": str(n.status),
                "visits": n.visits,
                "depth": n.depth,
            }
            if n.value is not None:
                attrs["value"] = float(n.value)
            out.add_node(f"n{n.id}", **attrs)
        for e in self.edges:
            if e.dst is not None:
                dst = f"n{e.dst}"
            else:
                dst = f"qed{e.id}" if e.result is EdgeResult.PROVED else f"dead{e.id}"
                out.add_node(dst, kind="qed" if e.result is EdgeResult.PROVED else "dead")
            out.add_edge(
                f"n{e.src}",
                dst,
                key=e.id,
                tactic=e.tactic,
                thought=e.thought,
                logprob=e.logprob,
                result=str(e.result),
                error=e.error or "",
                visits=e.visits,
            )
        return out

    def to_graphml(self, path: str | Path) -> None:
        """`to_networkx()` as GraphML (docs/FORMATS.md#search-trees)."""
        nx.write_graphml(self.to_networkx(), str(path))

    def render(self, path: str | Path, *, labels: bool | None = None) -> None:
        """Draw the graph to PNG or SVG (by suffix) with matplotlib: the root on top, layers by
        depth, the proof path red, dead ends grey; tactics label the edges of small graphs."""
        _render(self, Path(path), labels)


STATUS_COLORS = {"OPEN": "#4c72b0", "PROVED": "#2ca02c", "FAILED": "#b0b0b0"}
PROOF_COLOR = "#d62728"
DEAD_COLOR = "#c8c8c8"
MAX_EDGE_LABELS = 40


def _layers(graph: nx.MultiDiGraph) -> dict[str, int]:
    """Breadth-first depth of each node from the root (terminal nodes one below their source)."""
    depth = nx.single_source_shortest_path_length(graph, "n0") if graph else {}
    return {n: depth.get(n, 0) for n in graph.nodes}


def _render(pg: ProofGraph, path: Path, labels: bool | None) -> None:
    try:
        from matplotlib.figure import Figure
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(
            "rendering a proof graph needs matplotlib: pip install matplotlib "
            "(or pip install 'leancot[train]')"
        ) from e
    if path.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"render writes .png or .svg, not {path.name!r}")
    g = pg.to_networkx()
    proof = {e.id for e in pg.proof_edges() or []}
    for node, layer in _layers(g).items():
        g.nodes[node]["layer"] = layer
    pos = nx.multipartite_layout(g, subset_key="layer", align="horizontal") if g else {}
    pos = {n: (x, -y) for n, (x, y) in pos.items()}  # root on top
    width = max(6.0, min(40.0, 0.6 * g.number_of_nodes()))
    fig = Figure(figsize=(width, max(4.0, 1.2 * (1 + max(_layers(g).values(), default=0)))))
    ax = fig.subplots()
    ax.set_axis_off()
    colors, sizes = [], []
    for _n, attrs in g.nodes(data=True):
        kind = attrs["kind"]
        if kind == "state":
            colors.append(STATUS_COLORS[attrs["status"]])
            sizes.append(300)
        else:
            colors.append(PROOF_COLOR if kind == "qed" else DEAD_COLOR)
            sizes.append(80)
    nx.draw_networkx_nodes(g, pos, ax=ax, node_color=colors, node_size=sizes)
    edge_list = list(g.edges(keys=True, data=True))
    styles = []
    for _u, _v, key, attrs in edge_list:
        if key in proof:
            styles.append((PROOF_COLOR, 2.5))
        elif attrs["result"] in ("error", "timeout"):
            styles.append((DEAD_COLOR, 0.8))
        else:
            styles.append(("#555555", 1.0))
    nx.draw_networkx_edges(
        g,
        pos,
        ax=ax,
        edgelist=[(u, v, k) for u, v, k, _ in edge_list],
        edge_color=[c for c, _ in styles],
        width=[w for _, w in styles],
        arrows=True,
        node_size=sizes,
    )
    nx.draw_networkx_labels(
        g, pos, ax=ax, labels={f"n{n.id}": str(n.id) for n in pg.nodes}, font_size=7
    )
    if labels if labels is not None else len(edge_list) <= MAX_EDGE_LABELS:
        text: dict[tuple[str, str], str] = {}
        for u, v, _k, attrs in edge_list:  # parallel edges share one label
            text[u, v] = f"{text[u, v]} | " if (u, v) in text else ""
            text[u, v] += _short(attrs["tactic"])
        nx.draw_networkx_edge_labels(g, pos, ax=ax, edge_labels=text, font_size=6)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")


def _short(tactic: str, limit: int = 24) -> str:
    one = " ".join(tactic.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
