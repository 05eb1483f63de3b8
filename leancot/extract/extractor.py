"""Extract traced theorems from a Lean file or Lake project into LeanDojo Benchmark 4 layout.

One Lean session serves the whole corpus: each file is elaborated once, by our REPL's `premises`
request with `"allTactics": true` (see lean_project/LeanCot/Repl.lean), which answers its
tactics with their goals and the identifiers that name constants. Per-file results are cached under
`<out_dir>.cache/` keyed by the file's content, the project modules it imports and the Lean
version, so an interrupted run resumes where it stopped. Files that fail to elaborate are reported
by name and line, skipped, and tried again by the next run. The project's modules that its files
import are built first, in the same session where Lean needs it (extract/build.py).
"""

from __future__ import annotations

import datetime
import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leancot.extract import build
from leancot.extract.assemble import assemble
from leancot.extract.dataset import write_benchmark
from leancot.extract.origin import find_origin
from leancot.extract.premises import LIBRARY_LAYOUT
from leancot.extract.trace import tactic_node
from leancot.files import atomic_write_text, sha256_hex
from leancot.lean.protocol import error_text, parse_messages, parse_traced_tactic
from leancot.lean.results import CommandResult, Crashed, LeanError, Timeout
from leancot.lean.server import LeanServer
from leancot.lean.source_text import read_lean_file

EXCLUDED_PARTS = frozenset({".lake", "lake-packages", ".git", "build"})
# lean_project/'s files that are not corpus: the Lake config, the REPL and its executable's root
EXCLUDED_NAMES = frozenset({"lakefile.lean", "Repl.lean", "ReplMain.lean"})
CACHE_VERSION = 3


@dataclass(frozen=True)
class ExtractConfig:
    """What to extract and where to write it."""

    out_dir: Path
    source: Path | None = None  # a .lean file or a Lake project; None: the bundled corpus
    backend: str = "wasm"  # wasm | native | repl
    url: str | None = None  # recorded as LeanDojo's `url`; default: git remote or the path
    commit: str | None = None  # default: the git HEAD of the source's checkout
    allow_dirty: bool = False  # extract a checkout with uncommitted changes (recorded)
    keep_all_tactics: bool = False  # keep the steps LeanDojo's export drops (`·`, no goals)
    dataset_name: str | None = None  # metadata.json's `dataset_name`
    include: tuple[str, ...] = ("**/*.lean",)
    timeout: float = 600.0  # seconds per file
    resume: bool = True

    def __post_init__(self) -> None:
        if self.backend not in ("wasm", "native", "repl"):
            raise ValueError(f"unknown backend {self.backend!r}: use wasm, native or repl")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")


@dataclass(frozen=True)
class FileFailure:
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class ExtractSummary:
    out_dir: Path
    files_ok: int
    files_failed: tuple[FileFailure, ...]
    theorems: int
    tactics: int
    seconds: float
    per_file: dict[str, int] = field(default_factory=dict)


def bundled_corpus() -> Path:
    """The corpus shipped with leancot: `lean_project/LeanCot/Corpus`."""
    from leancot.lean.paths import project_dir

    return project_dir() / "LeanCot" / "Corpus"


def lean_files(source: Path, include: tuple[str, ...]) -> list[Path]:
    """The .lean files of a file or directory, sorted, without build outputs and the REPL."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise ValueError(f"{source}: no such Lean file or directory")
    found = {
        p
        for pattern in include
        for p in source.glob(pattern)
        if p.is_file()
        and p.suffix == ".lean"
        and p.name not in EXCLUDED_NAMES
        and not EXCLUDED_PARTS.intersection(p.relative_to(source).parts)
    }
    return sorted(found)


def _cache_key(text: str, rel_path: str, lean_version: str, deps: str = "") -> str:
    """`deps`: the build keys of the project modules the file imports (their text shapes it)."""
    material = f"{CACHE_VERSION}\0{lean_version}\0{rel_path}\0{text}\0{deps}"
    return sha256_hex(material, 32)


def extract_file(
    server: LeanServer, path: Path, rel_path: str, *, timeout: float
) -> dict[str, Any]:
    """What Lean reports about one file (its traced tactics and the identifiers naming
    constants), or the reasons it could not be elaborated: the per-file cache record. Our REPL
    answers both from one elaboration (its `premises` request); the community REPL has no such
    request, so there the file is a `cmd` with `allTactics` and no identifiers are known."""
    try:
        text = read_lean_file(path)
    except ValueError as exc:
        return _failed(FileFailure(rel_path, None, str(exc)))
    if server.backend.framing != "marker":
        with server.handle_scope():  # nothing of the file is used in Lean afterwards: free it
            result = server.run_cmd(text, None, timeout, all_tactics=True)
        failure = _failure(result, rel_path)
        if failure or not isinstance(result, CommandResult):
            return _failed(*failure)
        return {
            "tactics": [tactic_node(t) for t in result.tactics],
            "identifiers": [],
            "failures": [],
        }
    server.maybe_recycle()
    raw = server.request({"premises": text, "allTactics": True}, timeout)
    if isinstance(raw, (Timeout, Crashed)):
        return _failed(*_failure(raw, rel_path))
    error = error_text(raw)
    if error is not None or not isinstance(raw.get("identifiers"), list):
        return _failed(FileFailure(rel_path, None, f"Lean failed: {error or raw}"))
    errors = [m for m in parse_messages(raw) if m.is_error]
    if errors:
        return _failed(*(FileFailure(rel_path, m.line, m.text) for m in errors))
    tactics = [parse_traced_tactic(t) for t in raw.get("tactics") or () if isinstance(t, Mapping)]
    return {
        "tactics": [tactic_node(t) for t in tactics],
        "identifiers": raw["identifiers"],
        "failures": [],
    }


def _failed(*failures: FileFailure) -> dict[str, Any]:
    return {"tactics": [], "identifiers": [], "failures": [f.__dict__ for f in failures]}


def _failure(result: Any, rel_path: str) -> list[FileFailure]:
    if isinstance(result, Timeout):
        return [FileFailure(rel_path, None, f"timed out after {result.seconds:g} s")]
    if isinstance(result, (Crashed, LeanError)):
        reason = result.reason if isinstance(result, Crashed) else result.error
        return [FileFailure(rel_path, None, f"Lean failed: {reason}")]
    if isinstance(result, CommandResult) and result.errors:
        return [FileFailure(rel_path, m.line, m.text) for m in result.errors]
    return []


def _iter_progress(items: list[Path], enabled: bool) -> Iterator[Path]:
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc="extract", unit="file")


def _make_server(
    config: ExtractConfig, project: Path, lean_path: list[str], build_root: Path
) -> LeanServer:
    from leancot.lean import backends

    if config.backend == "wasm":
        backend = backends.wasm_backend(mounts=(project, build_root), lean_path=lean_path)
    elif config.backend == "native":
        backend = backends.native_backend(lean_path=lean_path)
    else:
        binary = os.environ.get("LEANCOT_REPL_BINARY")
        if not binary:
            raise ValueError("backend repl needs LEANCOT_REPL_BINARY=/path/to/repl")
        backend = backends.repl_backend(binary, project)
    return LeanServer(backend, request_timeout=config.timeout)


def main(
    config: ExtractConfig,
    *,
    server: LeanServer | None = None,
    progress: bool = True,
    on_file: Callable[[str, int, int], None] | None = None,
) -> ExtractSummary:
    """Extract every file of `config.source` and write the benchmark folder `config.out_dir`."""
    start = time.monotonic()
    source = (config.source or bundled_corpus()).resolve()
    files = lean_files(source, config.include)
    if not files:
        raise ValueError(f"{source}: no .lean files matched {list(config.include)}")
    origin = find_origin(
        source, url=config.url, commit=config.commit, allow_dirty=config.allow_dirty
    )
    cache_dir = config.out_dir.with_name(config.out_dir.name + ".cache")
    cache_dir.mkdir(parents=True, exist_ok=True)
    build_root = (cache_dir / "build").resolve()  # Lean's cwd is not ours: absolute paths
    build_root.mkdir(exist_ok=True)
    modules, to_build, lean_path = _project_modules(config, files, origin.lake_root, build_root)
    keys = {m.name: m.key for m in modules}

    records: dict[str, tuple[Path, str, dict]] = {}
    failures: list[FileFailure] = []
    own_server = server is None
    server = server or _make_server(config, origin.lake_root, lean_path, build_root)
    try:
        if own_server:
            server.start()
        version = server.version or "unknown"
        if to_build:
            failures += _build_modules(
                server, to_build, build_root, files, origin.root, config, progress
            )
        for path in _iter_progress(files, progress):
            rel_path = path.relative_to(origin.root).as_posix()
            text = path.read_bytes().decode("utf-8", errors="replace")
            deps = ",".join(keys.get(m, "") for m in build.imported_modules(text))
            cached = cache_dir / f"{_cache_key(text, rel_path, version, deps)}.json"
            if config.resume and cached.is_file():
                record = json.loads(cached.read_text(encoding="utf-8"))
            else:
                record = extract_file(server, path, rel_path, timeout=config.timeout)
                if not record["failures"]:  # a failed file is tried again by the next run
                    atomic_write_text(cached, json.dumps(record, ensure_ascii=False))
            file_failures = [FileFailure(**f) for f in record["failures"]]
            failures.extend(file_failures)
            if not file_failures:
                records[rel_path] = (path, text, record)
            if on_file is not None:
                on_file(rel_path, _num_theorem_blocks(record), len(file_failures))
        assembled = assemble(
            records,
            origin,
            server,
            cache_dir,
            keep_all_tactics=config.keep_all_tactics,
            resume=config.resume,
        )
    finally:
        if own_server:
            server.close()
    theorems, corpus, stats = assembled
    metadata = {
        "dataset_name": config.dataset_name or f"leancot extraction of {source.name}",
        "creation_time": str(datetime.datetime.now()),
        "from_repo": {"url": origin.url, "commit": origin.commit},
        "dirty": origin.dirty,
        "lean_version": version,
        "backend": config.backend,
        "extractor": {"name": "leancot", "version": _version(), "backend": config.backend},
        "export_rules": "all tactics" if config.keep_all_tactics else "leandojo",
        "library_layout": LIBRARY_LAYOUT,
        "premises": stats,
        "failed_files": [str(f) for f in failures],
    }
    write_benchmark(config.out_dir, theorems, corpus, metadata)
    return ExtractSummary(
        out_dir=config.out_dir,
        files_ok=len(records),
        files_failed=tuple(failures),
        theorems=len(theorems),
        tactics=sum(len(t["traced_tactics"]) for t in theorems),
        seconds=time.monotonic() - start,
        per_file={p: sum(t["file_path"] == p for t in theorems) for p in records},
    )


def _toolchain(config: ExtractConfig, lake_root: Path) -> str:
    """What the project's .olean files are built with (part of their keys)."""
    if config.backend == "wasm":
        from leancot.lean.install import find_installation

        return f"wasm:{find_installation().lib_dir}"
    toolchain = lake_root / "lean-toolchain"
    pinned = toolchain.read_text(encoding="utf-8").strip() if toolchain.is_file() else ""
    return f"native:{pinned}"


def _project_modules(
    config: ExtractConfig, files: list[Path], lake_root: Path, build_root: Path
) -> tuple[list[build.Module], list[build.Module], list[str]]:
    """The project's imported modules, those leancot must build, and the extra `LEAN_PATH`:
    WASM Lean builds them all into the cache; native Lean reads the project's Lake build and
    `lake env`'s path, and leancot builds only what is missing or stale there (cache first)."""
    if config.backend == "repl":  # the community REPL runs in the user's own `lake env`
        return [], [], []
    modules = build.plan(files, lake_root, _toolchain(config, lake_root))
    if config.backend == "wasm":
        return modules, modules, build.lean_path_entries(modules, build_root)
    stale = build.stale_in_project(modules, lake_root) if modules else []
    lake_path = build.lake_lean_path(lake_root) if modules else []
    return modules, stale, [*build.lean_path_entries(stale, build_root), *lake_path]


def _build_modules(
    server: LeanServer,
    modules: list[build.Module],
    build_root: Path,
    files: list[Path],
    root: Path,
    config: ExtractConfig,
    progress: bool,
) -> list[FileFailure]:
    """Build the project modules that extracted files import (see extract/build.py); failures of
    files that are extracted themselves are left to their extraction, which reports the same."""
    search = dict(server.backend.env).get("LEAN_PATH", "").split(":")
    tree = build.tree_dir(modules, build_root)
    if str(tree) not in search:
        raise ValueError(
            f"the Lean server given to extract.main has not {tree} on its LEAN_PATH, where the "
            f"project's modules ({modules[0].name}, ...) are built: let extract.main start it"
        )

    def rel(path: Path) -> str:
        try:
            return path.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            return str(path)

    extracted = {p.resolve() for p in files}
    by_path = {rel(m.source): m for m in modules}
    found = build.build(
        server, modules, build_root, rel=rel, timeout=config.timeout, progress=progress
    )
    return [
        FileFailure(f.path, f.line, f"building {by_path[f.path].name}: {f.message}")
        for f in found
        if by_path[f.path].source.resolve() not in extracted or f.line is None
    ]


def _version() -> str:
    from leancot import __version__

    return __version__


def _num_theorem_blocks(record: Mapping[str, Any]) -> int:
    return len({n["decl"] for n in record["tactics"] if n.get("decl")})
