"""benchmarks/learning.py: the summary keys on the synthetic corpus, and the PRM candidates it
builds from Lean's verdicts at held-out states (a scripted judge, no Lean)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from leancot.models.prompts import format_state_prompt, parse_step
from leancot.train.rows import prm_step_text


@pytest.fixture(scope="module")
def learning():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "learning.py"
    spec = importlib.util.spec_from_file_location("learning_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def _theorem(name, line, steps):
    return {
        "full_name": name,
        "file_path": "F.lean",
        "start": [line, 1],
        "traced_tactics": [{"state_before": s, "tactic": t, "depth": d} for s, t, d in steps],
    }


def test_held_out_states_and_candidates(learning):
    later = _theorem("b", 9, [("⊢ q", "exact hq", 0)])
    first = _theorem("a", 1, [("⊢ p ∧ q", "constructor", 0), ("⊢ p", "nested", 1), ("⊢ q", "x", 0)])
    states = learning.top_level_states([later, first])
    assert [(s.full_name, s.state) for s in states] == [("a", "⊢ p ∧ q"), ("a", "⊢ q")]
    assert states[1].root == "⊢ p ∧ q" and states[1].prefix == (("⊢ p ∧ q", "constructor"),)
    verdicts = {"simp": "changed", "rfl": "rejected", "skip": "unchanged", "omega": "closed"}
    cands = learning.prm_candidates_at(
        states, [["simp", "rfl"], ["skip", "omega", "gone"]], lambda s, t: verdicts.get(t)
    )
    assert [c["label"] for c in cands] == [True, False, False, True]  # "gone": no verdict
    assert all(c["prompt"] == format_state_prompt("⊢ p ∧ q") for c in cands)
    assert cands[2]["completions"] == [
        prm_step_text("⊢ p ∧ q", "constructor"),
        prm_step_text("⊢ q", "skip"),
    ]
    assert parse_step(cands[0]["completions"][-1])[1] == "simp"


def test_synthetic_run_reports_the_summary(learning, tmp_path):
    result = learning.run([], str(tmp_path), sft_steps=4, prm_steps=4, num_theorems=60)
    assert set(learning.SUMMARY_KEYS) <= set(result)
    assert 0.0 <= result["prm_auroc"] <= 1.0 and result["prm_fitted_baseline_auroc"] is not None
    assert result["prm_num_positive"] > 0 and result["prm_num_negative"] > 0
    assert result["policy_topk_accept"] is None  # no Lean dataset: no top-k metrics
    assert "PRM AUROC" in learning.table(result)
