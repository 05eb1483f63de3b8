"""Lexical premise retrieval: `BM25Retriever`, BM25 (the `bm25s` library) over the premises'
words (`premise_words`), and the `Retriever` protocol the dense retriever
(`leancot.train.retriever.DenseRetriever`) follows too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from leancot.models.premises import Premise, premise_words


class Retriever(Protocol):
    """Ranks premises for a state: the best `k` of `allowed`, best first."""

    def rank(self, state: str, allowed: Sequence[Premise], k: int) -> list[Premise]: ...


def premise_key(p: Premise) -> tuple[str, str]:
    return (p.name, p.text)


class BM25Retriever:
    """BM25 (Lucene variant, `bm25s`) over the words of `premises`; `rank` scores only the
    allowed ones (a weight mask), so every theorem shares one index."""

    name = "bm25"

    def __init__(self, premises: Sequence[Premise], *, k1: float = 1.5, b: float = 0.75) -> None:
        import bm25s
        import numpy as np

        self.premises = list({premise_key(p): p for p in premises}.values())
        if not self.premises:
            raise ValueError("BM25 needs at least one premise to index")
        self.ids = {premise_key(p): i for i, p in enumerate(self.premises)}
        self._np = np
        self.bm25 = bm25s.BM25(k1=k1, b=b)
        words = [premise_words(p.text) or ["<empty>"] for p in self.premises]
        self.bm25.index(words, show_progress=False)

    def scores(self, state: str, allowed: Sequence[Premise]) -> list[float]:
        np = self._np
        mask = np.zeros(len(self.premises), dtype="float32")
        ids = [self.ids[premise_key(p)] for p in allowed]
        mask[ids] = 1.0
        query = [w for w in premise_words(state) if w in self.bm25.vocab_dict]
        if not query:
            return [0.0] * len(ids)
        scores = self.bm25.get_scores(query, weight_mask=mask)
        return [float(scores[i]) for i in ids]

    def rank(self, state: str, allowed: Sequence[Premise], k: int) -> list[Premise]:
        allowed = [p for p in allowed if premise_key(p) in self.ids]
        scores = self.scores(state, allowed)
        order = sorted(range(len(allowed)), key=lambda i: -scores[i])
        return [allowed[i] for i in order[:k]]
