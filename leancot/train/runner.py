"""Machinery shared by the trainers: tokenizer, LoRA, resume, final save, run metadata.

A run folder holds `checkpoint-N/` (HF Trainer checkpoints, resumable), `rows/` (the rows
trained on), `tokenizer_init/` (tiny model only: the tokenizer trained for this run, reused on
resume), the final model with its tokenizer at the top level, and `leancot_train.json`
(config, data digests, metrics, versions), written last: its presence marks a finished run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from leancot.files import sha256_file, write_json, write_jsonl
from leancot.train.config import TrainConfig

METADATA_NAME = "leancot_train.json"
TOKENIZER_INIT = "tokenizer_init"


@dataclass(frozen=True)
class TrainResult:
    """What a trainer's `main` returns."""

    kind: str
    model_dir: Path
    metadata_path: Path
    metrics: dict[str, Any]
    resumed_from: str | None


def versions() -> dict[str, str | None]:
    """Installed versions of the packages a run depends on."""
    out: dict[str, str | None] = {}
    for name in ("torch", "transformers", "trl", "peft", "datasets", "accelerate", "leancot"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = None
    if out["leancot"] is None:
        from leancot import __version__

        out["leancot"] = __version__
    return out


def last_checkpoint(output_dir: str | Path) -> str | None:
    """The newest `checkpoint-N` folder in `output_dir` with its trainer state, if any."""
    out = Path(output_dir)
    if not out.is_dir():
        return None
    found = [
        p
        for p in out.glob("checkpoint-*")
        if p.name.split("-")[-1].isdigit() and (p / "trainer_state.json").is_file()
    ]
    if not found:
        return None
    return str(max(found, key=lambda p: int(p.name.split("-")[-1])))


def prepare_tokenizer(config: TrainConfig, texts: Iterable[str]) -> Any:
    """The run's tokenizer: the model's, or (tiny model) one trained on `texts` and kept for
    resumption in `output_dir/tokenizer_init`."""
    from leancot.models.hf import load_tokenizer
    from leancot.train.model import train_tokenizer

    if config.model is not None:
        return load_tokenizer(config.tokenizer or config.model)
    saved = Path(config.output_dir) / TOKENIZER_INIT
    if config.tokenizer is not None:
        return load_tokenizer(config.tokenizer)
    if (saved / "tokenizer_config.json").is_file():
        return load_tokenizer(saved)
    train_tokenizer(texts, saved, vocab_size=config.vocab_size)
    return load_tokenizer(saved)


def lora_config(config: TrainConfig, task_type: str) -> Any:
    """A peft LoraConfig on every linear layer when `lora_r > 0`, else None."""
    if config.lora_r <= 0:
        return None
    from peft import LoraConfig

    return LoraConfig(
        r=config.lora_r,
        lora_alpha=config.lora_alpha,
        lora_dropout=config.lora_dropout,
        target_modules="all-linear",
        task_type=task_type,
        modules_to_save=["score"] if task_type == "TOKEN_CLS" else None,
    )


def save_rows(config: TrainConfig, name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Write the rows trained/evaluated on to `output_dir/rows/<name>.jsonl`; return a digest."""
    path = Path(config.output_dir) / "rows" / f"{name}.jsonl"
    write_jsonl(path, rows)
    return {"path": str(path), "rows": len(rows), "sha256": sha256_file(path)}


def train(trainer: Any, config: TrainConfig) -> tuple[dict[str, Any], str | None, Any]:
    """Run (or resume) training; save the final model and tokenizer to `output_dir`.

    Returns (metrics, checkpoint resumed from, final model). A LoRA model is merged into its
    base before saving, so loaders need no peft.
    """
    resume = last_checkpoint(config.output_dir) if config.resume else None
    start = time.monotonic()
    output = trainer.train(resume_from_checkpoint=resume)
    metrics = dict(output.metrics)
    metrics["global_step"] = int(trainer.state.global_step)
    metrics["wall_s"] = round(time.monotonic() - start, 3)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    if losses:
        metrics["last_logged_loss"] = float(losses[-1])
    model = trainer.model
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(config.output_dir)
    trainer.processing_class.save_pretrained(config.output_dir)
    model.eval()
    return metrics, resume, model


def write_metadata(
    config: TrainConfig,
    kind: str,
    *,
    inputs: Mapping[str, str],
    rows: Mapping[str, Any],
    metrics: Mapping[str, Any],
    resumed_from: str | None,
) -> Path:
    """Write `leancot_train.json` (atomically; last, as the completion marker)."""
    path = Path(config.output_dir) / METADATA_NAME
    doc = {
        "kind": kind,
        "config": asdict(config),
        "inputs": dict(inputs),
        "rows": dict(rows),
        "metrics": dict(metrics),
        "resumed_from": resumed_from,
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    write_json(path, doc, default=str)
    return path


def train_and_record(
    trainer: Any,
    config: TrainConfig,
    kind: str,
    *,
    inputs: Mapping[str, str],
    train_rows: list[dict[str, Any]],
    eval_rows: list[dict[str, Any]],
    evaluate: Callable[[Any], Mapping[str, Any] | None],
) -> TrainResult:
    """The end of every trainer's `main`: `train` (resuming, saving the final model), put
    `evaluate(final_model)` under `metrics["eval"]` when there are `eval_rows` (and it is not
    None), save the rows and write the metadata last."""
    metrics, resumed, final = train(trainer, config)
    evaluation = evaluate(final) if eval_rows else None
    if evaluation is not None:
        metrics["eval"] = evaluation
    path = write_metadata(
        config,
        kind,
        inputs=inputs,
        rows={
            "train": save_rows(config, "train", train_rows),
            "eval": save_rows(config, "eval", eval_rows),
        },
        metrics=metrics,
        resumed_from=resumed,
    )
    return TrainResult(kind, path.parent, path, metrics, resumed)


def read_metadata(run_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / METADATA_NAME).read_text(encoding="utf-8"))
