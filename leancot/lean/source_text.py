"""Lean source text, read without Lean: headers, declarations, and proof texts put together.

Text-level helpers for the verifier (verify.py) and for tools that index files (the extractor):
`split_header` (the import lines), `find_declarations` (a text-level approximation; verification
asks Lean), `assemble` (a statement and its proof), `reference_text` (a statement with a `sorry`
proof), `unencodable` / `read_lean_file` (text that cannot go to Lean as UTF-8).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from leancot.lean.screen import mask

THEOREM_KINDS = ("theorem", "lemma")
_DECL_KINDS = "theorem|lemma|def|abbrev|instance|example|opaque|axiom|structure|inductive|class"

_DECL = re.compile(
    r"^[ \t]*(?:@\[[^\]]*\][ \t]*)*(?:(?:private|protected|noncomputable|nonrec|partial|unsafe)"
    rf"[ \t]+)*({_DECL_KINDS})(?![\w'])[ \t]*([^\s(\[{{:⦃]*)",
    re.M,
)
_SCOPE = re.compile(
    r"^[ \t]*(?:noncomputable[ \t]+)?(namespace|section|end|mutual)(?![\w'])"
    r"[ \t]*([^\s]*)",
    re.M,
)
_NAME = re.compile(r"(?:«[^»\n]*»|[^\s(\[{:⦃«])+")  # a declaration name, «»-quoted parts too
_HEADER_LINE = re.compile(r"\s*(?:(?:(?:public|meta|private)\s+)*import\s.*|prelude|module)?\s*")


@dataclass(frozen=True)
class Declaration:
    kind: str
    name: str  # qualified by the enclosing namespaces; "" for `example`/anonymous instances
    line: int  # 1-based


def find_declarations(masked: str, source: str | None = None) -> list[Declaration]:
    """Top-level declarations of a masked text, with names qualified by `namespace` blocks.

    `source`, the unmasked text (`mask` keeps offsets), gives names with «»-quoted parts, which
    masking blanks. A text-level approximation for tools that index files (the extractor);
    verification asks Lean.
    """
    events = sorted(
        [(m.start(), "scope", m) for m in _SCOPE.finditer(masked)]
        + [(m.start(), "decl", m) for m in _DECL.finditer(masked)],
        key=lambda e: e[0],
    )
    stack: list[tuple[str, str]] = []
    decls = []
    for offset, what, m in events:
        kind, name = m.group(1), m.group(2)
        if source is not None and what == "decl" and name is not None:
            quoted = _NAME.match(source, m.start(2))
            name = quoted.group(0) if quoted else name
        if what == "scope":
            if kind == "end":
                if stack:
                    stack.pop()
            else:
                stack.append((kind, name if kind != "mutual" else ""))
            continue
        if name.startswith("_root_."):
            full = name[len("_root_.") :]
        else:
            prefix = ".".join(n for k, n in stack if k == "namespace" and n)
            full = f"{prefix}.{name}" if prefix and name else name
        decls.append(Declaration(kind, full, masked.count("\n", 0, offset) + 1))
    return decls


def split_header(text: str) -> tuple[str, str]:
    """(leading import lines, the rest); comments before and between imports stay in the header."""
    masked = mask(text)
    lines = text.splitlines(keepends=True)
    masked_lines = masked.splitlines(keepends=True)
    k = 0
    while (
        k < len(lines)
        and _HEADER_LINE.fullmatch(masked_lines[k].rstrip("\n"))
        and not lines[k].lstrip().startswith(("/--", "/-!"))  # a doc comment starts the body
    ):
        k += 1
    return "".join(lines[:k]), "".join(lines[k:])


def assemble(statement: str, proof: str) -> str:
    """The declaration text: `proof` is what follows `:=` (`by ...` or a term), or starts with
    `:=` or `|`; a statement ending in `:= by` takes tactic lines as the proof."""
    s = statement.rstrip()
    p = proof.strip("\n").rstrip()
    if p.lstrip().startswith("|") and "\n" in p:  # equations on their own lines, as written
        return f"{s}\n{p}"
    if re.search(r":=\s*by$", s):
        return f"{s}\n{p}" if "\n" in p or p.startswith(" ") else f"{s} {p}"
    p = p.strip()
    if s.endswith(":=") or p.startswith((":=", "|")):
        return f"{s} {p}"
    return f"{s} := {p}"


def reference_text(statement: str) -> str:
    """The statement with a `sorry` proof: elaborated alone, it gives the expected type."""
    s = statement.rstrip()
    return f"{s} sorry" if re.search(r":=(\s*by)?$", s) else f"{s} := sorry"


def unencodable(text: str) -> str | None:
    """Why `text` cannot be sent to Lean as UTF-8 (a lone surrogate, say), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        line = text.count("\n", 0, e.start) + 1
        return f"not valid Unicode text: {e.reason} at offset {e.start} (line {line})"
    return None


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n")


def read_lean_file(path: Path) -> str:
    """The file's text; a ValueError naming the file and byte offset if it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValueError(
            f"{path}: not valid UTF-8 at byte offset {e.start} (line {line})"
        ) from None
