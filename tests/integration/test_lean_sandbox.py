"""The embedded Lean's sandbox: code run by `#eval` cannot change the host (issue 9, item 3).

Through the plain command path (`run_cmd` still runs `#eval`; only `verify` refuses it), Lean code
tries to write where it must not. Every test asserts on the host side: no file appears, none
changes. The process's only writable host directory is its private one (its `/tmp` and cwd). Lean's
core library has no call that makes a symlink; `tests/unit/test_wasm_sandbox_js.py` checks that the
glue refuses one.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from leancot.lean import CommandResult
from leancot.lean.backends import MOUNTS_ENV, SANDBOX_ENV

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(600)]

EROFS = "read-only file system (error code: 69)"


def run(server, cmd: str) -> CommandResult:
    result = server.run_cmd(cmd, timeout=120)
    assert isinstance(result, CommandResult), result
    return result


def errors(result: CommandResult) -> str:
    return "\n".join(m.text for m in result.errors)


def infos(result: CommandResult) -> str:
    return "\n".join(m.text for m in result.messages if m.severity == "info")


def unique(stem: str) -> str:
    return f"{stem}_{uuid.uuid4().hex[:12]}"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def private_dir(lean_server) -> Path:
    """The running process's private directory (asserting that the server is sandboxed)."""
    assert lean_server.backend.private_dir_env == SANDBOX_ENV, "the server must be sandboxed"
    lean_server.start()
    private = lean_server._proc.private_dir
    assert private is not None and Path(private).is_dir()
    return Path(private)


@pytest.fixture
def scratch(lean_server, tmp_path_factory) -> Path:
    """A host directory the session server mounts (read-only), to hold files to attack."""
    base = tmp_path_factory.getbasetemp().resolve()
    for entry in dict(lean_server.backend.env)[MOUNTS_ENV].split(":"):
        path = Path(entry)
        if path.is_relative_to(base) and path.is_dir():
            return path
    pytest.skip("the session server mounts no scratch directory")


def test_writing_under_the_host_tmp_path_stays_off_the_host(lean_server, private_dir, tmp_path):
    target = tmp_path / "written_by_eval.txt"
    result = run(lean_server, f'#eval IO.FS.writeFile "{target}" "pwned"')
    assert not target.exists()
    assert "error code" in errors(result)  # /tmp is the private dir, where that folder is absent


def test_the_project_dir_is_read_only(lean_server, private_dir):
    from leancot.lean.paths import project_dir

    project = project_dir()
    before = sorted(p.name for p in project.iterdir())
    name = unique("pwned")
    result = run(lean_server, f'#eval IO.FS.writeFile "{project / name}.lean" "-- pwned"')
    assert EROFS in errors(result)
    result = run(lean_server, f'#eval IO.FS.createDirAll "{project / name}"')
    assert EROFS in errors(result)
    assert sorted(p.name for p in project.iterdir()) == before


def test_the_install_dir_is_read_only(lean_server, private_dir, wasm_install):
    glue = digest(wasm_install.lean_js)
    for target in (wasm_install.root / unique("pwned"), wasm_install.lib_dir / unique("pwned")):
        result = run(lean_server, f'#eval IO.FS.writeFile "{target}" "x"')
        assert EROFS in errors(result)
        assert not target.exists()
    assert digest(wasm_install.lean_js) == glue


def test_mounted_files_cannot_be_changed_in_any_way(lean_server, private_dir, scratch):
    victim = scratch / unique("victim")
    victim.write_text("original\n", encoding="utf-8")
    before = sorted(p.name for p in scratch.iterdir())
    attempts = {
        "overwrite": f'#eval IO.FS.writeFile "{victim}" "pwned"',
        "create": f'#eval IO.FS.writeFile "{scratch / unique("new")}" "pwned"',
        "append": f'#eval do (← IO.FS.Handle.mk "{victim}" .append).putStr "pwned"',
        "read-write": f'#eval do (← IO.FS.Handle.mk "{victim}" .readWrite).putStr "pwned"',
        "remove": f'#eval IO.FS.removeFile "{victim}"',
        "rename": f'#eval IO.FS.rename "{victim}" "{scratch / unique("moved")}"',
        "mkdir": f'#eval IO.FS.createDirAll "{scratch / unique("dir")}"',
        "remove-dir": f'#eval IO.FS.removeDirAll "{scratch}"',
    }
    for what, cmd in attempts.items():
        result = run(lean_server, cmd)
        assert result.errors, f"{what}: no error"
        if what != "append":  # Handle.mk may fail to run here for reasons of its own
            assert EROFS in errors(result), (what, errors(result))
    assert victim.read_text(encoding="utf-8") == "original\n"
    assert sorted(p.name for p in scratch.iterdir()) == before


def test_links_to_host_files_cannot_be_made(lean_server, private_dir, scratch):
    victim = scratch / unique("victim")
    victim.write_text("original\n", encoding="utf-8")
    link = unique("hardlink")
    result = run(lean_server, f'#eval IO.FS.hardLink "{victim}" "/tmp/{link}"')
    assert "error code" in errors(result)
    assert not (private_dir / link).exists() and not Path("/tmp", link).exists()
    assert victim.stat().st_nlink == 1


def test_the_mounted_library_is_readable(lean_server, private_dir, wasm_install):
    olean = wasm_install.lib_dir / "Init.olean"
    result = run(lean_server, f'#eval do return (← IO.FS.readBinFile "{olean}").size')
    assert not result.errors, errors(result)
    assert infos(result).strip() == str(olean.stat().st_size)


def test_tmp_inside_lean_is_the_private_dir(lean_server, private_dir):
    name = unique("leancot_probe") + ".txt"
    result = run(lean_server, f'#eval IO.FS.writeFile "/tmp/{name}" "hello sandbox"')
    assert not result.errors, errors(result)
    result = run(lean_server, f'#eval IO.FS.readFile "/tmp/{name}"')
    assert '"hello sandbox"' in infos(result), result.messages
    assert not Path("/tmp", name).exists() or Path("/tmp").resolve() == private_dir
    assert (private_dir / name).read_text(encoding="utf-8") == "hello sandbox"
    result = run(lean_server, "#eval IO.currentDir")
    assert str(private_dir) in infos(result)


def test_home_is_not_mounted(lean_server, private_dir):
    target = Path.home() / unique(".leancot_probe")
    run(lean_server, f'#eval IO.FS.writeFile "{target}" "pwned"')  # at most in Lean's memory
    assert not target.exists()
