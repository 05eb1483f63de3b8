"""The dense premise retriever (ReProver's recipe): one encoder embeds goal states and premises
(mean-pooled, L2-normalised), trained contrastively on the dataset's premise annotations.

For each tactic that names premises (`retriever_data.retrieval_examples`), a batch row is the
state, one of its premises (the positive) and negatives: premises of the same file that the
theorem may use (`in_file_negatives`, the hard ones) and random library premises
(`random_negatives`); every other row's premises are negatives too (in-batch). The loss is
InfoNCE (cross-entropy over cosine similarities / `temperature`). Training runs in transformers'
`Trainer` (checkpoints, resume, logging as the other trainers); the encoder is a tiny BERT built
from a config (no download) or any HF encoder (`--model`). `DenseRetriever.load(dir, premises)`
embeds the premises once and ranks by cosine similarity.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from leancot.files import write_json
from leancot.models.premises import Premise
from leancot.options import option
from leancot.train.config import TrainConfig
from leancot.train.model import TinyModelSpec
from leancot.train.retriever_data import RetrievalExample, candidates, dataset_index

RETRIEVER_META = "leancot_retriever.json"


@dataclass
class RetrieverConfig(TrainConfig):
    """`leancot train retriever`: `data` is one `leancot extract` dataset folder."""

    library: str | None = option(
        None,
        "library premise cache (a premises-*.jsonl that `leancot train retriever` or the search "
        "built); unset: read from the embedded Lean (the core library, Init)",
    )
    in_file_negatives: int = option(3, "negatives per row from the theorem's own file")
    random_negatives: int = option(4, "negatives per row drawn from all candidate premises")
    temperature: float = option(0.05, "softmax temperature of the contrastive loss")
    encoder_hidden: int = option(64, "hidden size of the tiny encoder (no --model)")
    encoder_layers: int = option(2, "layers of the tiny encoder (no --model)")
    max_length: int = option(128, "truncate states and premises to this many tokens")
    num_train_epochs: float = option(20.0, "epochs when max_steps is -1")
    batch_size: int = option(16, "rows per batch (the in-batch negatives)")
    eval_split: str | None = option("val", "split whose recall is reported after training")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.in_file_negatives < 0 or self.random_negatives < 0:
            raise ValueError("negative counts must be >= 0")
        if self.temperature <= 0:
            raise ValueError("`temperature` must be positive")


def build_tiny_encoder(tokenizer: Any, spec: TinyModelSpec | None = None, seed: int = 0) -> Any:
    """A freshly initialised tiny BertModel, sized by `spec` (default `TinyModelSpec()`; no
    download)."""
    import torch
    from transformers import BertConfig, BertModel

    spec = spec or TinyModelSpec()
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        intermediate_size=spec.intermediate_size,
        max_position_embeddings=spec.max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id,
    )
    return BertModel(config)  # its pooler is unused (mean pooling), kept so loading is exact


def _dual_encoder_class() -> type:
    import torch

    class DualEncoder(torch.nn.Module):
        """An encoder whose `forward` embeds token ids: mean over the unmasked positions, L2
        normalised; `save_pretrained` saves the encoder alone."""

        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return torch.nn.functional.normalize(pooled, dim=-1)

        def save_pretrained(self, path: str, **kw: Any) -> None:
            self.encoder.save_pretrained(path, **kw)

    return DualEncoder


def embed_texts(model: Any, tokenizer: Any, texts: Sequence[str], max_length: int, batch=64):
    """The L2-normalised embeddings of `texts` (a float tensor, one row each, in order), no
    gradients; batches of similar lengths (little padding)."""
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = []
    device = next(model.parameters()).device
    with torch.no_grad():
        for i in range(0, len(order), batch):
            enc = tokenizer(
                [texts[j] for j in order[i : i + batch]],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(device)
            out.append(model(enc["input_ids"], enc["attention_mask"]).float().cpu())
    if not out:
        return torch.zeros((0, 1))
    matrix = torch.empty((len(texts), out[0].shape[1]))
    matrix[torch.tensor(order)] = torch.cat(out)
    return matrix


class ContrastiveRows:
    """Training rows (state, positive text, negative texts) drawn afresh per epoch with `seed`:
    each (example, positive premise) pair is one row."""

    def __init__(
        self,
        examples: Sequence[RetrievalExample],
        index: Any,
        *,
        in_file: int,
        random_n: int,
        seed: int,
    ) -> None:
        self.rows: list[dict[str, Any]] = []
        rng = random.Random(seed)
        for ex in examples:
            allowed = candidates(index, ex)
            by_name = {p.name: p for p in allowed}
            positives = [by_name[n] for n in ex.positives if n in by_name]
            local = [p for p in allowed if p.path and p.name not in ex.positives]
            rest = [p for p in allowed if p.name not in ex.positives]
            for pos in positives:
                negs = rng.sample(local, min(in_file, len(local)))
                negs += rng.sample(rest, min(random_n, len(rest)))
                self.rows.append(
                    {
                        "state": ex.state,
                        "positive": pos.text,
                        "positives": sorted({p.text for p in positives}),
                        "negatives": [p.text for p in negs],
                    }
                )

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.rows[i]


def contrastive_collator(tokenizer: Any, max_length: int):
    """Batches of rows as token ids: the states, and every distinct premise text of the batch
    (positives first, one per row, then the negatives) with a mask of each row's positives."""
    import torch

    def tokens(texts: list[str]) -> dict[str, Any]:
        enc = tokenizer(
            texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        )
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}

    def collate(rows: list[dict[str, Any]]) -> dict[str, Any]:
        texts = [r["positive"] for r in rows]
        for r in rows:
            texts += r["negatives"]
        texts = list(dict.fromkeys(texts))
        where = {t: i for i, t in enumerate(texts)}
        target = torch.tensor([where[r["positive"]] for r in rows])
        other_positive = torch.zeros((len(rows), len(texts)), dtype=torch.bool)
        for i, r in enumerate(rows):
            for t in r["positives"]:
                if t in where and t != r["positive"]:
                    other_positive[i, where[t]] = True
        q, p = tokens([r["state"] for r in rows]), tokens(texts)
        return {
            "query_ids": q["input_ids"],
            "query_mask": q["attention_mask"],
            "premise_ids": p["input_ids"],
            "premise_mask": p["attention_mask"],
            "target": target,
            "other_positive": other_positive,
        }

    return collate


def _trainer_class(temperature: float) -> type:
    import torch
    from transformers import Trainer

    class ContrastiveTrainer(Trainer):
        """InfoNCE over each batch's premises; a row's other positives are masked out."""

        def compute_loss(self, model, inputs, return_outputs=False, **kw):  # noqa: ANN001
            q = model(inputs["query_ids"], inputs["query_mask"])
            p = model(inputs["premise_ids"], inputs["premise_mask"])
            logits = q @ p.T / temperature
            logits = logits.masked_fill(inputs["other_positive"], float("-inf"))
            loss = torch.nn.functional.cross_entropy(logits, inputs["target"])
            return (loss, {"logits": logits}) if return_outputs else loss

    return ContrastiveTrainer


def load_encoder(config: RetrieverConfig, tokenizer: Any) -> Any:
    if config.model is None:
        spec = TinyModelSpec(
            hidden_size=config.encoder_hidden,
            num_layers=config.encoder_layers,
            num_heads=4 if config.encoder_hidden % 4 == 0 else 1,
            intermediate_size=4 * config.encoder_hidden,
            max_position_embeddings=max(config.max_length, 128),
        )
        return build_tiny_encoder(tokenizer, spec, seed=config.seed)
    from transformers import AutoModel

    return AutoModel.from_pretrained(config.model)


def main(config: RetrieverConfig, *, library: Sequence[Premise]) -> Any:
    """Train a dense retriever on `config.data`'s train split (the library premises given),
    report recall on `eval_split`, write the encoder, tokenizer and `leancot_retriever.json`."""
    from transformers import TrainingArguments

    from leancot.train import runner
    from leancot.train.retriever_data import recall_at, retrieval_examples

    dataset = config.data[0]
    index = dataset_index(dataset, list(library))
    examples = retrieval_examples(dataset, config.split)
    rows = ContrastiveRows(
        examples,
        index,
        in_file=config.in_file_negatives,
        random_n=config.random_negatives,
        seed=config.seed,
    )
    if not len(rows):
        raise ValueError(f"{dataset}: no tactic of split {config.split!r} names a premise")
    texts = [r["state"] for r in rows.rows] + [p.text for p in index.library[:20000]]
    texts += [p.text for ps in index.files.values() for p in ps]
    tokenizer = runner.prepare_tokenizer(config, texts)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    model = _dual_encoder_class()(load_encoder(config, tokenizer))
    args = TrainingArguments(
        **config.trainer_kwargs(TrainingArguments), remove_unused_columns=False
    )
    trainer = _trainer_class(config.temperature)(
        model=model,
        args=args,
        train_dataset=rows,
        data_collator=contrastive_collator(tokenizer, config.max_length),
        processing_class=tokenizer,
    )
    eval_examples = retrieval_examples(dataset, config.eval_split) if config.eval_split else []
    meta = {"kind": "dense", "pooling": "mean", "max_length": config.max_length}

    Path(config.output_dir).mkdir(parents=True, exist_ok=True)
    write_json(Path(config.output_dir) / RETRIEVER_META, meta)  # the run's leancot_train.json,
    # written last, marks it complete

    def evaluate(final: Any) -> dict[str, Any]:
        dense = DenseRetriever(final, tokenizer, config.max_length, index_premises(index))
        return recall_at(dense, index, eval_examples)

    return runner.train_and_record(
        trainer,
        config,
        "retriever",
        inputs={"dataset": str(dataset)},
        train_rows=rows.rows,
        eval_rows=[asdict(e) for e in eval_examples],
        evaluate=evaluate,
    )


def index_premises(index: Any) -> list[Premise]:
    """Every premise of an index (library and files), once."""
    return [*index.library, *(p for ps in index.files.values() for p in ps)]


class DenseRetriever:
    """Cosine similarity between a state's embedding and the premises' (embedded once)."""

    name = "dense"

    def __init__(
        self, model: Any, tokenizer: Any, max_length: int, premises: Sequence[Premise]
    ) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.premises = list({(p.name, p.text): p for p in premises}.values())
        self.ids = {(p.name, p.text): i for i, p in enumerate(self.premises)}
        self.matrix = embed_texts(model, tokenizer, [p.text for p in self.premises], max_length)
        self._last: tuple[Sequence[Premise], list[Premise], Any] | None = None

    @classmethod
    def load(cls, path: str | Path, premises: Sequence[Premise], device: str = "cpu"):
        """The retriever `leancot train retriever` wrote to `path`, over `premises`."""
        from transformers import AutoModel, AutoTokenizer

        meta_path = Path(path) / RETRIEVER_META
        if not meta_path.is_file():
            raise ValueError(f"{path}: not a dense retriever (no {RETRIEVER_META})")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        tokenizer.padding_side = "right"
        encoder = AutoModel.from_pretrained(str(path)).to(device)
        return cls(_dual_encoder_class()(encoder), tokenizer, int(meta["max_length"]), premises)

    def add(self, premises: Sequence[Premise]) -> None:
        """Embed the premises of `premises` not embedded yet (rankings of others unchanged)."""
        import torch

        keys = {(p.name, p.text): p for p in premises if (p.name, p.text) not in self.ids}
        fresh = list(keys.values())
        if not fresh:
            return
        rows = embed_texts(self.model, self.tokenizer, [p.text for p in fresh], self.max_length)
        for p in fresh:
            self.ids[(p.name, p.text)] = len(self.premises)
            self.premises.append(p)
        self.matrix = torch.cat([self.matrix, rows]) if len(self.matrix) else rows
        self._last = None

    def _known(self, allowed: Sequence[Premise]) -> tuple[list[Premise], Any]:
        """The embedded premises of `allowed` and their rows' indices; the last list asked is
        remembered (a theorem's searches ask with the same list at every state)."""
        import torch

        last = self._last
        if last is not None and last[0] is allowed:
            return last[1], last[2]
        known, rows = [], []
        for p in allowed:
            i = self.ids.get((p.name, p.text))
            if i is not None:
                known.append(p)
                rows.append(i)
        index = torch.tensor(rows, dtype=torch.long)
        self._last = (allowed, known, index)
        return known, index

    def scores(self, state: str, allowed: Sequence[Premise]) -> list[float]:
        """The cosine similarity of `state` with each premise of `allowed` (all embedded)."""
        import torch

        ids = torch.tensor([self.ids[(p.name, p.text)] for p in allowed], dtype=torch.long)
        return self._scores(state, ids).tolist()

    def _scores(self, state: str, index: Any) -> Any:
        query = embed_texts(self.model, self.tokenizer, [state], self.max_length)[0]
        return self.matrix[index] @ query

    def rank(self, state: str, allowed: Sequence[Premise], k: int) -> list[Premise]:
        """The `k` best of `allowed` (those embedded), best first; ties keep `allowed`'s order."""
        import torch

        known, index = self._known(allowed)
        if not known or k < 1:
            return []
        scores = self._scores(state, index)
        if len(known) > k:  # every index scoring at least the k-th best, then a stable order
            kth = torch.topk(scores, k).values[-1]
            near = torch.nonzero(scores >= kth).flatten().tolist()
        else:
            near = list(range(len(known)))
        values = scores[near].tolist() if near else []
        order = sorted(range(len(near)), key=lambda j: (-values[j], near[j]))[:k]
        return [known[near[j]] for j in order]
