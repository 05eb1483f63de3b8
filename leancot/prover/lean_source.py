"""Theorems found in Lean source text: `parse_theorems` lists a file's `theorem`/`lemma`
declarations with a `:=` proof, and `file_context` gives the text a declaration is elaborated in
(the file before it, without a dangling doc comment or attribute).

The benchmark loaders (`benchmarks.load_bundled`, `load_leandojo_split`) take statements and
headers from here; comments and strings are masked first (`leancot.lean.screen.mask`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from leancot.lean.screen import mask
from leancot.lean.verify import THEOREM_KINDS, find_declarations
from leancot.translate.goals import top_level_matches

_TRAILING_MODIFIER = re.compile(
    r"(?:@\[[^\]]*\]|\b(?:private|protected|noncomputable|nonrec|partial|unsafe))\s*$"
)


def file_context(text: str, line: int) -> str:
    """The text of a file before its 1-based `line` (where a declaration starts): the context a
    statement on that line is elaborated in, without a dangling doc comment or attribute."""
    offset = 0
    for _ in range(line - 1):
        nxt = text.find("\n", offset)
        if nxt < 0:
            return text
        offset = nxt + 1
    masked = mask(text[:offset])
    end = len(masked.rstrip())
    while True:
        m = _TRAILING_MODIFIER.search(masked, 0, end)
        if m is None:
            break
        end = len(masked[: m.start()].rstrip())
    prefix = text[:end]
    return prefix + "\n" if prefix else ""


def _statement_end(masked: str, start: int, stop: int) -> int | None:
    """Offset of the first `:=` outside brackets in masked[start:stop] (None: none there)."""
    found = next(top_level_matches(masked[start:stop], ":="), None)
    return None if found is None else start + found


@dataclass(frozen=True)
class FileTheorem:
    """A theorem found in a Lean file: qualified name, statement text, 1-based line, and the
    proof text after `:=` (up to the next declaration)."""

    full_name: str
    statement: str
    line: int
    proof: str = ""


def parse_theorems(text: str) -> list[FileTheorem]:
    """The `theorem`/`lemma` declarations of a Lean file with a `:=` proof, in order."""
    masked = mask(text)
    starts = [0]
    for ln in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(ln))
    decls = find_declarations(masked, text)
    found = []
    for i, decl in enumerate(decls):
        if decl.kind not in THEOREM_KINDS or not decl.name:
            continue
        start = starts[decl.line - 1]
        stop = starts[decls[i + 1].line - 1] if i + 1 < len(decls) else len(text)
        end = _statement_end(masked, start, stop)
        if end is None:  # defined by pattern matching, or not parsable: not a benchmark item
            continue
        proof = text[end + 2 : stop].strip()
        found.append(FileTheorem(decl.name, text[start:end].strip(), decl.line, proof))
    return found
