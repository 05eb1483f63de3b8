"""Retrieved premises on the policy's training records: the premises the prover shows at a state,
so the policy trains on the prompts it is asked when it searches.

`annotate_steps(records, source, theorems)` gives each step record `retrieved_premises`: the
texts `source.for_theorem(theorem).texts(state_before)` (`prover.retrieval.TheoremPremises`),
the call `SampledPolicy` makes for its prompt at that state, with the same allowed premises
(library plus the file before the theorem, its banned names left out). `annotate_logs` does the
same for every node of a search log that a step starts from. The query is the state alone: never
the tactic nor the premises it names (those are the label). The rows are then built as before
(`train.rows`: `format_state_prompt(state, retrieved_premises)`), the PRM's without premises
(its scorer shows none). Format: docs/FORMATS.md, "SFT rows".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from leancot.formats import RETRIEVED_PREMISES
from leancot.prover.retrieval import PremiseSource, TheoremPremises


class _Bound:
    """`source.for_theorem` once per theorem name, with a clear error for an unknown one."""

    def __init__(self, source: PremiseSource, theorems: Mapping[str, Mapping[str, Any]]) -> None:
        self.source = source
        self.theorems = theorems
        self._bound: dict[str, TheoremPremises] = {}

    def __call__(self, name: str, where: str) -> TheoremPremises:
        found = self._bound.get(name)
        if found is None:
            theorem = self.theorems.get(name)
            if theorem is None:
                raise ValueError(
                    f"{where}: theorem {name!r} is not among the theorems given for retrieval "
                    "(its header decides which premises it may use)"
                )
            found = self._bound[name] = self.source.for_theorem(theorem)
        return found


def by_name(theorems: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Theorems by `full_name` (the first of a repeated name)."""
    out: dict[str, Mapping[str, Any]] = {}
    for t in theorems:
        out.setdefault(str(t["full_name"]), t)
    return out


def annotate_steps(
    records: Iterable[Mapping[str, Any]],
    source: PremiseSource,
    theorems: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Step records (or Lean-STaR rows) with `retrieved_premises` at their state before."""
    bound = _Bound(source, theorems)
    out = []
    for rec in records:
        state = rec["state_before"] if "state_before" in rec else rec["state"]
        premises = bound(str(rec["full_name"]), f"step record {rec.get('id', '')}".strip())
        out.append({**rec, RETRIEVED_PREMISES: premises.texts(state)})
    return out


def annotate_logs(
    logs: Iterable[Mapping[str, Any]],
    source: PremiseSource,
    theorems: Mapping[str, Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """Search logs whose nodes that start a step carry `retrieved_premises` at their state."""
    bound = _Bound(source, theorems)
    out = []
    for log in logs:
        starts = {int(e["src"]) for e in log.get("edges", ())}
        premises = bound(str(log["full_name"]), "search log") if starts else None
        nodes = [
            {**n, RETRIEVED_PREMISES: premises.texts(n["state"])}
            if premises is not None and int(n["id"]) in starts
            else dict(n)
            for n in log.get("nodes", ())
        ]
        out.append({**log, "nodes": nodes})
    return out
