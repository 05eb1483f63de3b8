"""The premise index over `Init` and `Std` without Lean: which library premises a header's
imports can name, that banned names stay out whatever the root, and that the index is built root
by root, each in its own environment and cache (a scripted server stands in for the REPL's
`constants` and `#check` replies; the integration tests run the real one)."""

from __future__ import annotations

from leancot.lean.results import CommandResult, Message
from leancot.models.bm25 import BM25Retriever
from leancot.models.premises import Premise, PremiseIndex, header_imports, importable
from leancot.prover.core_lemmas import core_theorem_name
from leancot.prover.premises import PremiseCache, banned_names, library_premises, root_header
from leancot.prover.retrieval import PremiseSource, PremiseTactics


def lemma(name: str, typ: str, module: str) -> Premise:
    return Premise(name, f"{name} : {typ}", "axiom", "", module)


INIT = [
    lemma("List.contains_cons", "(a :: l).contains b = (b == a || l.contains b)", "Init.Data.List"),
    lemma("Nat.add_comm", "∀ (n m : Nat), n + m = m + n", "Init.Data.Nat.Basic"),
]
HASHMAP = [
    lemma("Std.HashMap.contains_insert", "(m.insert k v).contains a = (k == a || m.contains a)",
          "Std.Data.HashMap.Lemmas"),
    lemma("Std.DHashMap.contains_insert", "(m.insert k v).contains a = (k == a || m.contains a)",
          "Std.Data.DHashMap.Lemmas"),
    lemma("Std.HashMap.contains_insert_self", "(m.insert k v).contains k = true",
          "Std.Data.HashMap.Lemmas"),
]  # fmt: skip
TREEMAP = [lemma("Std.TreeMap.contains_insert_self", "(t.insert k v).contains k = true",
                 "Std.Data.TreeMap.Lemmas")]  # fmt: skip
LIBRARY = [*INIT, *HASHMAP, *TREEMAP]


def names(premises):
    return {p.name for p in premises}


def test_header_imports_reads_the_import_lines_only():
    assert header_imports("") == ()
    assert header_imports("import Std") == ("Std",)
    assert header_imports("import Std.Data.HashMap Init.Data\nimport Std\n") == (
        "Std.Data.HashMap",
        "Init.Data",
        "Std",
    )
    assert header_imports("-- import Std\n/- import Lean -/\ntheorem t : True := trivial") == ()
    assert header_imports("module\npublic import Std.Data\nimport all Lean") == ("Std.Data", "Lean")


def test_importable_offers_init_always_and_std_only_where_imported():
    assert importable("Init.Data.Nat.Basic", ())  # every header imports Init
    assert importable("", ())  # a premise of unknown module (an in-file or older cache entry)
    assert not importable("Std.Data.HashMap.Lemmas", ())
    assert importable("Std.Data.HashMap.Lemmas", ("Std",))
    assert importable("Std.Data.HashMap.Lemmas", ("Std.Data.HashMap",))
    assert not importable("Std.Data.TreeMap.Lemmas", ("Std.Data.HashMap",))
    assert not importable("Std.Data.HashMapX", ("Std.Data.HashMap",))  # a prefix, not a module
    assert not importable("Std.Data.HashMap.Lemmas", ("Lean",))  # transitive imports: not offered


def test_allowed_premises_follow_the_theorems_header():
    index = PremiseIndex(LIBRARY)
    assert names(index.allowed(header="")) == names(INIT)  # minif2f-core: no Std premise
    assert names(index.allowed(header="import Std")) == names(LIBRARY)  # a core statement
    # the HashMap modules, not DHashMap's (which `Std.Data.HashMap` imports: not offered)
    hashmap = names(index.allowed(header="import Std.Data.HashMap"))
    assert hashmap == names(INIT) | {
        "Std.HashMap.contains_insert",
        "Std.HashMap.contains_insert_self",
    }
    assert names(index.allowed()) == names(LIBRARY)  # no header (a dataset's file): all of it
    # the per-imports lists are computed once and not shared between different headers
    assert index.allowed(header="import Std") == index.allowed(header="import Std\n")
    assert len(index.allowed(header="")) == len(INIT)


def core_statement(lemma_name: str) -> dict:
    return {
        "full_name": core_theorem_name(lemma_name),
        "statement": f"theorem {core_theorem_name(lemma_name)} : True",
        "header": "import Std",
        "source": "core:" + lemma_name,
    }


def test_banned_std_lemmas_are_never_offered():
    theorem = core_statement("Std.HashMap.contains_insert")
    assert banned_names(theorem) == {"Std.HashMap.contains_insert", theorem["full_name"]}
    allowed = names(
        PremiseIndex(LIBRARY).allowed(header="import Std", banned=banned_names(theorem))
    )
    # the lemma itself and every premise sharing its last component (the verifier's rule)
    assert "Std.HashMap.contains_insert" not in allowed
    assert "Std.DHashMap.contains_insert" not in allowed
    assert {"Std.HashMap.contains_insert_self", "Std.TreeMap.contains_insert_self"} <= allowed
    # through the searches' path: BM25 over the whole index, bound to the theorem
    source = PremiseSource(BM25Retriever(LIBRARY), PremiseIndex(LIBRARY), k=10)
    tactics = PremiseTactics(source).for_theorem(theorem)
    state = "m : Std.HashMap Nat Nat\n⊢ (m.insert k v).contains a = (k == a || m.contains a)"
    offered = tactics.bound.top(state)
    assert offered and not names(offered) & {"Std.HashMap.contains_insert",
                                             "Std.DHashMap.contains_insert"}  # fmt: skip
    assert not any("contains_insert]" in t or t.endswith("contains_insert")
                   for t in tactics.tactics_for(state))  # fmt: skip


def test_a_statement_importing_only_init_is_never_offered_std_premises():
    theorem = {"full_name": "t", "statement": "theorem t : True", "header": "", "source": "x"}
    source = PremiseSource(BM25Retriever(LIBRARY), PremiseIndex(LIBRARY), k=10)
    state = "⊢ (m.insert k v).contains k = true"
    assert not any(p.module.startswith("Std") for p in source.for_theorem(theorem).top(state))
    std = source.for_theorem({**theorem, "header": "import Std"}).top(state)
    assert "Std.HashMap.contains_insert_self" in names(std)


class ScriptedServer:
    """The REPL replies `library_premises` reads: `constants` per root (listed only in an
    environment that imports the root) and `#check` messages; every call recorded."""

    version = "test"

    def __init__(self, library):
        self.library = library
        self.calls = []
        self.envs = {"": 1, "import Std": 2}

    def header_env(self, header, timeout=None):
        self.calls.append(("header", header))
        return CommandResult(self.envs[header])

    def library_constants(self, roots, kinds, env=None):
        self.calls.append(("constants", tuple(roots), env.env))
        visible = ("Init",) if env.env == 1 else ("Init", "Std")
        return [
            {"name": p.name, "kind": p.kind, "module": p.module}
            for p in self.library
            if p.module.split(".")[0] in roots and p.module.split(".")[0] in visible
        ]

    def run_cmd(self, cmd, env=None, timeout=None):
        lines = [line.removeprefix("#check @") for line in cmd.splitlines()]
        self.calls.append(("check", tuple(lines), env.env))
        types = {p.name: p.text.split(" : ", 1)[1] for p in self.library if " : " in p.text}
        messages = tuple(
            Message("info", i + 1, 0, None, None, f"{n} : {types[n]}")
            for i, n in enumerate(lines)
            if n in types  # a type that does not print: no message
        )
        return CommandResult(env.env, messages)


def test_library_premises_are_built_root_by_root_in_their_own_env_and_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LEANCOT_CACHE_DIR", str(tmp_path / "leancot"))
    assert root_header("Init") == "" and root_header("Std") == "import Std"
    server = ScriptedServer(LIBRARY)
    got = library_premises(server, ("Init", "Std"))
    assert got == LIBRARY  # Init first, each typed by #check
    checks = [c for c in server.calls if c[0] == "check"]
    assert [c[2] for c in checks] == [1, 2]  # Init typed in the empty env, Std under import Std
    caches = sorted((tmp_path / "leancot" / "retrieval").glob("premises-*.jsonl"))
    assert len(caches) == 2  # one per root: the Init one predates Std and is reused as it is
    by_root = {PremiseCache(c).entries.get("Nat.add_comm") is not None: c for c in caches}
    assert len(PremiseCache(by_root[True]).entries) == len(INIT)
    # a rerun types nothing; `Init` alone reads its cache without importing Std
    again = ScriptedServer(LIBRARY)
    assert library_premises(again, ("Init", "Std")) == LIBRARY
    assert not [c for c in again.calls if c[0] == "check"]
    init_only = ScriptedServer(LIBRARY)
    assert library_premises(init_only, ("Init",)) == INIT
    assert ("header", "import Std") not in init_only.calls
    # `limit` counts over the roots, in order
    assert library_premises(ScriptedServer(LIBRARY), ("Init", "Std"), limit=3) == LIBRARY[:3]


def test_one_given_cache_holds_every_root(tmp_path):
    cache = PremiseCache(tmp_path / "p.jsonl")
    assert library_premises(ScriptedServer(LIBRARY), ("Init", "Std"), cache=cache) == LIBRARY
    assert set(PremiseCache(cache.path).entries) == names(LIBRARY)


def test_search_config_indexes_init_and_std_by_default_and_needs_a_root():
    import pytest

    from leancot.prover.config import SearchConfig

    assert SearchConfig().premise_roots == ("Init", "Std")
    with pytest.raises(ValueError, match="premise_roots"):
        SearchConfig(premise_roots=())


def test_limit_counts_untyped_constants_and_stops_before_the_next_root(tmp_path):
    untyped = Premise("Nat.unprintable", "Nat.unprintable", "axiom", "", "Init.Data.Nat.Basic")
    server = ScriptedServer([*INIT, untyped, *HASHMAP])
    got = library_premises(
        server, ("Init", "Std"), cache=PremiseCache(tmp_path / "p.jsonl"), limit=3
    )
    assert got == INIT  # three Init constants considered, one untyped: Std is not reached
    assert ("header", "import Std") not in server.calls
