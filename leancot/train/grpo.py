"""Reinforcement learning of the policy from Lean's verdict: TRL's `GRPOTrainer`.

Each prompt is a theorem's initial state (`format_state_prompt`), with the theorem's
`statement`, `header` and `full_name` as extra columns; the policy samples `num_generations`
answers per prompt and each answer's tactic, as the whole proof, is rewarded 1 when Lean verifies
it (`lean_reward.VerifiedReward`, on a `LeanPool`, verdicts cached on disk), plus
`format_reward` times the format reward when that weight is above 0. GRPO normalises the rewards
within each prompt's group: a group where every answer gets the same reward teaches nothing, so
a policy that never proves anything (a random tiny model) does not move; start from an SFT
policy (`model` = its run folder).

Besides the usual run folder (runner.py), a run writes `grpo_log.jsonl` (one row per logging
step: reward mean and std, each reward function's mean, loss, KL, completion length) and
`reward_curve.png`, and keeps `verify_cache.jsonl` (docs/FORMATS.md#grpo-runs). The statements
come from the caller: `leancot.pipeline.grpo` loads a benchmark's train split.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from leancot.files import sha256_hex, write_json, write_jsonl
from leancot.options import option
from leancot.train.config import TrainConfig
from leancot.train.lean_reward import FormatReward, VerdictCache, VerifiedReward, lean_check
from leancot.train.runner import TrainResult

LOG_NAME = "grpo_log.jsonl"
CURVE_NAME = "reward_curve.png"
CACHE_NAME = "verify_cache.jsonl"
START_EVAL_NAME = "grpo_eval_start.json"
PROMPT_COLUMNS = ("prompt", "statement", "header", "full_name")


@dataclass
class GRPOTrainConfig(TrainConfig):
    """GRPO: TrainConfig plus sampling, the GRPO loss and the Lean reward."""

    requires_data: ClassVar[bool] = False

    split: str = option("train", "split of the statements to train on")
    batch_size: int = option(8, "completions per device per step (a multiple of num_generations)")
    logging_steps: int = option(1, "log rewards and loss every this many steps")
    save_steps: int = option(25, "write a checkpoint every this many steps")
    num_train_epochs: float = option(1.0, "passes over the prompts when max_steps is -1")
    eval_split: str | None = option(
        "val", "held-out statements sampled before and after training (none: skip)"
    )
    eval_max_rows: int = option(64, "at most this many held-out statements are evaluated")
    eval_n: int = option(8, "answers sampled per held-out statement")
    num_generations: int = option(8, "answers sampled per prompt (a GRPO group)")
    max_completion_length: int = option(64, "tokens generated per answer at most")
    temperature: float = option(1.0, "sampling temperature")
    top_p: float = option(1.0, "nucleus sampling threshold")
    beta: float = option(0.0, "KL penalty towards the starting policy (0: no reference model)")
    format_reward: float = option(
        0.0, "weight of the format reward (a thought line, then a tactic); 0 leaves it out"
    )
    lean_workers: int = option(1, "Lean processes verifying answers in parallel")
    verify_timeout: float = option(30.0, "seconds Lean may spend checking one proof")
    cache: str | None = option(
        None, "verdict cache, JSONL (default OUTPUT_DIR/verify_cache.jsonl; shared across runs)"
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.eval_n < 1:
            raise ValueError("`eval_n` must be positive")
        if self.num_generations < 2:
            raise ValueError("`num_generations` must be at least 2 (GRPO compares a group)")
        if (self.batch_size * self.gradient_accumulation_steps) % self.num_generations:
            raise ValueError(
                f"batch_size x gradient_accumulation_steps "
                f"({self.batch_size} x {self.gradient_accumulation_steps}) must be a multiple of "
                f"num_generations ({self.num_generations})"
            )
        for name in ("max_completion_length", "lean_workers"):
            if getattr(self, name) <= 0:
                raise ValueError(f"`{name}` must be positive, got {getattr(self, name)}")
        if self.temperature <= 0 or not 0 < self.top_p <= 1:
            raise ValueError("`temperature` must be positive and `top_p` in (0, 1]")
        if self.beta < 0 or self.format_reward < 0:
            raise ValueError("`beta` and `format_reward` must be >= 0")

    @property
    def cache_path(self) -> Path:
        return Path(self.cache) if self.cache else Path(self.output_dir) / CACHE_NAME


def log_rows(log_history: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The training log lines that carry a reward, as flat rows: step plus every number."""
    rows = []
    for entry in log_history:
        if "reward" not in entry or "step" not in entry:
            continue
        row: dict[str, Any] = {"step": int(entry["step"])}
        for key, value in entry.items():
            if key != "step" and isinstance(value, int | float) and math.isfinite(value):
                row[key] = value
        rows.append(row)
    return rows


def moving_average(values: Sequence[float], window: int) -> list[float]:
    """Mean of each value and the up to `window - 1` values before it."""
    out = []
    for i in range(len(values)):
        part = values[max(0, i - window + 1) : i + 1]
        out.append(sum(part) / len(part))
    return out


def plot_reward_curve(rows: Sequence[Mapping[str, Any]], path: Path, title: str) -> None:
    """Mean reward per step (thin, with a +-std band clipped at 0), its moving average over 10
    steps (thick), and each reward function's mean, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from leancot.files import atomic_path

    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    mean = [r["reward"] for r in rows]
    std = [r.get("reward_std", 0.0) for r in rows]
    low = [max(0.0, m - s) for m, s in zip(mean, std, strict=True)]
    ax.fill_between(steps, low, [m + s for m, s in zip(mean, std, strict=True)],
                    color="grey", alpha=0.15)  # fmt: skip
    ax.plot(steps, mean, color="black", linewidth=0.8, label="reward (weighted sum)")
    ax.plot(steps, moving_average(mean, 10), color="black", linewidth=2.2,
            label="reward, mean of the last 10 steps")  # fmt: skip
    parts = sorted({k for r in rows for k in r if k.startswith("rewards/") and k.endswith("/mean")})
    if len(parts) > 1:
        for key in parts:
            ax.plot(steps, [r.get(key, math.nan) for r in rows], label=key.split("/")[1])
    ax.set_xlabel("step")
    ax.set_ylabel("mean reward per completion")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    fig.tight_layout()
    with atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def _reward_log_callback(path: Path) -> Any:
    from transformers import TrainerCallback

    from leancot.files import append_jsonl, open_jsonl_log

    class RewardLog(TrainerCallback):
        """Appends each reward-bearing log line to `grpo_log.jsonl` as training goes."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            rows = log_rows([{**(logs or {}), "step": state.global_step}])
            if rows:
                with open_jsonl_log(path) as f:
                    append_jsonl(f, rows[0])

    return RewardLog()


def main(
    config: GRPOTrainConfig,
    prompts: Sequence[Mapping[str, Any]],
    pool: Any,
    *,
    check: Any = None,
    callbacks: Sequence[Any] = (),
    extra_metrics: Mapping[str, Any] | None = None,
    eval_prompts: Sequence[Mapping[str, Any]] = (),
) -> TrainResult:
    """GRPO on `prompts` (rows with `PROMPT_COLUMNS`), rewards verified on `pool`'s Lean servers
    by `check(server, statement, proof, header)` (default `lean_reward.lean_check`); resumes
    from the last checkpoint; writes the reward log and curve, then the metadata (with
    `extra_metrics` among its metrics). `eval_prompts` (held-out rows) are sampled and verified
    with the starting policy and the trained one (`grpo_eval.held_out_eval`)."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from leancot.train import runner
    from leancot.train.policy import load_causal_lm

    extra_metrics = dict(extra_metrics or {})
    rows = [{k: str(p[k]) for k in PROMPT_COLUMNS} for p in prompts]
    if not rows:
        raise ValueError("no GRPO prompts: the statement list is empty")
    out = Path(config.output_dir)
    tokenizer = runner.prepare_tokenizer(config, (r["prompt"] + r["statement"] for r in rows))
    limit = config.max_length - config.max_completion_length
    kept = [r for r in rows if len(tokenizer(r["prompt"])["input_ids"]) <= limit]
    if not kept:
        raise ValueError(
            f"every prompt is longer than max_length - max_completion_length = {limit} tokens"
        )
    model = load_causal_lm(config, tokenizer)
    funcs: list[Any] = []
    cache = VerdictCache(config.cache_path)
    verified = VerifiedReward(pool, cache, check or lean_check(config.verify_timeout))
    funcs.append(verified)
    weights = [1.0]
    if config.format_reward > 0:
        funcs.append(FormatReward())
        weights.append(config.format_reward)
    args = GRPOConfig(
        **config.trainer_kwargs(GRPOConfig),
        num_generations=config.num_generations,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        top_p=config.top_p,
        beta=config.beta,
        reward_weights=weights,
        disable_dropout=True,
        log_completions=False,
    )
    held_out = [{k: str(p[k]) for k in PROMPT_COLUMNS} for p in eval_prompts]
    held_out = held_out[: config.eval_max_rows]

    def evaluate(policy_model: Any) -> dict[str, Any]:
        from leancot.train.grpo_eval import held_out_eval

        return held_out_eval(
            policy_model, tokenizer, held_out, verified,
            n=config.eval_n, max_tokens=config.max_completion_length,
            temperature=config.temperature, top_p=config.top_p, seed=config.seed,
        )  # fmt: skip

    start_eval = None
    if held_out:  # the starting policy, once: a resumed run reads what the first attempt wrote
        start_path = out / START_EVAL_NAME
        if start_path.is_file():
            start_eval = json.loads(start_path.read_text(encoding="utf-8"))
        elif runner.last_checkpoint(out) is None or not config.resume:
            start_eval = evaluate(model)
            write_json(start_path, start_eval)
    log_path = out / LOG_NAME
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=args,
        train_dataset=Dataset.from_list(kept),
        processing_class=tokenizer,
        callbacks=[_reward_log_callback(log_path), *callbacks],
        peft_config=runner.lora_config(config, "CAUSAL_LM"),
    )
    try:
        metrics, resumed, final = runner.train(trainer, config)
        if held_out:
            metrics["eval"] = {"split": config.eval_split, "start": start_eval,
                               "final": evaluate(final)}  # fmt: skip
    finally:
        cache.close()
    history = log_rows(trainer.state.log_history)
    write_jsonl(log_path, history)  # the whole run, in order, also after a resume
    if history:
        plot_reward_curve(history, out / CURVE_NAME, f"GRPO, {len(kept)} statements")
        first, last = _window_means(history, "reward")
        metrics.update(reward_first_steps=first, reward_last_steps=last)
    metrics.update(
        prompts=len(kept),
        prompts_too_long=len(rows) - len(kept),
        lean_checks=verified.calls,
        cache_hits=verified.hits,
        cache_size=len(cache),
        **extra_metrics,
    )
    digest = sha256_hex("\n".join(r["statement"] for r in kept))
    path = runner.write_metadata(
        config,
        "grpo",
        inputs={"statements": digest},
        rows={
            "train": runner.save_rows(config, "train", kept),
            "eval": runner.save_rows(config, "eval", held_out),
        },
        metrics=metrics,
        resumed_from=resumed,
    )
    return TrainResult("grpo", out, path, metrics, resumed)


def _window_means(rows: Sequence[Mapping[str, Any]], key: str) -> tuple[float, float]:
    """Means of `key` over the first and the last tenth of the rows (at least one row each)."""
    values = [float(r[key]) for r in rows if key in r]
    k = max(1, len(values) // 10)
    return sum(values[:k]) / k, sum(values[-k:]) / k


__all__ = ["GRPOTrainConfig", "log_rows", "main", "moving_average", "plot_reward_curve"]
