"""Premise retrieval for the searches: rank a theorem's candidate premises (`premises.py`) for a
goal state, and turn the best into candidate tactics.

- `load_retriever(path, premises)`: a dense retriever folder written by `leancot train
  retriever` (`leancot.train.retriever.DenseRetriever`), or "bm25" (`leancot.models.bm25`).
- `TheoremPremises`: one theorem's allowed premises and a retriever; `top(state)` is cached.
- `premise_query(state)`: what the retriever reads of a state: the first goal's target and its
  propositional hypotheses, without the binders that only name types and instances.
- `PremiseTactics`: `simp only [p1, .., pk]` and `simp [p1, .., pk]` over all the top lemmas,
  then `rw [p]`, `exact p`, `apply p`, `simp [p]`, `simp_all [p]` for each (a `∀`/`→` goal
  introduced first), a policy component of the learned searches' mixture (`mixture.mixture`)
  and of `heuristic` with a retriever (`mixture.with_premise_tactics`).
  Both are bound to a theorem with `for_theorem` (`policies.bind_theorem`, which the runner
  calls per search).
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from leancot.models.bm25 import BM25Retriever, Retriever
from leancot.models.premises import Premise, PremiseIndex, header_premises
from leancot.prover.core_lemmas import banned_constant
from leancot.prover.policies import PROP_MARKERS, Candidate, bind_theorem, hypotheses
from leancot.prover.premises import banned_names, imported_modules
from leancot.prover.unfolding import BINDERS, BRACKET_BINDER, IDENT

__all__ = [
    "BM25Retriever",
    "PremiseSource",
    "PremiseTactics",
    "Retriever",
    "TheoremPremises",
    "bind_theorem",
    "load_retriever",
    "premise_query",
    "premise_source",
]

PREMISE_TACTICS = ("rw [{p}]", "exact {p}", "apply {p}", "simp [{p}]", "simp_all [{p}]")
# Every retrieved lemma in one call, first: a restated core lemma's own simp lemma is what
# `simp [p]` closes it with (the verifier refuses that), `simp only` leaves the simp set out, so
# the retrieved lemmas must do the work; one call instead of one per premise.
BAG_TACTICS = ("simp only [{p}]", "simp [{p}]")
# Binders that only name a type, a universe or an instance (`{α : Type u_1}`, `[inst : BEq α]`,
# `[LawfulBEq α]`): their words (BEq, TransCmp, Hashable) say which classes the statement
# assumes, not which lemma proves it, and drown the goal's own constants in a BM25 query.
_NO_BRACKET = r"[^(){}⦃⦄\[\]]"
TYPE_BINDER = re.compile(
    rf"[({{⦃]\s*[^(){{}}⦃⦄\[\]:]+:{_NO_BRACKET}*\b(?:Type|Sort)\b{_NO_BRACKET}*[)}}⦄]\s*"
)
INSTANCE_BINDER = re.compile(r"\[[^\[\]]*\]\s*")


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


def lexical_query(retriever: Retriever) -> Callable[[str], str]:
    """The query a retriever reads by default: `premise_query` for BM25 (words only count
    there), the state itself for a learned one (trained on whole states)."""
    return premise_query if isinstance(retriever, BM25Retriever) else (lambda state: state)


def premise_query(state: str) -> str:
    """The text a retriever reads for `state`: the first goal's hypotheses that are propositions
    and its target (over as many lines as Lean wrapped it on), with type, universe and instance
    binders left out (`TYPE_BINDER`, `INSTANCE_BINDER`) and the names of bound variables
    removed (`x.pred` reads `pred`): only the goal's constants and symbols remain, as a variable
    named `t₁` or `xs` says nothing about which lemma fits. The state itself when it shows no
    goal."""
    first = state.split("\n\n")[0]
    if "⊢" not in first:
        return state
    hyps = hypotheses(state)
    lines = [typ for name, typ in hyps if PROP_MARKERS.search(typ) and not name.startswith("inst")]
    target = " ".join(first[first.index("⊢") + 1 :].split())
    lines.append(INSTANCE_BINDER.sub("", TYPE_BINDER.sub("", target)))
    text = "\n".join(lines)
    bound = {name for name, _ in hyps}
    for group in [*BINDERS.findall(text), *BRACKET_BINDER.findall(text)]:
        bound.update(re.findall(r"[\w'!?]+", group))

    def constant(match: re.Match[str]) -> str:
        head, _, rest = match.group(0).partition(".")
        return rest if head in bound else match.group(0)

    return IDENT.sub(constant, text)


class TheoremPremises:
    """The premises one theorem may use and a retriever over them; `top(state)` (the best
    `k`, cached per state) never holds a banned name."""

    def __init__(
        self,
        retriever: Retriever,
        allowed: Sequence[Premise],
        k: int = 8,
        query: Callable[[str], str] | None = None,
    ) -> None:
        self.retriever = retriever
        self.allowed = list(allowed)
        self.k = k
        self.query = query or lexical_query(retriever)
        self._cache: dict[str, list[Premise]] = {}
        self._lock = threading.Lock()

    def top(self, state: str) -> list[Premise]:
        """The best `k` allowed premises for `state` (the query: `query(state)`, by default
        `premise_query` for BM25 and the state's text for a dense retriever, as it was
        trained)."""
        with self._lock:
            found = self._cache.get(state)
        if found is None:
            query = self.query(state)
            found = self.retriever.rank(query, self.allowed, self.k) if self.allowed else []
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
    `TheoremPremises` (the library plus its header's declarations, its banned names left out).

    With `module_graph` (the library's modules and their imports, `premises.module_graph`), a
    theorem that restates a library lemma is offered only library premises of the modules that
    lemma's module imports (`premises.imported_modules`, once per module; ReProver's rule,
    without the same file's earlier declarations, whose order this build does not give): a
    lemma declared next to it or later may be proved from it. When the restated lemma's module
    is unknown, no library premise is offered."""

    def __init__(
        self,
        retriever: Retriever,
        index: PremiseIndex,
        k: int = 8,
        module_graph: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.retriever = retriever
        self.index = index
        self.k = k
        self.module_graph = module_graph
        self._module_of = {p.name: p.module for p in index.library}
        self._imported: dict[str, frozenset[str]] = {}  # module -> `imported_modules`, as asked

    def written_before(self, theorem: Mapping[str, Any]) -> frozenset[str] | None:
        """The library modules `theorem`'s premises may come from (None: any)."""
        source = banned_constant(theorem)
        if self.module_graph is None or not source:
            return None
        module = self._module_of.get(source)
        if not module:
            return frozenset()
        if module not in self._imported:
            self._imported[module] = imported_modules(self.module_graph, module)
        return self._imported[module]

    def for_theorem(self, theorem: Mapping[str, Any]) -> TheoremPremises:
        allowed = self.index.allowed(
            header=str(theorem.get("header") or ""), banned=banned_names(theorem)
        )
        within = self.written_before(theorem)
        if within is not None:
            allowed = [p for p in allowed if not p.module or p.module in within]
        return TheoremPremises(self.retriever, allowed, self.k)


class PremiseTactics:
    """Tactics that use the retrieved premises that are propositions (`is_lemma`):
    `BAG_TACTICS` with all of them, then `templates` for each, best premise first, Zipf
    log-probabilities over the list. On a goal that binds variables (`∀`, `→`: the root of a
    restated lemma) each runs after `intros`, as `rw` cannot rewrite under a binder and
    `exact`/`apply` would meet the `∀`. Unbound (no theorem yet) it proposes nothing."""

    def __init__(
        self,
        source: PremiseSource,
        bound: TheoremPremises | None = None,
        *,
        templates: Sequence[str] = PREMISE_TACTICS,
    ) -> None:
        self.source = source
        self.bound = bound
        self.templates = tuple(templates)

    def for_theorem(self, theorem: Mapping[str, Any]) -> PremiseTactics:
        return PremiseTactics(
            self.source, self.source.for_theorem(theorem), templates=self.templates
        )

    def tactics_for(self, state: str) -> list[str]:
        if self.bound is None:
            return []
        lemmas = [p.name for p in self.bound.top(state) if is_lemma(p)]
        bag = ", ".join(lemmas)
        tactics = [t.format(p=bag) for t in BAG_TACTICS] if lemmas else []
        tactics += [t.format(p=p) for p in lemmas for t in self.templates]
        if binds_variables(state):
            tactics = [f"(intros; {t})" for t in tactics]
        return list(dict.fromkeys(tactics))

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


LEMMA_KINDS = frozenset({"theorem", "lemma", "axiom", ""})  # core theorems arrive as axioms here


def is_lemma(premise: Premise) -> bool:
    """Whether a premise states a fact a tactic can use as `exact p`/`rw [p]` (a theorem, or an
    axiom: this build ships the library's theorems as axioms), not a definition, structure or
    constructor (the goal-aware tactics unfold the goal's definitions already)."""
    return premise.kind in LEMMA_KINDS


def binds_variables(state: str) -> bool:
    """Whether the first goal's target starts with a `∀` or is an implication."""
    first = state.split("\n\n")[0]
    if "⊢" not in first:
        return False
    target = " ".join(first[first.index("⊢") + 1 :].split())
    return target.startswith("∀") or " → " in target


def premise_source(
    retriever: str | None,
    server: Any,
    theorems: Sequence[Mapping[str, Any]],
    k: int = 8,
    *,
    library: Sequence[Premise] | None = None,
    roots: Sequence[str] | None = None,
) -> PremiseSource | None:
    """The `PremiseSource` of a run (None without a retriever): the library premises (`library`,
    else those of `roots` (None: `premises.LIBRARY_ROOTS`, `Init` and `Std`) read through
    `server`, cached on disk, `library_premises`), the theorems' in-file premises, and the
    retriever `load_retriever(retriever, ...)` over all of them. Each theorem is offered the
    library premises its header can import (`PremiseIndex.allowed`); with the library read
    through `server`, a restated lemma only those its module imports (`PremiseSource`)."""
    if retriever is None:
        return None
    graph = None
    if library is None:
        from leancot.prover.premises import LIBRARY_ROOTS, library_premises, module_graph

        library = library_premises(server, LIBRARY_ROOTS if roots is None else roots)
        graph = module_graph(server)
    local = {
        (p.name, p.text): p for t in theorems for p in header_premises(str(t.get("header") or ""))
    }
    docs = [*library, *local.values()]
    index = PremiseIndex(list(library))
    return PremiseSource(load_retriever(retriever, docs), index, k=k, module_graph=graph)
