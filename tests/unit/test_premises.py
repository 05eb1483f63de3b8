"""Premise annotation, locations and the corpus graph (pure functions; no Lean)."""

import subprocess

import pytest

from leancot.extract.origin import DirtyCheckout, find_origin, lake_root, module_name
from leancot.extract.premises import (
    Ident,
    PremiseIndex,
    annotate,
    corpus_entries,
    module_path,
    own_premises,
)
from leancot.lean.screen import mask


def ident(name, start, end, *, binder=False, module=None, kind="theorem", cmd=None):
    raw = {
        "name": name,
        "pos": {"line": start[0], "column": start[1]},
        "endPos": {"line": end[0], "column": end[1]},
        "binder": binder,
        "module": module,
        "kind": kind,
    }
    if cmd:
        raw["cmdPos"] = {"line": cmd[0][0], "column": cmd[0][1]}
        raw["cmdEndPos"] = {"line": cmd[1][0], "column": cmd[1][1]}
    return Ident.of(raw)


LISTING = {
    "modules": [
        {
            "name": "Init.Prelude",
            "imports": [],
            "declarations": [
                {"name": "Or.inl", "kind": "constructor", "signature": "Or.inl : a → a ∨ b"},
                {"name": "Bool.true", "kind": "constructor", "signature": "Bool.true : Bool"},
            ],
        },
        {
            "name": "Init.Core",
            "imports": ["Init.Prelude", "Init.SizeOf"],
            "declarations": [{"name": "absurd", "kind": "theorem", "signature": "absurd : a"}],
        },
    ],
    "graph": [
        {"name": "Init", "imports": ["Init.Core", "Init.Data"]},
        {"name": "Init.Prelude", "imports": []},
        {"name": "Init.SizeOf", "imports": ["Init.Prelude"]},
        {"name": "Init.Core", "imports": ["Init.SizeOf"]},
        {"name": "Init.Data", "imports": ["Init.Core"]},
    ],
}


def test_module_paths_follow_leandojo_layout():
    own = {"LeanCot.Corpus.Nat": "lean_project/LeanCot/Corpus/Nat.lean"}
    assert module_path("Init.Data.List.Basic", own) == (
        ".lake/packages/lean4/src/lean/Init/Data/List/Basic.lean"
    )
    assert module_path("Lake.Build", own) == ".lake/packages/lean4/src/lean/lake/Lake/Build.lean"
    assert module_path("LeanCot.Corpus.Nat", own) == "lean_project/LeanCot/Corpus/Nat.lean"


def test_every_occurrence_is_annotated_with_a_location():
    index = PremiseIndex({"Demo": "Demo.lean"})
    index.add_file("Demo.lean", [ident("Demo.len", (2, 4), (2, 7), binder=True, kind="def")])
    index.add_modules(LISTING)
    # `exact Or.inl (len xs) (len ys)` at line 9, column 2
    idents = [
        ident("Or.inl", (9, 8), (9, 14), module="Init.Prelude"),
        ident("Demo.len", (9, 16), (9, 19)),
        ident("Demo.len", (9, 25), (9, 28)),
        ident("Demo.unknown", (9, 2), (9, 7)),  # no declaration known: not annotated
    ]
    (text, provs), missing = annotate("exact Or.inl (len xs) (len ys)", (9, 2), idents, index)
    assert text == "exact <a>Or.inl</a> (<a>len</a> xs) (<a>len</a> ys)"
    assert missing == 1
    assert provs[0] == {
        "full_name": "Or.inl",
        "def_path": ".lake/packages/lean4/src/lean/Init/Prelude.lean",
        "def_pos": [2, 1],  # the second declaration of Init.Prelude by name
        "def_end_pos": [2, 7],
    }
    assert (
        provs[1]
        == provs[2]
        == {
            "full_name": "Demo.len",
            "def_path": "Demo.lean",
            "def_pos": [2, 5],
            "def_end_pos": [2, 8],
        }
    )


def test_constants_without_a_binder_are_located_at_their_declaration():
    index = PremiseIndex({})
    index.add_file("D.lean", [ident("Point", (1, 10), (1, 15), binder=True, kind="inductive")])
    loc = index.locate(ident("Point.mk", (5, 0), (5, 8)))
    assert loc is not None and loc.pos == [1, 11]


def test_own_premises_span_declarations_and_cut_theorems_at_assign():
    text = "def len : Nat := 0\n\ntheorem len_eq : len = 0 := by\n  rfl\n"
    idents = [
        ident("len", (1, 4), (1, 7), binder=True, kind="definition", cmd=((1, 0), (1, 18))),
        ident("len_eq", (3, 8), (3, 14), binder=True, cmd=((3, 0), (4, 5))),
        ident("len", (3, 17), (3, 20), cmd=((3, 0), (4, 5))),
    ]
    premises = own_premises("D.lean", text, idents, mask(text))
    assert [p["full_name"] for p in premises] == ["len", "len_eq"]
    assert premises[0]["code"] == "def len : Nat := 0"
    assert premises[1]["code"] == "theorem len_eq : len = 0"
    assert premises[1]["start"] == [3, 1] and premises[1]["end"] == [4, 6]
    assert {p["kind"] for p in premises} == {"commanddeclaration"}


def test_corpus_graph_lists_imports_first_and_every_import_is_a_node():
    index = PremiseIndex({"P.A": "P/A.lean", "P.B": "P/B.lean"})
    index.add_modules(LISTING)
    files = {"P/B.lean": (["P.A"], []), "P/A.lean": ([], [])}
    corpus = corpus_entries(files, index)
    paths = [c["path"] for c in corpus]
    seen: set[str] = set()
    for entry in corpus:
        assert set(entry["imports"]) <= seen, entry["path"]  # what ReProver's Corpus asserts
        seen.add(entry["path"])
    init = ".lake/packages/lean4/src/lean/Init.lean"
    core = ".lake/packages/lean4/src/lean/Init/Core.lean"
    prelude = ".lake/packages/lean4/src/lean/Init/Prelude.lean"
    by_path = {c["path"]: c for c in corpus}
    assert by_path[core]["imports"] == [prelude]  # through the unlisted Init.SizeOf
    assert by_path[init]["imports"] == [core]
    assert by_path["P/B.lean"]["imports"] == [init, "P/A.lean"]
    assert paths.index("P/A.lean") < paths.index("P/B.lean")
    first, second = by_path[prelude]["premises"]  # sorted by name, one per line
    assert first == {
        "full_name": "Bool.true",
        "code": "Bool.true : Bool",
        "start": [1, 1],
        "end": [1, 17],
        "kind": "constructor",
    }
    assert second["start"] == [2, 1]
    assert by_path[core]["premises"][0]["code"] == "theorem absurd : a"


def _git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def checkout(tmp_path):
    repo = tmp_path / "repo"
    (repo / "proj" / "P").mkdir(parents=True)
    (repo / "proj" / "lean-toolchain").write_text("leanprover/lean4:v4.28.0\n")
    (repo / "proj" / "P" / "A.lean").write_text("theorem a : True := trivial\n")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init")
    return repo


def test_origin_of_a_checkout_without_remote(checkout):
    origin = find_origin(checkout / "proj" / "P")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True, text=True
    ).stdout.strip()
    # the form LeanDojo's LeanGitRepo takes for a local repository (it rejects file:// URLs)
    assert origin.url == str(checkout.resolve())
    assert origin.commit == head and not origin.dirty
    assert origin.lake_root == checkout / "proj" == lake_root(checkout / "proj" / "P" / "A.lean")
    rel = (checkout / "proj" / "P" / "A.lean").relative_to(origin.root).as_posix()
    assert rel == "proj/P/A.lean"
    assert module_name(checkout / "proj" / "P" / "A.lean", origin.lake_root) == "P.A"


def test_dirty_checkout_is_refused_unless_allowed(checkout):
    (checkout / "proj" / "P" / "A.lean").write_text("theorem a : True := by trivial\n")
    with pytest.raises(DirtyCheckout, match="--allow-dirty"):
        find_origin(checkout / "proj")
    assert find_origin(checkout / "proj", allow_dirty=True).dirty


def test_remote_url_is_recorded(checkout):
    _git(checkout, "remote", "add", "origin", "https://github.com/example/demo")
    assert find_origin(checkout / "proj").url == "https://github.com/example/demo"


LEANGITREPO = """
import sys
from lean_dojo.data_extraction.lean import LeanGitRepo
repo = LeanGitRepo(sys.argv[1], sys.argv[2])
print(repo.lean_version)
"""


def test_leandojo_leangitrepo_accepts_the_origin_of_a_local_checkout(checkout, tmp_path):
    """What RetrievalDataModule and the prover's loader do with metadata's `from_repo`: the real
    `LeanGitRepo` (offline: a local repository is copied into LeanDojo's cache) takes the url and
    commit leancot writes, and reads the toolchain at the repository's root."""
    import importlib.util
    import os
    import sys

    if importlib.util.find_spec("lean_dojo") is None:
        pytest.skip("lean-dojo not installed (pip install 'leancot[leandojo]')")
    (checkout / "lean-toolchain").write_text("leanprover/lean4:v4.28.0\n")
    _git(checkout, "add", ".")
    _git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "root toolchain")
    origin = find_origin(checkout / "proj" / "P")
    env = {**os.environ, "CACHE_DIR": str(tmp_path / "ld-cache"), "DISABLE_REMOTE_CACHE": "1"}
    run = [sys.executable, "-c", LEANGITREPO]
    ok = subprocess.run(
        [*run, origin.url, origin.commit],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and ok.stdout.strip() == "v4.28.0", ok.stderr[-2000:]
    # the file:// URL leancot wrote before is what LeanGitRepo rejects (with a cache of its own:
    # LeanDojo finds a cached copy by the repository's name alone)
    env["CACHE_DIR"] = str(tmp_path / "ld-cache-2")
    uri = subprocess.run(
        [*run, checkout.resolve().as_uri(), origin.commit],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert uri.returncode != 0, uri.stdout


def test_the_repository_root_pins_lean_project_s_toolchain():
    """LeanGitRepo reads `<repo>/lean-toolchain` at the root of the repository the bundled
    extraction names; the Lean code of the repository is lean_project/, so the two are one."""
    from leancot.lean.paths import project_dir

    project = project_dir()
    root = project.parent
    assert (root / "lean-toolchain").read_bytes() == (project / "lean-toolchain").read_bytes()
