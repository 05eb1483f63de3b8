"""The premise index from the real WASM Lean (`constants` request, types by `#check`, the disk
cache; `Std` under `import Std`), and a real search whose only tactics use retrieved premises:
it proves a theorem with one, and never offers the lemma a restated core theorem may not use."""

from __future__ import annotations

import pytest

from leancot.models.bm25 import BM25Retriever
from leancot.models.premises import Premise, PremiseIndex
from leancot.prover.config import BudgetConfig
from leancot.prover.core_suite import printed_levels
from leancot.prover.premises import (
    LIBRARY_KINDS,
    PremiseCache,
    check_types,
    imported_modules,
    library_premises,
    module_graph,
    root_premises,
)
from leancot.prover.retrieval import PremiseSource, PremiseTactics
from leancot.prover.runner import read_log
from leancot.prover.theorems import Theorem
from leancot.prover.workers import prove_theorems

pytestmark = pytest.mark.slow


class CountingServer:
    """A server whose `run_cmd` calls are counted (the rest passes through)."""

    def __init__(self, server):
        self.server = server
        self.commands = 0

    def run_cmd(self, *args, **kw):
        self.commands += 1
        return self.server.run_cmd(*args, **kw)

    def __getattr__(self, name):
        return getattr(self.server, name)


def test_library_premises_are_typed_by_lean_and_cached(lean_server, tmp_path):
    cache = PremiseCache(tmp_path / "premises.jsonl")
    premises = library_premises(lean_server, cache=cache, limit=40)
    assert len(premises) >= 30  # a few constants' types may not print back
    assert all(p.kind in LIBRARY_KINDS and p.module.startswith("Init") for p in premises)
    assert all(p.text.startswith(p.name + " : ") for p in premises)
    # the printed type is the constant's: Lean accepts the constant at that type
    first = next(p for p in premises if p.kind in ("theorem", "axiom"))
    typ = first.text.split(" : ", 1)[1]
    check = lean_server.run_cmd(f"example : {typ} := @{first.name}", lean_server.header_env(""))
    assert not [m for m in check.messages if m.severity == "error"], check.messages
    counting = CountingServer(lean_server)
    again = library_premises(counting, cache=PremiseCache(cache.path), limit=40)
    untyped = [n for n, e in cache.entries.items() if not e.get("type")]
    # from the cache: no #check, except one request retrying the untyped ones (if any)
    assert again == premises and counting.commands == (1 if untyped else 0)


def test_std_premises_are_typed_under_import_std_and_named_only_there(lean_server, tmp_path):
    cache = PremiseCache(tmp_path / "std.jsonl")
    premises = root_premises(lean_server, "Std", header="import Std", cache=cache, limit=40)
    assert len(premises) >= 30 and all(p.module.startswith("Std.") for p in premises)
    lemma = next(p for p in premises if p.kind in ("theorem", "axiom"))
    typ = lemma.text.split(" : ", 1)[1]
    levels = ", ".join(printed_levels(typ))  # declared: the REPL binds none automatically
    params = f".{{{levels}}}" if levels else ""
    check = f"noncomputable def leancot_std_check{params} : {typ} := @{lemma.name}"
    std = lean_server.run_cmd(check, lean_server.header_env("import Std"))
    assert not [m for m in std.messages if m.severity == "error"], std.messages
    # without `import Std` the name is unknown: why an empty header is offered no Std premise
    bare = lean_server.run_cmd(check, lean_server.header_env(""))
    assert [m for m in bare.messages if m.severity == "error"]
    index = PremiseIndex(premises)
    assert index.allowed(header="") == [] and len(index.allowed(header="import Std")) == len(
        premises
    )


def test_module_graph_of_import_std_orders_the_library(lean_server):
    """Lean's module graph under `import Std`: a `Std` lemma file imports `Init.Prelude` through
    others, never itself, and no `Init` module imports a `Std` one."""
    graph = module_graph(lean_server)
    lemmas = "Std.Data.HashMap.Lemmas"
    closure = {m: imported_modules(graph, m) for m in graph if m.startswith("Init.") or m == lemmas}
    assert {"Init.Prelude", "Std.Data.HashMap.Basic"} <= closure[lemmas]
    assert lemmas not in closure[lemmas]
    assert not any(m.startswith("Std.") for k, v in closure.items() if k.startswith("Init.")
                   for m in v)  # fmt: skip


def test_search_proves_with_a_retrieved_premise_and_respects_the_ban(lean_server, tmp_path):
    env = lean_server.header_env("")
    types = check_types(lean_server, ["Nat.le_refl", "Nat.lt_irrefl"], env)
    library = [Premise(n, f"{n} : {t}", "theorem") for n, t in types.items()]
    assert len(library) == 2
    source = PremiseSource(BM25Retriever(library), PremiseIndex(library), k=2)
    statement = "theorem my_le_refl (n : Nat) : n ≤ n"
    core = "theorem leancot_core_Nat_le_refl : ∀ (n : Nat), n ≤ n"
    theorems = [
        Theorem("my_le_refl", statement, "", "test", "bundled"),
        Theorem("leancot_core_Nat_le_refl", core, "", "test", "core:Nat.le_refl"),
    ]
    out = tmp_path / "results.jsonl"
    prove_theorems(
        theorems,
        [lean_server],
        method="best_first",
        policy=PremiseTactics(source),
        out_path=out,
        budget=BudgetConfig(lean_calls=12).budget(),
        search_kwargs={"num_candidates": 10},
        progress=False,
    )
    records = {r["full_name"]: r for r in read_log(out)}
    mine = records["my_le_refl"]
    assert mine["verified"] and any("Nat.le_refl" in t for t in mine["proof"])
    banned = records["leancot_core_Nat_le_refl"]
    tried = [e["tactic"] for e in banned["edges"]]
    assert tried and not any("Nat.le_refl" in t for t in tried)  # never offered
    # `simp [Nat.lt_irrefl]` may still close it through simp's own use of the lemma: the
    # verifier's axiom check refuses that proof
    if banned["proved"]:
        assert not banned["verified"] and "Nat.le_refl" in banned["verify_error"]
