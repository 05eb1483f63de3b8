"""Turn the REPL's traced tactics (`"allTactics": true`, see lean_project/LeanCot/Repl.lean) into
theorem entries in LeanDojo Benchmark 4 layout.

The REPL reports every tactic node of the info trees: structural ones (`by`, tactic sequences,
induction alternatives) and macro expansions (`rfl` expanding to `eq_refl`) included. A traced step
is a node that is not structural and whose source span no outer step already covers exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from leancot.formats import NO_GOALS
from leancot.lean.results import TracedTactic
from leancot.lean.screen import mask
from leancot.lean.source_text import find_declarations

BY_BLOCK = "Lean.Parser.Term.byTactic"
STRUCTURAL_KINDS = frozenset(
    {
        BY_BLOCK,
        "by",
        "null",
        "Lean.Parser.Tactic.tacticSeq",
        "Lean.Parser.Tactic.tacticSeq1Indented",
        "Lean.Parser.Tactic.tacticSeqBracketed",
        "Lean.Parser.Tactic.inductionAlt",
        "Lean.Parser.Tactic.inductionAlts",
        "Lean.cdot",
        "Lean.cdotTk",
        "Lean.Parser.Tactic.paren",
        "Lean.Parser.Tactic.seq1",
        "Lean.Parser.Tactic.case",
        "Lean.calcSteps",
        # pieces of other tactics' syntax that carry tactic info: `rw`'s closing `rfl` sits on
        # the `]` token, `rintro`/`obtain` patterns on identifiers and anonymous constructors
        "]",
        "ident",
        "Lean.Parser.Term.hole",
        "Lean.Parser.Term.anonymousCtor",
    }
)
_WORDY = re.compile(r"[^\W\d]")  # a letter or underscore somewhere in the text


@dataclass(frozen=True)
class Span:
    """A source range as Lean reports it: lines 1-based, columns 0-based code points."""

    start: tuple[int, int]
    end: tuple[int, int]

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end

    def leandojo(self) -> tuple[list[int], list[int]]:
        """(start, end) as LeanDojo writes positions: lines and columns both 1-based."""
        return [self.start[0], self.start[1] + 1], [self.end[0], self.end[1] + 1]

    @staticmethod
    def of(node: Mapping[str, Any]) -> Span:
        pos, end = node["pos"], node["endPos"]
        return Span((pos["line"], pos["column"]), (end["line"], end["column"]))


class SourceText:
    """A file's text addressed by Lean positions."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def offset(self, line: int, column: int) -> int:
        if not 1 <= line <= len(self.line_starts):
            raise ValueError(f"line {line} is outside the file ({len(self.line_starts)} lines)")
        return self.line_starts[line - 1] + column

    def slice(self, span: Span) -> str:
        return self.text[self.offset(*span.start) : self.offset(*span.end)]


def tactic_node(t: TracedTactic) -> dict[str, Any]:
    """A traced tactic as the REPL's JSON has it (the shape the functions here read)."""
    end_line = t.line if t.end_line is None else t.end_line
    end_column = t.column if t.end_column is None else t.end_column
    return {
        "kind": t.kind,
        "decl": t.decl,
        "pos": {"line": t.line, "column": t.column},
        "endPos": {"line": end_line, "column": end_column},
        "goalsBefore": list(t.goals_before),
        "goalsAfter": list(t.goals_after),
    }


def state_text(goals: Iterable[str]) -> str:
    """LeanDojo's state string: goals separated by blank lines, `no goals` when none remain."""
    goals = list(goals)
    return "\n\n".join(goals) if goals else NO_GOALS


def traced_steps(source: SourceText, nodes: list[Mapping[str, Any]], block: Span) -> list[dict]:
    """The traced tactic steps of one proof, in source order, with their nesting depth."""
    steps: list[dict] = []
    kept: list[Span] = []
    for node in nodes:
        if node["kind"] in STRUCTURAL_KINDS:
            continue
        span = Span.of(node)
        if not block.contains(span) or span.start == span.end or span in kept:
            continue
        text = source.slice(span)
        if not _WORDY.search(text):  # a bare token such as `<;>` that a macro expansion carries
            continue
        depth = sum(1 for outer in kept if outer.contains(span))
        kept.append(span)
        steps.append(
            {
                "tactic": text,
                "state_before": state_text(node["goalsBefore"]),
                "state_after": state_text(node["goalsAfter"]),
                "depth": depth,
                "kind": node["kind"],
                "start": span.leandojo()[0],
                "end": span.leandojo()[1],
            }
        )
    return steps


def keep_step(step: Mapping[str, Any]) -> bool:
    """LeanDojo's export rule: a step on `no goals`, or whose text contains a focusing dot `·`
    (a compound step whose parts are traced as well), is not written."""
    return step["state_before"] != NO_GOALS and "·" not in step["tactic"]


def traced_theorems(
    text: str,
    tactics: list[Mapping[str, Any]],
    *,
    file_path: str,
    url: str,
    commit: str,
) -> list[dict]:
    """Theorem entries (LeanDojo Benchmark 4 fields plus `statement`, `proof`) of one file, each
    step with its `start`/`end` but not yet annotated (`premises.annotate` does that)."""
    source = SourceText(text)
    by_decl: dict[str, list[Mapping[str, Any]]] = {}
    for node in tactics:
        if node.get("decl"):
            by_decl.setdefault(node["decl"], []).append(node)
    entries = []
    for decl in find_declarations(mask(text), text):
        if decl.kind not in ("theorem", "lemma") or decl.name not in by_decl:
            continue
        nodes = by_decl[decl.name]
        blocks = [Span.of(n) for n in nodes if n["kind"] == BY_BLOCK]
        if not blocks:
            continue
        block = min(blocks, key=lambda s: s.start)
        start = (decl.line, 0)
        statement = source.text[source.offset(*start) : source.offset(*block.start)]
        statement = re.sub(r"\s*:=\s*$", "", statement).strip()
        entries.append(
            {
                "url": url,
                "commit": commit,
                "file_path": file_path,
                "full_name": decl.name,
                "start": Span(start, block.end).leandojo()[0],
                "end": block.leandojo()[1],
                "statement": statement,
                "proof": source.slice(block),
                "traced_tactics": traced_steps(source, nodes, block),
            }
        )
    return entries
