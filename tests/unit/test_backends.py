"""How the backends start the REPL (backends.py, paths.py) and lean_project's layout (no Lean)."""

from __future__ import annotations

import re
import tempfile
import types
from pathlib import Path

import pytest

from leancot.lean import backends
from leancot.lean.backends import (
    DEFAULT_MALLOC_ARENA_MAX,
    DEFAULT_NODE_FLAGS,
    MALLOC_ARENA_ENV,
    MOUNTS_ENV,
    PROTOCOL_ENV,
    REPL_EXE,
    RUNNER_LINE,
    SANDBOX_ENV,
    native_backend,
    repl_backend,
    repl_runner,
    runner_text,
    wasm_backend,
)
from leancot.lean.paths import CACHE_ENV, project_dir, runner_dir

MODULE = "namespace LeanCot.Repl\ndef main := 0\nend LeanCot.Repl\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a REPL module, and a private cache (runners are written there)."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "leancot-cache"))
    proj = tmp_path / "proj"
    (proj / "LeanCot").mkdir(parents=True)
    (proj / "LeanCot" / "Repl.lean").write_text(MODULE)
    return proj


def test_runner_is_the_module_plus_its_eval(project):
    runner = repl_runner(project)
    assert runner.read_text() == MODULE + "\n" + RUNNER_LINE == runner_text(MODULE)
    assert runner.name == "Repl.lean" and runner.parent.parent == runner_dir()
    assert runner_dir().stat().st_mode & 0o077 == 0  # private: Lean runs what is there
    assert repl_runner(project) == runner  # content-addressed: the same text, the same file
    (project / "LeanCot" / "Repl.lean").write_text(MODULE + "-- changed\n")
    changed = repl_runner(project)
    assert changed != runner and runner.is_file() and "-- changed" in changed.read_text()
    changed.write_text("#eval tampered\n")  # a file that is not the expected text is replaced
    assert repl_runner(project) == changed and "tampered" not in changed.read_text()
    assert not [p for p in changed.parent.iterdir() if p.name.startswith(".")]  # no temp left


def test_wasm_backend_command_line(project, tmp_path, monkeypatch):
    (project / ".lake" / "build" / "lib" / "lean").mkdir(parents=True)
    cache = tmp_path / "cache"
    install = types.SimpleNamespace(
        node=cache / "node", lean_js=cache / "lean.js", lib_dir=cache / "lib", root=cache
    )
    monkeypatch.chdir(tmp_path)
    backend = wasm_backend(install, project, mounts=[tmp_path / "extra"], node_stack_kb=1234)
    runner = repl_runner(project.resolve(), protocol="leancot")
    assert backend.argv == (
        str(cache / "node"),
        "--stack-size=1234",
        *DEFAULT_NODE_FLAGS,
        str(cache / "lean.js"),
        "-j1",
        str(runner),
    )
    assert wasm_backend(install, project, threads=2).argv[-2] == "-j2"
    plain = wasm_backend(install, project, node_flags=())
    assert plain.argv[1:3] == ("--stack-size=65500", str(cache / "lean.js"))
    with pytest.raises(ValueError, match="threads"):
        wasm_backend(install, project, threads=0)
    env = dict(backend.env)
    assert env[MALLOC_ARENA_ENV] == str(DEFAULT_MALLOC_ARENA_MAX)
    assert MALLOC_ARENA_ENV not in dict(wasm_backend(install, project, malloc_arena_max=None).env)
    assert dict(wasm_backend(install, project, malloc_arena_max=2).env)[MALLOC_ARENA_ENV] == "2"
    with pytest.raises(ValueError, match="malloc_arena_max"):
        wasm_backend(install, project, malloc_arena_max=0)
    assert env["LEAN_PATH"].split(":") == [
        str(cache / "lib"),
        str(project.resolve() / ".lake" / "build" / "lib" / "lean"),
    ]
    # The sandbox (default): only these, all read-only; not the cwd, not the system temp dir.
    assert env[MOUNTS_ENV].split(":") == [
        str(project.resolve()),
        str(cache / "lib"),
        str(cache),
        str(runner.parent),
        str(tmp_path / "extra"),
    ]
    assert backend.private_dir_env == SANDBOX_ENV and SANDBOX_ENV not in env
    assert backend.cwd is None and backend.framing == "marker"
    # leancot's client asks the REPL for its own protocol; without the variable the REPL speaks
    # the community one (bare JSON replies), which protocol="community" expects
    assert env[PROTOCOL_ENV] == "leancot"
    community = wasm_backend(install, project, protocol="community")
    assert community.framing == "plain" and PROTOCOL_ENV not in dict(community.env)
    with pytest.raises(ValueError, match="protocol"):
        wasm_backend(install, project, protocol="lean3")
    assert backend.stripped_library
    assert backend.process_env({"PATH": "/bin"})["LEAN_PATH"] == env["LEAN_PATH"]
    trusted = wasm_backend(install, project, mounts=[tmp_path / "extra"], sandbox=False)
    mounts = dict(trusted.env)[MOUNTS_ENV].split(":")
    assert str(project.resolve()) in mounts and str(tmp_path / "extra") in mounts
    assert str(cache / "lib") in mounts and str(tmp_path) in mounts  # cwd
    assert str(runner.parent) in mounts
    assert str(Path(tempfile.gettempdir()).resolve()) in mounts
    assert len(mounts) == len(set(mounts))
    assert trusted.cwd == Path(tempfile.gettempdir()) and trusted.private_dir_env is None


def test_backend_env_names_match_the_glue():
    from leancot.lean import wasm_patch

    assert backends.MOUNTS_ENV == wasm_patch.MOUNTS_ENV
    assert backends.SANDBOX_ENV == wasm_patch.SANDBOX_ENV
    assert backends.STACK_ENV == wasm_patch.STACK_ENV


def test_native_and_repl_backends(project, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="no native Lean found"):
        native_backend(project_dir=project)
    backend = native_backend("/opt/lean/bin/lean", project)
    assert backend.argv == (
        "/opt/lean/bin/lean",
        str(repl_runner(project.resolve(), protocol="leancot")),
    )
    assert not backend.stripped_library
    # sandboxed by default: a private cwd per process and an address-space limit
    assert backend.private_dir_env and backend.memory_limit_bytes == 24 << 30
    trusted = native_backend("/opt/lean/bin/lean", project, sandbox=False, memory_limit_gb=None)
    assert trusted.private_dir_env is None and trusted.memory_limit_bytes is None
    with pytest.raises(ValueError, match="no Lean REPL"):
        native_backend("/opt/lean/bin/lean", tmp_path)
    repl = repl_backend(["lake", "env", "/x/repl"], cwd=project)
    assert repl.argv == ("lake", "env", "/x/repl") and repl.framing == "plain"


# --- the layout of lean_project/ that the backends and the lakefile rely on ----------------------


def test_lean_project_layout():
    project = project_dir()
    module = (project / backends.REPL_FILES[0]).read_text(encoding="utf-8")
    # the REPL module is a library module: no `#eval` (that is the runner's one line), a `main`
    # for the community protocol's runner, `mainLeancot` for leancot's, `mainIO` for the executable
    assert not re.search(r"^#eval", module, re.M)
    assert re.search(r"^def main : Command\.CommandElabM Unit := serve false$", module, re.M)
    assert re.search(r"^def mainLeancot : Command\.CommandElabM Unit := serve true$", module, re.M)
    assert re.search(r"^def mainIO : IO Unit", module, re.M)
    assert module.rstrip().endswith("end LeanCot.Repl")
    assert RUNNER_LINE == "#eval LeanCot.Repl.main\n"
    assert backends.RUNNER_LINES["leancot"] == "#eval LeanCot.Repl.mainLeancot\n"
    exe_main = (project / "LeanCot" / "ReplMain.lean").read_text(encoding="utf-8")
    assert "import LeanCot.Repl" in exe_main and "LeanCot.Repl.mainIO" in exe_main
    # the lakefile declares what these files are: the corpus library with its root, the REPL
    # library, and the executable whose root is ReplMain
    lakefile = (project / "lakefile.lean").read_text(encoding="utf-8")
    assert re.search(r"lean_lib LeanCot where\n  roots := #\[`LeanCot\.Corpus\]", lakefile)
    assert re.search(r"lean_lib LeanCotRepl where\n  roots := #\[`LeanCot\.Repl\]", lakefile)
    assert re.search(rf"lean_exe «{REPL_EXE}» where\n  root := `LeanCot\.ReplMain", lakefile)
    assert (project / "LeanCot" / "Corpus.lean").is_file()
    corpus_root = (project / "LeanCot" / "Corpus.lean").read_text(encoding="utf-8")
    for file in sorted((project / "LeanCot" / "Corpus").glob("*.lean")):
        assert f"import LeanCot.Corpus.{file.stem}\n" in corpus_root, file.name


def test_backends_put_extra_olean_dirs_on_lean_path(project, tmp_path, monkeypatch):
    """A user project's modules (extract/build.py) reach Lean through `lean_path`."""
    cache = tmp_path / "cache"
    install = types.SimpleNamespace(
        node=cache / "node", lean_js=cache / "lean.js", lib_dir=cache / "lib", root=cache
    )
    tree = tmp_path / "build" / "tree"
    wasm = dict(wasm_backend(install, project, mounts=[tmp_path / "build"], lean_path=[tree]).env)
    assert wasm["LEAN_PATH"].split(":") == [str(cache / "lib"), str(tree)]  # core library first
    assert str(tmp_path / "build") in wasm[MOUNTS_ENV].split(":")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("LEAN_PATH", "/user/dep")
    (project / ".lake" / "build" / "lib" / "lean").mkdir(parents=True)
    native = dict(native_backend("/opt/lean/bin/lean", project, lean_path=[tree]).env)
    built = str(project.resolve() / ".lake" / "build" / "lib" / "lean")
    assert native["LEAN_PATH"].split(":") == [str(tree), built, "/user/dep"]
    # with lake, `lake env` puts the REPL project's paths in front of the inherited LEAN_PATH
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "lake").write_text("#!/bin/sh\n")
    (bin_dir / "lake").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    lake = native_backend(project_dir=project, lean_path=[tree], sandbox=False)
    assert lake.argv[1:4] == ("-d", str(project.resolve()), "env")
    assert dict(lake.env)["LEAN_PATH"].split(":") == [str(tree), "/user/dep"]
    assert "LEAN_PATH" not in dict(native_backend(project_dir=project, sandbox=False).env)
