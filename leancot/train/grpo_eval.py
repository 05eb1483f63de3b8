"""Held-out evaluation of a GRPO run: how often the policy's sampled answers prove statements it
was not trained on, before training (the starting policy, the baseline) and after.

Each held-out statement gets `n` sampled answers (`models.hf.HFPolicy`, the prover's own policy
wrapper, with a fixed seed); each answer's tactic is checked as the whole proof exactly as in
training (`lean_reward.VerifiedReward.verdicts`, same cache). Reported: `mean_reward` (share of
verified answers, an estimate of pass@1), `pass_at_n` (share of statements with at least one
verified answer) and the names of the statements proved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leancot.train.lean_reward import VerifiedReward, whole_proof


def held_out_eval(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Mapping[str, str]],
    reward: VerifiedReward,
    *,
    n: int,
    max_tokens: int,
    temperature: float,
    top_p: float,
    seed: int,
) -> dict[str, Any]:
    """Sample `n` answers per prompt row (`train.grpo.PROMPT_COLUMNS`) and verify them."""
    from leancot.models.hf import HFPolicy
    from leancot.models.scoring import SamplingParams

    if not prompts:
        raise ValueError("no held-out statements to evaluate")
    was_training = model.training
    policy = HFPolicy(model, tokenizer)
    params = SamplingParams(
        n=n, temperature=temperature, max_tokens=max_tokens, top_p=top_p, seed=seed
    )
    outputs = policy.generate([p["prompt"] for p in prompts], params)
    items = [
        (p["full_name"], p["header"], p["statement"], whole_proof(c.text))
        for p, completions in zip(prompts, outputs, strict=True)
        for c in completions
    ]
    ok = [v is not None and v.ok for v in reward.verdicts(items)]
    per_statement = [ok[i * n : (i + 1) * n] for i in range(len(prompts))]
    if was_training:
        model.train()
    return {
        "statements": len(prompts),
        "samples_per_statement": n,
        "mean_reward": sum(ok) / len(ok),
        "pass_at_n": sum(any(s) for s in per_statement) / len(prompts),
        "proved": [p["full_name"] for p, s in zip(prompts, per_statement, strict=True) if any(s)],
    }


__all__ = ["held_out_eval"]
