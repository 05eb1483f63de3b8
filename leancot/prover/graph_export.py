"""The proof graph for other tools: a plain networkx copy, GraphML, and a PNG/SVG drawing.

`to_networkx(graph)` gives state nodes `n<id>` and one terminal node per proving edge
(`qed<edge>`) and per dead edge without a state (`dead<edge>`), with plain attributes;
`write_graphml` writes that copy (docs/FORMATS.md#search-trees), `render` draws it with
matplotlib (`pip install matplotlib`, or the `train` extra) and `svg_text` returns that drawing as
SVG text; `trimmed` cuts a big graph down to a drawable part that keeps the proof path.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import networkx as nx

from leancot.prover.graph import EdgeResult, ProofGraph


def to_networkx(graph: ProofGraph) -> nx.MultiDiGraph:
    """A plain-attribute copy of `graph` for export: state nodes `n<id>`, plus one terminal node per
    proved edge (`qed<edge>`) and per dead edge without a state (`dead<edge>`)."""
    out = nx.MultiDiGraph()
    for n in graph.nodes:
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
    for e in graph.edges:
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


def write_graphml(graph: ProofGraph, path: str | Path) -> None:
    """`to_networkx(graph)` as GraphML (docs/FORMATS.md#search-trees)."""
    nx.write_graphml(to_networkx(graph), str(path))


STATUS_COLORS = {"OPEN": "#4c72b0", "PROVED": "#2ca02c", "FAILED": "#b0b0b0"}
PROOF_COLOR = "#d62728"
DEAD_COLOR = "#c8c8c8"
MAX_EDGE_LABELS = 40
MAX_ARROW_EDGES = 24  # larger drawings use plain lines (the root is on top): 10x faster to draw


def _layers(graph: nx.MultiDiGraph) -> dict[str, int]:
    """Breadth-first depth of each node from the root (terminal nodes one below their source)."""
    depth = nx.single_source_shortest_path_length(graph, "n0") if graph else {}
    return {n: depth.get(n, 0) for n in graph.nodes}


def render(graph: ProofGraph, path: str | Path, *, labels: bool | None = None) -> None:
    """Draw `graph` to PNG or SVG (by suffix) with matplotlib: the root on top, layers by
    depth, the proof path red, dead ends grey; tactics label the edges of small graphs
    (`labels`: always, never, or None: when there are at most MAX_EDGE_LABELS edges), and edges
    are arrows in graphs of at most MAX_ARROW_EDGES edges."""
    path = Path(path)
    if path.suffix.lower() not in (".png", ".svg"):
        raise ValueError(f"render writes .png or .svg, not {path.name!r}")
    fig = _figure(graph, labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_inches="tight")


def svg_text(graph: ProofGraph, *, labels: bool | None = None) -> str:
    """`render`'s drawing as one standalone `<svg>` element (text drawn as paths, no fonts
    needed, no creation date: the same graph gives the same text)."""
    fig = _figure(graph, labels)
    from matplotlib import rc_context

    buf = io.BytesIO()
    with rc_context({"svg.hashsalt": "leancot"}):  # fixed element ids, not random ones
        fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buf.getvalue().decode("utf-8")
    return text[text.index("<svg") :]


def _figure(graph: ProofGraph, labels: bool | None) -> Any:
    try:
        from matplotlib.figure import Figure
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(
            "rendering a proof graph needs matplotlib: pip install matplotlib "
            "(or pip install 'leancot[train]')"
        ) from e
    g = to_networkx(graph)
    proof = {e.id for e in graph.proof_edges() or []}
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
        arrows=len(edge_list) <= MAX_ARROW_EDGES,
        node_size=sizes,
    )
    nx.draw_networkx_labels(
        g, pos, ax=ax, labels={f"n{n.id}": str(n.id) for n in graph.nodes}, font_size=7
    )
    if labels if labels is not None else len(edge_list) <= MAX_EDGE_LABELS:
        text: dict[tuple[str, str], str] = {}
        for u, v, _k, attrs in edge_list:  # parallel edges share one label
            text[u, v] = f"{text[u, v]} | " if (u, v) in text else ""
            text[u, v] += _short(attrs["tactic"])
        nx.draw_networkx_edge_labels(g, pos, ax=ax, edge_labels=text, font_size=6)
    return fig


def trimmed(graph: ProofGraph, max_edges: int) -> tuple[ProofGraph, int]:
    """At most `max_edges` edges of `graph` and the nodes they reach from the root, renumbered,
    with the proof path always kept, and how many edges were left out. The proof edges come
    first, then the others in the order the search tried them; statuses are the full graph's."""
    if max_edges < 1:
        raise ValueError(f"max_edges must be positive, got {max_edges}")
    if len(graph.edges) <= max_edges:
        return graph, 0
    chosen = [e.id for e in graph.proof_edges() or []]
    picked = set(chosen)
    for e in graph.edges:
        if len(chosen) >= max_edges:
            break
        if e.id not in picked:
            chosen.append(e.id)
            picked.add(e.id)
    reached, frontier = {0}, [0]
    out: dict[int, list[int]] = {}
    for eid in sorted(picked):
        out.setdefault(graph.edges[eid].src, []).append(eid)
    while frontier:  # keep only what the root reaches through the chosen edges
        nid = frontier.pop()
        for eid in out.get(nid, ()):
            dst = graph.edges[eid].dst
            if dst is not None and dst not in reached:
                reached.add(dst)
                frontier.append(dst)
    ids = {old: new for new, old in enumerate(sorted(reached))}
    data = graph.to_json()
    nodes = [dict(data["nodes"][old], id=new) for old, new in ids.items()]
    edges = [
        dict(data["edges"][eid], src=ids[e.src], dst=None if e.dst is None else ids[e.dst])
        for eid in sorted(picked)
        if (e := graph.edges[eid]).src in reached and (e.dst is None or e.dst in reached)
    ]
    small = ProofGraph.from_json({"root": 0, "nodes": nodes, "edges": edges})
    return small, len(graph.edges) - len(edges)


def _short(tactic: str, limit: int = 24) -> str:
    one = " ".join(tactic.split())
    return one if len(one) <= limit else one[: limit - 1] + "…"
