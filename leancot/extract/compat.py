"""What ReProver's loaders assume of a LeanDojo Benchmark 4 folder, checked in our own code.

Each check names the loader it comes from (docs/LEANDOJO.md lists them with the reasoning);
`leandojo_problems` returns one line per violation, so a test can require none and
`leancot extract` can report them. Positions compare as ReProver's `Pos` does: `(line, column)`
tuples, lexicographically.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from leancot.extract.dataset import SPLITS, STRATEGIES, read_corpus, read_metadata

Pos = tuple[int, int]


def _pos(value: Any) -> Pos | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    return None


class CorpusView:
    """`corpus.jsonl` as ReProver's `common.Corpus` builds it: files in order, premises by file."""

    def __init__(self, entries: Iterable[Mapping[str, Any]]) -> None:
        self.problems: list[str] = []
        self.premises: dict[str, list[tuple[str, Pos, Pos]]] = {}
        self.imports: dict[str, list[str]] = {}
        for entry in entries:
            path = entry["path"]
            if path in self.premises:  # Corpus: assert not dep_graph.has_node(path)
                self.problems.append(f"corpus.jsonl: {path} is listed twice")
            for imported in entry["imports"]:  # Corpus: assert dep_graph.has_node(p)
                if imported not in self.premises:
                    self.problems.append(
                        f"corpus.jsonl: {path} imports {imported}, which is not listed before it"
                    )
            premises = []
            for p in entry["premises"]:
                start, end = _pos(p.get("start")), _pos(p.get("end"))
                # File.from_data skips a premise without a name or code; Premise asserts
                # start <= end
                if not p.get("full_name") or not p.get("code"):
                    continue
                if start is None or end is None or not start <= end:
                    self.problems.append(f"corpus.jsonl: {path}: {p['full_name']} has bad span")
                    continue
                premises.append((p["full_name"], start, end))
            self.premises[path] = premises
            self.imports[path] = list(entry["imports"])

    def locate(self, path: str, pos: Pos) -> str | None:
        """`Corpus.locate_premise`: the first premise of `path` whose span contains `pos`."""
        for name, start, end in self.premises.get(path, ()):
            if start <= pos <= end:
                return name
        return None

    def imported(self, path: str) -> set[str]:
        """The files `path` imports directly or indirectly (`transitive_dep_graph.successors`)."""
        seen: set[str] = set()
        todo = list(self.imports.get(path, ()))
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                todo.extend(self.imports.get(p, ()))
        return seen


def theorem_problems(thm: Mapping[str, Any], where: str, corpus: CorpusView) -> list[str]:
    """The violations of one theorem object."""
    name, path = thm.get("full_name"), thm.get("file_path", "")
    label = f"{where}: {name}"
    problems = []
    if "/" not in path:  # scripts/data_stats.py: file_path.split("/")[1]
        problems.append(f"{label}: file_path {path!r} has no directory")
    if path not in corpus.premises:  # get_accessible_premises / RetrievalDataset negatives
        problems.append(f"{label}: its file {path} is not in corpus.jsonl")
    if _pos(thm.get("start")) is None:  # Context(theorem_pos=Pos(*thm["start"]))
        problems.append(f"{label}: start {thm.get('start')!r} is not [line, column]")
    if not thm.get("url") or not thm.get("commit"):  # LeanGitRepo(thm["url"], thm["commit"])
        problems.append(f"{label}: url and commit must be non-empty")
    reachable = corpus.imported(path) | {path}
    for i, tac in enumerate(thm.get("traced_tactics", ())):
        if "⊢" not in tac["state_before"]:  # common.Context asserts "⊢" in state
            problems.append(f"{label}: tactic {i}: state_before has no ⊢")
        text, provenances = tac["annotated_tactic"]
        if text.count("<a>") != len(provenances):
            problems.append(
                f"{label}: tactic {i} marks {text.count('<a>')} premises, lists {len(provenances)}"
            )
        for prov in provenances:  # get_all_pos_premises: Pos(*prov["def_pos"]), locate_premise
            pos = _pos(prov.get("def_pos"))
            where_ = f"{label}: tactic {i}: {prov.get('full_name')}"
            if pos is None or _pos(prov.get("def_end_pos")) is None:
                problems.append(f"{where_}: def_pos/def_end_pos missing")
                continue
            if corpus.locate(prov.get("def_path", ""), pos) is None:
                problems.append(f"{where_}: not located at {prov.get('def_path')}:{pos}")
            elif prov["def_path"] not in reachable:  # a premise must be accessible
                problems.append(f"{where_}: {prov['def_path']} is not imported by {path}")
    return problems


def span_problems(
    corpus_path: str, premises: Iterable[tuple[str, Pos, Pos]], text: str
) -> list[str]:
    """Premise spans outside the file's text (lines 1-based, columns 1-based, end exclusive+1)."""
    lines = text.split("\n")
    problems = []
    for name, start, end in premises:
        for line, column in (start, end):
            if not (1 <= line <= len(lines) and 1 <= column <= len(lines[line - 1]) + 1):
                problems.append(
                    f"corpus.jsonl: {corpus_path}: {name} spans {start}-{end}, outside the file"
                )
                break
    return problems


def leandojo_problems(
    dataset_dir: str | os.PathLike[str], source_root: str | os.PathLike[str] | None = None
) -> list[str]:
    """Every violation of ReProver's loaders' invariants in a benchmark folder; with
    `source_root` (the repository's checkout) also premise spans outside their source file."""
    out = Path(dataset_dir)
    meta = read_metadata(out)
    problems = []
    repo = meta.get("from_repo")  # RetrievalDataModule: LeanGitRepo(**metadata["from_repo"])
    if not isinstance(repo, Mapping) or set(repo) != {"url", "commit"}:
        problems.append(f"metadata.json: from_repo must be exactly {{url, commit}}, got {repo!r}")
    corpus = CorpusView(read_corpus(out))
    problems += corpus.problems
    if source_root is not None:
        for path, premises in corpus.premises.items():
            file = Path(source_root) / path
            if file.is_file():
                problems += span_problems(path, premises, file.read_text(encoding="utf-8"))
    for strategy in STRATEGIES:
        for split in SPLITS:
            path = out / strategy / f"{split}.json"
            for thm in json.loads(path.read_text(encoding="utf-8")):
                problems += theorem_problems(thm, f"{strategy}/{split}.json", corpus)
    return problems
