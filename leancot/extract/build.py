"""The .olean files of a user project's own modules that its files import, so that `import Foo.A`
in `Foo/B.lean` resolves when the project is extracted.

Native Lean reads a built project: its `.lake/build/lib/lean` and what `lake env` puts on
`LEAN_PATH` (the dependencies). The embedded WASM Lean has no Lake and cannot start processes, and
a split `lean -o` output is not importable by it (see the `buildModule` section of
lean_project/LeanCot/Repl.lean), so leancot builds those modules itself: the REPL's
`buildModule` request elaborates each one, in import order, and writes its .olean into the Lean
process's private directory, from where it is moved into a cache keyed by content,
`<build_root>/objects/<key>.olean`, `key` the digest of the module's name and text, the keys of
the project modules it imports and the toolchain; a module whose source changed gets a new key
and is built again. Lean looks a module up in the first `LEAN_PATH` directory that has its root
package's folder (`Foo/`), so all the modules of one extraction are linked into one tree,
`<build_root>/<digest of their keys>/Foo/A.olean`, and that one directory is put on the REPL's
`LEAN_PATH` before Lean starts (it is known from the sources alone). Layout and request:
docs/FORMATS.md ("Extraction cache", "buildModule").
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import TYPE_CHECKING

from leancot.files import sha256_hex
from leancot.lean.build_module import ModuleBuildError, build_module
from leancot.lean.screen import mask
from leancot.lean.source_text import split_header

if TYPE_CHECKING:
    from leancot.lean.server import LeanServer

BUILD_VERSION = 1  # part of every key: bump when what is written changes
BUILD_SUBDIR = "leancot-build"  # inside the Lean process's private directory


@dataclass(frozen=True)
class Module:
    """A module of the project that some extracted file imports, and where its build goes."""

    name: str
    source: Path
    imports: tuple[str, ...]  # the project's own modules it imports
    key: str

    def object(self, build_root: Path) -> Path:
        """Where the cache holds its .olean: `<build_root>/objects/<key>.olean`."""
        return build_root / "objects" / f"{self.key}.olean"

    @property
    def rel_olean(self) -> str:
        return self.name.replace(".", "/") + ".olean"


@dataclass(frozen=True)
class BuildFailure:
    path: str  # the source file, relative to the repository root when it is inside it
    line: int | None
    message: str


def imported_modules(text: str) -> list[str]:
    """The modules a Lean file's header imports (`import Foo.A` -> `Foo.A`)."""
    header, _ = split_header(text)
    return [
        line.split()[-1] for line in mask(header).splitlines() if line.strip().startswith("import")
    ]


def module_source(name: str, lake_root: Path) -> Path | None:
    """The project's file of the module `name` (`Foo.A` -> `<lake_root>/Foo/A.lean`), if any."""
    path = lake_root.joinpath(*name.replace("«", "").replace("»", "").split(".")).with_suffix(
        ".lean"
    )
    return path if path.is_file() else None


def plan(files: Iterable[Path], lake_root: Path, toolchain: str) -> list[Module]:
    """The project modules that `files` import, directly or through each other, in import order
    (a module before every module that imports it), with their content keys."""
    imports: dict[str, tuple[Path, tuple[str, ...]]] = {}
    pending = [m for f in files for m in imported_modules(_read(f))]
    while pending:
        name = pending.pop()
        if name in imports:
            continue
        source = module_source(name, lake_root)
        if source is None:  # a library or dependency module: not ours to build
            continue
        own = tuple(m for m in imported_modules(_read(source)) if module_source(m, lake_root))
        imports[name] = (source, own)
        pending.extend(own)
    try:
        order = list(TopologicalSorter({m: imp for m, (_, imp) in imports.items()}).static_order())
    except CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise ValueError(
            f"{lake_root}: the project's modules import each other in a cycle: {cycle}"
        ) from None
    keys: dict[str, str] = {}
    modules = []
    for name in order:
        source, own = imports[name]
        material = "\0".join(
            [str(BUILD_VERSION), toolchain, name, _read(source), *(keys[m] for m in own)]
        )
        keys[name] = sha256_hex(material, 32)
        modules.append(Module(name, source, own, keys[name]))
    return modules


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def tree_dir(modules: Iterable[Module], build_root: Path) -> Path:
    """The one `LEAN_PATH` directory that holds the .olean files of `modules`."""
    return build_root / sha256_hex("\0".join(sorted(m.key for m in modules)), 32)


def stale_in_project(modules: list[Module], lake_root: Path) -> list[Module]:
    """For native Lean: `modules` if the project's Lake build lacks the .olean of one of them or
    has one older than its source (then leancot builds them all into its cache, whose tree comes
    first on `LEAN_PATH`: Lean reads one root package from one directory), else none."""
    from leancot.lean.backends import project_lean_path

    built = project_lean_path(lake_root)
    for mod in modules:
        olean = Path(built[0]) / mod.rel_olean if built else None
        if olean is None or not olean.is_file():
            return modules
        if olean.stat().st_mtime < mod.source.stat().st_mtime:
            return modules
    return []


def lake_lean_path(lake_root: Path, timeout: float = 120.0) -> list[str]:
    """`LEAN_PATH` as `lake env` sets it in the user's project (its build and its dependencies'),
    or the project's build directories when `lake` is missing or fails."""
    lake = shutil.which("lake")
    lakefiles = ("lakefile.lean", "lakefile.toml")
    if lake is not None and any((lake_root / f).is_file() for f in lakefiles):
        try:
            out = subprocess.run(
                [lake, "-d", str(lake_root), "env", "printenv", "LEAN_PATH"],
                capture_output=True,
                text=True,
                timeout=timeout,
                check=True,
            )
            return [p for p in out.stdout.strip().split(":") if p]
        except (OSError, subprocess.SubprocessError):
            pass
    from leancot.lean.backends import project_lean_path

    found = project_lean_path(lake_root)
    packages = lake_root / ".lake" / "packages"
    if packages.is_dir():
        for pkg in sorted(packages.iterdir()):
            found += project_lean_path(pkg)
    return found


def build(
    server: LeanServer,
    modules: list[Module],
    build_root: Path,
    *,
    rel: Callable[[Path], str],
    timeout: float,
    progress: bool = False,
) -> list[BuildFailure]:
    """Build, in order, each of `modules` whose .olean the cache lacks (with the REPL's
    `buildModule` request) and link them all into their `tree_dir`; the failures, each naming the
    file (and line). A module that imports a failed one is not built (its failure says which)."""
    failed: set[str] = set()
    failures: list[BuildFailure] = []
    tree = tree_dir(modules, build_root)
    for mod in modules:  # cached ones first: a module built below may import them
        if mod.object(build_root).is_file():
            _link(mod.object(build_root), tree / mod.rel_olean)
    todo = [m for m in modules if not m.object(build_root).is_file()]
    for mod in _iter_progress(todo, progress):
        broken = [m for m in mod.imports if m in failed]
        if broken:
            failed.add(mod.name)
            failures.append(
                BuildFailure(rel(mod.source), None, f"not built: it imports {', '.join(broken)}")
            )
            continue
        failure = _build_one(server, mod, build_root, rel(mod.source), timeout)
        if failure:
            failed.add(mod.name)
            failures.extend(failure)
        else:
            _link(mod.object(build_root), tree / mod.rel_olean)
    return failures


def _build_one(
    server: LeanServer, mod: Module, build_root: Path, rel_path: str, timeout: float
) -> list[BuildFailure]:
    module = mod.name.replace("«", "").replace("»", "").split(".")
    olean = Path(BUILD_SUBDIR) / mod.key / mod.rel_olean
    try:
        written = build_module(server, mod.source, module, olean, timeout)
    except ModuleBuildError as exc:
        if exc.messages:
            return [BuildFailure(rel_path, m.line, m.text) for m in exc.messages]
        return [BuildFailure(rel_path, None, exc.reason)]
    _install(written, mod.object(build_root))
    return []


def _install(written: Path, target: Path) -> None:
    """Move a built .olean into the cache, atomically (the private dir may be another disk)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.copyfile(written, tmp)
    os.replace(tmp, target)
    written.unlink(missing_ok=True)


def _link(obj: Path, target: Path) -> None:
    """`target` is the cached object `obj` (a hard link, else a copy)."""
    if target.is_file() and target.stat().st_size == obj.stat().st_size:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(obj, tmp)
    except OSError:
        shutil.copyfile(obj, tmp)
    os.replace(tmp, target)


def _iter_progress(items: list[Module], enabled: bool) -> Iterator[Module]:
    if not enabled or not items:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc="build", unit="module")


def lean_path_entries(modules: list[Module], build_root: Path) -> list[str]:
    """The `LEAN_PATH` entry of `modules`: their `tree_dir` (none without modules)."""
    return [str(tree_dir(modules, build_root))] if modules else []
