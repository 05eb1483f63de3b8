"""Benchmark loaders: miniF2F/ProofNet rows, Lean files, LeanDojo folders, core-library lemmas."""

from __future__ import annotations

import itertools
import json
import re
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from leancot.extract.dataset import split_of, write_benchmark
from leancot.lean.results import Message
from leancot.prover import ScriptedEnv, ScriptedPolicy
from leancot.prover.benchmarks import (
    MATHLIB_ERROR,
    BenchmarkError,
    load_bundled,
    load_leandojo_split,
    load_minif2f,
    load_proofnet,
    require_mathlib,
)
from leancot.prover.core_lemmas import (
    DEFAULT_CORE_LEMMAS,
    banned_constant,
    core_library_theorems,
    core_proof_problem,
    core_theorem_name,
    forbid_source_lemmas,
    parse_check_type,
    uses_constant,
)
from leancot.prover.lean_source import file_context, parse_theorems
from leancot.prover.runner import prove_all
from leancot.prover.search_log import read_log
from leancot.prover.theorems import Theorem

SHARED = Path("/work/shared/benchmarks")
HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen Real Nat\n\n"


def _row(name, split="test", statement=None, header=HEADER, **extra):
    return {
        "name": name,
        "split": split,
        "informal_prefix": f"/-- Show that {name} holds.-/\n",
        "formal_statement": statement or f"theorem {name} (x : ℕ) (h : x = 2) : x + 1 = 3 := by\n",
        "goal": "x : ℕ\nh : x = 2\n⊢ x + 1 = 3",
        "header": header,
        **extra,
    }


def _jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


# --- Theorem ----------------------------------------------------------------------------------


def test_theorem_is_a_read_only_mapping_of_its_fields():
    thm = Theorem("a.b", "theorem b : True", "", "test", "bundled")
    assert dict(thm) == {
        "full_name": "a.b",
        "statement": "theorem b : True",
        "header": "",
        "split": "test",
        "source": "bundled",
        "informal": None,
    }
    assert thm["statement"] == "theorem b : True" and thm.get("nope") is None and "split" in thm
    with pytest.raises(KeyError):
        thm["nope"]
    assert hash(thm) == hash(Theorem(**dict(thm))) and thm == Theorem(**dict(thm))
    assert json.loads(json.dumps(dict(thm)))["full_name"] == "a.b"


def test_theorems_go_straight_into_prove_all(tmp_path):
    thms = [Theorem("T.one", "theorem one : P", "", "test", "bundled")]
    summary = prove_all(
        thms,
        lambda: ScriptedEnv({"⊢ P": {"trivial": "no goals"}}, "⊢ P"),
        method="best_first",
        policy=ScriptedPolicy({"⊢ P": ["trivial"]}),
        verify=lambda statement, proof: True,
        out_path=tmp_path / "log.jsonl",
        progress=False,
    )
    assert summary.proved == 1
    (rec,) = read_log(tmp_path / "log.jsonl")
    assert rec["full_name"] == "T.one" and rec["split"] == "test"


# --- miniF2F and ProofNet ---------------------------------------------------------------------


def test_minif2f_rows_strip_the_proof_start_and_keep_the_header(tmp_path):
    path = _jsonl(tmp_path / "m.jsonl", [_row("a"), _row("b", split="valid"), _row("c")])
    thms = load_minif2f(path)
    assert [t.full_name for t in thms] == ["a", "c"]
    a = thms[0]
    assert a.statement == "theorem a (x : ℕ) (h : x = 2) : x + 1 = 3"
    assert a.header == HEADER and a.split == "test" and a.source == "minif2f"
    assert a.informal == "Show that a holds."
    assert [t.split for t in load_minif2f(path, "valid")] == ["val"]
    assert [t.split for t in load_minif2f(path, "val")] == ["val"]
    assert len(load_minif2f(path, None)) == len(load_minif2f(path, "all")) == 3


def test_mathlib_benchmarks_refuse_the_wasm_backend(tmp_path):
    path = _jsonl(tmp_path / "m.jsonl", [_row("a")])
    with pytest.raises(BenchmarkError, match="native backend with Mathlib") as info:
        load_minif2f(path, backend="wasm")
    assert str(info.value) == MATHLIB_ERROR
    with pytest.raises(BenchmarkError, match="embedded WASM Lean has only the core library"):
        load_proofnet(path, backend=SimpleNamespace(name="wasm"))
    require_mathlib("native")
    require_mathlib(SimpleNamespace(name="repl"))
    assert len(load_minif2f(path, backend="native")) == 1


def test_proofnet_term_statements_duplicate_names_and_defs(tmp_path):
    rows = [
        _row("ex_1", statement="theorem ex_1 (a : ℝ) :\n  a ≤ |a| :="),
        _row("ex_3", statement="theorem ex_3 : ∃ x : ℝ, x = f 0 :=", header=HEADER + "def f"),
        _row("ex_3", split="valid", statement="theorem ex_3 (n : ℕ) : n ≤ n + 1 :="),
        _row("ex_9", statement="noncomputable def ex_9 : ℕ ≃ ℕ :="),
    ]
    path = _jsonl(tmp_path / "p.jsonl", rows)
    thms = load_proofnet(path, None)
    assert [t.statement for t in thms][0] == "theorem ex_1 (a : ℝ) :\n  a ≤ |a|"
    names = [t.full_name for t in thms]
    assert names[0] == "ex_1" and len(names) == 3 == len(set(names))
    assert all(n.startswith("ex_3@") for n in names[1:])
    assert names[1:] == [t.full_name for t in load_proofnet(path, None)][1:]  # stable
    assert load_proofnet(path, "valid")[0].full_name == names[2]  # independent of the split
    with_defs = load_proofnet(path, None, theorems_only=False)
    assert with_defs[-1].full_name == "ex_9" and with_defs[-1].source == "proofnet"


def test_malformed_rows_name_the_file_and_row(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"name": "a"}\n', "utf-8")
    with pytest.raises(BenchmarkError, match=r"bad.jsonl: row 1 lacks"):
        load_minif2f(path)
    path.write_text("{not json\n", "utf-8")
    with pytest.raises(BenchmarkError, match=r"bad.jsonl:1: not valid JSON"):
        load_minif2f(path)


@pytest.mark.skipif(not (SHARED / "minif2f.jsonl").exists(), reason="no shared benchmark files")
def test_the_real_statement_files_load():
    test = load_minif2f(SHARED / "minif2f.jsonl")
    assert len(test) == 244 and all(t.split == "test" for t in test)
    assert all(t.statement.startswith("theorem ") and ":=" not in t.statement[-4:] for t in test)
    assert all(t.header.startswith("import Mathlib") for t in test)
    net = load_proofnet(SHARED / "proofnet.jsonl", None, theorems_only=False)
    assert len(net) == 371 == len({t.full_name for t in net})
    assert all(not t.statement.rstrip().endswith(":=") for t in net)


# --- Lean files -------------------------------------------------------------------------------

CORPUS = textwrap.dedent(
    """\
    /- A test corpus. -/
    universe u

    namespace Demo

    variable {α : Type u}

    def twice (n : Nat) : Nat := n + n

    theorem twice_eq (n : Nat) : twice n = 2 * n := by
      unfold twice
      omega

    /-- A doc comment, then an attribute line. -/
    @[simp]
    theorem with_default (n : Nat) (k : Nat := 3) : n + k = k + n := by
      omega

    namespace Inner

    theorem term_proof (l : List α) :
        l ++ [] = l :=
      List.append_nil l

    end Inner

    theorem by_cases_fn : (n : Nat) → n + 0 = n
      | 0 => rfl
      | _ + 1 => rfl

    @[simp] theorem same_line : True := trivial

    end Demo
    """
)


def test_parse_theorems_names_statements_and_lines():
    found = parse_theorems(CORPUS)
    assert [(t.full_name, t.line) for t in found] == [
        ("Demo.twice_eq", 10),
        ("Demo.with_default", 16),
        ("Demo.Inner.term_proof", 21),
        ("Demo.same_line", 31),
    ]
    assert found[0].statement == "theorem twice_eq (n : Nat) : twice n = 2 * n"
    assert found[1].statement == "theorem with_default (n : Nat) (k : Nat := 3) : n + k = k + n"
    assert found[2].statement == "theorem term_proof (l : List α) :\n    l ++ [] = l"
    assert found[3].statement == "@[simp] theorem same_line : True"


def test_file_context_drops_a_dangling_doc_comment_and_attribute():
    ctx = file_context(CORPUS, 16)
    assert ctx.endswith("  omega\n") and "doc comment" not in ctx and "@[simp]" not in ctx
    assert "universe u" in ctx and "variable {α : Type u}" in ctx and "def twice" in ctx
    assert file_context(CORPUS, 10).rstrip().endswith("def twice (n : Nat) : Nat := n + n")
    assert file_context(CORPUS, 1) == ""
    assert file_context("theorem a : True := trivial", 99) == "theorem a : True := trivial"


def test_load_bundled_from_a_corpus_dir_splits_by_name_hash(tmp_path):
    (tmp_path / "Demo.lean").write_text(CORPUS, "utf-8")
    every = load_bundled(None, corpus_dir=tmp_path)
    assert len(every) == 4 and {t.source for t in every} == {"bundled"}
    assert all(t.split == split_of(t.full_name) for t in every)
    assert all(
        t.header == file_context(CORPUS, p.line)
        for t, p in zip(every, parse_theorems(CORPUS), strict=True)
    )
    for split in ("train", "val", "test"):
        assert load_bundled(split, corpus_dir=tmp_path) == [t for t in every if t.split == split]
    with pytest.raises(BenchmarkError, match="no .lean files"):
        load_bundled(corpus_dir=tmp_path / "empty")


def test_load_bundled_reads_the_shipped_corpus():
    test = load_bundled("test")
    assert test and all(
        t.split == "test" and t.full_name.startswith("LeanCot.Corpus.") for t in test
    )
    assert all(re.match(r"(@\[[^\]]*\]\s*)?theorem ", t.statement) for t in test)
    assert all(t.header.lstrip().startswith("/-") for t in test)  # each file's text before it


# --- LeanDojo Benchmark 4 folders -------------------------------------------------------------


def _names_in(split: str, k: int) -> list[str]:
    names = (f"Demo.thm{i}" for i in itertools.count())
    return list(itertools.islice((n for n in names if split_of(n) == split), k))


def _entry(name, file_path="Demo/Basic.lean", line=3, **extra):
    return {
        "url": "https://github.com/o/r",
        "commit": "abc",
        "file_path": file_path,
        "full_name": name,
        "start": [line, 1],
        "end": [line + 1, 10],
        "traced_tactics": [],
        **extra,
    }


def test_leandojo_split_headers_from_the_source_file_or_imports(tmp_path):
    a, b = _names_in("test", 2)
    source = tmp_path / "repo"
    (source / "Demo").mkdir(parents=True)
    (source / "Demo" / "Basic.lean").write_text(
        "import Demo.Defs\nopen Nat\ntheorem x : 1 = 1 := rfl\n", "utf-8"
    )
    thms = [
        _entry(a, statement="theorem x : 1 = 1 :="),
        _entry(b, file_path="Other.lean", statement="theorem y : 2 = 2"),
        _entry(_names_in("train", 1)[0], statement="theorem z : True"),
    ]
    corpus = [
        {"path": "Demo/Basic.lean", "imports": ["Demo.Defs"], "premises": []},
        {"path": "Other.lean", "imports": [".lake/packages/mathlib/Mathlib/Data/Nat.lean", "Init"]},
    ]
    out = write_benchmark(tmp_path / "ds", thms, corpus, {"from_repo": {}, "lean_version": "4"})
    plain = load_leandojo_split(out)
    assert [t.full_name for t in plain] == [a, b]
    assert plain[0].statement == "theorem x : 1 = 1" and plain[0].source == "leandojo"
    assert plain[0].header == "import Demo.Defs\n"
    assert plain[1].header == "import Mathlib.Data.Nat\nimport Init\n"
    with_source = load_leandojo_split(out, "test", source_root=source)
    assert with_source[0].header == "import Demo.Defs\nopen Nat\n"
    assert with_source[1].header == plain[1].header  # no such file: imports only
    assert [t.split for t in load_leandojo_split(out, "train")] == ["train"]
    with pytest.raises(BenchmarkError, match="needs one split"):
        load_leandojo_split(out, None)


def test_leandojo_entry_without_statement_is_named(tmp_path):
    (name,) = _names_in("test", 1)
    out = write_benchmark(
        tmp_path / "ds", [_entry(name)], [], {"from_repo": {}, "lean_version": "4"}
    )
    with pytest.raises(BenchmarkError, match=rf"{name}.*no 'statement' field.*leancot extract"):
        load_leandojo_split(out)


def test_load_bundled_from_an_extracted_folder_uses_local_sources(tmp_path):
    (tmp_path / "Demo.lean").write_text(CORPUS, "utf-8")
    parsed = load_bundled(None, corpus_dir=tmp_path)
    entries = [
        _entry(t.full_name, "Demo.lean", p.line, url=f"local:{tmp_path}", statement=p.statement)
        for t, p in zip(parsed, parse_theorems(CORPUS), strict=True)
    ]
    out = write_benchmark(tmp_path / "ds", entries, [], {"from_repo": {}, "lean_version": "4"})
    assert load_bundled(None, dataset_dir=out) == sorted(
        parsed, key=lambda t: ("train", "val", "test").index(t.split)
    )


# --- core-library lemmas ----------------------------------------------------------------------


def _msg(severity: str, text: str) -> Message:
    return Message(severity, 1, 0, None, None, text)


class FakeServer:
    """Answers `#check @X` from a table of types; `example : T := @X` fails for names in `bad`."""

    def __init__(self, types: dict[str, str], bad: tuple[str, ...] = ()) -> None:
        self.types = types
        self.bad = bad
        self.commands: list[str] = []

    def run_cmd(self, cmd, env=None, timeout=None):
        self.commands.append(cmd)
        name = cmd.rsplit("@", 1)[-1]
        if name not in self.types:
            return SimpleNamespace(messages=(_msg("error", f"Unknown constant `{name}`"),))
        if cmd.startswith("#check"):
            shown = name if self.types[name].startswith("∀ (") else f"@{name}"
            return SimpleNamespace(messages=(_msg("info", f"{shown} : {self.types[name]}"),))
        if name in self.bad:
            return SimpleNamespace(messages=(_msg("error", "don't know how to synthesize\nmore"),))
        return SimpleNamespace(messages=())


TYPES = {
    "Nat.add_comm": "∀ (n m : Nat), n + m = m + n",
    "List.append_nil": "∀ {α : Type u_1} (as : List α), as ++ [] = as",
    "List.map_map": "∀ {β : Type u_1} {γ : Type u_2} {α : Type u_3} {g : β → γ} {f : α → β} "
    "{l : List α},\n  List.map g (List.map f l) = List.map (g ∘ f) l",
    "List.length_nil": "∀ {α : Type u_1}, [].length = 0",
}


def test_core_lemmas_are_restated_from_check_output():
    server = FakeServer(TYPES, bad=("List.length_nil",))
    names = ["Nat.add_comm", "Nope.missing", "List.map_map", "List.length_nil", "List.append_nil"]
    thms = core_library_theorems(server, names)
    assert [t.full_name for t in thms] == [
        "leancot_core_Nat_add_comm",
        "leancot_core_List_map_map",
        "leancot_core_List_append_nil",
    ]
    add = thms[0]
    assert add.statement == "theorem leancot_core_Nat_add_comm : ∀ (n m : Nat), n + m = m + n"
    assert (add.header, add.split, add.source) == ("", "test", "core:Nat.add_comm")
    assert thms[1].statement.endswith("\n  List.map g (List.map f l) = List.map (g ∘ f) l")
    assert "example : ∀ (n m : Nat), n + m = m + n := @Nat.add_comm" in server.commands
    quick = FakeServer(TYPES)
    assert len(core_library_theorems(quick, names, check=False)) == 4
    assert not any(c.startswith("example") for c in quick.commands)


def test_core_limit_is_a_seeded_sample_in_the_given_order():
    names = sorted(TYPES)
    picks = {
        tuple(t.source for t in core_library_theorems(FakeServer(TYPES), names, limit=2, seed=s))
        for s in range(20)
    }
    assert all(len(p) == 2 and list(p) == sorted(p) for p in picks) and len(picks) > 1
    again = core_library_theorems(FakeServer(TYPES), names, limit=2, seed=7)
    assert again == core_library_theorems(FakeServer(TYPES), names, limit=2, seed=7)
    assert core_library_theorems(FakeServer(TYPES), names, limit=0) == []
    with pytest.raises(ValueError, match="limit"):
        core_library_theorems(FakeServer(TYPES), names, limit=-1)


def test_default_core_lemmas_are_unique_and_in_the_core_namespaces():
    assert len(DEFAULT_CORE_LEMMAS) == len(set(DEFAULT_CORE_LEMMAS)) >= 60
    assert {n.split(".")[0] for n in DEFAULT_CORE_LEMMAS} == {"Nat", "List", "Bool", "Option"}
    assert core_theorem_name("Nat.add_comm") == "leancot_core_Nat_add_comm"


def test_parse_check_type():
    assert parse_check_type("Nat.add_comm", "Nat.add_comm : ∀ (n m : Nat), n + m = m + n") == (
        "∀ (n m : Nat), n + m = m + n"
    )
    assert parse_check_type("List.nil_append", "@List.nil_append : ∀ {α : Type u_1}, P") == (
        "∀ {α : Type u_1}, P"
    )
    assert parse_check_type("Nat.add", "Nat.add_comm : T") is None


@pytest.mark.parametrize(
    ("proof", "used"),
    [
        ("by\n  exact Nat.add_comm n m", True),
        ("by\n  intro n m\n  rw [add_comm]", True),
        ("by\n  exact n.add_comm m", True),
        ("by\n  simp [← Nat.add_comm]", True),
        ("by\n  omega", False),
        ("by\n  exact Nat.add_comm' n m", False),
        ("by\n  exact Nat.add_comm_left n", False),
        ("by\n  omega -- not Nat.add_comm", False),
        ("by\n  exact my_add_comm n m", False),
    ],
)
def test_uses_constant(proof, used):
    assert uses_constant(proof, "Nat.add_comm") is used


def test_core_proofs_must_not_use_the_restated_lemma():
    core = Theorem("leancot_core_Nat_add_comm", "theorem t : P", "", "test", "core:Nat.add_comm")
    other = Theorem("x", "theorem x : Q", "", "test", "bundled")
    assert banned_constant(core) == "Nat.add_comm" and banned_constant(other) is None
    assert "names the lemma" in core_proof_problem(core, "by exact Nat.add_comm")
    assert "depends on the lemma" in core_proof_problem(core, "by simp", ("Nat.add_comm",))
    assert core_proof_problem(core, "by omega", ("propext",)) is None
    assert core_proof_problem(other, "by exact Nat.add_comm") is None

    calls = []

    def verify(statement, proof):
        calls.append(proof)
        return SimpleNamespace(
            ok=True, reasons=(), axioms=("Nat.add_comm",) if "simp" in proof else ()
        )

    checked = forbid_source_lemmas(verify, [core, other])
    assert checked("theorem x : Q", "by exact Nat.add_comm").ok  # not a core statement
    rejected = checked("theorem t : P", "by exact Nat.add_comm")
    assert not rejected.ok and "names the lemma" in rejected.reasons[0]
    assert "by exact Nat.add_comm" not in calls[1:]  # refused before Lean
    indirect = checked("theorem t : P", "by simp")
    assert not indirect.ok and indirect.axioms == ("Nat.add_comm",)
    assert checked("theorem t : P", "by omega").ok
