"""Process reward model: token classification with a label on each step's separator token.

Rows are TRL's stepwise rows `{prompt, completions, labels}` (`rows.prm_rows_*`), read
unchanged. They are tokenized here with `encode_prm` (leancot/models/prompts.py), the same
function `HFPRM` uses at inference, so label positions match exactly: BOS (when the tokenizer has
one), the prompt, then each step followed by `STEP_SEPARATOR`, its label on the separator's last
token, everything else IGNORE; rows longer than `max_length` are cut at the end and lose the
labels of the steps cut off (the layout of TRL's former PRMTrainer, so checkpoints are
interchangeable). Training is a plain `transformers.Trainer` with `step_label_loss` as its
`compute_loss_func`: cross-entropy on the label tokens (hard 0/1 labels) or a soft
cross-entropy against P(good) (Monte-Carlo labels), normalised over every label token of the
accumulated batch.

Pitfall guarded here: `datasets.map` writing `labels` over a `list[bool]` column keeps the bool
type, so -100 would silently become True. `tokenize_prm_dataset` always passes explicit int64 /
float32 `Features`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leancot.models.prompts import STEP_SEPARATOR, encode_prm
from leancot.options import option
from leancot.train.config import TrainConfig
from leancot.train.runner import TrainResult

IGNORE = -100


def _list_feature(dtype: str) -> Any:
    import datasets

    seq = getattr(datasets, "List", None) or datasets.Sequence  # List since datasets 4
    return seq(datasets.Value(dtype))


def prm_features(soft: bool) -> Any:
    """Explicit dataset features: int64 ids and int64 (or float32, soft) labels."""
    from datasets import Features

    return Features(
        {
            "input_ids": _list_feature("int64"),
            "labels": _list_feature("float32" if soft else "int64"),
        }
    )


def tokenize_prm_dataset(
    dataset: Any, tokenizer: Any, *, max_length: int, soft: bool, last_only: bool = False
) -> Any:
    """Map stepwise rows to `input_ids` / `labels` (IGNORE except on label tokens; with
    `last_only`, only on the last step's)."""

    def encode(row: dict[str, Any]) -> dict[str, Any]:
        ids, positions = encode_prm(tokenizer, row["prompt"], row["completions"], max_length)
        labels: list[Any] = [IGNORE] * len(ids)
        pairs = list(zip(positions, row["labels"], strict=False))
        for pos, value in pairs[-1:] if last_only else pairs:
            labels[pos] = float(value) if soft else int(bool(value))
        return {"input_ids": ids, "labels": labels}

    return dataset.map(
        encode,
        remove_columns=dataset.column_names,
        features=prm_features(soft),
        desc="Tokenizing PRM rows",
    )


def rows_dataset(rows: list[dict[str, Any]], soft: bool) -> Any:
    """A datasets.Dataset of stepwise rows with labels typed bool (hard) or float32 (soft)."""
    from datasets import Dataset, Features, Value

    features = Features(
        {
            "prompt": Value("string"),
            "completions": _list_feature("string"),
            "labels": _list_feature("float32" if soft else "bool"),
        }
    )
    return Dataset.from_list(
        [{k: r[k] for k in ("prompt", "completions", "labels")} for r in rows], features=features
    )


@dataclass
class PRMTrainConfig(TrainConfig):
    """PRM training: TrainConfig plus how rows are built."""

    soft_labels: bool = option(False, "train on Monte-Carlo node values instead of 0/1 labels")
    include_step_records: bool = option(True, "add all-good rows from CoT step records")
    include_open_leaves: bool = option(False, "add paths to unexpanded OPEN leaves (good so far)")
    include_accepted: bool = option(
        True, "add every step Lean accepted off the proof path (good), not only rejected ones"
    )
    train_on_last_step_only: bool = option(False, "only the last step of each row carries a label")


def build_rows(
    config: PRMTrainConfig, inputs: Any, split: str | None, *, held_out: bool = False
) -> list[dict[str, Any]]:
    """PRM rows of `split`. `held_out`: rows to evaluate on, from search logs only and with
    every accepted step (step records hold only accepted gold steps, another source)."""
    from leancot.train.rows import prm_rows_from_search_logs, prm_rows_from_steps

    rows = prm_rows_from_search_logs(
        inputs.search_logs,
        split=split,
        soft=config.soft_labels,
        include_open_leaves=config.include_open_leaves,
        include_accepted=config.include_accepted or held_out,
    )
    if config.include_step_records and not held_out:
        extra = prm_rows_from_steps(inputs.steps, split=split)
        if config.soft_labels:
            extra = [{**r, "labels": [float(x) for x in r["labels"]]} for r in extra]
        rows += extra
    return rows


class RightPadCollator:
    """Pads on the right (positions start at 0, as in `HFPRM`), labels with IGNORE; labels are
    int64, or float32 for soft labels. (A default collator follows the tokenizer's padding side,
    which is left for generation.)"""

    def __init__(self, pad_id: int, soft: bool) -> None:
        self.pad_id = pad_id
        self.soft = soft

    def __call__(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        import torch

        width = max(len(b["input_ids"]) for b in batch)

        def pad(seq: Sequence[Any], value: Any) -> list[Any]:
            return list(seq) + [value] * (width - len(seq))

        return {
            "input_ids": torch.tensor([pad(b["input_ids"], self.pad_id) for b in batch]),
            "attention_mask": torch.tensor([pad([1] * len(b["input_ids"]), 0) for b in batch]),
            "labels": torch.tensor(
                [pad(b["labels"], IGNORE) for b in batch],
                dtype=torch.float32 if self.soft else torch.int64,
            ),
        }


def step_label_loss(logits: Any, labels: Any, *, soft: bool, num_items_in_batch: Any = None) -> Any:
    """Cross-entropy of the 2-way (bad, good) `logits` [batch, seq, 2] on the tokens whose label
    is not IGNORE. Hard labels are 0/1 class ids; soft labels are targets P(good) in [0, 1]:
    -(p log q_good + (1 - p) log q_bad). Summed, then divided by `num_items_in_batch` (the label
    tokens of the whole accumulated batch, as the Trainer counts them) or, without it, by this
    batch's label tokens. No label token gives a zero that still has a gradient."""
    from torch.nn import functional as F

    mask = labels != IGNORE
    logp = F.log_softmax(logits.float(), dim=-1)[mask]
    target = labels[mask]
    if soft:
        p = target.float().clamp(0.0, 1.0)
        per_token = -(p * logp[:, 1] + (1 - p) * logp[:, 0])
    else:
        per_token = -logp.gather(1, target.long().unsqueeze(1)).squeeze(1)
    if per_token.numel() == 0:
        return logits.sum() * 0.0
    denominator = num_items_in_batch if num_items_in_batch is not None else per_token.numel()
    return per_token.sum() / denominator


class StepLabelLoss:
    """`compute_loss_func` for `transformers.Trainer`: `step_label_loss` on the model's logits."""

    def __init__(self, soft: bool) -> None:
        self.soft = soft

    def __call__(self, outputs: Any, labels: Any, num_items_in_batch: Any = None) -> Any:
        logits = outputs["logits"] if isinstance(outputs, dict) else outputs[0]
        return step_label_loss(
            logits, labels, soft=self.soft, num_items_in_batch=num_items_in_batch
        )


def disable_dropout(model: Any) -> None:
    """Set every dropout probability to 0 (labels are sparse; dropout only adds noise)."""
    from torch import nn

    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0


def build_trainer(
    config: PRMTrainConfig,
    model: Any,
    tokenizer: Any,
    train_set: Any,
    *,
    callbacks: Sequence[Any] = (),
) -> Any:
    """A `transformers.Trainer` for the token classifier on a tokenized PRM dataset (LoRA
    adapters added when `config.lora_r > 0`)."""
    from transformers import Trainer, TrainingArguments

    from leancot.train import runner

    peft_config = runner.lora_config(config, "TOKEN_CLS")
    if peft_config is not None:
        from peft import get_peft_model

        model = get_peft_model(model, peft_config)
    disable_dropout(model)
    args = TrainingArguments(
        **config.trainer_kwargs(TrainingArguments), remove_unused_columns=False
    )
    return Trainer(
        model=model,
        args=args,
        train_dataset=train_set,
        processing_class=tokenizer,
        data_collator=RightPadCollator(tokenizer.pad_token_id, config.soft_labels),
        callbacks=list(callbacks),
        compute_loss_func=StepLabelLoss(config.soft_labels),
    )


def load_prm_model(config: TrainConfig, tokenizer: Any) -> Any:
    """The tiny token classifier, or `config.model` (e.g. an SFT policy) with a 2-label head."""
    from leancot.train.model import build_tiny_token_classifier, tiny_spec

    if config.model is None:
        return build_tiny_token_classifier(tokenizer, tiny_spec(config.tiny_size), seed=config.seed)
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(
        config.model, num_labels=2, id2label={0: "bad", 1: "good"}, label2id={"bad": 0, "good": 1}
    )
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model


def main(config: PRMTrainConfig, *, callbacks: Sequence[Any] = ()) -> TrainResult:
    """Build PRM rows, train (resuming if a checkpoint exists), save, evaluate, write metadata."""
    from leancot.train import runner
    from leancot.train.data import load_inputs

    inputs = load_inputs(config.data)
    rows = build_rows(config, inputs, config.split)
    if not rows:
        raise ValueError(f"no PRM rows in split {config.split!r} of {config.data}")
    eval_rows = []
    if config.eval_split:
        eval_rows = build_rows(config, inputs, config.eval_split, held_out=True)
        eval_rows = eval_rows[: config.eval_max_rows]
    texts = (r["prompt"] + STEP_SEPARATOR.join(r["completions"]) for r in rows)
    tokenizer = runner.prepare_tokenizer(config, texts)
    model = load_prm_model(config, tokenizer)
    train_set = tokenize_prm_dataset(
        rows_dataset(rows, config.soft_labels),
        tokenizer,
        max_length=config.max_length,
        soft=config.soft_labels,
        last_only=config.train_on_last_step_only,
    )
    trainer = build_trainer(config, model, tokenizer, train_set, callbacks=callbacks)

    def evaluate(final: Any) -> dict[str, Any]:
        from leancot.models.hf import HFPRM
        from leancot.train.prm_eval import evaluate_prm
        from leancot.train.rows import prm_candidates

        prm = HFPRM(final, tokenizer, max_length=config.max_length)
        candidates = prm_candidates(eval_rows)
        return evaluate_prm(prm, candidates, train=prm_candidates(rows), seed=config.seed).to_dict()

    return runner.train_and_record(
        trainer,
        config,
        "prm",
        inputs=inputs.digests,
        train_rows=rows,
        eval_rows=eval_rows,
        evaluate=evaluate,
    )


__all__ = [
    "PRMTrainConfig",
    "StepLabelLoss",
    "build_trainer",
    "main",
    "step_label_loss",
    "tokenize_prm_dataset",
]
