"""GRPO's reward on the real WASM Lean: verified proofs score 1, others 0, verdicts cached on
disk; and a few real GRPO steps of the tiny model on bundled train statements, with the held-out
evaluation before and after."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STATEMENT = "theorem grpo_two_add_two : 2 + 2 = 4"


class NoLean:
    """A pool that must not be asked: every verdict has to come from the cache."""

    def map(self, fn, items):
        items = list(items)
        if items:
            raise AssertionError(f"Lean asked for {len(items)} verdicts")
        return []


def test_verified_reward_asks_lean_once_per_proof(lean_server, tmp_path):
    from leancot.lean.pool import LeanPool
    from leancot.train.lean_reward import VerdictCache, VerifiedReward, lean_check

    completions = [
        "Evaluate both sides.\nrfl",
        "Guess.\nexact Nat.lt_irrefl 4",
        "Give up.\nsorry",
        "a thought and no tactic\n",
        "Evaluate both sides.\nrfl",
    ]
    n = len(completions)
    columns = {"statement": [STATEMENT] * n, "header": [""] * n, "full_name": ["t"] * n}
    cache = VerdictCache(tmp_path / "cache.jsonl")
    reward = VerifiedReward(LeanPool.from_servers([lean_server]), cache, lean_check(60.0))
    assert reward(["p"] * n, completions, **columns) == [1.0, 0.0, 0.0, 0.0, 1.0]
    assert reward.calls == 3 and reward.hits == 1  # the repeated rfl; no tactic: no check
    cache.close()
    rows = [json.loads(line) for line in (tmp_path / "cache.jsonl").read_text().splitlines()]
    assert [r["ok"] for r in rows] == [True, False, False]
    assert rows[0]["proof"] == "by\n  rfl" and rows[2]["reasons"]
    again = VerifiedReward(NoLean(), VerdictCache(tmp_path / "cache.jsonl"), lean_check(60.0))
    assert again(["p"] * n, completions, **columns) == [1.0, 0.0, 0.0, 0.0, 1.0]
    assert again.calls == 0 and again.hits == 4


def test_grpo_steps_on_bundled_train_statements(lean_server, tmp_path):
    from leancot.pipeline.grpo import GRPORunConfig, main

    config = GRPORunConfig(
        output_dir=str(tmp_path / "grpo"),
        benchmark="bundled",
        split="train",
        limit=4,
        max_steps=3,
        save_steps=2,
        num_generations=4,
        batch_size=4,
        max_completion_length=12,
        format_reward=0.5,
        vocab_size=512,
        eval_max_rows=2,
        eval_n=2,
        progress=False,
    )
    result = main(config, servers=[lean_server])
    out = Path(result.model_dir)
    meta = json.loads((out / "leancot_train.json").read_text())
    assert meta["kind"] == "grpo" and meta["metrics"]["global_step"] == 3
    assert meta["metrics"]["prompts"] == 4 and meta["rows"]["train"]["rows"] == 4
    log = [json.loads(line) for line in (out / "grpo_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3]
    for row in log:
        assert 0.0 <= row["rewards/verified/mean"] <= 1.0
        assert 0.0 <= row["rewards/format/mean"] <= 1.0
        weighted = row["rewards/verified/mean"] + 0.5 * row["rewards/format/mean"]
        assert row["reward"] == pytest.approx(weighted, abs=1e-5)
    assert (out / "reward_curve.png").stat().st_size > 1000
    checks = meta["metrics"]["lean_checks"]
    cached = (out / "verify_cache.jsonl").read_text().splitlines()
    assert len(cached) == checks == meta["metrics"]["cache_size"]
    assert any(out.glob("checkpoint-2/trainer_state.json"))
    evaluation = meta["metrics"]["eval"]
    assert evaluation["split"] == "val" and meta["rows"]["eval"]["rows"] == 2
    for when in ("start", "final"):
        assert (
            evaluation[when]["statements"] == 2 and evaluation[when]["samples_per_statement"] == 2
        )
        assert 0.0 <= evaluation[when]["mean_reward"] <= evaluation[when]["pass_at_n"] <= 1.0
    assert json.loads((out / "grpo_eval_start.json").read_text()) == evaluation["start"]

    # a longer run in the same folder resumes from the last checkpoint; the log covers it all
    config.max_steps = 4
    again = main(config, servers=[lean_server])
    assert again.resumed_from == str(out / "checkpoint-3")
    meta = json.loads((out / "leancot_train.json").read_text())
    assert meta["metrics"]["global_step"] == 4 and meta["resumed_from"].endswith("checkpoint-3")
    log = [json.loads(line) for line in (out / "grpo_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert meta["metrics"]["eval"]["start"] == evaluation["start"]  # not sampled again
    cached_now = (out / "verify_cache.jsonl").read_text().splitlines()
    assert cached_now[: len(cached)] == cached and meta["metrics"]["cache_size"] == len(cached_now)
