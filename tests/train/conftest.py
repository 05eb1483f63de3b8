"""Fixtures for the training tests: a small synthetic corpus and one short SFT run, shared by
the session. Everything runs on the tiny model (built from a config, tokenizer trained here)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

pytest.importorskip("torch", reason="needs the train extra: pip install 'leancot[train]'")
pytest.importorskip("trl", reason="needs the train extra: pip install 'leancot[train]'")


def _quick(**kw):
    return {"max_steps": 6, "save_steps": 3, "logging_steps": 2, "progress": False, **kw}


@pytest.fixture(scope="session")
def quick():
    """`quick(**overrides)`: config fields for a run of a few seconds."""
    return _quick


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory):
    from synthetic_corpus import synthetic_corpus

    from leancot.files import write_jsonl

    root = tmp_path_factory.mktemp("corpus")
    records, logs = synthetic_corpus(96, seed=1)
    write_jsonl(root / "cot" / "steps.jsonl", records)
    write_jsonl(root / "search" / "logs.jsonl", logs)
    return root


@pytest.fixture(scope="session")
def sft_run(corpus_dir, tmp_path_factory):
    import torch

    from leancot.train import policy

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("runs") / "sft"
    config = policy.PolicyConfig(
        data=[str(corpus_dir)], output_dir=str(out), eval_max_rows=8, **_quick(max_steps=30)
    )
    return policy.main(config)
