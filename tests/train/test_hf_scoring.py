"""HFPolicy / HFPRM on the tiny trained models, and `evaluate.main` end to end."""

from __future__ import annotations

import json

import pytest

from leancot.models.prompts import format_state_prompt
from leancot.models.scoring import PRM, Policy, SamplingParams

pytestmark = pytest.mark.slow

STATES = ["n : ℕ\n⊢ n + 0 = n", "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q", "⊢ ∀ (x : ℕ), x ≤ x + 1"]


@pytest.fixture(scope="module")
def hf_policy(sft_run):
    from leancot.models.hf import HFPolicy

    return HFPolicy(str(sft_run.model_dir), batch_size=2)


@pytest.fixture(scope="module")
def prm_run(corpus_dir, tmp_path_factory, quick):
    from leancot.train import prm

    out = tmp_path_factory.mktemp("prm")
    return prm.main(prm.PRMTrainConfig(data=[str(corpus_dir)], output_dir=str(out), **quick()))


def test_greedy_batches_match_single_prompts(hf_policy):
    assert isinstance(hf_policy, Policy)
    params = SamplingParams(n=1, temperature=0, max_tokens=24, stop=("\n\n",))
    prompts = [format_state_prompt(s) for s in STATES]
    batched = hf_policy.generate(prompts, params)  # batch_size=2: two batches, left padding
    assert len(batched) == 3 and all(len(row) == 1 for row in batched)
    for prompt, row in zip(prompts, batched, strict=True):
        (single,) = hf_policy.generate([prompt], params)
        assert single[0].text == row[0].text
        assert single[0].cumulative_logprob == pytest.approx(row[0].cumulative_logprob, abs=1e-3)
        assert row[0].cumulative_logprob < 0 and "\n\n" not in row[0].text


def test_logprob_is_the_raw_model_log_probability(hf_policy):
    """Greedy, one token: the reported value is the top log-probability at the prompt's end,
    whatever the sampling temperature (vLLM reports raw log-probabilities too)."""
    import torch

    prompt = format_state_prompt(STATES[0])
    tok, model = hf_policy.tokenizer, hf_policy.model
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([tok(prompt)["input_ids"]])).logits[0, -1]
    best = float(torch.log_softmax(logits.float(), dim=-1).max())
    (row,) = hf_policy.generate([prompt], SamplingParams(n=1, temperature=0, max_tokens=1))
    assert row[0].cumulative_logprob == pytest.approx(best, abs=1e-4)


def test_sampling_and_beams_give_n_per_prompt(hf_policy):
    sampled = hf_policy.generate(
        ["⊢ a\n", "⊢ b\n"], SamplingParams(n=3, temperature=1.0, max_tokens=8, seed=0)
    )
    assert [len(row) for row in sampled] == [3, 3]
    again = hf_policy.generate(
        ["⊢ a\n", "⊢ b\n"], SamplingParams(n=3, temperature=1.0, max_tokens=8, seed=0)
    )
    assert [[c.text for c in r] for r in sampled] == [[c.text for c in r] for r in again]
    beams = hf_policy.generate(["⊢ a\n"], SamplingParams(n=2, temperature=0, max_tokens=8))
    assert len(beams[0]) == 2
    proposals = hf_policy.propose(STATES, 4, max_tokens=24)
    assert len(proposals) == 3
    for props in proposals:
        assert [p.logprob for p in props] == sorted((p.logprob for p in props), reverse=True)


def test_fast_decoding_samples_what_generate_samples(hf_policy, monkeypatch):
    """The tiny policy samples through `fast_decode` (a stop string, left padding, n per
    prompt): at the same seed the same texts as `generate`, and the same log-probabilities."""
    from leancot.models import fast_decode

    params = SamplingParams(n=4, temperature=0.7, max_tokens=48, stop=("\n\n",), seed=11)
    prompts = [format_state_prompt(s) for s in STATES]
    assert hf_policy._fast(params)
    fast = hf_policy.generate(prompts, params)
    monkeypatch.setattr(fast_decode, "supports", lambda model: False)
    assert not hf_policy._fast(params)
    slow = hf_policy.generate(prompts, params)
    assert [[c.text for c in r] for r in fast] == [[c.text for c in r] for r in slow]
    for f, s in zip(fast, slow, strict=True):
        lps = [c.cumulative_logprob for c in s]
        assert [c.cumulative_logprob for c in f] == pytest.approx(lps, abs=1e-3)


def test_hf_prm_scores(prm_run):
    from leancot.models.hf import HFPRM

    prm = HFPRM(str(prm_run.model_dir), batch_size=2)
    assert isinstance(prm, PRM)
    steps = [("Split the conjunction.", "constructor"), ("Use hp.", "exact hp")]
    scores = prm.score(STATES[1], steps)
    assert len(scores) == 2 and all(0.0 <= s <= 1.0 for s in scores)
    batch = prm.score_batch([(STATES[0], steps[:1]), (STATES[1], steps), (STATES[2], [])])
    assert batch[1] == pytest.approx(scores, abs=1e-4) and batch[2] == []
    assert prm.score(STATES[1], ["Split the conjunction.\nconstructor"]) == pytest.approx(
        scores[:1], abs=1e-4
    )
    tiny = HFPRM(prm.model, prm.tokenizer, max_length=8)  # over-long input: keeps the end
    assert len(tiny.score(STATES[1], steps)) == 2


def test_evaluate_main_writes_report(corpus_dir, sft_run, prm_run, tmp_path):
    from leancot.train.evaluate import EvalConfig, main

    seen = []

    def check(state: str, tactic: str) -> bool:  # scripted: no Lean is involved here
        seen.append((state, tactic))
        return tactic.startswith("exact")

    out = tmp_path / "report.json"
    config = EvalConfig(
        data=[str(corpus_dir)],
        policy=str(sft_run.model_dir),
        prm=str(prm_run.model_dir),
        split="train",
        max_rows=6,
        n=2,
        max_tokens=24,
        output=str(out),
    )
    report = main(config, check=check)
    saved = json.loads(out.read_text())
    assert saved == json.loads(json.dumps(report.to_dict()))
    assert saved["policy"]["num_rows"] == 6 and saved["policy"]["n"] == 2
    assert saved["policy"]["lean_valid_frac"] == pytest.approx(
        sum(t.startswith("exact") for _, t in seen) / len(seen)
    )
    prm = saved["prm"]
    assert prm["num_candidates"] == 6 == prm["num_positive"] + prm["num_negative"]
    assert "fitted_baseline_auroc" in prm and prm["num_train_candidates"] > 6
