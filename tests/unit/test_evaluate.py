"""Held-out evaluation with scripted backends: policy match, top-k on Lean's verdicts, PRM AUROC
with bootstrap intervals and the surface baseline fitted on train candidates."""

from __future__ import annotations

import random

import pytest

from leancot.models.prompts import format_state_prompt, format_step
from leancot.models.scoring import PRM, Completion, PolicyBase
from leancot.train.evaluate import (
    EvalReport,
    evaluate_policy,
    evaluate_topk,
    format_report,
    rank_tactics,
)
from leancot.train.prm_eval import SurfaceBaseline, auroc, bootstrap_intervals, evaluate_prm

pytest.importorskip("sklearn", reason="the fitted baseline needs the train extra")


class ScriptedPolicy(PolicyBase):
    def __init__(self, table):
        self.table = table

    def generate(self, prompts, params):
        return [[Completion(t, lp) for t, lp in self.table[p]][: params.n] for p in prompts]


def test_evaluate_policy_with_scripted_check():
    rows = [
        {"prompt": "⊢ a\n", "completion": format_step("t", "simp")},
        {"prompt": "⊢ b\n", "completion": format_step("t", "rfl")},
    ]
    table = {
        "⊢ a\n": [("x\nsimp", -1.0), ("y\nomega", -2.0)],
        "⊢ b\n": [("x\nexact h", -1.0), ("y\nrfl", -2.0)],
    }
    accepted = {("⊢ a", "simp"), ("⊢ b", "rfl"), ("⊢ b", "exact h")}
    result = evaluate_policy(
        ScriptedPolicy(table), rows, n=2, check=lambda s, t: (s, t) in accepted
    )
    assert result.exact_match == 0.5 and result.top_n_match == 1.0
    assert result.num_proposals == 4 and result.lean_valid_frac == 0.75
    assert evaluate_policy(ScriptedPolicy(table), rows).lean_valid_frac is None


VERDICTS = {
    ("⊢ a", "intro x"): "unchanged",  # runs, changes nothing: no progress
    ("⊢ a", "simp"): "changed",
    ("⊢ a", "omega"): "closed",
    ("⊢ b", "rfl"): "closed",
}


def _outcome(state, tactic):
    return VERDICTS.get((state, tactic), "rejected")


def test_topk_counts_progress_and_closing_on_one_criterion():
    states = ["⊢ a", "⊢ b", "⊢ c"]
    proposals = [
        ["intro x", "intro  x", "simp", "rfl", "omega"],  # the repeat does not take a slot
        ["rfl"],
        [],  # nothing proposed: a miss
    ]
    result = evaluate_topk(states, proposals, _outcome, ks=(1, 2, 4))
    assert result.num_states == 3
    assert result.accept == {"1": pytest.approx(1 / 3), "2": pytest.approx(2 / 3), "4": 2 / 3}
    assert result.close == {"1": pytest.approx(1 / 3), "2": pytest.approx(1 / 3), "4": 2 / 3}
    assert result.mean_proposals == pytest.approx(5 / 3)
    assert evaluate_topk([], [], _outcome).accept == {"1": None, "4": None, "8": None}


def test_rank_tactics_by_progress_on_train_states():
    ranked = rank_tactics(["⊢ a", "⊢ b"], ["intro x", "rfl", "simp", "omega"], _outcome)
    assert ranked == [("rfl", 0.5), ("simp", 0.5), ("omega", 0.5), ("intro x", 0.0)]
    assert rank_tactics(["⊢ a"], ["simp"], lambda s, t: None) == [("simp", 0.0)]


def test_auroc_matches_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = random.Random(0)
    labels = [rng.random() < 0.3 for _ in range(200)]
    scores = [round(rng.random(), 1) + 0.3 * y for y in labels]
    assert auroc(labels, scores) == pytest.approx(roc_auc_score(labels, scores))
    assert auroc([1, 1], [0.2, 0.3]) is None


def test_bootstrap_resamples_whole_states():
    # two states, each all-accepted or all-rejected: any resample with one state lacks a class
    groups = ["s"] * 5 + ["t"] * 5
    labels = [1] * 5 + [0] * 5
    ci = bootstrap_intervals(groups, labels, {"x": list(range(10))}, n_boot=200)
    assert ci["x"] is None or ci["x"] == [0.0, 0.0] or ci["x"][0] <= ci["x"][1]
    rng = random.Random(1)
    groups = [i // 4 for i in range(400)]
    labels = [int(rng.random() < 0.4) for _ in groups]
    good = [y + rng.random() for y in labels]
    noise = [rng.random() for _ in labels]
    ci = bootstrap_intervals(groups, labels, {"good": good, "noise": noise}, n_boot=300)
    assert ci["good"][0] > 0.9 and ci["noise"][0] < 0.5 < ci["noise"][1]
    assert ci["margin"][0] > 0.3


def _candidate(state, tactic, label, thought=""):
    return {
        "prompt": format_state_prompt(state),
        "completions": [format_step(thought, tactic)],
        "label": label,
    }


class TablePRM:
    """P(good) of the last step looked up by its tactic."""

    def __init__(self, by_tactic):
        self.by_tactic = by_tactic

    def score(self, state, steps):
        return self.score_batch([(state, steps)])[0]

    def score_batch(self, items):
        return [[self.by_tactic[s.split("\n")[-1]] for s in steps] for _, steps in items]


def _split(seed, n=60):
    """Tactic `simp` is accepted at 80% of states, `rfl` at 20%, `omega` at 50%."""
    rng = random.Random(seed)
    rate = {"simp": 0.8, "rfl": 0.2, "omega": 0.5}
    return [
        _candidate(f"⊢ s{seed}_{i}", tactic, rng.random() < p)
        for i in range(n)
        for tactic, p in rate.items()
    ]


def test_fitted_baseline_learns_the_train_acceptance_of_each_tactic():
    train, held_out = _split(0), _split(1)
    baseline = SurfaceBaseline(train)
    assert "tactic_acceptance" in baseline.feature_names and "family=simp" in baseline.feature_names
    scores = dict(
        zip((c["completions"][0] for c in held_out), baseline.score(held_out), strict=True)
    )
    assert scores[format_step("", "simp")] > scores[format_step("", "omega")]
    assert scores[format_step("", "omega")] > scores[format_step("", "rfl")]
    prm = TablePRM({"simp": 0.7, "omega": 0.5, "rfl": 0.3})  # knows no more than the tactic
    assert isinstance(prm, PRM)
    result = evaluate_prm(prm, held_out, train=train, n_boot=200)
    assert result.num_candidates == 180 and result.num_states == 60
    assert result.num_positive + result.num_negative == 180
    assert result.auroc == pytest.approx(result.fitted_baseline_auroc, abs=1e-9)
    lo, hi = result.auroc_ci
    assert lo < result.auroc < hi and result.margin_ci[0] <= 0 <= result.margin_ci[1]
    with pytest.raises(ValueError, match="both"):
        SurfaceBaseline([c for c in train if c["label"]])


def test_evaluate_prm_beyond_the_baseline_and_report():
    train, held_out = _split(0), _split(1)
    oracle = TablePRM({})
    oracle.score_batch = lambda items: [  # knows the outcome: the ceiling
        [0.9 if c["label"] else 0.1] for c in held_out
    ]
    result = evaluate_prm(oracle, held_out, train=train, n_boot=200)
    assert result.auroc == 1.0 and result.margin_ci[0] > 0
    no_train = evaluate_prm(oracle, held_out, n_boot=50)
    assert no_train.fitted_baseline_auroc is None and no_train.margin_ci is None
    text = format_report(EvalReport("test", None, result))
    assert "auroc=1.000" in text and "fitted surface baseline" in text
    assert result.to_dict()["auroc_ci"] == result.auroc_ci
