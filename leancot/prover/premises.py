"""The core library's premises, read from the environment: `library_premises(server, roots,
kinds)` lists the constants that modules under each root (`Init`, `Std`) declare, in the
environment that imports the root (`root_header`: none for `Init`, `import Std`), through the
REPL's `constants` request (`lean_project/LeanCot/Repl.lean`), leaves out generated and private
names, and types each by `#check @NAME` (many per request). The typed premises are cached on
disk per Lean version, root and kinds (`<cache>/retrieval/premises-<tag>.jsonl`, one a line,
appended as they are typed, so an interrupted build resumes; docs/FORMATS.md). Which of them a
theorem may use depends on its header's imports (`models.premises.importable`); `banned_names`
are the names its proof may not cite, never offered as premises.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from leancot.files import KeyedJsonl, sha256_hex
from leancot.lean.results import CommandResult, LeanProtocolError
from leancot.models.premises import Premise
from leancot.prover.core_lemmas import banned_constant, parse_check_type
from leancot.prover.core_suite import GENERATED, IDENT, LEAN_AXIOMS

LIBRARY_ROOTS = ("Init", "Std")  # the core library: what `core` statements restate
# The roots of an index over an extracted dataset's files (`load_library`: `leancot train
# retriever`, `evaluate --retriever`, the run's `retriever` stage): their candidates carry no
# header to say what a file imports (`PremiseIndex.allowed(path=...)`), and the bundled corpus
# imports nothing beyond `Init`, so `Std` would only add premises no file can name.
DATASET_ROOTS = ("Init",)
LIBRARY_KINDS = ("theorem", "axiom", "definition", "constructor", "inductive", "opaque")
CHECK_BATCH = 128  # `#check @NAME` lines per REPL request


def usable_constant(constant: Mapping[str, Any]) -> bool:
    """Whether a listed constant is a premise a user would name (no generated or private name,
    none of Lean's own axioms, no name that needs «» quoting)."""
    name = str(constant.get("name", ""))
    if name in LEAN_AXIOMS or name.startswith("_private.") or GENERATED.search(name):
        return False
    return all(IDENT.fullmatch(part) for part in name.split("."))


class PremiseCache(KeyedJsonl):
    """Typed library premises by name, one JSON object a line in `path`, appended."""

    def add(self, entries: Iterable[dict[str, Any]]) -> None:
        self.add_all(entries)


def default_premise_cache(version: str, roots: Sequence[str], kinds: Sequence[str]) -> PremiseCache:
    """`<cache>/retrieval/premises-<hash of version, roots, kinds>.jsonl`."""
    from leancot.lean.paths import cache_dir

    tag = sha256_hex(json.dumps([version, list(roots), sorted(kinds)]), 12)
    return PremiseCache(cache_dir() / "retrieval" / f"premises-{tag}.jsonl")


def root_header(root: str) -> str:
    """The header whose environment holds the modules under `root`: none for `Init` (every
    environment imports it), `import Std` for `Std` (the `core` benchmark's header, so its
    environment is shared)."""
    return "" if root == "Init" else f"import {root}"


def check_types(server: Any, names: Sequence[str], env: Any) -> dict[str, str]:
    """The types `#check @NAME` prints for `names`, in one request (names whose type does not
    print are absent). A timeout or crash raises: nothing is cached from a failed request."""
    result = server.run_cmd("\n".join(f"#check @{n}" for n in names), env)
    if not isinstance(result, CommandResult):
        raise LeanProtocolError(f"typing premises {names[0]}..{names[-1]} failed: {result}")
    found: dict[str, str] = {}
    by_line = {i + 1: n for i, n in enumerate(names)}
    for msg in getattr(result, "messages", ()):
        name = by_line.get(getattr(msg, "line", None) or 0)
        if msg.severity != "info" or name is None:
            continue
        typ = printed_type(name, msg.text)
        if typ is not None:
            found[name] = " ".join(typ.split())
    return found


def printed_type(name: str, text: str) -> str | None:
    """The type in a `#check @NAME` message. Lean may print the name shorter than `name`
    (`true : Bool` for `Bool.true`, `some : ...` for `Option.some`: exported or namespaced
    names), so a trailing part of `name` is accepted too."""
    typ = parse_check_type(name, text)
    if typ is not None:
        return typ
    m = re.match(r"@?([^\s:]+)\s*:\s*(.+)", text.strip(), re.S)
    if m and name.endswith("." + m.group(1)):
        return m.group(2).strip()
    return None


def library_premises(
    server: Any,
    roots: Sequence[str] = LIBRARY_ROOTS,
    kinds: Sequence[str] = LIBRARY_KINDS,
    *,
    header: str | None = None,
    cache: PremiseCache | None = None,
    limit: int | None = None,
    progress: Any = None,
) -> list[Premise]:
    """The typed constants that modules under `roots` declare, root by root, each root's in the
    environment of `header` (None: `root_header(root)`) and in its own cache (`cache`: one for
    every root instead).

    `limit` types only the first that many usable constants (in root, then module order; an
    untyped one counts too);
    `progress(done, total)` is called after each request. Constants whose type does not print
    are left out.
    """
    out: list[Premise] = []
    left = limit
    for root in roots:
        if left is not None and left <= 0:
            break
        found, listed = _root_premises(
            server, root, kinds, header=root_header(root) if header is None else header,
            cache=cache, limit=left, progress=progress,
        )  # fmt: skip
        out += found
        left = None if left is None else left - listed
    return out


def root_premises(
    server: Any,
    root: str,
    kinds: Sequence[str] = LIBRARY_KINDS,
    *,
    header: str = "",
    cache: PremiseCache | None = None,
    limit: int | None = None,
    progress: Any = None,
) -> list[Premise]:
    """`library_premises` of one root: typed by `#check` in the environment of `header`,
    cached in `cache` (None: `default_premise_cache` of this root)."""
    return _root_premises(
        server, root, kinds, header=header, cache=cache, limit=limit, progress=progress
    )[0]


def _root_premises(
    server: Any,
    root: str,
    kinds: Sequence[str],
    *,
    header: str,
    cache: PremiseCache | None,
    limit: int | None,
    progress: Any,
) -> tuple[list[Premise], int]:
    """`root_premises` and how many usable constants it considered (typed or not)."""
    env = server.header_env(header)
    if not isinstance(env, CommandResult) or not env.ok:
        raise ValueError(f"the premise index needs the header {header!r} to elaborate: {env}")
    constants = [c for c in server.library_constants([root], kinds, env) if usable_constant(c)]
    constants = list({c["name"]: c for c in constants}.values())[:limit]
    if cache is None:
        cache = default_premise_cache(str(getattr(server, "version", "") or ""), [root], kinds)
    # untyped entries are retried (a parser fix or a newer Lean may type them)
    todo = [c for c in constants if not cache.entries.get(c["name"], {}).get("type")]
    for start in range(0, len(todo), CHECK_BATCH):
        batch = todo[start : start + CHECK_BATCH]
        types = check_types(server, [c["name"] for c in batch], env)
        cache.add(
            {"name": c["name"], "kind": c["kind"], "module": c["module"],
             "type": types.get(c["name"])}
            for c in batch
        )  # fmt: skip
        if progress is not None:
            progress(min(start + CHECK_BATCH, len(todo)), len(todo))
    out = []
    for c in constants:
        typ = cache.entries.get(c["name"], {}).get("type")
        if typ:
            out.append(Premise(c["name"], f"{c['name']} : {typ}", c["kind"], "", c["module"]))
    return out, len(constants)


def banned_names(theorem: Mapping[str, Any]) -> frozenset[str]:
    """Names a proof of `theorem` may not cite: its own, and the core lemma it restates."""
    names = {str(theorem.get("full_name") or "")}
    source = banned_constant(theorem)
    if source:
        names.add(source)
    return frozenset(n for n in names if n)


def module_graph(server: Any, header: str = "import Std") -> dict[str, list[str]]:
    """Every module of the environment of `header` with its direct imports: the graph of our
    REPL's `premises` request (asked for no module's declarations). A failed request raises."""
    env = server.header_env(header)
    if not isinstance(env, CommandResult) or not env.ok:
        raise ValueError(f"the module graph needs the header {header!r} to elaborate: {env}")
    env_id, generation = server.env_handles.resolve(env, server.generation)
    request: dict[str, Any] = {"premises": "", "modules": []}
    if env_id is not None:
        request["env"] = env_id
    raw = server.request(request, handle_generation=generation)
    if not isinstance(raw, dict) or not isinstance(raw.get("graph"), list):
        message = raw.get("message", raw) if isinstance(raw, dict) else raw
        raise LeanProtocolError(f"listing the module graph failed: {message}")
    return {str(e["name"]): [str(i) for i in e.get("imports", ())] for e in raw["graph"]}


def imported_modules(graph: Mapping[str, Sequence[str]], module: str) -> frozenset[str]:
    """Every module `module` imports in `graph`, directly or through others (itself excluded):
    the modules whose declarations it could use where it was written."""
    found: set[str] = set()
    todo = list(graph.get(module, ()))
    while todo:
        m = todo.pop()
        if m not in found:
            found.add(m)
            todo += graph.get(m, ())
    found.discard(module)
    return frozenset(found)


def read_library(path: str | Path) -> list[Premise]:
    """The typed premises of a premise cache file (`library_premises` wrote it), in its order."""
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such premise cache (built by `leancot train retriever`)")
    out = []
    for entry in PremiseCache(Path(path)).entries.values():
        if entry.get("type"):
            name = entry["name"]
            text = f"{name} : {entry['type']}"
            out.append(Premise(name, text, entry.get("kind", ""), "", entry.get("module", "")))
    return out


def load_library(
    path: str | Path | None = None,
    *,
    roots: Sequence[str] = DATASET_ROOTS,
    kinds: Sequence[str] = LIBRARY_KINDS,
    progress: Any = None,
) -> list[Premise]:
    """The library premises of a dataset's retriever (`DATASET_ROOTS`): from a premise cache
    file `path`, or (None) read from one embedded Lean started here (`library_premises`, its
    cache reused on the next call)."""
    if path is not None:
        return read_library(path)
    from leancot.lean.backends import wasm_backend
    from leancot.lean.server import LeanServer

    with LeanServer(wasm_backend(), request_timeout=600.0) as server:
        return library_premises(server, roots, kinds, progress=progress)
