"""The rewriter's HF backend end to end on a tiny random Llama saved to disk (no download).

The model's output is gibberish, so every rewrite must fail the faithfulness check and keep the
template thought, with the reason recorded; the point is that the whole pipeline runs.
"""

from __future__ import annotations

import json

import pytest

from leancot.translate import rewrite
from leancot.translate.rewrite import RewriteConfig, render_prompt, rewrite_records

pytestmark = pytest.mark.slow

STEPS = [
    (
        "n : Nat\nh : n > 0\n⊢ n + 0 = n",
        "rw [Nat.add_zero]",
        "no goals",
        "The goal is `n + 0 = n`. We rewrite in the goal with `Nat.add_zero`. After rewriting, "
        "both sides agree, so `rfl` closes the goal. This completes the proof.",
    ),
    (
        "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q",
        "exact ⟨hp, hq⟩",
        "no goals",
        "The goal is `p ∧ q`, so we build its proof from the components `hp` and `hq`.",
    ),
    (
        "p : Prop\n⊢ ¬(p ∧ ¬p)",
        "intro h",
        "p : Prop\nh : p ∧ ¬p\n⊢ False",
        "The goal `¬(p ∧ ¬p)` is a negation, so we assume `h : p ∧ ¬p` and derive `False`.",
    ),
]
RECORDS = [
    {
        "id": f"{i:016x}",
        "full_name": f"T.thm{i}",
        "split": "train",
        "step": 0,
        "depth": 0,
        "state_before": before,
        "tactic": tactic,
        "state_after": after,
        "thought": thought,
        "template": "generic",
        "verified": True,
        "source": "extract",
    }
    for i, (before, tactic, after, thought) in enumerate(STEPS)
]


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    import torch

    from leancot.train.model import TinyModelSpec, build_tiny_causal_lm, train_tokenizer

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("rewrite_model")
    texts = [render_prompt(r, r["thought"]) for r in RECORDS] * 4
    tokenizer = train_tokenizer(texts, out, vocab_size=600)
    spec = TinyModelSpec(hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
    build_tiny_causal_lm(tokenizer, spec, seed=0).save_pretrained(str(out))
    return out


def hf_config(model_dir, tmp_path, **kw):
    return RewriteConfig(
        **{
            "backend": "hf",
            "model": str(model_dir),
            "device": "cpu",
            "batch_size": 2,
            "max_new_tokens": 12,
            "max_prompt_tokens": 384,
            "cache_path": str(tmp_path / "cache.jsonl"),
            **kw,
        }
    )


def test_hf_backend_runs_end_to_end_and_falls_back(tiny_model_dir, tmp_path, monkeypatch):
    config = hf_config(tiny_model_dir, tmp_path)
    out = list(rewrite_records(RECORDS, config, progress=False))
    assert [r["id"] for r in out] == [r["id"] for r in RECORDS]
    for record, row in zip(RECORDS, out, strict=True):
        assert row["rewrite_status"] == "fallback" and row["rewrite_reason"]
        assert row["thought"] == row["template_thought"] == record["thought"]
    lines = (tmp_path / "cache.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and {json.loads(line)["backend"] for line in lines} == {"hf"}

    # resume: everything is cached, so no model is loaded at all
    def no_backend(config):
        raise AssertionError("the cache should have served every prompt")

    monkeypatch.setattr(rewrite, "make_backend", no_backend)
    assert list(rewrite_records(RECORDS, config, progress=False)) == out


def test_hf_batches_match_single_prompts(tiny_model_dir):
    """Greedy decoding with left padding: a prompt's completion does not depend on its batch."""
    backend = rewrite.make_backend(
        hf_config(tiny_model_dir, tiny_model_dir, max_prompt_tokens=None)
    )
    assert backend.backend_id == "hf"
    prompts = [render_prompt(r, r["thought"]) for r in RECORDS]
    kw = {"max_new_tokens": 8, "temperature": 0.0, "stop": ()}
    batched = backend.generate(prompts, **kw)
    assert len(batched) == 3 and all(isinstance(t, str) for t in batched)
    assert [backend.generate([p], **kw)[0] for p in prompts] == batched


def test_hf_sampling_and_truncated_prompts(tiny_model_dir):
    backend = rewrite.make_backend(hf_config(tiny_model_dir, tiny_model_dir, max_prompt_tokens=32))
    prompt = render_prompt(RECORDS[0], RECORDS[0]["thought"])
    (text,) = backend.generate([prompt], max_new_tokens=6, temperature=0.8, stop=("\n",))
    assert "\n" not in text
