"""Premises in the library's module order, without Lean: the import closure of a module graph,
and that a restated lemma is offered only premises of the modules its own module imports (a
lemma next to it or after it may be proved from it), while a statement that restates nothing
keeps the whole library (a scripted server stands in for the REPL's `premises` graph reply; the
integration tests read the real one)."""

from __future__ import annotations

import pytest

from leancot.lean.results import CommandResult
from leancot.models.bm25 import BM25Retriever
from leancot.models.premises import Premise, PremiseIndex
from leancot.prover.premises import imported_modules, module_graph
from leancot.prover.retrieval import PremiseSource

GRAPH = {
    "Init.Prelude": [],
    "Init.Core": ["Init.Prelude"],
    "Std.Data.HashMap.Basic": ["Init.Core"],
    "Std.Data.HashMap.Lemmas": ["Std.Data.HashMap.Basic", "Init.Core"],
    "Std.Data.HashMap.Later": ["Std.Data.HashMap.Lemmas"],
    "Std.Data.TreeMap": ["Init.Prelude"],
}


def lemma(name: str, module: str) -> Premise:
    return Premise(name, f"{name} : {name.lower()}_statement = true", "theorem", "", module)


LIBRARY = [
    lemma("Nat.core_fact", "Init.Core"),
    lemma("Std.HashMap.basic_fact", "Std.Data.HashMap.Basic"),
    lemma("Std.HashMap.get!_diff", "Std.Data.HashMap.Lemmas"),  # the restated lemma
    lemma("Std.HashMap.sibling", "Std.Data.HashMap.Lemmas"),  # same module: may use it
    lemma("Std.HashMap.getElem!_diff", "Std.Data.HashMap.Later"),  # after it
    lemma("Std.TreeMap.unrelated", "Std.Data.TreeMap"),  # not imported by it
]


def source(premises: list[Premise]) -> PremiseSource:
    return PremiseSource(BM25Retriever(premises), PremiseIndex(premises), k=8, module_graph=GRAPH)


def names(premises) -> set[str]:
    return {p.name for p in premises}


def test_imported_modules_are_transitive_and_leave_out_the_module_itself():
    closure = {m: imported_modules(GRAPH, m) for m in GRAPH}
    assert closure["Init.Prelude"] == frozenset()
    assert closure["Std.Data.HashMap.Later"] == {
        "Std.Data.HashMap.Lemmas", "Std.Data.HashMap.Basic", "Init.Core", "Init.Prelude",
    }  # fmt: skip
    assert "Std.Data.HashMap.Lemmas" not in closure["Std.Data.HashMap.Lemmas"]
    assert closure["Std.Data.TreeMap"] == {"Init.Prelude"}


def test_imported_modules_of_a_deep_chain_do_not_recurse():
    chain = {f"M{i}": [f"M{i - 1}"] if i else [] for i in range(5000)}
    assert len(imported_modules(chain, "M4999")) == 4999


def test_a_restated_lemma_gets_only_premises_of_the_modules_its_module_imports():
    theorem = {"full_name": "leancot_core_x", "source": "core:Std.HashMap.get!_diff",
               "header": "import Std"}  # fmt: skip
    allowed = source(LIBRARY).for_theorem(theorem).allowed
    assert names(allowed) == {"Nat.core_fact", "Std.HashMap.basic_fact"}


def test_a_statement_that_restates_nothing_keeps_the_whole_library():
    theorem = {"full_name": "mathd_algebra_1", "header": "import Std"}
    assert names(source(LIBRARY).for_theorem(theorem).allowed) == names(LIBRARY)


def test_a_restated_lemma_of_unknown_module_gets_no_library_premise_but_its_header_ones():
    theorem = {"full_name": "leancot_core_y", "source": "core:Std.HashMap.not_listed",
               "header": "import Std\ntheorem own_helper : 1 = 1 := rfl"}  # fmt: skip
    allowed = source(LIBRARY).for_theorem(theorem).allowed
    assert names(allowed) == {"own_helper"}


class GraphServer:
    """Answers `header_env` and the `premises` request's module graph."""

    generation = 0

    def __init__(self, reply):
        self.reply = reply
        self.requests = []
        self.env_handles = self

    def resolve(self, env, generation):
        return 7, generation

    def header_env(self, header):
        return CommandResult(env=7)

    def request(self, obj, timeout=None, *, handle_generation=None):
        self.requests.append(obj)
        return self.reply


def test_module_graph_asks_for_no_declarations_in_the_header_environment():
    server = GraphServer({"modules": [], "graph": [{"name": "A", "imports": []},
                                                   {"name": "B", "imports": ["A"]}]})  # fmt: skip
    assert module_graph(server) == {"A": [], "B": ["A"]}
    assert server.requests == [{"premises": "", "modules": [], "env": 7}]


def test_module_graph_raises_on_an_error_reply():
    with pytest.raises(Exception, match="module graph failed: boom"):
        module_graph(GraphServer({"message": "boom"}))
