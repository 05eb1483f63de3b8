"""LeanDojo backend: prerequisite checks, orchestration and TracedRepo conversion.

The conversion is tested twice: on duck-typed objects with LeanDojo's attribute names (always),
and on LeanDojo's own classes (`LeanGitRepo`, `TracedFile` parsed by LeanDojo from an
`.ast.json` in the layout its `ExtractData.lean` writes, `TracedRepo`) when lean_dojo is
importable. Nothing here needs the network, Lean, or a real trace.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
import pytest

from leancot.extract import leandojo
from leancot.extract.dataset import read_benchmark, read_corpus, read_metadata, validate_theorem
from leancot.extract.leandojo import (
    LeanDojoError,
    LeanDojoUnavailable,
    check_prerequisites,
    convert_traced_repo,
    missing_prerequisites,
    trace_with_leandojo,
)

STATE = "n : Nat\n⊢ n + 0 = n"
GH_URL = "https://github.com/owner/repo"

# ---------------------------------------------------------------- duck-typed LeanDojo objects


@dataclass(frozen=True)
class Repo:  # LeanGitRepo: url, commit, is_lean4, lean_version
    url: str
    commit: str
    is_lean4: bool = False
    lean_version: str = "v4.9.0"


@dataclass(frozen=True)
class Theorem:  # lean_dojo.Theorem
    repo: Repo
    file_path: Path
    full_name: str


@dataclass
class Tactic:  # TracedTactic
    tactic: str
    state_before: str
    state_after: str
    premises: list = field(default_factory=list)

    def get_annotated_tactic(self):
        text = self.tactic
        for p in self.premises:
            text = text.replace(p["full_name"], f"<a>{p['full_name']}</a>")
        return text, self.premises


@dataclass
class TracedTheorem:
    theorem: Theorem
    start: tuple  # LeanDojo Pos iterates as (line, column), both 1-based
    end: tuple
    tactics: list
    statement: str | None = None

    @property
    def repo(self):
        return self.theorem.repo

    def get_traced_tactics(self):
        return self.tactics

    def get_theorem_statement(self):
        if self.statement is None:
            raise AssertionError("LeanDojo cannot locate this proof")
        return self.statement

    def get_tactic_proof(self):
        return "by\n  " + "\n  ".join(t.tactic for t in self.tactics) if self.tactics else None


@dataclass
class TracedFile:
    path: Path
    premises: list
    deps: list = field(default_factory=list)

    def get_premise_definitions(self):
        return self.premises

    def get_direct_dependencies(self, repo):
        return self.deps


@dataclass
class TracedRepo:
    repo: Repo
    dependencies: dict
    traced_files: list
    traced_files_graph: object
    theorems: list

    def get_traced_theorems(self):
        return self.theorems


MAIN = Repo(GH_URL, "c" * 40)
STD = Repo("https://github.com/leanprover-community/batteries", "d" * 40)
LEAN4 = Repo("https://github.com/leanprover/lean4", "e" * 40, is_lean4=True)
ADD_ZERO = {
    "full_name": "Nat.add_zero",
    "def_path": ".lake/packages/lean4/src/lean/Init/Core.lean",
    "def_pos": [100, 1],
    "def_end_pos": [100, 41],
}


def fake_traced_repo(with_graph: bool = True) -> TracedRepo:
    main_thm = TracedTheorem(
        Theorem(MAIN, Path("Foo/Basic.lean"), "Foo.add_zero'"),
        (3, 1),
        (6, 23),
        [
            Tactic("skip", STATE, STATE),
            Tactic("exact Nat.add_zero n", STATE, "no goals", [ADD_ZERO]),
            Tactic("rfl", "no goals", "no goals"),  # dropped: runs on no goals
            Tactic("· simp", STATE, "no goals"),  # dropped: focusing dot
        ],
        statement="theorem add_zero' (n : Nat) : n + 0 = n :=",
    )
    odd_thm = TracedTheorem(
        Theorem(MAIN, Path("Foo/Basic.lean"), "Foo.term_mode"), (8, 1), (8, 40), []
    )
    dep_thm = TracedTheorem(
        Theorem(STD, Path("Batteries/Nat.lean"), "Nat.dep_lemma"),
        (1, 1),
        (2, 10),
        [Tactic("omega", STATE, "no goals")],
        statement="theorem dep_lemma : True",
    )
    core_thm = TracedTheorem(
        Theorem(LEAN4, Path("src/Init/Core.lean"), "Nat.core"), (1, 1), (1, 2), []
    )
    files = {
        "Foo/Basic.lean": TracedFile(
            Path("Foo/Basic.lean"),
            [
                {
                    "full_name": "Foo.add_zero'",
                    "code": "theorem ...",
                    "start": [3, 1],
                    "end": [6, 23],
                    "kind": "commanddeclaration",
                }
            ],
            deps=[("Batteries.Nat", Path(".lake/packages/batteries/Batteries/Nat.lean"))],
        ),
        ".lake/packages/batteries/Batteries/Nat.lean": TracedFile(
            Path(".lake/packages/batteries/Batteries/Nat.lean"), []
        ),
    }
    graph = None
    if with_graph:
        graph = nx.DiGraph()
        for path, tf in files.items():
            graph.add_node(path, traced_file=tf)
        graph.add_edge("Foo/Basic.lean", ".lake/packages/batteries/Batteries/Nat.lean")
    return TracedRepo(
        MAIN,
        {"batteries": STD, "lean4": LEAN4},
        list(files.values()),
        graph,
        [main_thm, odd_thm, dep_thm, core_thm],
    )


def test_duck_typed_conversion():
    theorems, corpus = convert_traced_repo(fake_traced_repo())
    assert [t["full_name"] for t in theorems] == ["Foo.add_zero'", "Foo.term_mode"]
    thm = theorems[0]
    for i, t in enumerate(theorems):
        validate_theorem(t, f"converted[{i}]")
    assert thm["url"] == GH_URL and thm["commit"] == "c" * 40
    assert thm["file_path"] == "Foo/Basic.lean"
    assert thm["start"] == [3, 1] and thm["end"] == [6, 23]  # LeanDojo: 1-based columns
    assert [t["tactic"] for t in thm["traced_tactics"]] == ["skip", "exact Nat.add_zero n"]
    exact = thm["traced_tactics"][1]
    assert exact["annotated_tactic"] == [
        "exact <a>Nat.add_zero</a> n",
        [{**ADD_ZERO, "def_pos": [100, 1], "def_end_pos": [100, 41]}],
    ]
    assert exact["state_before"] == STATE and exact["state_after"] == "no goals"
    assert thm["statement"] == "theorem add_zero' (n : Nat) : n + 0 = n"
    assert thm["proof"].startswith("by\n  skip")
    assert "statement" not in theorems[1] and "proof" not in theorems[1]  # LeanDojo asserted
    # imported files first, as LeanDojo's export_premises orders them
    assert [c["path"] for c in corpus] == [
        ".lake/packages/batteries/Batteries/Nat.lean",
        "Foo/Basic.lean",
    ]
    assert corpus[1]["imports"] == [".lake/packages/batteries/Batteries/Nat.lean"]
    assert corpus[1]["premises"][0]["start"] == [3, 1]


def test_duck_typed_conversion_with_dependencies_and_no_graph():
    theorems, corpus = convert_traced_repo(
        fake_traced_repo(with_graph=False), include_dependencies=True
    )
    by_name = {t["full_name"]: t for t in theorems}
    assert set(by_name) == {"Foo.add_zero'", "Foo.term_mode", "Nat.dep_lemma"}  # never Lean 4 core
    assert by_name["Nat.dep_lemma"]["file_path"] == ".lake/packages/batteries/Batteries/Nat.lean"
    # named as LeanDojo's script names it: the traced repo, with the path inside it
    assert by_name["Nat.dep_lemma"]["url"] == MAIN.url
    assert by_name["Nat.dep_lemma"]["commit"] == MAIN.commit
    assert corpus[0]["imports"] == [".lake/packages/batteries/Batteries/Nat.lean"]


def test_theorem_from_an_unknown_repo_is_an_error():
    traced = fake_traced_repo()
    stray = Repo("https://github.com/someone/else", "f" * 40)
    traced.theorems.append(TracedTheorem(Theorem(stray, Path("X.lean"), "X.y"), (1, 1), (1, 2), []))
    with pytest.raises(LeanDojoError, match="X.y comes from https://github.com/someone/else"):
        convert_traced_repo(traced, include_dependencies=True)


# ---------------------------------------------------------------- prerequisites


@pytest.fixture
def all_present(monkeypatch):
    """Every prerequisite present: lean_dojo findable, tools on PATH, network up."""
    monkeypatch.setattr(leandojo.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(leandojo.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    monkeypatch.setattr(leandojo, "_can_connect", lambda host, port, timeout=0: True)


def test_all_prerequisites_present(all_present):
    assert missing_prerequisites(GH_URL, {"GITHUB_ACCESS_TOKEN": "ghp_x"}) == []
    check_prerequisites(GH_URL, {"GITHUB_ACCESS_TOKEN": "ghp_x"})


def test_each_missing_prerequisite_says_what_to_do(all_present, monkeypatch):
    monkeypatch.setattr(leandojo.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(leandojo.shutil, "which", lambda tool: None if tool != "git" else "/g")
    monkeypatch.setattr(leandojo, "_can_connect", lambda host, port, timeout=0: False)
    with pytest.raises(LeanDojoUnavailable) as err:
        check_prerequisites(GH_URL, {})
    message = str(err.value)
    assert f"cannot trace {GH_URL} with LeanDojo" in message
    assert "pip install 'leancot[leandojo]'" in message
    assert "elan and lake not on PATH" in message and "elan-init.sh" in message
    assert "no network: cannot reach api.github.com:443" in message
    assert "GITHUB_ACCESS_TOKEN" in message
    assert len(missing_prerequisites(GH_URL, {})) == 4


def test_token_only_required_for_github(all_present):
    assert missing_prerequisites("/home/me/my-lean-repo", {}) == []
    problems = missing_prerequisites("git@github.com:owner/repo.git", {})
    assert len(problems) == 1 and "GITHUB_ACCESS_TOKEN" in problems[0]


def test_network_check_targets(all_present, monkeypatch):
    seen = []
    monkeypatch.setattr(leandojo, "_can_connect", lambda h, p, timeout=0: seen.append((h, p)))
    missing_prerequisites("https://gitlab.example.org:8443/a/b", {})
    assert seen == [("api.github.com", 443), ("gitlab.example.org", 8443)]
    seen.clear()
    missing_prerequisites(GH_URL, {"HTTPS_PROXY": "http://proxy.local:3128"})
    assert seen == [("proxy.local", 3128)]


def test_can_connect_to_a_closed_port_is_false():
    assert leandojo._can_connect("127.0.0.1", 9, timeout=2) is False


def test_trace_fails_before_importing_lean_dojo(monkeypatch, tmp_path):
    monkeypatch.setattr(leandojo, "missing_prerequisites", lambda url, env=None: ["no elan"])
    monkeypatch.setitem(sys.modules, "lean_dojo", None)  # importing it would raise ImportError
    with pytest.raises(LeanDojoUnavailable, match="no elan"):
        trace_with_leandojo(GH_URL, "c" * 40, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_trace_with_leandojo_orchestration(monkeypatch, tmp_path):
    calls = []
    fake = types.ModuleType("lean_dojo")
    fake.__version__ = "4.20.0"

    def make_repo(url, commit):
        calls.append(("LeanGitRepo", url, commit))
        return MAIN

    def trace(repo, build_deps=True):
        calls.append(("trace", repo, build_deps))
        return fake_traced_repo()

    fake.LeanGitRepo, fake.trace = make_repo, trace
    monkeypatch.setitem(sys.modules, "lean_dojo", fake)
    monkeypatch.setattr(leandojo, "missing_prerequisites", lambda url, env=None: [])
    out = trace_with_leandojo(GH_URL, "c" * 40, tmp_path / "bench", build_deps=False)
    assert calls == [("LeanGitRepo", GH_URL, "c" * 40), ("trace", MAIN, False)]
    splits = read_benchmark(out)
    assert sorted(t["full_name"] for s in splits.values() for t in s) == [
        "Foo.add_zero'",
        "Foo.term_mode",
    ]
    meta = read_metadata(out)
    assert meta["from_repo"] == {"url": GH_URL, "commit": "c" * 40}
    assert meta["lean_version"] == "4.9.0"
    assert meta["extractor"] == {"backend": "leandojo", "lean_dojo_version": "4.20.0"}
    assert len(read_corpus(out)) == 2


def test_leandojo_failure_is_wrapped(monkeypatch, tmp_path):
    fake = types.ModuleType("lean_dojo")
    fake.LeanGitRepo = lambda url, commit: MAIN

    def trace(repo, build_deps=True):
        raise AssertionError("The repo does not exist")

    fake.trace = trace
    monkeypatch.setitem(sys.modules, "lean_dojo", fake)
    monkeypatch.setattr(leandojo, "missing_prerequisites", lambda url, env=None: [])
    with pytest.raises(LeanDojoError, match=f"failed to trace {GH_URL} at c+: AssertionError"):
        trace_with_leandojo(GH_URL, "c" * 40, tmp_path / "bench")
    assert not (tmp_path / "bench").exists()


# ---------------------------------------------------------------- LeanDojo's own classes

SOURCE = """namespace Foo

theorem add_zero' (n : Nat) : n + 0 = n := by
  skip
  exact Nat.add_zero n

end Foo
"""


class _Syntax:
    """Emits Lean `Syntax` JSON as LeanDojo's ExtractData.lean does, walking an ASCII source."""

    def __init__(self, text: str) -> None:
        assert text.isascii()  # byte offsets == character offsets
        self.text, self.cur, self.spans = text, 0, {}

    def _info(self, val: str):
        start = self.text.index(val, self.cur)
        assert not self.text[self.cur : start].strip(), val
        end = trail = start + len(val)
        while trail < len(self.text) and self.text[trail].isspace():
            trail += 1
        self.cur = trail
        trailing = self.text[end:trail]
        return (
            start,
            end,
            {"original": {"leading": "", "pos": start, "trailing": trailing, "endPos": end}},
        )

    def atom(self, val: str):
        return {"atom": {"info": self._info(val)[2], "val": val}}

    def ident(self, val: str, key: str | None = None):
        start, end, info = self._info(val)
        if key:
            self.spans[key] = (start, end)
        return {"ident": {"info": info, "rawVal": val, "val": val, "preresolved": []}}

    def line_col(self, offset: int):
        before = self.text[:offset]
        return {"line": before.count("\n") + 1, "column": offset - before.rfind("\n") - 1}


def _node(kind, *args):
    return {"node": {"info": "none", "kind": kind, "args": list(args)}}


def _null(*args):
    return _node("null", *args)


def _ast_json(src: _Syntax) -> dict:
    a, i, n = src.atom, src.ident, _node
    header = n("Lean.Parser.Module.header", _null(), _null())
    namespace = n("Lean.Parser.Command.namespace", a("namespace"), i("Foo"))
    keyword = a("theorem")
    decl_id = n("Lean.Parser.Command.declId", i("add_zero'"), _null())
    binder = n(
        "Lean.Parser.Term.explicitBinder",
        a("("),
        _null(i("n")),
        _null(a(":"), i("Nat")),
        _null(),
        a(")"),
    )
    colon = a(":")
    lhs = n("«term_+_»", i("n"), a("+"), n("num", a("0")))
    sig = n(
        "Lean.Parser.Command.declSig",
        _null(binder),
        n("Lean.Parser.Term.typeSpec", colon, n("«term_=_»", lhs, a("="), i("n"))),
    )
    assign, by = a(":="), a("by")
    skip_at = src.cur
    skip = n("Lean.Parser.Tactic.skip", a("skip"))
    exact_at = src.cur
    exact_keyword = a("exact")
    app = n("Lean.Parser.Term.app", i("Nat.add_zero", key="premise"), _null(i("n")))
    exact = n("Lean.Parser.Tactic.exact", exact_keyword, app)
    exact_end = src.text.index("\n", exact_at)
    seq = n(
        "Lean.Parser.Tactic.tacticSeq",
        n("Lean.Parser.Tactic.tacticSeq1Indented", _null(skip, _null(), exact)),
    )
    suffix = n("Lean.Parser.Termination.suffix", _null(), _null())
    value = n(
        "Lean.Parser.Command.declValSimple",
        assign,
        n("Lean.Parser.Term.byTactic", by, seq),
        suffix,
        _null(),
    )
    theorem = n("Lean.Parser.Command.theorem", keyword, decl_id, sig, value)
    modifiers = n("Lean.Parser.Command.declModifiers", *[_null() for _ in range(6)])
    decl = n("Lean.Parser.Command.declaration", modifiers, theorem)
    end = n("Lean.Parser.Command.end", a("end"), _null(i("Foo")))
    p_start, p_end = src.spans["premise"]
    return {
        "commandASTs": [header, namespace, decl, end],
        "tactics": [
            {"pos": skip_at, "endPos": skip_at + 4, "stateBefore": STATE, "stateAfter": STATE},
            {"pos": exact_at, "endPos": exact_end, "stateBefore": STATE, "stateAfter": "no goals"},
        ],
        "premises": [
            {
                "pos": src.line_col(p_start),
                "endPos": src.line_col(p_end),
                "fullName": "Nat.add_zero",
                "modName": "Init.Core",
                "defPath": ".lake/packages/lean4/src/lean/Init/Core.lean",
                "defPos": {"line": 100, "column": 0},
                "defEndPos": {"line": 100, "column": 40},
            }
        ],
    }


def _git_repo(root: Path) -> str:
    root.mkdir(parents=True)
    (root / "Foo.lean").write_text(SOURCE)
    (root / "lean-toolchain").write_text("leanprover/lean4:v4.9.0\n")
    ir = root / ".lake/build/ir"  # where ExtractData.lean writes its output
    ir.mkdir(parents=True)
    (ir / "Foo.ast.json").write_text(json.dumps(_ast_json(_Syntax(SOURCE))))
    (ir / "Foo.dep_paths").write_text("")

    def git(*args):
        cmd = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.org", *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    git("add", "Foo.lean", "lean-toolchain")
    git("commit", "-qm", "init")
    return git("rev-parse", "HEAD")


def test_conversion_with_leandojo_classes(tmp_path, monkeypatch):
    monkeypatch.setenv("CACHE_DIR", str(tmp_path / "cache"))  # read if this import is the first
    monkeypatch.setenv("DISABLE_REMOTE_CACHE", "1")
    if os.environ.get("CI"):  # scripts/test.sh installs the extra: CI runs the real classes
        import lean_dojo
    else:
        lean_dojo = pytest.importorskip("lean_dojo", reason="lean-dojo not installed (extra)")
    from lean_dojo.data_extraction import cache as ld_cache
    from lean_dojo.data_extraction import lean as ld_lean

    # A local repo: LeanGitRepo copies it into LeanDojo's cache; keep that cache here and
    # never ask LeanDojo's remote cache.
    monkeypatch.setattr(ld_cache, "DISABLE_REMOTE_CACHE", True)
    monkeypatch.setattr(ld_lean, "repo_cache", ld_cache.Cache(tmp_path / "cache"))
    commit = _git_repo(tmp_path / "foo")
    repo = lean_dojo.LeanGitRepo(str(tmp_path / "foo"), commit)
    assert repo.lean_version == "v4.9.0"

    root = (tmp_path / "foo").resolve()
    traced_file = lean_dojo.TracedFile.from_traced_file(
        root, root / ".lake/build/ir/Foo.ast.json", repo
    )
    graph = nx.DiGraph()
    graph.add_node(str(traced_file.path), traced_file=traced_file)
    # TracedRepo.from_traced_files would ask GitHub for the dependencies: build it directly.
    traced_repo = lean_dojo.TracedRepo(repo, {}, root, [traced_file], graph)
    traced_repo._update_traced_files()

    theorems, corpus = convert_traced_repo(traced_repo)
    assert len(theorems) == 1
    thm = theorems[0]
    validate_theorem(thm, "converted")
    assert thm["url"] == str(root) and thm["commit"] == commit
    assert thm["file_path"] == "Foo.lean"
    assert thm["full_name"] == "Foo.add_zero'"
    assert thm["start"] == [3, 1] and thm["end"] == [5, 23]
    assert thm["traced_tactics"] == [
        {
            "tactic": "skip",
            "annotated_tactic": ["skip", []],
            "state_before": STATE,
            "state_after": STATE,
        },
        {
            "tactic": "exact Nat.add_zero n",
            "annotated_tactic": [
                "exact <a>Nat.add_zero</a> n",
                [
                    {
                        "full_name": "Nat.add_zero",
                        "def_path": ".lake/packages/lean4/src/lean/Init/Core.lean",
                        "def_pos": [100, 1],
                        "def_end_pos": [100, 41],
                    }
                ],
            ],
            "state_before": STATE,
            "state_after": "no goals",
        },
    ]
    assert thm["statement"] == "theorem add_zero' (n : Nat) : n + 0 = n"
    assert thm["proof"] == "by\n  skip\n  exact Nat.add_zero n"
    assert corpus == [
        {
            "path": "Foo.lean",
            "imports": [],
            "premises": [
                {
                    "full_name": "Foo.add_zero'",
                    "code": "theorem add_zero' (n : Nat) : n + 0 = n",
                    "start": [3, 1],
                    "end": [5, 23],
                    "kind": "commanddeclaration",
                }
            ],
        }
    ]
