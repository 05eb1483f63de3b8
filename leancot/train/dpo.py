"""Preference tuning of the policy with TRL's DPOTrainer on search-sibling pairs.

Pairs come from search logs (`rows.dpo_pairs_from_search_logs`): at a state on a proof path, the
proof's step is chosen over a sibling step Lean rejected or that led to a dead end. Start from an
SFT policy (`model` = its run folder); the reference model is a frozen copy of it (or, with LoRA,
the base with adapters disabled).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leancot.options import option
from leancot.train.config import TrainConfig
from leancot.train.runner import TrainResult


@dataclass
class DPOTrainConfig(TrainConfig):
    """DPO: TrainConfig plus the DPO loss settings."""

    beta: float = option(0.1, "DPO temperature: how far the policy may move from the reference")
    loss_type: str = option("sigmoid", "TRL DPO loss type (sigmoid, ipo, hinge, ...)")
    max_rejected_per_state: int | None = option(None, "cap on rejected siblings per chosen step")
    eval_n: int = option(1, "proposals per held-out state in the final evaluation")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.beta <= 0:
            raise ValueError("`beta` must be positive")
        if self.learning_rate is None:
            # DPO moves a trained policy: a gentler default than SFT's.
            self.learning_rate = 1e-4 if self.model is None else 5e-7


def main(config: DPOTrainConfig, *, callbacks: Sequence[Any] = ()) -> TrainResult:
    """Build DPO pairs, train (resuming if a checkpoint exists), save, evaluate, write metadata."""
    from trl import DPOConfig, DPOTrainer

    from leancot.train import runner
    from leancot.train.data import load_inputs
    from leancot.train.policy import build_rows as sft_build_rows
    from leancot.train.policy import load_causal_lm, train_causal_lm
    from leancot.train.rows import dpo_pairs_from_search_logs

    inputs = load_inputs(config.data)
    pairs = dpo_pairs_from_search_logs(
        inputs.search_logs,
        split=config.split,
        max_rejected_per_state=config.max_rejected_per_state,
    )
    if not pairs:
        raise ValueError(f"no DPO pairs (search logs with rejected siblings) in {config.data}")
    eval_rows: list[dict[str, Any]] = []
    if config.eval_split:
        eval_rows = sft_build_rows(inputs, config.eval_split)[: config.eval_max_rows]
    texts = (p["prompt"] + p["chosen"] + "\n" + p["rejected"] for p in pairs)
    tokenizer = runner.prepare_tokenizer(config, texts)
    model = load_causal_lm(config, tokenizer)
    args = DPOConfig(
        **config.trainer_kwargs(DPOConfig),
        max_length=config.max_length,
        beta=config.beta,
        loss_type=[config.loss_type],
    )
    return train_causal_lm(
        DPOTrainer,
        args,
        config,
        "dpo",
        model=model,
        tokenizer=tokenizer,
        inputs=inputs.digests,
        rows=pairs,
        eval_rows=eval_rows,
        callbacks=callbacks,
    )
