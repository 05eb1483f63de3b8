"""benchmarks/iterate_tune.py: the weight sweep's reference k = 0 (the run's policy, untrained)
and the choice among the weights (no Lean, no models: the searches and trainers replaced)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from leancot.pipeline import iterate, round_eval
from leancot.pipeline.config import IterateConfig

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("bench_tune", ROOT / "benchmarks/iterate_tune.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_weight_zero_searches_with_the_runs_policy_and_is_never_chosen(tmp_path, monkeypatch):
    bench = _bench()
    run_dir = tmp_path / "run"
    trained: list[int] = []
    searched: list[str] = []
    run_policy, k1, k4 = (
        str(p) for p in (run_dir / "policy", tmp_path / "k1/policy", tmp_path / "k4/policy")
    )
    proved = {run_policy: 9, k1: 2, k4: 5}  # the reference proves the most: still no weight

    def fake_train(config, run_cfg, k, data, out):
        trained.append(k)
        return SimpleNamespace(path=out / f"k{k}" / "policy", key=f"sft-{k}")

    def fake_prove(out, theorems, model, prm, cfg, run_cfg, lean, st, *a, **kw):
        searched.append(model)
        return {"proved": proved[model], "total": 40}

    monkeypatch.setattr(bench, "train_weight", fake_train)
    monkeypatch.setattr(bench, "sft_data", lambda *a: ["steps.jsonl", "train.jsonl"])
    monkeypatch.setattr(round_eval, "prove_with", fake_prove)
    monkeypatch.setattr(iterate, "sft_row_counts", lambda data, k: {"new": 1, "weight": k})
    config = IterateConfig(run_dir=run_dir, progress=False)
    theorems = [{"full_name": "T.a"}]
    results = bench.sweep(config, None, None, [0, 1, 4], Path("t"), theorems, [], tmp_path)
    assert trained == [1, 4]  # no SFT for the reference
    assert searched == [run_policy, k1, k4]
    assert [(r["k"], r["proved"]) for r in results] == [(0, 9), (1, 2), (4, 5)]
    assert results[0]["rows"] is None
    assert bench.choose(results) == 4


def test_choose_breaks_ties_by_exact_match_then_the_smaller_weight():
    choose = _bench().choose
    tie = [{"k": 1, "proved": 3, "exact_match": 0.2}, {"k": 4, "proved": 3, "exact_match": 0.2}]
    assert choose(tie) == 1
    tie[1]["exact_match"] = 0.5
    assert choose(tie) == 4
