"""Premises as retrieval sees them, shared by the retrievers' training (leancot/train) and the
searches (leancot/prover): a `Premise` (a name and the text retrieval reads), a `PremiseIndex`
(the library's premises and, by file, the in-file ones) and its per-theorem candidates.

The library premises come from Lean (`leancot.prover.premises.library_premises`); the in-file
ones from an extracted dataset's `corpus.jsonl` (`corpus_premises`) or from the text of a file
before a theorem (`header_premises`: the bundled corpus' `Theorem.header`). A theorem given by
its header is offered only the library premises its imports can name (`header_imports`,
`importable`): `Init` always, `Std` only under `import Std` (or the `Std` modules it imports).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from leancot.lean.screen import mask
from leancot.lean.source_text import find_declarations
from leancot.translate.goals import top_level_matches


@dataclass(frozen=True)
class Premise:
    """A constant a proof may name: `name` as a tactic writes it, `text` what retrieval reads
    (`name : type` for a library constant, the statement for an in-file declaration), `path`
    the file ("" for the library), `kind` and `module`."""

    name: str
    text: str
    kind: str = ""
    path: str = ""
    module: str = ""


def declaration_statements(text: str, path: str = "") -> list[Premise]:
    """The named declarations of a Lean text, each with its statement (up to `:=` or the next
    declaration), in order."""
    masked = mask(text)
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    decls = [d for d in find_declarations(masked, text) if d.name]
    out = []
    for i, decl in enumerate(decls):
        start = starts[decl.line - 1]
        stop = starts[decls[i + 1].line - 1] if i + 1 < len(decls) else len(text)
        found = next(top_level_matches(masked[start:stop], ":="), None)
        end = stop if found is None else start + found
        statement = " ".join(text[start:end].split())
        out.append(Premise(decl.name, statement, decl.kind, path or "<file>"))
    return out


def header_premises(header: str, path: str = "") -> list[Premise]:
    """The premises a theorem's file declares before it (`header`: the file up to the theorem)."""
    return declaration_statements(header, path)


IMPORT_LINE = re.compile(
    r"^[ \t]*(?:(?:public|private)[ \t]+)?(?:meta[ \t]+)?import[ \t]+(?:all[ \t]+)?([^\n]*)", re.M
)
ALWAYS_IMPORTED = "Init"  # every header but a `prelude` file's imports it


def header_imports(header: str) -> tuple[str, ...]:
    """The modules a header's `import` lines name (comments ignored), in order: `import Std`
    gives `("Std",)`, `import Std.Data.HashMap Init.Data` both names, an empty header none."""
    found: list[str] = []
    for line in IMPORT_LINE.findall(mask(header)):
        found += [w for w in line.split() if re.fullmatch(r"[\w'!?]+(?:\.[\w'!?]+)*", w)]
    return tuple(dict.fromkeys(found))


def importable(module: str, imports: Iterable[str]) -> bool:
    """Whether a library premise declared in `module` can be named under a header importing
    `imports`: an `Init` module always (every header imports `Init`), an unknown module ("")
    too, another one when the header imports it or a module above it (`import Std` names every
    `Std.*` module, `import Std.Data.HashMap` the `Std.Data.HashMap.*` ones). A module reached
    only through another's imports (`import Lean` brings parts of `Std`) is not offered: the
    rule errs on the side of premises the statement can surely name."""
    if not module or module.split(".", 1)[0] == ALWAYS_IMPORTED:
        return True
    return any(module == m or module.startswith(m + ".") for m in imports)


def corpus_premises(corpus_jsonl: str | Path) -> dict[str, list[Premise]]:
    """The in-file premises of an extracted dataset's `corpus.jsonl`, by file path, in order."""
    out: dict[str, list[Premise]] = {}
    for line in Path(corpus_jsonl).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        out[entry["path"]] = [
            Premise(p["full_name"], " ".join(p["code"].split()), p.get("kind", ""), entry["path"])
            for p in entry.get("premises", ())
        ]
    return out


def is_banned(name: str, banned: Iterable[str]) -> bool:
    """Whether `name` shares its last component with a banned name (`A.foo` and `foo` for
    `Nat.foo`): the verifier refuses a restated core lemma's proof that names the lemma's last
    component (`prover.core_lemmas.uses_constant`), so such premises would only waste calls."""
    return _last(name) in {_last(b) for b in banned}


def _last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


@dataclass
class PremiseIndex:
    """The library premises and, by file, the in-file ones (in source order)."""

    library: list[Premise]
    files: dict[str, list[Premise]] = field(default_factory=dict)
    _importable: dict[tuple[str, ...], list[Premise]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def allowed(
        self,
        *,
        path: str | None = None,
        before: str | None = None,
        header: str | None = None,
        banned: Iterable[str] = (),
    ) -> list[Premise]:
        """A theorem's candidates: its file's declarations before it (those of `files[path]`
        before the name `before`, or those parsed from `header`), then the library (with a
        `header`, only the premises its imports can name: `importable`), none banned."""
        local: list[Premise] = []
        library = self.library
        if header is not None:
            local = header_premises(header, path or "")
            library = self.importable(header_imports(header))
        elif path is not None:
            for p in self.files.get(path, ()):
                if p.name == before:
                    break
                local.append(p)
        lasts = {_last(b) for b in banned}  # `is_banned`, its sets built once
        if not lasts:
            return [*local, *library]
        return [p for p in [*local, *library] if _last(p.name) not in lasts]

    def importable(self, imports: Sequence[str]) -> list[Premise]:
        """The library premises a header importing `imports` can name (`importable`), computed
        once per set of imports (a benchmark's theorems share a few headers)."""
        key = tuple(sorted(imports))
        found = self._importable.get(key)
        if found is None:
            found = [p for p in self.library if importable(p.module, key)]
            self._importable[key] = found
        return found

    def to_rows(self) -> list[dict[str, Any]]:
        return [asdict(p) for p in [*self.library, *(p for ps in self.files.values() for p in ps)]]


def premise_words(text: str) -> list[str]:
    """Lower-cased words of a premise or state text for lexical retrieval: identifiers split on
    `.` and `_` (kept whole too) and Lean's symbols; one-letter names (bound variables such as
    `n`, `l`, `α`) are left out, as they say nothing about which premise fits."""
    words = []
    for token in re.findall(r"[\w'!?]+(?:\.[\w'!?]+)*|[^\s\w(){}\[\],:]", text):
        low = token.lower()
        parts = [p for p in re.split(r"[._]", low) if len(p) > 1 or p.isdigit()]
        if len(low) > 1 or not low.isalpha():
            words.append(low)
        if len(parts) > 1 or (parts and parts[0] != low):
            words += parts
    return words
