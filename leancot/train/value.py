"""The outcome value: the PRM's token classifier trained on what steps led to (`value_rows`).

`leancot train value LOGS... --output-dir DIR` reads search logs, labels every tried step with
`gamma ** (steps left to the proof found below it)` or 0 (`train.value_rows`), holds out whole
statements (a hash of the name, `holdout`) for evaluation, and trains the same tiny token
classifier as `train prm` with the soft cross-entropy, or fine-tunes `--model` (e.g. a trained
PRM folder, a warm start). The folder is an `HFPRM` like a PRM's, its `leancot_train.json` has
`kind` "value"; `leancot prove --prm DIR` then reads it as a state value (`prover.outcome_value`)
rather than as a PRM. Evaluation: AUROC of "a proof was found below the step" on the held-out
statements' steps, against the constant and length baselines of `prm_eval`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leancot.options import option
from leancot.train.config import TrainConfig
from leancot.train.runner import TrainResult
from leancot.train.value_rows import DEFAULT_GAMMA, held_out, value_rows

KIND = "value"


@dataclass
class ValueTrainConfig(TrainConfig):
    """Outcome-value training: TrainConfig plus how the targets are made."""

    gamma: float = option(DEFAULT_GAMMA, "discount per further step to the proof (target gamma^k)")
    holdout: float = option(0.1, "share of statements (by name hash) held out for evaluation")
    max_negatives: float = option(
        4.0, "keep at most this many target-0 rows per positive row (seeded sample; 0: all)"
    )
    eval_max_rows: int = option(4000, "at most this many held-out rows are evaluated")

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        if not 0.0 <= self.holdout < 1.0:
            raise ValueError(f"holdout must be in [0, 1), got {self.holdout}")


def build_rows(config: ValueTrainConfig, logs: Sequence[Any]) -> tuple[list[dict], list[dict]]:
    """(train rows, held-out rows) of the configured split, held out by statement."""
    import random

    rows = value_rows(logs, gamma=config.gamma, split=config.split)
    train = [r for r in rows if not held_out(str(r["full_name"]), config.holdout)]
    evals = [r for r in rows if held_out(str(r["full_name"]), config.holdout)]
    if config.max_negatives > 0:
        pos = [r for r in train if r["labels"][0] > 0]
        neg = [r for r in train if r["labels"][0] <= 0]
        keep = int(config.max_negatives * max(1, len(pos)))
        if len(neg) > keep:
            rng = random.Random(config.seed)
            neg = rng.sample(neg, keep)
            train = pos + neg
            rng.shuffle(train)
    return train, evals


def main(config: ValueTrainConfig, *, callbacks: Sequence[Any] = ()) -> TrainResult:
    """Build outcome rows, train (resuming if a checkpoint exists), save, evaluate, record."""
    from leancot.models.prompts import STEP_SEPARATOR
    from leancot.train import runner
    from leancot.train.data import load_inputs
    from leancot.train.prm import (
        PRMTrainConfig,
        build_trainer,
        load_prm_model,
        rows_dataset,
        tokenize_prm_dataset,
    )

    inputs = load_inputs(config.data)
    rows, eval_rows = build_rows(config, inputs.search_logs)
    if not rows:
        raise ValueError(f"no outcome rows in split {config.split!r} of the search logs in "
                         f"{config.data}")  # fmt: skip
    if not any(r["labels"][0] > 0 for r in rows):
        raise ValueError(f"no search in {config.data} found a verified proof: no positive rows")
    eval_rows = eval_rows[: config.eval_max_rows] if config.eval_max_rows else eval_rows
    texts = (r["prompt"] + STEP_SEPARATOR.join(r["completions"]) for r in rows)
    tokenizer = runner.prepare_tokenizer(config, texts)
    model = load_prm_model(config, tokenizer)
    train_set = tokenize_prm_dataset(
        rows_dataset(rows, soft=True), tokenizer, max_length=config.max_length, soft=True
    )
    common = {f.name: getattr(config, f.name) for f in dataclasses.fields(TrainConfig)}
    trainer_config = PRMTrainConfig(**common, soft_labels=True)
    trainer = build_trainer(trainer_config, model, tokenizer, train_set, callbacks=callbacks)

    def evaluate(final: Any) -> dict[str, Any]:
        from leancot.models.hf import HFPRM
        from leancot.train.prm_eval import evaluate_prm

        prm = HFPRM(final, tokenizer, max_length=config.max_length)
        candidates = [_candidate(r) for r in eval_rows]
        train = [_candidate(r) for r in rows]
        return evaluate_prm(prm, candidates, train=train, seed=config.seed).to_dict()

    return runner.train_and_record(
        trainer,
        config,
        KIND,
        inputs=inputs.digests,
        train_rows=rows,
        eval_rows=eval_rows,
        evaluate=evaluate,
    )


def _candidate(row: dict[str, Any]) -> dict[str, Any]:
    """A one-step evaluation candidate of `prm_eval`: label = a proof was found below."""
    return {
        "prompt": row["prompt"],
        "completions": row["completions"],
        "label": row["labels"][0] > 0,
    }


__all__ = ["KIND", "ValueTrainConfig", "build_rows", "main"]
