"""`SearchTree`: a read-only view of one search log (docs/FORMATS.md, "Search logs"): nodes by id,
children, tree paths from the root, the proof path, failed subtrees; what `train.rows` builds SFT,
PRM and DPO rows from.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from leancot.formats import RETRIEVED_PREMISES
from leancot.models.prompts import normalize_tactic

BAD_RESULTS = frozenset({"error", "timeout"})  # edge results Lean rejected


@dataclass
class SearchTree:
    """Read-only view of one search log: nodes by id, children, tree paths, the proof path."""

    log: Mapping[str, Any]
    nodes: dict[int, Mapping[str, Any]] = field(init=False)
    children: dict[int, list[Mapping[str, Any]]] = field(init=False)
    parent_edge: dict[int, Mapping[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        self.nodes = {int(n["id"]): n for n in self.log["nodes"]}
        self.children = defaultdict(list)
        for edge in self.log["edges"]:
            self.children[int(edge["src"])].append(edge)
        # BFS tree over accepted edges: the first edge reaching a node is its parent edge.
        root = self.root
        self.parent_edge = {}
        queue, seen = deque([root]), {root}
        while queue:
            src = queue.popleft()
            for edge in self.children.get(src, ()):
                dst = edge.get("dst")
                if dst is None or edge.get("result") in BAD_RESULTS or dst in seen:
                    continue
                seen.add(dst)
                self.parent_edge[dst] = edge
                queue.append(dst)

    @property
    def root(self) -> int:
        return int(self.log.get("root", 0))

    def state(self, node: int) -> str:
        return self.nodes[node]["state"]

    def premises(self, node: int) -> list[str]:
        """The retrieved premise texts recorded at `node` (`retrieved_premises`; [] if none)."""
        return list(self.nodes[node].get(RETRIEVED_PREMISES) or ())

    def status(self, node: int | None) -> str | None:
        return None if node is None or node not in self.nodes else self.nodes[node].get("status")

    def is_bad(self, edge: Mapping[str, Any]) -> bool:
        """Lean rejected the step, it timed out, or it leads to a FAILED node."""
        return edge.get("result") in BAD_RESULTS or self.status(edge.get("dst")) == "FAILED"

    def path_to(self, node: int) -> list[Mapping[str, Any]] | None:
        """Edges from the root to `node` along the BFS tree; None if unreachable."""
        path = []
        while node != self.root:
            edge = self.parent_edge.get(node)
            if edge is None:
                return None
            path.append(edge)
            node = int(edge["src"])
        return path[::-1]

    def proof_path(self) -> list[Mapping[str, Any]]:
        """Edges along the extracted proof (empty when the attempt failed)."""
        if not self.log.get("proved"):
            return []
        path = self._follow_tactics(self.log.get("proof") or [])
        return path if path is not None else self._search_proved()

    def _follow_tactics(self, tactics: Sequence[str]) -> list[Mapping[str, Any]] | None:
        node, path = self.root, []
        for i, tactic in enumerate(tactics):
            last = i == len(tactics) - 1
            match = [
                e
                for e in self.children.get(node, ())
                if normalize_tactic(e["tactic"]) == normalize_tactic(tactic)
                and e.get("result") not in BAD_RESULTS
                and (e.get("result") == "proved" if last else e.get("dst") is not None)
            ]
            if not match:
                return None
            path.append(match[0])
            node = match[0].get("dst")
        return path or None

    def _search_proved(self) -> list[Mapping[str, Any]]:
        for edge in self.log["edges"]:
            if edge.get("result") == "proved":
                path = self.path_to(int(edge["src"]))
                if path is not None:
                    return [*path, edge]
        return []

    def soft_value(self, edge: Mapping[str, Any]) -> float:
        """Monte-Carlo value of the step: 0 if bad, 1 if it proves, else its node's
        `visit_value` (1.0 for a node the search never visited below: Lean accepted it)."""
        if self.is_bad(edge):
            return 0.0
        if edge.get("result") == "proved" or self.status(edge.get("dst")) == "PROVED":
            return 1.0
        value = self.visit_value(int(edge["dst"]))
        return 1.0 if value is None else value

    def visit_value(self, node: int, _seen: frozenset[int] = frozenset()) -> float | None:
        """The share of the search's visits below `node` that did not end in a dead end: 1 for
        PROVED, 0 for FAILED, else the visit-weighted mean over its visited child edges (a bad
        edge 0, another its target's value; an unvisited or unknown subtree the node's own
        backed-up `value` when it has visits). None: no visit count says anything."""
        status = self.status(node)
        if status == "PROVED":
            return 1.0
        if status == "FAILED":
            return 0.0
        total = weighted = 0.0
        for edge in self.children.get(node, ()):
            visits = float(edge.get("visits") or 0)
            if visits <= 0 or edge.get("dst") in _seen:
                continue
            if self.is_bad(edge):
                value: float | None = 0.0
            elif edge.get("result") == "proved":
                value = 1.0
            else:
                value = self.visit_value(int(edge["dst"]), _seen | {node})
            if value is None:
                continue
            total += visits
            weighted += visits * value
        if total > 0:
            return weighted / total
        own = self.nodes.get(node, {})
        if own.get("value") is not None and (own.get("visits") or 0) > 0:
            return min(1.0, max(0.0, float(own["value"])))
        return None
