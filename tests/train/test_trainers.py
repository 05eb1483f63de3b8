"""A few real optimizer steps of each trainer on the tiny model: finite loss, checkpoints,
metadata, resume after a crash, LoRA, the CLI handler."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def _check_run(result, kind: str, steps: int) -> dict:
    meta = json.loads(Path(result.metadata_path).read_text())
    assert meta["kind"] == kind and result.kind == kind
    assert meta["metrics"]["global_step"] == steps
    assert math.isfinite(meta["metrics"]["train_loss"])
    assert math.isfinite(meta["metrics"]["last_logged_loss"])
    assert meta["metrics"]["train_steps_per_second"] > 0
    assert {"torch", "transformers", "trl", "leancot"} <= set(meta["versions"])
    assert all(len(d) == 64 for d in meta["inputs"].values()) and meta["inputs"]
    assert len(meta["rows"]["train"]["sha256"]) == 64 and meta["rows"]["train"]["rows"] > 0
    out = Path(result.model_dir)
    assert (out / "config.json").is_file() and (out / "tokenizer_config.json").is_file()
    assert any(out.glob("checkpoint-*/trainer_state.json"))
    return meta


def test_policy_sft(sft_run):
    meta = _check_run(sft_run, "policy", 30)
    assert meta["config"]["model"] is None
    assert meta["metrics"]["eval"]["num_rows"] == 8
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(sft_run.model_dir)
    model = AutoModelForCausalLM.from_pretrained(sft_run.model_dir)
    assert model.config.vocab_size == len(tok) and tok.eos_token == "<|eos|>"
    # a causal LM trained on completions only: the tiny model has 4 layers of width 128
    assert model.config.num_hidden_layers == 4 and model.config.hidden_size == 128


@pytest.mark.parametrize("soft", [False, True])
def test_prm(corpus_dir, tmp_path, quick, soft):
    from leancot.train import prm

    config = prm.PRMTrainConfig(
        data=[str(corpus_dir)], output_dir=str(tmp_path / "prm"), soft_labels=soft, **quick()
    )
    meta = _check_run(prm.main(config), "prm", 6)
    evaluation = meta["metrics"]["eval"]
    assert evaluation["num_candidates"] == evaluation["num_positive"] + evaluation["num_negative"]
    assert evaluation["num_negative"] > 0 and 0 <= evaluation["auroc"] <= 1
    assert evaluation["fitted_baseline_auroc"] is not None and len(evaluation["auroc_ci"]) == 2
    from transformers import AutoModelForTokenClassification

    model = AutoModelForTokenClassification.from_pretrained(tmp_path / "prm")
    assert model.config.num_labels == 2


def test_prm_warm_started_from_the_policy(corpus_dir, sft_run, tmp_path, quick):
    from leancot.train import prm

    config = prm.PRMTrainConfig(
        data=[str(corpus_dir)],
        output_dir=str(tmp_path / "prm"),
        model=str(sft_run.model_dir),
        learning_rate=1e-3,
        eval_max_rows=4,
        **quick(max_steps=2, save_steps=2),
    )
    meta = _check_run(prm.main(config), "prm", 2)
    assert meta["rows"]["eval"]["rows"] == 4  # held-out rows; each of their steps is a candidate
    assert meta["metrics"]["eval"]["num_candidates"] >= 4


def test_dpo_from_sft_policy(corpus_dir, sft_run, tmp_path, quick):
    from leancot.train import dpo

    config = dpo.DPOTrainConfig(
        data=[str(corpus_dir)],
        output_dir=str(tmp_path / "dpo"),
        model=str(sft_run.model_dir),
        learning_rate=1e-4,
        **quick(max_steps=4, save_steps=2),
    )
    meta = _check_run(dpo.main(config), "dpo", 4)
    assert meta["rows"]["train"]["rows"] > 0


class Crash(Exception):
    pass


def test_resume_after_crash(corpus_dir, tmp_path, quick):
    from transformers import TrainerCallback

    from leancot.train import policy

    class CrashAt3(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            if state.global_step == 3:
                raise Crash("killed")

    config = policy.PolicyConfig(
        data=[str(corpus_dir)],
        output_dir=str(tmp_path / "run"),
        eval_split=None,
        **quick(max_steps=5, save_steps=2),
    )
    with pytest.raises(Crash):
        policy.main(config, callbacks=[CrashAt3()])
    run = Path(config.output_dir)
    assert (run / "checkpoint-2").is_dir() and not (run / "leancot_train.json").exists()
    result = policy.main(config)
    assert result.resumed_from == str(run / "checkpoint-2")
    meta = _check_run(result, "policy", 5)
    assert meta["resumed_from"].endswith("checkpoint-2")
    # the tokenizer trained by the first attempt was reused
    assert (run / "tokenizer_init" / "tokenizer.json").read_text() == (
        run / "tokenizer.json"
    ).read_text()


def test_lora_policy_is_merged(corpus_dir, sft_run, tmp_path, quick):
    from leancot.train import policy

    config = policy.PolicyConfig(
        data=[str(corpus_dir)],
        output_dir=str(tmp_path / "lora"),
        model=str(sft_run.model_dir),
        lora_r=4,
        learning_rate=1e-3,
        eval_split=None,
        **quick(max_steps=2, save_steps=2),
    )
    result = policy.main(config)
    _check_run(result, "policy", 2)
    assert not (Path(result.model_dir) / "adapter_config.json").exists()
    assert (Path(result.model_dir) / "checkpoint-2" / "adapter_config.json").exists()


def test_cli_train_policy(corpus_dir, tmp_path, capsys):
    from leancot.cli.train_commands import register_train

    parser = argparse.ArgumentParser(prog="leancot")
    register_train(parser.add_subparsers())
    yaml_file = tmp_path / "policy.yaml"
    yaml_file.write_text(f"max_steps: 50\nsave_steps: 2\noutput_dir: {tmp_path / 'cli'}\n")
    args = parser.parse_args(
        [
            "train",
            "policy",
            str(corpus_dir),
            "--config",
            str(yaml_file),
            "--max-steps",
            "2",
            "--no-progress",
            "--eval-split",
            "none",
        ]
    )
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "policy model saved in" in out and "steps 2" in out
    assert (tmp_path / "cli" / "leancot_train.json").is_file()
