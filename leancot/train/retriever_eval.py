"""Recall of premise retrievers on held-out tactics (ReProver's R@k): for each tactic that names
premises, the fraction of those premises (the ones among its theorem's candidates) that the
retriever ranks in its top k, averaged over tactics.

`retrieval_recalls` compares BM25 with a trained dense retriever on one split (the corpus
`test` split by default, never trained or tuned on): `bm25_recall1`, `bm25_recall10`,
`retriever_recall1`, `retriever_recall10` (benchmarks/retrieval.py prints them), and the
popularity baseline's `frequency_recall1`, `frequency_recall10` (`FrequencyRetriever`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from leancot.models.bm25 import BM25Retriever
from leancot.models.premises import Premise
from leancot.train.retriever_data import dataset_index, recall_at, retrieval_examples

__all__ = ["FrequencyRetriever", "measure_retrievers", "recall_at", "retrieval_recalls"]


class FrequencyRetriever:
    """The popularity baseline: premises ranked by how many train tactics name them, then by
    BM25 (what a learned retriever must beat besides BM25: much of what it learns is which
    premises are common)."""

    name = "frequency"

    def __init__(self, train: Sequence[Any], bm25: BM25Retriever) -> None:
        self.counts = Counter(n for ex in train for n in ex.positives)
        self.bm25 = bm25

    def rank(self, state: str, allowed: Sequence[Premise], k: int) -> list[Premise]:
        allowed = [p for p in allowed if (p.name, p.text) in self.bm25.ids]
        lexical = self.bm25.scores(state, allowed)
        order = sorted(
            range(len(allowed)), key=lambda i: (-self.counts[allowed[i].name], -lexical[i])
        )
        return [allowed[i] for i in order[:k]]


def retrieval_recalls(
    dataset_dir: str | Path,
    library: Sequence[Premise],
    retriever_dir: str | Path | None,
    *,
    split: str = "test",
) -> dict[str, Any]:
    """BM25's and (with `retriever_dir`) the dense retriever's recall@1/@10 on `split`."""
    from leancot.train.retriever import DenseRetriever, index_premises

    index = dataset_index(dataset_dir, list(library))
    examples = retrieval_examples(dataset_dir, split)
    if not examples:
        raise ValueError(f"{dataset_dir}: no tactic of split {split!r} names a premise")
    premises = index_premises(index)
    lexical = BM25Retriever(premises)
    bm25 = recall_at(lexical, index, examples)
    train = retrieval_examples(dataset_dir, "train")
    frequency = recall_at(FrequencyRetriever(train, lexical), index, examples)
    out: dict[str, Any] = {
        "split": split,
        "tactics": bm25["tactics"],
        "coverage": bm25["coverage"],
        "premises": len(premises),
        "bm25_recall1": bm25["recall1"],
        "bm25_recall10": bm25["recall10"],
        "frequency_recall1": frequency["recall1"],
        "frequency_recall10": frequency["recall10"],
    }
    if retriever_dir is not None:
        dense = recall_at(DenseRetriever.load(retriever_dir, premises), index, examples)
        out.update(retriever_recall1=dense["recall1"], retriever_recall10=dense["recall10"])
    return out


def measure_retrievers(
    dataset_dir: str | Path,
    library: Sequence[Premise],
    work_dir: str | Path,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    split: str = "test",
    progress: bool = False,
    **train: Any,
) -> dict[str, Any]:
    """Train a dense retriever per seed on `dataset_dir`'s train split (`work_dir/seed-N`,
    resumed if there; `train`: more `RetrieverConfig` fields) and compare it with BM25 on
    `split`: `bm25_recall1/10`, `retriever_recall1/10` (means over the seeds), `per_seed`."""
    from leancot.train.retriever import RetrieverConfig
    from leancot.train.retriever import main as train_retriever

    runs = []
    for seed in seeds:
        out = Path(work_dir) / f"seed-{seed}"
        fields = {"eval_split": None, **train}  # `split` is measured below, once
        config = RetrieverConfig(
            data=[str(dataset_dir)], output_dir=str(out), seed=seed, progress=progress, **fields
        )
        result = train_retriever(config, library=library)
        recalls = retrieval_recalls(dataset_dir, library, out, split=split)
        runs.append({"seed": seed, "steps": result.metrics.get("global_step"), **recalls})
    mean = {
        key: sum(r[key] for r in runs) / len(runs)
        for key in ("retriever_recall1", "retriever_recall10")
    }
    first = runs[0]
    return {
        "split": split,
        "tactics": first["tactics"],
        "coverage": first["coverage"],
        "premises": first["premises"],
        "bm25_recall1": first["bm25_recall1"],
        "bm25_recall10": first["bm25_recall10"],
        "frequency_recall1": first["frequency_recall1"],
        "frequency_recall10": first["frequency_recall10"],
        **mean,
        "seeds": list(seeds),
        "per_seed": [
            {k: r[k] for k in ("seed", "steps", "retriever_recall1", "retriever_recall10")}
            for r in runs
        ],
    }
