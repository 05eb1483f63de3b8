"""Retrieval examples from an extracted dataset (LeanDojo Benchmark 4 layout, `leancot extract`):
each traced tactic whose `annotated_tactic` names premises gives (state before, the premises),
with its file and theorem so the candidates are the library plus that file's declarations
before the theorem (`corpus.jsonl`), the theorem itself and later ones never among them.
`recall_at` is the recall of a retriever on such examples (ReProver's R@k).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leancot.models.bm25 import Retriever
from leancot.models.premises import Premise, PremiseIndex, corpus_premises

KS = (1, 10)
SPLIT_KIND = "random"  # the dataset's split family used for training and evaluation


@dataclass(frozen=True)
class RetrievalExample:
    """One tactic's premises: the goal state it ran on, the premise names it used, and where."""

    state: str
    positives: tuple[str, ...]
    path: str
    theorem: str


def split_file(dataset_dir: str | Path, split: str, kind: str = SPLIT_KIND) -> Path:
    path = Path(dataset_dir) / kind / f"{split}.json"
    if not path.is_file():
        raise ValueError(
            f"{path}: no such split file (is {dataset_dir} a `leancot extract` dataset?)"
        )
    return path


def retrieval_examples(
    dataset_dir: str | Path, split: str, kind: str = SPLIT_KIND
) -> list[RetrievalExample]:
    """The tactics of `split` that use at least one premise (a theorem never counts itself)."""
    entries = json.loads(split_file(dataset_dir, split, kind).read_text(encoding="utf-8"))
    out = []
    for entry in entries:
        for step in entry.get("traced_tactics", ()):
            annotated = step.get("annotated_tactic") or ["", []]
            names = [p["full_name"] for p in annotated[1] if p["full_name"] != entry["full_name"]]
            if names:
                out.append(
                    RetrievalExample(
                        step["state_before"],
                        tuple(dict.fromkeys(names)),
                        entry["file_path"],
                        entry["full_name"],
                    )
                )
    return out


def dataset_index(dataset_dir: str | Path, library: list[Premise]) -> PremiseIndex:
    """The premise index of a dataset: `library` and the in-file premises of its corpus."""
    corpus = Path(dataset_dir) / "corpus.jsonl"
    if not corpus.is_file():
        raise ValueError(
            f"{corpus}: missing (the dataset's premises, written by `leancot extract`)"
        )
    return PremiseIndex(library, corpus_premises(corpus))


def candidates(index: PremiseIndex, example: RetrievalExample) -> list[Premise]:
    """The premises `example`'s theorem may use: its file's before it, then the library."""
    return index.allowed(path=example.path, before=example.theorem, banned=(example.theorem,))


def recall_at(
    retriever: Retriever,
    index: PremiseIndex,
    examples: Sequence[RetrievalExample],
    ks: Sequence[int] = KS,
) -> dict[str, Any]:
    """`{"recall1": ..., "recall10": ..., "tactics": n, "skipped": m, "coverage": c}`: recall@k
    averaged over the tactics with at least one positive among their candidates (`skipped`
    have none; `coverage` is the share of all positives that are candidates at all)."""
    sums = dict.fromkeys(ks, 0.0)
    counted = skipped = found = total = 0
    for ex in examples:
        allowed = candidates(index, ex)
        names = {p.name for p in allowed}
        positives = {n for n in ex.positives if n in names}
        total += len(ex.positives)
        found += len(positives)
        if not positives:
            skipped += 1
            continue
        counted += 1
        ranked = [p.name for p in retriever.rank(ex.state, allowed, max(ks))]
        for k in ks:
            sums[k] += len(positives & set(ranked[:k])) / len(positives)
    out: dict[str, Any] = {f"recall{k}": (sums[k] / counted if counted else 0.0) for k in ks}
    out.update(tactics=counted, skipped=skipped, coverage=found / total if total else 0.0)
    return out
