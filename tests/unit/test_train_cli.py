"""`leancot train` / `leancot evaluate` registrars and config validation (no torch needed)."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from leancot.cli.config_args import config_from_args
from leancot.cli.train_commands import register_evaluate, register_train
from leancot.train import dpo, policy, prm
from leancot.train.evaluate import EvalConfig


@pytest.fixture
def parser():
    p = argparse.ArgumentParser(prog="leancot")
    sub = p.add_subparsers()
    register_train(sub)
    register_evaluate(sub)
    return p


def test_registrars_import_no_torch():
    code = (
        "import argparse, sys\n"
        "from leancot.cli.train_commands import register_train, register_evaluate\n"
        "p = argparse.ArgumentParser(); s = p.add_subparsers()\n"
        "register_train(s); register_evaluate(s)\n"
        "assert not {'torch', 'transformers', 'trl', 'datasets'} & set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_flags_fill_the_config(parser):
    args = parser.parse_args(
        [
            "train",
            "prm",
            "a.jsonl",
            "logs/",
            "--output-dir",
            "out",
            "--max-steps",
            "5",
            "--no-resume",
            "--soft-labels",
            "--lora-r",
            "8",
            "--learning-rate",
            "3e-4",
        ]
    )
    config = config_from_args(prm.PRMTrainConfig, args)
    assert config.data == ["a.jsonl", "logs/"] and config.output_dir == "out"
    assert (config.max_steps, config.resume, config.soft_labels) == (5, False, True)
    assert (config.lora_r, config.learning_rate) == (8, 3e-4)
    assert config.batch_size == 8  # untouched default


def test_yaml_then_flags(parser, tmp_path):
    cfg = tmp_path / "dpo.yaml"
    cfg.write_text("data: [d1]\noutput_dir: o\nbeta: 0.5\nmax_steps: 7\n")
    args = parser.parse_args(["train", "dpo", "--config", str(cfg), "--max-steps", "9"])
    config = config_from_args(dpo.DPOTrainConfig, args)
    assert (config.data, config.beta, config.max_steps) == (["d1"], 0.5, 9)
    cfg.write_text("data: [d1]\noutput_dir: o\nbogus: 1\n")
    with pytest.raises(ValueError, match="bogus"):
        config_from_args(
            dpo.DPOTrainConfig, parser.parse_args(["train", "dpo", "--config", str(cfg)])
        )


def test_evaluate_parser(parser):
    args = parser.parse_args(
        [
            "evaluate",
            "data/",
            "--policy",
            "run/sft",
            "--backend",
            "http",
            "--url",
            "http://127.0.0.1:8000",
            "--n",
            "4",
            "--lean-check",
        ]
    )
    config = config_from_args(EvalConfig, args)
    assert (config.backend, config.n, config.policy) == ("http", 4, "run/sft")
    assert args.lean_check and args.lean_dataset is None
    with pytest.raises(SystemExit):
        parser.parse_args(["evaluate", "d", "--backend", "tpu"])


def test_config_validation(tmp_path):
    with pytest.raises(ValueError, match="no training data"):
        policy.PolicyConfig(output_dir=str(tmp_path))
    with pytest.raises(ValueError, match="output_dir"):
        prm.PRMTrainConfig(data=["x"])
    with pytest.raises(ValueError, match="max_steps"):
        policy.PolicyConfig(data=["x"], output_dir="o", max_steps=0)
    with pytest.raises(ValueError, match="beta"):
        dpo.DPOTrainConfig(data=["x"], output_dir="o", beta=0)
    with pytest.raises(ValueError, match="nothing to evaluate"):
        EvalConfig(data=["x"])
    with pytest.raises(ValueError, match="url"):
        EvalConfig(data=["x"], policy="m", backend="http")
    assert policy.PolicyConfig(data="x", output_dir="o", eval_split="none").eval_split is None
    assert policy.PolicyConfig(data="x", output_dir="o").effective_learning_rate == 1e-3
    assert policy.PolicyConfig(data="x", output_dir="o", model="m").effective_learning_rate == 2e-5
    assert dpo.DPOTrainConfig(data="x", output_dir="o", model="m").learning_rate == 5e-7


def test_report_to_reaches_the_trainer_arguments(tmp_path):
    import transformers

    config = policy.PolicyConfig(data=["x"], output_dir=str(tmp_path), report_to="tensorboard")
    assert config.trainer_kwargs(transformers.TrainingArguments)["report_to"] == "tensorboard"
    with pytest.raises(ValueError, match="report_to"):
        policy.PolicyConfig(data=["x"], output_dir="o", report_to="mlflow")
