"""Premises as LeanDojo records them: which constant each identifier of a tactic names, where that
constant is declared, and the `corpus.jsonl` files that declare them.

The Lean side is the `premises` request of lean_project/LeanCot/Repl.lean: for a file, every
identifier written in it that elaborated to a global constant (from the info trees, with its
source span, the module declaring the constant, and whether it is the name being declared); for
library modules, their imports and declarations with signatures.

Locations follow LeanDojo: `def_path` is the declaring file (`.lake/packages/lean4/src/lean/...`
for Lean core), `def_pos`/`def_end_pos` span the declared name, and the file's `corpus.jsonl`
entry has a premise whose `start..end` contains `def_pos` (what ReProver's `locate_premise`
looks for). The embedded Lean's library carries no source and no declaration ranges, so a library
file is written as its declarations one per line, sorted by name: line `k` holds the `k`-th
declaration's signature, and that is where its positions point (`LIBRARY_LAYOUT`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import Any

from leancot.extract.trace import SourceText, Span

LEAN4_SRC = ".lake/packages/lean4/src/lean"
PACKAGES_DIR = ".lake/packages"
CORE_ROOTS = frozenset({"Init", "Std", "Lean", "Lake"})
INIT_MODULE = "Init"
LIBRARY_LAYOUT = "signatures"  # metadata: how library files without source are laid out
KIND = "commanddeclaration"  # LeanDojo's kind for a declaration command


@dataclass(frozen=True)
class Ident:
    """An identifier of a source file that names a constant (Lean positions: column 0-based)."""

    name: str
    start: tuple[int, int]
    end: tuple[int, int]
    binder: bool
    module: str | None
    kind: str | None
    cmd_start: tuple[int, int] | None
    cmd_end: tuple[int, int] | None

    @staticmethod
    def of(raw: Mapping[str, Any]) -> Ident:
        def pos(p: Any) -> tuple[int, int] | None:
            return (p["line"], p["column"]) if isinstance(p, Mapping) else None

        start, end = pos(raw["pos"]), pos(raw["endPos"])
        assert start is not None and end is not None
        return Ident(
            raw["name"],
            start,
            end,
            bool(raw.get("binder")),
            raw.get("module"),
            raw.get("kind"),
            pos(raw.get("cmdPos")),
            pos(raw.get("cmdEndPos")),
        )


@dataclass(frozen=True)
class Location:
    """Where a premise is declared, in LeanDojo positions (lines and columns 1-based)."""

    path: str
    pos: list[int]
    end_pos: list[int]

    def provenance(self, full_name: str) -> dict[str, Any]:
        return {
            "full_name": full_name,
            "def_path": self.path,
            "def_pos": self.pos,
            "def_end_pos": self.end_pos,
        }


def leandojo_pos(pos: tuple[int, int]) -> list[int]:
    return [pos[0], pos[1] + 1]


def module_path(module: str, own: Mapping[str, str]) -> str:
    """The file of a module in LeanDojo's layout: the project's own file, or a dependency's
    source under `.lake/packages/` (Lean core: `.lake/packages/lean4/src/lean/Init/....lean`)."""
    if module in own:
        return own[module]
    rel = module.replace(".", "/") + ".lean"
    root = module.split(".", 1)[0]
    if root == "Lake":
        return f"{LEAN4_SRC}/lake/{rel}"
    if root in CORE_ROOTS:
        return f"{LEAN4_SRC}/{rel}"
    return f"{PACKAGES_DIR}/{root.lower()}/{rel}"


def unescaped(name: str) -> str:
    """A name as Lean's `nameText` prints it (without `«»`), for the `keep` list."""
    return name.replace("«", "").replace("»", "")


class PremiseIndex:
    """Declarations of the project's files (from their binder identifiers) and of library
    modules (from the module listing), located as LeanDojo locates premises."""

    def __init__(self, own_modules: Mapping[str, str]) -> None:
        self.own_modules = dict(own_modules)  # module name -> file path
        self.local: dict[str, Location] = {}
        self.library: dict[str, dict[str, Location]] = {}  # module -> name -> location
        self.library_entries: dict[str, dict[str, Any]] = {}  # module -> corpus entry
        self.graph: dict[str, list[str]] = {}  # every module of the environment -> imports

    def add_file(self, path: str, idents: Iterable[Ident]) -> None:
        for ident in idents:
            if ident.binder and ident.module is None:
                self.local.setdefault(
                    ident.name, Location(path, leandojo_pos(ident.start), leandojo_pos(ident.end))
                )

    def add_modules(self, listing: Mapping[str, Any]) -> None:
        """A `premises` reply for library modules."""
        for entry in listing.get("graph", []):
            self.graph.setdefault(entry["name"], list(entry["imports"]))
        for mod in listing.get("modules", []):
            path = module_path(mod["name"], self.own_modules)
            decls = sorted(mod["declarations"], key=lambda d: d["name"])
            located: dict[str, Location] = {}
            premises = []
            for line, decl in enumerate(decls, start=1):
                code = f"{_keyword(decl['kind'])} {decl['signature']}".strip()
                first = code.split("\n", 1)[0]
                located[decl["name"]] = Location(path, [line, 1], [line, len(decl["name"]) + 1])
                premises.append(
                    {
                        "full_name": decl["name"],
                        "code": code,
                        "start": [line, 1],
                        "end": [line, len(first) + 1],
                        "kind": decl["kind"],
                    }
                )
            self.library[mod["name"]] = located
            self.library_entries[mod["name"]] = {"path": path, "premises": premises}

    def locate(self, ident: Ident) -> Location | None:
        """Where the constant `ident` names is declared; None if it cannot be located."""
        if ident.module is None or ident.module in self.own_modules:
            name = ident.name
            while name:  # `Point.mk` (no binder of its own) is located at `Point`
                if name in self.local:
                    return self.local[name]
                name = name.rpartition(".")[0]
            return None
        return self.library.get(ident.module, {}).get(ident.name)


def _keyword(kind: str) -> str:
    """The keyword that declares a constant of `kind` (none for constructors, recursors)."""
    return {"definition": "def", "theorem": "theorem", "axiom": "axiom", "opaque": "opaque"}.get(
        kind, "inductive" if kind == "inductive" else ""
    )


def annotate(
    text: str, start: tuple[int, int], idents: Iterable[Ident], index: PremiseIndex
) -> tuple[list[Any], int]:
    """LeanDojo's `annotated_tactic` of the tactic `text` that starts at `start`: `<a>…</a>`
    around every identifier in it that names a located constant, left to right, and their
    provenances; with the number of identifiers that could not be located."""
    lines = text.split("\n")

    def offset(pos: tuple[int, int]) -> int | None:
        row = pos[0] - start[0]
        if not 0 <= row < len(lines):
            return None
        col = pos[1] - (start[1] if row == 0 else 0)
        before = sum(len(line) + 1 for line in lines[:row])
        return before + col if 0 <= col <= len(lines[row]) else None

    pieces: list[str] = []
    provenances: list[dict[str, Any]] = []
    cur = 0
    unlocated = 0
    for ident in sorted(idents, key=lambda i: (i.start, i.end)):
        a, b = offset(ident.start), offset(ident.end)
        if ident.binder or a is None or b is None or a < cur or b <= a:
            continue
        location = index.locate(ident)
        if location is None:
            unlocated += 1
            continue
        pieces += [text[cur:a], f"<a>{text[a:b]}</a>"]
        provenances.append(location.provenance(ident.name))
        cur = b
    pieces.append(text[cur:])
    return ["".join(pieces), provenances], unlocated


_ASSIGN = re.compile(r":=")


def own_premises(path: str, text: str, idents: Iterable[Ident], masked: str) -> list[dict]:
    """The `corpus.jsonl` premises of a project file: one per declaration command, named by its
    first declared name, `code` its text (a theorem's up to `:=`), `start`/`end` its span."""
    source = SourceText(text)
    seen: set[tuple[int, int]] = set()
    premises = []
    for ident in sorted(idents, key=lambda i: i.start):
        if not ident.binder or ident.module is not None or ident.cmd_start is None:
            continue
        if ident.cmd_start in seen or ident.cmd_end is None:
            continue
        seen.add(ident.cmd_start)
        span = Span(ident.cmd_start, ident.cmd_end)
        code = source.slice(span)
        if ident.kind == "theorem":
            lo, hi = source.offset(*ident.end), source.offset(*span.end)
            match = _ASSIGN.search(masked, lo, hi)
            if match:
                code = text[source.offset(*span.start) : match.start()].rstrip()
        start, end = span.leandojo()
        premises.append(
            {"full_name": ident.name, "code": code, "start": start, "end": end, "kind": KIND}
        )
    return premises


def corpus_entries(
    files: Mapping[str, tuple[list[str], list[dict]]], index: PremiseIndex
) -> list[dict[str, Any]]:
    """`corpus.jsonl` lines, imported files first: the project's files (`path -> (imported
    modules, premises)`), the library files whose premises are listed, and Lean core's
    `Init.lean`, which every file imports implicitly. A file's library `imports` are the listed
    files it reaches first in Lean's import graph, so the transitive closure ReProver computes
    over the files written is the one Lean has."""
    listed = set(index.library_entries)
    reach: dict[str, set[str]] = {}

    def reachable(mod: str) -> set[str]:  # listed modules reachable from `mod`, without `mod`
        if mod not in reach:
            reach[mod] = set()
            reach[mod] = below(index.graph.get(mod, []))
        return reach[mod]

    def below(imports: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for imp in imports:
            found |= ({imp} & listed) | reachable(imp)
        return found

    def nearest(imports: Iterable[str]) -> list[str]:
        found = below(imports)
        deeper: set[str] = set().union(*(reachable(m) for m in found))
        return [index.library_entries[m]["path"] for m in sorted(found - deeper)]

    own = index.own_modules
    init_path = module_path(INIT_MODULE, own)
    entries: dict[str, dict[str, Any]] = {}
    for mod, entry in index.library_entries.items():
        imports = nearest(index.graph.get(mod, []))
        entries[entry["path"]] = {"path": entry["path"], "imports": imports, **entry}
    if init_path not in entries:
        imports = nearest(index.graph.get(INIT_MODULE, []))
        entries[init_path] = {"path": init_path, "imports": imports, "premises": []}
    for path, (imported, premises) in files.items():
        library = [m for m in imported if m not in own]
        own_imports = [own[m] for m in imported if m in own and own[m] in files]
        imports = list(dict.fromkeys([init_path, *own_imports, *nearest(library)]))
        entries[path] = {"path": path, "imports": imports, "premises": premises}
    order = TopologicalSorter({p: e["imports"] for p, e in entries.items()})
    return [
        {"path": p, "imports": entries[p]["imports"], "premises": entries[p]["premises"]}
        for p in order.static_order()
    ]
