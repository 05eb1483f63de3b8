"""Premises as retrieval sees them, shared by the retrievers' training (leancot/train) and the
searches (leancot/prover): a `Premise` (a name and the text retrieval reads), a `PremiseIndex`
(the library's premises and, by file, the in-file ones) and its per-theorem candidates.

The library premises come from Lean (`leancot.prover.premises.library_premises`); the in-file
ones from an extracted dataset's `corpus.jsonl` (`corpus_premises`) or from the text of a file
before a theorem (`header_premises`: the bundled corpus' `Theorem.header`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
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

    def allowed(
        self,
        *,
        path: str | None = None,
        before: str | None = None,
        header: str | None = None,
        banned: Iterable[str] = (),
    ) -> list[Premise]:
        """A theorem's candidates: the library, then its file's declarations before it (those of
        `files[path]` before the name `before`, or those parsed from `header`), none banned."""
        local: list[Premise] = []
        if header is not None:
            local = header_premises(header, path or "")
        elif path is not None:
            for p in self.files.get(path, ()):
                if p.name == before:
                    break
                local.append(p)
        lasts = {_last(b) for b in banned}  # `is_banned`, its sets built once
        if not lasts:
            return [*local, *self.library]
        return [p for p in [*local, *self.library] if _last(p.name) not in lasts]

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
