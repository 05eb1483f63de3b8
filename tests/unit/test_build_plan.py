"""Which modules of a user project leancot builds before extraction, in which order, under which
keys (extract/build.py; no Lean: the builds themselves are in tests/integration)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from leancot.extract import build


def _project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


FILES = {
    "Foo/A.lean": "def a := 1\n",
    "Foo/B.lean": "import Foo.A\n-- import Foo.Z (a comment, not an import)\ndef b := a\n",
    "Foo/C.lean": "import Std\nimport Foo.B\ntheorem c : b = 1 := rfl\n",
    "Foo/Lonely.lean": "def lonely := 0\n",
}


def test_plan_lists_imported_project_modules_in_import_order(tmp_path):
    root = _project(tmp_path, FILES)
    files = sorted(root.rglob("*.lean"))
    modules = build.plan(files, root, "wasm:x")
    # Std is the library's; Lonely and C are imported by no file: nothing to build for them
    assert [m.name for m in modules] == ["Foo.A", "Foo.B"]
    assert modules[1].imports == ("Foo.A",) and modules[1].source == root / "Foo/B.lean"
    assert modules[0].rel_olean == "Foo/A.olean"
    assert build.plan([root / "Foo/Lonely.lean"], root, "wasm:x") == []
    # only C extracted: what it imports, transitively, is still built
    assert [m.name for m in build.plan([root / "Foo/C.lean"], root, "wasm:x")] == [
        "Foo.A",
        "Foo.B",
    ]


def test_keys_follow_content_imports_and_toolchain(tmp_path):
    root = _project(tmp_path, FILES)
    files = sorted(root.rglob("*.lean"))
    before = {m.name: m.key for m in build.plan(files, root, "wasm:x")}
    assert before == {m.name: m.key for m in build.plan(files, root, "wasm:x")}  # stable
    other = {m.name: m.key for m in build.plan(files, root, "native:v4.28.0")}
    assert not set(before.values()) & set(other.values())
    (root / "Foo/A.lean").write_text("def a := 2\n")
    after = {m.name: m.key for m in build.plan(files, root, "wasm:x")}
    # A changed, and B was built against A: both get new keys (so both are built again)
    assert after["Foo.A"] != before["Foo.A"] and after["Foo.B"] != before["Foo.B"]
    modules = build.plan(files, root, "wasm:x")
    tree = build.tree_dir(modules, tmp_path / "cache")
    assert build.lean_path_entries(modules, tmp_path / "cache") == [str(tree)]
    assert build.lean_path_entries([], tmp_path / "cache") == []


def test_an_import_cycle_is_an_error_naming_the_modules(tmp_path):
    root = _project(tmp_path, {"P/X.lean": "import P.Y\n", "P/Y.lean": "import P.X\n"})
    with pytest.raises(ValueError, match="cycle: P.X -> P.Y -> P.X|cycle: P.Y -> P.X -> P.Y"):
        build.plan([root / "P/X.lean"], root, "wasm:x")


def test_native_lean_rebuilds_only_when_the_lake_build_is_missing_or_stale(tmp_path):
    root = _project(tmp_path, FILES)
    modules = build.plan([root / "Foo/C.lean"], root, "native:v")
    assert build.stale_in_project(modules, root) == modules  # never built
    out = root / ".lake" / "build" / "lib" / "lean" / "Foo"
    out.mkdir(parents=True)
    for name in ("A", "B"):
        (out / f"{name}.olean").write_bytes(b"olean")
    assert build.stale_in_project(modules, root) == []
    old = (root / "Foo/A.lean").stat().st_mtime - 100
    os.utime(out / "A.olean", (old, old))  # A edited after `lake build`: all are rebuilt
    assert build.stale_in_project(modules, root) == modules


class _Builder:
    """Answers `buildModule` requests as the REPL does (writes the file; errors for `bad`). It
    stands in for Lean only where no Lean verdict is claimed: the order and the cache."""

    def __init__(self, private: Path, bad: set[str]) -> None:
        self.private_dir = str(private)
        self.bad = bad
        self.built: list[str] = []

    def request(self, req, timeout):
        name = ".".join(req["module"])
        self.built.append(name)
        if name in self.bad:
            pos = {"line": 2, "column": 4}
            return {"messages": [{"severity": "error", "pos": pos, "data": "unknown identifier"}]}
        Path(req["olean"]).write_bytes(name.encode())
        return {"olean": req["olean"], "messages": []}


def test_build_in_order_into_the_cache_tree_and_name_failures(tmp_path):
    root = _project(tmp_path / "p", FILES)
    modules = build.plan([root / "Foo/C.lean"], root, "wasm:x")
    cache = tmp_path / "cache"
    server = _Builder(tmp_path / "private", set())
    rel = lambda p: p.relative_to(root).as_posix()  # noqa: E731
    assert build.build(server, modules, cache, rel=rel, timeout=5) == []
    assert server.built == ["Foo.A", "Foo.B"]
    tree = build.tree_dir(modules, cache)
    assert (tree / "Foo/A.olean").read_bytes() == b"Foo.A"
    assert (tree / "Foo/B.olean").read_bytes() == b"Foo.B"
    assert not list((tmp_path / "private").rglob("*.olean"))  # moved out of the private dir
    # a second run builds nothing: the objects are cached by content
    again = _Builder(tmp_path / "private", set())
    assert build.build(again, modules, cache, rel=rel, timeout=5) == [] and again.built == []
    # A edited, now broken: B (which imports it) is not built, and both failures name the file
    (root / "Foo/A.lean").write_text("def a := 1\n    oops\n")
    modules = build.plan([root / "Foo/C.lean"], root, "wasm:x")
    broken = _Builder(tmp_path / "private", {"Foo.A"})
    failures = build.build(broken, modules, cache, rel=rel, timeout=5)
    assert broken.built == ["Foo.A"]
    assert [(f.path, f.line) for f in failures] == [("Foo/A.lean", 2), ("Foo/B.lean", None)]
    assert "imports Foo.A" in failures[1].message
