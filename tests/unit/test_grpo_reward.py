"""GRPO's reward plumbing without Lean: proof text from a completion, the format check, the
on-disk verdict cache, batching and de-duplication over a pool, the log rows, the config and
the CLI flags. (Proof checking itself: tests/integration/test_grpo_lean.py, real Lean.)"""

from __future__ import annotations

import argparse
import json

import pytest

from leancot.cli.config_args import config_from_args
from leancot.cli.train_commands import register_train
from leancot.pipeline.grpo import GRPORunConfig
from leancot.train.grpo import GRPOTrainConfig, log_rows
from leancot.train.lean_reward import (
    CachedVerdict,
    FormatReward,
    VerdictCache,
    VerifiedReward,
    has_step_format,
    verdict_key,
    whole_proof,
)


def test_whole_proof_is_the_tactic_after_by():
    assert whole_proof("Split the goal.\nconstructor") == "by\n  constructor"
    assert whole_proof("Two lines.\nintro h\nexact h\n\nNext.\nrfl") == "by\n  intro h\n  exact h"
    assert whole_proof("omega") == "by\n  omega"  # a bare tactic
    assert whole_proof("a thought only\n") is None and whole_proof("") is None


def test_step_format():
    assert has_step_format("Use omega.\nomega")
    assert not has_step_format("omega")  # no thought line
    assert not has_step_format("Thought.\n")  # no tactic
    assert not has_step_format("Thought.\nsimp\n\nMore.\nrfl")  # runs past the step
    assert FormatReward()(["p", "p"], ["A.\nrfl", "rfl"]) == [1.0, 0.0]


class ScriptedPool:
    """`map` like LeanPool's, on one fake server, recording each batch."""

    def __init__(self):
        self.batches = []

    def map(self, fn, items):
        items = list(items)
        self.batches.append(items)
        return [fn("server", item) for item in items]


def _check(server, statement, proof, header):
    assert server == "server"
    return CachedVerdict(proof.endswith("rfl"), () if proof.endswith("rfl") else ("no",))


def test_verified_reward_batches_dedupes_and_caches(tmp_path):
    pool = ScriptedPool()
    cache = VerdictCache(tmp_path / "c.jsonl")
    reward = VerifiedReward(pool, cache, _check)
    completions = ["A.\nrfl", "B.\nsimp", "A.\nrfl", "no tactic\n"]
    cols = {"statement": ["s"] * 4, "header": ["h"] * 4, "full_name": ["n"] * 4}
    assert reward([""] * 4, completions, **cols) == [1.0, 0.0, 1.0, 0.0]
    assert len(pool.batches) == 1 and len(pool.batches[0]) == 2  # one batch, distinct proofs
    assert (reward.calls, reward.hits) == (2, 1)
    # another statement with the same proof text is another key
    assert reward([""], ["A.\nrfl"], statement=["t"], header=["h"], full_name=["m"]) == [1.0]
    assert reward.calls == 3
    cache.close()
    with (tmp_path / "c.jsonl").open("a") as f:
        f.write('{"key": "cut off')  # a write killed midway
    reopened = VerdictCache(tmp_path / "c.jsonl")
    assert len(reopened) == 3
    assert reopened.get(verdict_key("h", "s", "by\n  simp")) == CachedVerdict(False, ("no",))
    again = VerifiedReward(ScriptedPool(), reopened, _check)
    assert again([""] * 4, completions, **cols) == [1.0, 0.0, 1.0, 0.0]
    assert again.calls == 0 and again.pool.batches == [[]]
    reopened.put(verdict_key("h", "x", "by\n  rfl"), CachedVerdict(True, ()), full_name="x",
                 proof="by\n  rfl")  # fmt: skip
    reopened.close()
    lines = (tmp_path / "c.jsonl").read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[-1])["full_name"] == "x"


def test_verified_reward_needs_the_statement_columns(tmp_path):
    reward = VerifiedReward(ScriptedPool(), VerdictCache(tmp_path / "c.jsonl"), _check)
    with pytest.raises(ValueError, match="'statement' column"):
        reward(["p"], ["A.\nrfl"], header=[""], full_name=["n"])


def test_log_rows_keep_reward_lines_and_numbers():
    history = [
        {"loss": 0.1, "step": 1},  # no reward: not a GRPO line
        {"reward": 0.5, "reward_std": 0.2, "rewards/verified/mean": 0.5, "step": 2, "x": "s"},
        {"reward": float("nan"), "step": 3},
    ]
    assert log_rows(history) == [
        {"step": 2, "reward": 0.5, "reward_std": 0.2, "rewards/verified/mean": 0.5},
        {"step": 3},
    ]


def test_config_checks_the_group_size():
    assert GRPOTrainConfig(output_dir="o").data == []  # statements, not data files
    with pytest.raises(ValueError, match="multiple of num_generations"):
        GRPOTrainConfig(output_dir="o", batch_size=6, num_generations=4)
    with pytest.raises(ValueError, match="at least 2"):
        GRPOTrainConfig(output_dir="o", num_generations=1, batch_size=1)
    with pytest.raises(ValueError, match="benchmark"):
        GRPORunConfig(output_dir="o", benchmark="nope")


def test_cli_flags_fill_the_grpo_config():
    parser = argparse.ArgumentParser(prog="leancot")
    register_train(parser.add_subparsers())
    args = parser.parse_args(
        ["train", "grpo", "--output-dir", "o", "--benchmark", "core", "--limit", "20",
         "--num-generations", "4", "--batch-size", "8", "--format-reward", "0.2",
         "--model", "runs/policy", "--lean-workers", "2"]
    )  # fmt: skip
    config = config_from_args(GRPORunConfig, args, positional=("data",))
    assert (config.benchmark, config.limit, config.num_generations) == ("core", 20, 4)
    assert (config.format_reward, config.lean_workers, config.model) == (0.2, 2, "runs/policy")
    assert config.data == [] and config.split == "train" and config.logging_steps == 1
    assert config.cache_path.as_posix() == "o/verify_cache.jsonl"


def test_reward_curve_png(tmp_path):
    pytest.importorskip("matplotlib")
    from leancot.train.grpo import moving_average, plot_reward_curve

    assert moving_average([1.0, 2.0, 3.0, 4.0], 2) == [1.0, 1.5, 2.5, 3.5]
    rows = [
        {"step": i, "reward": r, "reward_std": 0.3, "rewards/verified/mean": r}
        for i, r in enumerate([0.0, 0.25, 0.5, 0.125], 1)
    ]
    plot_reward_curve(rows, tmp_path / "curve.png", "test")
    data = (tmp_path / "curve.png").read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5000
    assert not list(tmp_path.glob(".*tmp*"))  # written atomically, nothing left over


def test_a_lean_fault_costs_a_reward_not_the_run(tmp_path):
    from leancot.lean.results import LeanInfraError

    faults = []

    def flaky(server, statement, proof, header):
        if not faults:
            faults.append(proof)
            raise LeanInfraError("the REPL did not restart")
        return _check(server, statement, proof, header)

    cache = VerdictCache(tmp_path / "c.jsonl")
    reward = VerifiedReward(ScriptedPool(), cache, flaky)
    cols = {"statement": ["s"], "header": ["h"], "full_name": ["n"]}
    assert reward([""], ["A.\nrfl"], **cols) == [0.0] and len(cache) == 0  # not cached
    assert reward([""], ["A.\nrfl"], **cols) == [1.0] and reward.calls == 2  # asked again
