"""Tactic policy: supervised fine-tuning on Lean-STaR rows with TRL's SFTTrainer.

Rows are `{prompt: state, completion: thought + tactic}`; the loss covers the completion only
(and the EOS token TRL appends), so the model learns to answer a state, not to write states.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from leancot.options import option
from leancot.train.config import TrainConfig
from leancot.train.runner import TrainResult


@dataclass
class PolicyConfig(TrainConfig):
    """Policy SFT: TrainConfig plus where rows come from."""

    include_search_logs: bool = option(True, "add the proof paths of proved search attempts")
    search_log_weight: int = option(
        1,
        "repeat each SFT row from a search log's proof path this many times (after "
        "deduplication), so expert-iteration rows are not drowned by the step records",
    )
    eval_n: int = option(1, "proposals per held-out state in the final evaluation")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.eval_n < 1:
            raise ValueError("`eval_n` must be positive")
        if self.search_log_weight < 1:
            raise ValueError("`search_log_weight` must be a positive integer")


def build_rows(
    inputs: Any, split: str | None, *, include_search_logs: bool = True, search_log_weight: int = 1
) -> list[dict[str, Any]]:
    """SFT rows of `split` from step records and (optionally) proved search attempts, each
    distinct row once; a search-log row that no step record gives is repeated
    `search_log_weight` times (oversampling the expert-iteration data)."""
    from leancot.train.rows import dedupe, sft_rows, sft_rows_from_search_logs

    rows = dedupe(sft_rows(inputs.steps, split=split), ("prompt", "completion"))
    if include_search_logs:
        seen = {(r["prompt"], r["completion"]) for r in rows}
        logged = sft_rows_from_search_logs(inputs.search_logs, split=split)
        fresh = [r for r in logged if (r["prompt"], r["completion"]) not in seen]
        rows += [r for r in fresh for _ in range(search_log_weight)]
    return rows


def load_causal_lm(config: TrainConfig, tokenizer: Any) -> Any:
    """The tiny Llama, or `config.model` from its path / hub id."""
    if config.model is None:
        from leancot.train.model import build_tiny_causal_lm, tiny_spec

        return build_tiny_causal_lm(tokenizer, tiny_spec(config.tiny_size), seed=config.seed)
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(config.model)
    if model.config.pad_token_id is None:
        model.config.pad_token_id = tokenizer.pad_token_id
    return model


def evaluate_after_training(
    config: TrainConfig, model: Any, tokenizer: Any, eval_rows: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """Policy metrics of the final model on held-out SFT rows (None without rows)."""
    if not eval_rows:
        return None
    from leancot.models.hf import HFPolicy
    from leancot.train.evaluate import evaluate_policy

    policy = HFPolicy(model, tokenizer, max_prompt_tokens=config.max_length)
    return evaluate_policy(policy, eval_rows, n=getattr(config, "eval_n", 1)).to_dict()


def train_causal_lm(
    trainer_class: Any,
    args: Any,
    config: TrainConfig,
    kind: str,
    *,
    model: Any,
    tokenizer: Any,
    inputs: Mapping[str, str],
    rows: list[dict[str, Any]],
    eval_rows: list[dict[str, Any]],
    callbacks: Sequence[Any] = (),
) -> TrainResult:
    """Train `model` with a TRL causal-LM trainer (SFT, DPO) on `rows`, then evaluate it as a
    policy on `eval_rows` and record the run (`runner.train_and_record`)."""
    from datasets import Dataset

    from leancot.train import runner

    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=list(callbacks),
        peft_config=runner.lora_config(config, "CAUSAL_LM"),
    )
    return runner.train_and_record(
        trainer,
        config,
        kind,
        inputs=inputs,
        train_rows=rows,
        eval_rows=eval_rows,
        evaluate=lambda final: evaluate_after_training(config, final, tokenizer, eval_rows),
    )


def main(config: PolicyConfig, *, callbacks: Sequence[Any] = ()) -> TrainResult:
    """Build SFT rows, train (resuming if a checkpoint exists), save, evaluate, write metadata."""
    from trl import SFTConfig, SFTTrainer

    from leancot.train import runner
    from leancot.train.data import load_inputs

    inputs = load_inputs(config.data)
    include = config.include_search_logs
    rows = build_rows(
        inputs,
        config.split,
        include_search_logs=include,
        search_log_weight=config.search_log_weight,
    )
    if not rows:
        raise ValueError(f"no SFT rows in split {config.split!r} of {config.data}")
    eval_rows = []
    if config.eval_split:
        eval_rows = build_rows(inputs, config.eval_split, include_search_logs=include)
    eval_rows = eval_rows[: config.eval_max_rows]
    tokenizer = runner.prepare_tokenizer(config, (r["prompt"] + r["completion"] for r in rows))
    model = load_causal_lm(config, tokenizer)
    args = SFTConfig(
        **config.trainer_kwargs(SFTConfig),
        max_length=config.max_length,
        completion_only_loss=True,
        packing=False,
    )
    return train_causal_lm(
        SFTTrainer,
        args,
        config,
        "policy",
        model=model,
        tokenizer=tokenizer,
        inputs=inputs.digests,
        rows=rows,
        eval_rows=eval_rows,
        callbacks=callbacks,
    )
