"""Configuration shared by the trainers; each trainer module subclasses `TrainConfig`.

Every field carries a `help` text (`leancot.options.option`): `leancot.cli.config_args` turns the
fields into flags.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from leancot.options import option

REPORT_TO = ("none", "tensorboard", "wandb")
TINY_SIZES = ("small", "large")  # leancot.train.model.TINY_SPECS


@dataclass
class TrainConfig:
    """Fields common to the policy, PRM, DPO and GRPO trainers."""

    requires_data: ClassVar[bool] = True
    """False for a trainer whose inputs are not `data` files (GRPO: a benchmark's statements)."""

    data: list[str] = option(
        [], "input files or folders: CoT step rows, Lean-STaR rows, search logs"
    )
    output_dir: str = option("", "run folder: checkpoints, final model, rows, leancot_train.json")
    model: str | None = option(
        None, "HF path or hub id to fine-tune; unset: a tiny Llama with a tokenizer trained here"
    )
    tokenizer: str | None = option(None, "tokenizer path or hub id (default: the model's)")
    vocab_size: int = option(4096, "vocabulary size of the locally trained tokenizer (tiny model)")
    tiny_size: str = option(
        "small",
        "shape of the tiny model when no model is given: small (~1-3 M parameters) or large "
        "(~4x: a teacher for `iterate --teacher`)",
        choices=TINY_SIZES,
    )
    split: str = option("train", "split of the input rows to train on")
    eval_split: str | None = option("val", "held-out split evaluated after training (none: skip)")
    eval_max_rows: int = option(64, "at most this many held-out rows are evaluated")
    max_steps: int = option(-1, "optimizer steps (-1: run num_train_epochs)")
    num_train_epochs: float = option(3.0, "epochs when max_steps is -1")
    batch_size: int = option(8, "per-device batch size")
    gradient_accumulation_steps: int = option(1, "batches accumulated per optimizer step")
    learning_rate: float | None = option(
        None, "peak learning rate (default: 1e-3 for the tiny model, 2e-5 for a real one)"
    )
    warmup_steps: float = option(0.0, "warm-up steps (a float below 1 is a fraction of the run)")
    max_length: int = option(1024, "truncate tokenized rows to this many tokens")
    save_steps: int = option(100, "write a checkpoint every this many steps")
    save_total_limit: int | None = option(2, "keep at most this many checkpoints")
    logging_steps: int = option(10, "log loss and learning rate every this many steps")
    seed: int = option(0, "random seed (model init, data order)")
    lora_r: int = option(0, "LoRA rank; 0 trains every weight")
    lora_alpha: int = option(16, "LoRA scaling alpha")
    lora_dropout: float = option(0.05, "LoRA dropout")
    resume: bool = option(True, "resume from the last checkpoint in output_dir when there is one")
    bf16: bool = option(False, "bfloat16 mixed precision")
    gradient_checkpointing: bool = option(False, "recompute activations to save memory")
    use_cpu: bool = option(False, "train on the CPU even when an accelerator is present")
    progress: bool = option(True, "show a progress bar (otherwise log lines only)")
    report_to: str = option(
        "none",
        "where transformers' trainer logs go: none, tensorboard (OUTPUT_DIR/runs/, needs "
        "tensorboard) or wandb (needs wandb and a login)",
        choices=REPORT_TO,
    )

    def __post_init__(self) -> None:
        if isinstance(self.data, str):
            self.data = [self.data]
        if self.requires_data and not self.data:
            raise ValueError("no training data: pass at least one file or folder in `data`")
        if not self.output_dir:
            raise ValueError("`output_dir` is required")
        positive = ("batch_size", "gradient_accumulation_steps", "max_length", "save_steps")
        for name in (*positive, "logging_steps", "vocab_size"):
            if getattr(self, name) <= 0:
                raise ValueError(f"`{name}` must be positive, got {getattr(self, name)}")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ValueError("`max_steps` must be positive or -1")
        if self.max_steps == -1 and self.num_train_epochs <= 0:
            raise ValueError("`num_train_epochs` must be positive when max_steps is -1")
        if self.learning_rate is not None and self.learning_rate <= 0:
            raise ValueError("`learning_rate` must be positive")
        if self.lora_r < 0:
            raise ValueError("`lora_r` must be >= 0")
        if self.report_to not in REPORT_TO:
            raise ValueError(f"`report_to` must be one of {REPORT_TO}, not {self.report_to!r}")
        if self.eval_split in ("", "none", "None"):
            self.eval_split = None

    @property
    def effective_learning_rate(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 1e-3 if self.model is None else 2e-5

    def trainer_kwargs(self, args_class: type) -> dict[str, Any]:
        """Keyword arguments common to every TRL config (a transformers TrainingArguments)."""
        names = {f.name for f in dataclasses.fields(args_class)}
        # transformers 5.x renamed gradient_checkpointing (the old name warns)
        checkpointing = (
            "activation_checkpointing"
            if "activation_checkpointing" in names
            else "gradient_checkpointing"
        )
        return {
            "output_dir": self.output_dir,
            "max_steps": self.max_steps,
            "num_train_epochs": self.num_train_epochs,
            "per_device_train_batch_size": self.batch_size,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
            "learning_rate": self.effective_learning_rate,
            "warmup_steps": self.warmup_steps,
            "save_strategy": "steps",
            "save_steps": self.save_steps,
            "save_total_limit": self.save_total_limit,
            "logging_steps": self.logging_steps,
            "seed": self.seed,
            "data_seed": self.seed,
            "bf16": self.bf16,
            checkpointing: self.gradient_checkpointing,
            "use_cpu": self.use_cpu,
            "disable_tqdm": not self.progress,
            "report_to": self.report_to,
            "dataloader_num_workers": 0,
            "dataloader_pin_memory": _cuda_available(),
        }


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
