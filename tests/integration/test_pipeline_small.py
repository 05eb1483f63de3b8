"""`leancot prove`'s machinery on the real WASM Lean: the portfolio baseline on a few bundled
test theorems (each with its file context as header), proofs re-verified, the log resumable."""

from __future__ import annotations

import pytest

from leancot.pipeline.steps import log_counts
from leancot.prover import Budget
from leancot.prover.benchmarks import load_bundled
from leancot.prover.mixture import search_setup
from leancot.prover.runner import read_log
from leancot.prover.workers import prove_theorems

pytestmark = pytest.mark.slow


def test_portfolio_baseline_proves_bundled_theorems(lean_server, tmp_path):
    theorems = load_bundled("test")[:3]
    assert len(theorems) == 3 and all(t.header for t in theorems)
    policy, value, kwargs = search_setup("baseline")
    out = tmp_path / "results.jsonl"
    budget = Budget(max_expansions=None, max_lean_calls=32, tactic_timeout_s=10.0)
    summary = prove_theorems(
        theorems,
        [lean_server],
        method="baseline",
        policy=policy,
        out_path=out,
        budget=budget,
        value=value,
        search_kwargs=kwargs,
        progress=False,
    )
    assert summary.attempted == 3 and summary.errors == 0
    records = read_log(out)
    assert [r["full_name"] for r in records] == [t.full_name for t in theorems]
    assert all(r["lean_calls"] <= 32 and r["method"] == "baseline" for r in records)
    proved = [r for r in records if r["verified"]]
    assert proved, [r["stop_reason"] for r in records]
    for r in proved:
        assert r["proved"] and r["proof"] and r["verify_error"] is None
    counts = log_counts(out)
    assert counts["proved"] == len(proved) == summary.proved and counts["total"] == 3

    again = prove_theorems(
        theorems, [lean_server], method="baseline", policy=policy, out_path=out,
        budget=budget, search_kwargs=kwargs, progress=False,
    )  # fmt: skip
    assert again.skipped == 3 and again.attempted == 0
    assert len(read_log(out)) == 3
