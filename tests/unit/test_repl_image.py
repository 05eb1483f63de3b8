"""The REPL's image (image.py, and how wasm_backend starts from it); no Lean."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from leancot.lean.backends import MOUNTS_ENV, repl_runner, wasm_backend
from leancot.lean.image import (
    IMAGE_ENV,
    LOADER_FILE,
    LOADER_LINES,
    OLEAN,
    REPL_MODULE_FILE,
    find_image,
    image_dir,
    image_key,
    image_runner,
    loader_runner_text,
)
from leancot.lean.paths import CACHE_ENV, project_dir

LOADER = "import LeanCot.Repl\nnamespace LeanCot.ReplImage\nend LeanCot.ReplImage\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "leancot-cache"))
    monkeypatch.delenv(IMAGE_ENV, raising=False)
    proj = tmp_path / "proj"
    (proj / "LeanCot").mkdir(parents=True)
    (proj / REPL_MODULE_FILE).write_text("namespace LeanCot.Repl\nend LeanCot.Repl\n")
    (proj / LOADER_FILE).write_text(LOADER)
    return proj


@pytest.fixture
def install(tmp_path: Path) -> types.SimpleNamespace:
    root = tmp_path / "install"
    return types.SimpleNamespace(
        node=root / "node",
        lean_js=root / "lean.js",
        lib_dir=root / "lib",
        root=root,
        lean_version="4.28.0",
    )


def _build_fake_image(install, project) -> Path:
    """Put a file where the image goes (what build_image leaves behind, minus Lean's bytes)."""
    target = image_dir(install, project)
    (target / OLEAN).parent.mkdir(parents=True)
    (target / OLEAN).write_bytes(b"olean")
    return target


def test_key_follows_repl_loader_and_lean(project):
    key = image_key(project, "4.28.0")
    assert key == image_key(project, "4.28.0") and len(key) == 16
    assert image_key(project, "4.29.0") != key
    (project / LOADER_FILE).write_text(LOADER + "-- edited\n")
    edited_loader = image_key(project, "4.28.0")
    (project / REPL_MODULE_FILE).write_text("-- edited\n")
    assert len({key, edited_loader, image_key(project, "4.28.0")}) == 3


def test_no_image_until_built_and_none_when_off(project, install, monkeypatch):
    assert find_image(install, project) is None
    target = _build_fake_image(install, project)
    assert target.parent == install.root / "repl-image"
    assert find_image(install, project) == target
    monkeypatch.setenv(IMAGE_ENV, "0")
    assert find_image(install, project) is None
    monkeypatch.delenv(IMAGE_ENV)
    (project / REPL_MODULE_FILE).write_text("-- another REPL\n")  # an edited REPL: not that image
    assert find_image(install, project) is None


def test_no_image_without_loader_or_install_root(project, install):
    (project / LOADER_FILE).unlink()
    assert image_dir(install, project) is None
    (project / LOADER_FILE).write_text(LOADER)
    assert image_dir(types.SimpleNamespace(lib_dir=install.lib_dir), project) is None


def test_runner_is_the_loader_with_install_then_entry(project, install):
    target = _build_fake_image(install, project)
    for protocol, entry in (("leancot", "mainLeancot"), ("community", "main")):
        text = loader_runner_text(project, protocol)
        assert text.startswith(LOADER.rstrip("\n"))
        install_at = text.index("#eval LeanCot.ReplImage.install\n")
        assert text.index(f"#eval LeanCot.ReplImage.{entry}\n") > install_at
        runner = image_runner(project, target, protocol)
        assert runner.parent == target and runner.read_text() == text
        runner.write_text("#eval tampered\n")  # not the expected text: rewritten
        assert "tampered" not in image_runner(project, target, protocol).read_text()
    with pytest.raises(ValueError, match="unknown REPL protocol"):
        loader_runner_text(project, "lean3")
    assert set(LOADER_LINES) == {"leancot", "community"}


def test_wasm_backend_starts_from_a_built_image(project, install):
    elaborated = wasm_backend(install, project)
    assert elaborated.argv[-1] == str(repl_runner(project.resolve(), protocol="leancot"))
    target = _build_fake_image(install, project)
    backend = wasm_backend(install, project)
    env = dict(backend.env)
    assert backend.argv[-1] == str(target / "runner-leancot.lean")
    assert env["LEAN_PATH"].split(":")[-1] == str(target)
    assert str(target) in env[MOUNTS_ENV].split(":") or str(install.root) in env[MOUNTS_ENV]
    assert (
        wasm_backend(install, project, protocol="community")
        .argv[-1]
        .endswith("runner-community.lean")
    )
    forced = wasm_backend(install, project, image=False)
    assert forced.argv == elaborated.argv and forced.env == elaborated.env
    explicit = wasm_backend(install, project, image=target)
    assert explicit.argv == backend.argv
    with pytest.raises(ValueError, match="does not exist"):
        wasm_backend(install, project, image=project / "missing")


def test_the_shipped_loader_names_the_entries_the_runner_evaluates():
    text = (project_dir() / LOADER_FILE).read_text(encoding="utf-8")
    assert "import LeanCot.Repl" in text and "namespace LeanCot.ReplImage" in text
    for name in ("install", "main", "mainLeancot"):
        assert f"def {name} " in text
    # the runner appends them; `lake build` must not serve stdin
    assert not [line for line in text.splitlines() if line.startswith("#eval")]


def test_a_failed_build_leaves_nothing_and_a_good_one_lands_atomically(
    project, install, monkeypatch
):
    from leancot.lean import image_build

    def broken(install, project, olean, timeout):
        olean.parent.mkdir(parents=True)
        olean.write_bytes(b"half")  # written, then the build fails
        raise image_build.ImageBuildError("Lean did not build the REPL's image: line 3: boom")

    monkeypatch.setattr(image_build, "_compile_image", broken)
    with pytest.raises(image_build.ImageBuildError, match="line 3: boom"):
        image_build.build_image(install, project)
    assert find_image(install, project) is None
    leftovers = [p for p in (install.root / "repl-image").iterdir() if not p.name.endswith(".lock")]
    assert leftovers == []

    checked: list[Path] = []

    def compiled(install, project, olean, timeout):
        olean.parent.mkdir(parents=True)
        olean.write_bytes(b"olean")

    def check(install, project, staging, timeout):
        assert find_image(install, project) is None  # not in place before it answered
        checked.append(staging)

    monkeypatch.setattr(image_build, "_compile_image", compiled)
    monkeypatch.setattr(image_build, "_check_image", check)
    messages: list[str] = []
    built = image_build.build_image(install, project, progress=messages.append)
    assert built == find_image(install, project) == image_dir(install, project)
    assert checked and not checked[0].exists()  # the staging dir became the image
    assert any("REPL image built" in m for m in messages)
    monkeypatch.setattr(image_build, "_compile_image", broken)
    assert image_build.build_image(install, project) == built  # built: nothing redone


def test_a_check_that_fails_keeps_the_image_out(project, install, monkeypatch):
    from leancot.lean import image_build

    def compiled(install, project, olean, timeout):
        olean.parent.mkdir(parents=True)
        olean.write_bytes(b"olean")

    def check(install, project, staging, timeout):
        raise image_build.ImageBuildError("the built REPL image does not start: died")

    monkeypatch.setattr(image_build, "_compile_image", compiled)
    monkeypatch.setattr(image_build, "_check_image", check)
    with pytest.raises(image_build.ImageBuildError, match="does not start"):
        image_build.build_image(install, project)
    assert find_image(install, project) is None


def test_images_off_builds_nothing(project, install, monkeypatch):
    from leancot.lean import image_build

    monkeypatch.setenv(IMAGE_ENV, "0")
    assert image_build.build_image(install, project) is None
    assert not (install.root / "repl-image").exists()
