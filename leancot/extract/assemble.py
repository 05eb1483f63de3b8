"""From the per-file records of the extractor to theorem objects and `corpus.jsonl` lines.

Runs after every file is traced, because a premise may be declared in another file of the
project or in the library: the project's declarations come from all files' identifiers, and the
library modules whose constants are named are listed once, through the REPL's `premises` request
(lean_project/LeanCot/Repl.lean), in the environment of the files' imports. That listing is
cached beside the per-file records.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leancot.extract.build import imported_modules
from leancot.extract.origin import Origin, module_name
from leancot.extract.premises import (
    Ident,
    PremiseIndex,
    annotate,
    corpus_entries,
    own_premises,
    unescaped,
)
from leancot.extract.trace import keep_step, traced_theorems
from leancot.files import atomic_write_text, sha256_hex
from leancot.lean.screen import mask
from leancot.lean.source_text import split_header

if TYPE_CHECKING:
    from leancot.lean.server import LeanServer

Record = tuple[Path, str, dict]  # (file, its text, the cache record)


class PremiseListingError(RuntimeError):
    """The REPL could not list the library modules the extracted files use."""


def _listing(
    server: LeanServer,
    by_header: Mapping[str, set[str]],
    keep: set[str],
    cache: Path,
    resume: bool,
) -> list[dict]:
    """The `premises` replies for the library modules each header's files use (cached)."""
    material = json.dumps([sorted((h, sorted(m)) for h, m in by_header.items()), sorted(keep)])
    key = sha256_hex(f"{server.version}\0{material}", 32)
    cached = cache / f"library-{key}.json"
    if resume and cached.is_file():
        return json.loads(cached.read_text(encoding="utf-8"))
    replies = []
    done: set[str] = set()
    for header, modules in sorted(by_header.items()):
        wanted = sorted(modules - done)
        if not wanted:
            continue
        request: dict[str, Any] = {"premises": "", "modules": wanted, "keep": sorted(keep)}
        if header.strip():
            env = server.header_env(header)
            env_id, _ = server.env_handles.resolve(env, server.generation)
            request["env"] = env_id
        raw = server.request(request, max(server.request_timeout, 600.0))
        if not isinstance(raw, dict) or "modules" not in raw:
            message = raw.get("message", raw) if isinstance(raw, dict) else raw
            raise PremiseListingError(f"listing the library modules {wanted} failed: {message}")
        replies.append(raw)
        done |= set(wanted)
    atomic_write_text(cached, json.dumps(replies, ensure_ascii=False))
    return replies


def assemble(
    records: Mapping[str, Record],
    origin: Origin,
    server: LeanServer,
    cache: Path,
    *,
    keep_all_tactics: bool = False,
    resume: bool = True,
) -> tuple[list[dict], list[dict], dict[str, int]]:
    """(theorems, corpus files, premise statistics) of the traced files."""
    own = {module_name(path, origin.lake_root): rel for rel, (path, _, _) in records.items()}
    index = PremiseIndex(own)
    idents = {
        rel: [Ident.of(r) for r in rec["identifiers"]] for rel, (_, _, rec) in records.items()
    }
    by_header: dict[str, set[str]] = defaultdict(set)
    keep: set[str] = set()
    for rel, (_, text, _) in records.items():
        index.add_file(rel, idents[rel])
        header, _ = split_header(text)
        for ident in idents[rel]:
            if ident.module is not None and ident.module not in own:
                by_header[header].add(ident.module)
                keep.add(unescaped(ident.name))
    if by_header:
        for reply in _listing(server, by_header, keep, cache, resume):
            index.add_modules(reply)

    theorems: list[dict] = []
    stats = {"provenances": 0, "unlocated": 0, "tactics_with_premises": 0}
    files: dict[str, tuple[list[str], list[dict]]] = {}
    for rel, (_, text, rec) in records.items():
        on_line: dict[int, list[Ident]] = defaultdict(list)
        for ident in idents[rel]:
            on_line[ident.start[0]].append(ident)
        for thm in traced_theorems(
            text, rec["tactics"], file_path=rel, url=origin.url, commit=origin.commit
        ):
            steps = []
            for step in thm["traced_tactics"]:
                (line, column), last = step["start"], step["end"][0]
                near = [i for n in range(line, last + 1) for i in on_line.get(n, ())]
                step["annotated_tactic"], missing = annotate(
                    step["tactic"], (line, column - 1), near, index
                )
                if keep_all_tactics or keep_step(step):
                    steps.append(step)
                    found = len(step["annotated_tactic"][1])
                    stats["provenances"] += found
                    stats["unlocated"] += missing
                    stats["tactics_with_premises"] += found > 0
            thm["traced_tactics"] = steps
            theorems.append(thm)
        files[rel] = (imported_modules(text), own_premises(rel, text, idents[rel], mask(text)))
    return theorems, corpus_entries(files, index), stats
