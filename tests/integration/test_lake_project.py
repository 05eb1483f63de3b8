"""A user's Lake project whose files import each other, extracted by `leancot extract` with the
real WASM Lean (which builds `Foo.A`'s .olean itself: extract/build.py), and its corpus graph
checked the way ReProver's `Corpus` asserts it (docs/LEANDOJO.md). One Lean process."""

import subprocess

import pytest

from leancot import cli
from leancot.extract.compat import leandojo_problems
from leancot.extract.dataset import read_benchmark, read_corpus, read_metadata

pytestmark = [pytest.mark.slow, pytest.mark.lean]

FILES = {
    "lakefile.toml": 'name = "foo"\ndefaultTargets = ["Foo"]\n\n[[lean_lib]]\nname = "Foo"\n',
    "Foo/A.lean": (
        "namespace Foo\n\n"
        "def double (n : Nat) : Nat := n + n\n\n"
        "theorem double_eq (n : Nat) : double n = 2 * n := by\n"
        "  unfold double\n"
        "  omega\n\n"
        "end Foo\n"
    ),
    "Foo/B.lean": (
        "import Foo.A\n\n"
        "namespace Foo\n\n"
        "theorem double_add (a b : Nat) : double (a + b) = 2 * a + 2 * b := by\n"
        "  rw [double_eq]\n"
        "  omega\n\n"
        "end Foo\n"
    ),
}


def _git(cwd, *args):
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


@pytest.fixture
def lake_project(tmp_path, wasm_install):
    from leancot.lean.paths import project_dir

    root = tmp_path / "foo"
    for rel, text in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    toolchain = (project_dir() / "lean-toolchain").read_text(encoding="utf-8")
    (root / "lean-toolchain").write_text(toolchain, encoding="utf-8")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "two files, B imports A")
    return root


def test_a_lake_project_with_imports_extracts_into_a_reprover_corpus(lake_project, tmp_path):
    out = tmp_path / "dataset"
    assert cli.main(["extract", str(lake_project), "-o", str(out), "--quiet"]) == 0

    corpus = read_corpus(out)
    paths = [entry["path"] for entry in corpus]
    # ReProver's Corpus: each path once, every import a node listed before it (dependency order)
    assert len(paths) == len(set(paths))
    seen: set[str] = set()
    for entry in corpus:
        assert set(entry["imports"]) <= seen, (entry["path"], entry["imports"])
        seen.add(entry["path"])
    assert paths.index("Foo/A.lean") < paths.index("Foo/B.lean")
    by_path = {entry["path"]: entry for entry in corpus}
    assert "Foo/A.lean" in by_path["Foo/B.lean"]["imports"]

    # the lemma of A that B's proof uses is located in A's file (Corpus.locate_premise)
    theorems = {t["full_name"]: t for split in read_benchmark(out).values() for t in split}
    assert theorems["Foo.double_add"]["file_path"] == "Foo/B.lean"
    provenances = [
        p for s in theorems["Foo.double_add"]["traced_tactics"] for p in s["annotated_tactic"][1]
    ]
    used = next(p for p in provenances if p["full_name"] == "Foo.double_eq")
    assert used["def_path"] == "Foo/A.lean"
    spans = [
        (p["start"], p["end"])
        for p in by_path["Foo/A.lean"]["premises"]
        if p["full_name"] == "Foo.double_eq"
    ]
    assert any(start <= used["def_pos"] <= end for start, end in spans), (used, spans)
    assert used["def_pos"] == [5, 9]  # the name `double_eq` in `theorem double_eq ...`

    assert leandojo_problems(out, source_root=lake_project) == []
    meta = read_metadata(out)
    assert meta["from_repo"] == {
        "url": str(lake_project.resolve()),  # a local repo as LeanGitRepo takes it
        "commit": _git(lake_project, "rev-parse", "HEAD"),
    }
    assert meta["failed_files"] == [] and meta["premises"]["unlocated"] == 0
    # what leancot built: one cached .olean per imported module (only A is imported)
    objects = sorted((out.parent / "dataset.cache" / "build" / "objects").iterdir())
    assert len(objects) == 1 and objects[0].suffix == ".olean"
