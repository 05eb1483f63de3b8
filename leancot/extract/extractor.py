"""Extract traced theorems from a Lean file or Lake project into LeanDojo Benchmark 4 layout.

One Lean session serves the whole corpus: each file is one REPL command with
`"allTactics": true` (see lean_project/LeanCot/Repl.lean). Per-file results are cached under
`<out_dir>.cache/` keyed by the file's content and the Lean version, so an interrupted run
resumes where it stopped. Files that fail to elaborate are reported by name and line and skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from leancot.extract.dataset import write_benchmark
from leancot.extract.trace import tactic_node, traced_theorems
from leancot.files import atomic_write_text, sha256_hex
from leancot.lean.results import CommandResult, Crashed, LeanError, Timeout
from leancot.lean.server import LeanServer
from leancot.lean.source_text import read_lean_file, split_header

EXCLUDED_PARTS = frozenset({".lake", "lake-packages", ".git", "build"})
# lean_project/'s files that are not corpus: the Lake config, the REPL and its executable's root
EXCLUDED_NAMES = frozenset({"lakefile.lean", "Repl.lean", "ReplMain.lean"})
CACHE_VERSION = 2


@dataclass(frozen=True)
class ExtractConfig:
    """What to extract and where to write it."""

    out_dir: Path
    source: Path | None = None  # a .lean file or a Lake project; None: the bundled corpus
    backend: str = "wasm"  # wasm | native | repl
    url: str | None = None  # recorded as LeanDojo's `url`; default: git remote or local path
    commit: str | None = None  # default: the git HEAD of the source, or "workdir"
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


def git_origin(path: Path) -> tuple[str | None, str | None]:
    """(remote url, HEAD commit) of the git checkout containing `path`, where there is one."""
    cwd = path if path.is_dir() else path.parent

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip() or None

    return git("remote", "get-url", "origin"), git("rev-parse", "HEAD")


def _cache_key(text: str, rel_path: str, lean_version: str) -> str:
    material = f"{CACHE_VERSION}\0{lean_version}\0{rel_path}\0{text}"
    return sha256_hex(material, 32)


def extract_file(
    server: LeanServer, path: Path, rel_path: str, *, url: str, commit: str, timeout: float
) -> tuple[list[dict], list[FileFailure]]:
    """Traced theorems of one file, or the reasons it could not be elaborated."""
    try:
        text = read_lean_file(path)
    except ValueError as exc:
        return [], [FileFailure(rel_path, None, str(exc))]
    with server.handle_scope():  # nothing of the file is used in Lean afterwards: free it there
        result = server.run_cmd(text, None, timeout, all_tactics=True)
    if isinstance(result, Timeout):
        return [], [FileFailure(rel_path, None, f"timed out after {result.seconds:g} s")]
    if isinstance(result, (Crashed, LeanError)):
        reason = result.reason if isinstance(result, Crashed) else result.error
        return [], [FileFailure(rel_path, None, f"Lean failed: {reason}")]
    assert isinstance(result, CommandResult)
    if result.errors:
        return [], [FileFailure(rel_path, m.line, m.text) for m in result.errors]
    tactics = [tactic_node(t) for t in result.tactics]
    return traced_theorems(text, tactics, file_path=rel_path, url=url, commit=commit), []


def _iter_progress(items: list[Path], enabled: bool) -> Iterator[Path]:
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    yield from tqdm(items, desc="extract", unit="file")


def _make_server(config: ExtractConfig, project: Path) -> LeanServer:
    from leancot.lean import backends

    if config.backend == "wasm":
        backend = backends.wasm_backend(mounts=(project,))
    elif config.backend == "native":
        backend = backends.native_backend()
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
    root = source if source.is_dir() else source.parent
    files = lean_files(source, config.include)
    if not files:
        raise ValueError(f"{source}: no .lean files matched {list(config.include)}")
    remote, head = git_origin(root)
    url = config.url or remote or f"local:{root}"
    commit = config.commit or head or "workdir"
    cache_dir = config.out_dir.with_name(config.out_dir.name + ".cache")
    cache_dir.mkdir(parents=True, exist_ok=True)

    theorems: list[dict] = []
    failures: list[FileFailure] = []
    per_file: dict[str, int] = {}
    own_server = server is None
    server = server or _make_server(config, root)
    try:
        if own_server:
            server.start()
        version = server.version or "unknown"
        for path in _iter_progress(files, progress):
            rel_path = path.relative_to(root).as_posix()
            text = path.read_bytes().decode("utf-8", errors="replace")
            cached = cache_dir / f"{_cache_key(text, rel_path, version)}.json"
            if config.resume and cached.is_file():
                record = json.loads(cached.read_text(encoding="utf-8"))
            else:
                entries, errors = extract_file(
                    server, path, rel_path, url=url, commit=commit, timeout=config.timeout
                )
                record = {"theorems": entries, "failures": [e.__dict__ for e in errors]}
                atomic_write_text(cached, json.dumps(record, ensure_ascii=False))
            file_failures = [FileFailure(**f) for f in record["failures"]]
            failures.extend(file_failures)
            if not file_failures:
                theorems.extend(record["theorems"])
                per_file[rel_path] = len(record["theorems"])
            if on_file is not None:
                on_file(rel_path, len(record["theorems"]), len(file_failures))
    finally:
        if own_server:
            server.close()
    metadata = {
        "from_repo": {"url": url, "commit": commit},
        "lean_version": version,
        "backend": config.backend,
        "failed_files": [str(f) for f in failures],
    }
    write_benchmark(config.out_dir, theorems, _corpus_files(files, root, theorems), metadata)
    return ExtractSummary(
        out_dir=config.out_dir,
        files_ok=len(per_file),
        files_failed=tuple(failures),
        theorems=len(theorems),
        tactics=sum(len(t["traced_tactics"]) for t in theorems),
        seconds=time.monotonic() - start,
        per_file=per_file,
    )


def _corpus_files(files: list[Path], root: Path, theorems: list[dict]) -> list[dict]:
    """`corpus.jsonl` lines: each file's imports and its theorems as premises."""
    by_file: dict[str, list[dict]] = {}
    for thm in theorems:
        by_file.setdefault(thm["file_path"], []).append(
            {
                "full_name": thm["full_name"],
                "code": thm["statement"],
                "start": thm["start"],
                "end": thm["end"],
                "kind": "theorem",
            }
        )
    corpus = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        header, _ = split_header(path.read_bytes().decode("utf-8", errors="replace"))
        imports = [
            line.split()[-1] for line in header.splitlines() if line.strip().startswith("import")
        ]
        corpus.append({"path": rel, "imports": imports, "premises": by_file.get(rel, [])})
    return corpus
