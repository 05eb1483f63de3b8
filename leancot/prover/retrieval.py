"""Premise retrieval for the searches: rank a theorem's candidate premises (`premises.py`) for a
goal state, and turn the best into candidate tactics.

- `load_retriever(path, premises)`: a dense retriever folder written by `leancot train
  retriever` (`leancot.train.retriever.DenseRetriever`), or "bm25" (`leancot.models.bm25`).
- `TheoremPremises`: one theorem's allowed premises and a retriever; `top(state)` is cached.
- `PremiseTactics`: `simp [p]`, `rw [p]`, `exact p`, `apply p`, `simp_all [p]` for the top
  premises, a policy component of the learned searches' mixture (`mixture.mixture`).
  Both are bound to a theorem with `for_theorem` (`policies.bind_theorem`, which the runner
  calls per search).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leancot.models.bm25 import BM25Retriever, Retriever
from leancot.models.premises import Premise, PremiseIndex, header_premises
from leancot.prover.policies import Candidate, bind_theorem
from leancot.prover.premises import banned_names

__all__ = [
    "BM25Retriever",
    "PremiseSource",
    "PremiseTactics",
    "Retriever",
    "TheoremPremises",
    "bind_theorem",
    "load_retriever",
    "premise_source",
]

PREMISE_TACTICS = ("exact {p}", "apply {p}", "rw [{p}]", "simp [{p}]", "simp_all [{p}]")


_DENSE: dict[tuple[str, float], Any] = {}
_DENSE_LOCK = threading.Lock()


def load_retriever(path: str | Path, premises: Sequence[Premise]) -> Retriever:
    """`"bm25"`: BM25 over `premises`; a folder: the dense retriever `leancot train retriever`
    wrote (its encoder embeds `premises` once). A folder loaded before in this process (same
    path, same weights file time) is reused, embedding only the premises it has not seen: the
    stages of `leancot run` and `iterate` share it (a dense ranking does not depend on the
    other premises embedded, unlike BM25's corpus statistics)."""
    if str(path) == "bm25":
        return BM25Retriever(premises)
    from leancot.train.retriever import DenseRetriever

    folder = Path(path).resolve()
    weights = [f.stat().st_mtime for f in sorted(folder.glob("*.safetensors"))]
    key = (str(folder), max(weights, default=0.0))
    with _DENSE_LOCK:
        found = _DENSE.get(key)
        if found is None:
            found = _DENSE[key] = DenseRetriever.load(folder, premises)
        else:
            found.add(premises)
    return found


class TheoremPremises:
    """The premises one theorem may use and a retriever over them; `top(state)` (the best
    `k`, cached per state) never holds a banned name."""

    def __init__(self, retriever: Retriever, allowed: Sequence[Premise], k: int = 8) -> None:
        self.retriever = retriever
        self.allowed = list(allowed)
        self.k = k
        self._cache: dict[str, list[Premise]] = {}
        self._lock = threading.Lock()

    def top(self, state: str) -> list[Premise]:
        """The best `k` allowed premises for `state` (the state's text alone is the query)."""
        with self._lock:
            found = self._cache.get(state)
        if found is None:
            found = self.retriever.rank(state, self.allowed, self.k) if self.allowed else []
            with self._lock:
                self._cache[state] = found
        return found

    def texts(self, state: str) -> list[str]:
        """The premise texts the policy's prompt shows at `state` (`format_state_prompt`): what
        `SampledPolicy` sends when proving, and what `pipeline.premise_rows` writes on training
        records, so the two prompts are one."""
        return [p.text for p in self.top(state)]


class PremiseSource:
    """A retriever and the premise index of a run: `for_theorem(theorem)` gives the theorem's
    `TheoremPremises` (the library plus its header's declarations, its banned names left out)."""

    def __init__(self, retriever: Retriever, index: PremiseIndex, k: int = 8) -> None:
        self.retriever = retriever
        self.index = index
        self.k = k

    def for_theorem(self, theorem: Mapping[str, Any]) -> TheoremPremises:
        allowed = self.index.allowed(
            header=str(theorem.get("header") or ""), banned=banned_names(theorem)
        )
        return TheoremPremises(self.retriever, allowed, self.k)


class PremiseTactics:
    """Tactics that use the retrieved premises (`PREMISE_TACTICS` for each, best premise first),
    Zipf log-probabilities over the list. Unbound (no theorem yet) it proposes nothing."""

    def __init__(self, source: PremiseSource, bound: TheoremPremises | None = None) -> None:
        self.source = source
        self.bound = bound

    def for_theorem(self, theorem: Mapping[str, Any]) -> PremiseTactics:
        return PremiseTactics(self.source, self.source.for_theorem(theorem))

    def tactics_for(self, state: str) -> list[str]:
        if self.bound is None:
            return []
        return [t.format(p=p.name) for p in self.bound.top(state) for t in PREMISE_TACTICS]

    def propose(self, states: list[str], n: int) -> list[list[Candidate]]:
        out = []
        for state in states:
            tactics = self.tactics_for(state)[: max(n, 0)]
            weights = [1.0 / (i + 1) for i in range(len(tactics))]
            total = sum(weights)
            out.append(
                [
                    Candidate("", t, math.log(w / total))
                    for t, w in zip(tactics, weights, strict=True)
                ]
            )
        return out


def premise_source(
    retriever: str | None,
    server: Any,
    theorems: Sequence[Mapping[str, Any]],
    k: int = 8,
    *,
    library: Sequence[Premise] | None = None,
) -> PremiseSource | None:
    """The `PremiseSource` of a run (None without a retriever): the library premises (`library`,
    else read through `server`, cached on disk, `library_premises`), the theorems' in-file
    premises, and the retriever `load_retriever(retriever, ...)` over all of them."""
    if retriever is None:
        return None
    if library is None:
        from leancot.prover.premises import library_premises

        library = library_premises(server)
    local = {
        (p.name, p.text): p for t in theorems for p in header_premises(str(t.get("header") or ""))
    }
    docs = [*library, *local.values()]
    return PremiseSource(load_retriever(retriever, docs), PremiseIndex(list(library)), k=k)
