"""Named benchmarks on the real WASM Lean: the miniF2F rows core Lean elaborates, a restated
core lemma whose proof cites the lemma itself (refused inside `prove`), and the external
evaluation's bookkeeping over real proving runs of the fixed methods."""

from __future__ import annotations

from pathlib import Path

import pytest

from leancot.pipeline import external
from leancot.prover.config import BudgetConfig
from leancot.prover.core_lemmas import core_library_theorems
from leancot.prover.runner import read_log
from leancot.prover.suites import SuiteReport, default_benchmark_file, load_minif2f_core
from leancot.prover.workers import prove_theorems

pytestmark = pytest.mark.slow


def _minif2f() -> Path:
    try:
        return default_benchmark_file("minif2f.jsonl")
    except ValueError:
        pytest.skip("no minif2f.jsonl beside the checkout (shared/benchmarks)")


def test_minif2f_core_keeps_statements_core_lean_elaborates(lean_server):
    report = SuiteReport("minif2f-core", "valid")
    theorems = load_minif2f_core(lean_server, _minif2f(), "valid", report=report)
    assert 30 <= len(theorems) <= 100, report.as_dict()
    assert report.kept == len(theorems) and sum(report.dropped.values()) + report.kept == 244
    assert all("ℕ" not in t.statement and t.header == "" for t in theorems)
    for thm in theorems[:5]:  # each kept statement really elaborates, alone
        assert lean_server.run_cmd(f"{thm.statement} := sorry").ok


def test_prove_refuses_a_proof_that_cites_the_restated_lemma(lean_server, tmp_path):
    (thm,) = core_library_theorems(lean_server, ["Nat.add_comm"])
    policy = type("Cite", (), {})()

    def propose(states, n):
        from leancot.prover.policies import Candidate

        return [[Candidate("", "exact Nat.add_comm", 0.0)] for _ in states]

    policy.propose = propose
    out = tmp_path / "core.jsonl"
    budget = BudgetConfig(lean_calls=4).budget()
    prove_theorems([thm], [lean_server], method="baseline", policy=policy, out_path=out,
                   budget=budget, search_kwargs={"num_candidates": 1}, progress=False,
                   ban_aware=False)  # fmt: skip
    (record,) = read_log(out)
    assert record["proved"] and not record["verified"]
    assert "restates" in record["verify_error"]
    # the ban-aware search refuses the step itself: no proof is claimed
    aware = tmp_path / "aware.jsonl"
    prove_theorems([thm], [lean_server], method="baseline", policy=policy, out_path=aware,
                   budget=budget, search_kwargs={"num_candidates": 1}, progress=False)  # fmt: skip
    (record,) = read_log(aware)
    assert not record["proved"] and not record["verified"]
    assert "restates" in record["edges"][0]["error"]


def test_external_fixed_methods_on_two_benchmarks(lean_server, tmp_path):
    _minif2f()
    config = external.ExternalConfig(
        run_dir=tmp_path / "no-run",
        out_dir=tmp_path / "ext",
        splits=("minif2f-core:valid", "bundled:test"),
        methods=("baseline", "heuristic"),
        limit=2,
        budgets=(8, 16),
        report_budget=16,
    )
    summary = external.main(config, servers=[lean_server])
    bundled = summary["benchmarks"]["bundled:test"]["methods"]
    assert set(bundled) == {"baseline", "heuristic"} and bundled["baseline"]["total"] == 2
    assert bundled["heuristic"]["proved"]["per_seed"] == [bundled["heuristic"]["curve"]["16"]]
    filters = summary["benchmarks"]["minif2f-core:valid"]["filters"]
    assert filters["candidates"] == 244 and filters["kept"] >= 30
    for entry in summary["benchmarks"].values():  # proved within 16 by one run, not another
        for row in entry["disagreements"].values():
            within = [c is not None and c <= 16 for cells in row.values() for c in cells]
            assert any(within) and not all(within) and set(row) == {"baseline", "heuristic"}
    assert (tmp_path / "ext" / external.SUMMARY_NAME).is_file()
    again = external.main(config, servers=[lean_server])  # resumed from the logs
    assert again["benchmarks"] == summary["benchmarks"]


def test_core_suite_enumerates_and_restates_library_theorems(lean_server, tmp_path):
    from leancot.prover.core_suite import RestatementCache, core_suite

    report = SuiteReport("core", "test")
    cache = RestatementCache(tmp_path / "core.jsonl")
    theorems = core_suite(lean_server, "test", limit=12, report=report, cache=cache)
    assert len(theorems) == 12 and report.candidates > 40000, report.as_dict()
    assert report.dropped["private or generated"] > 1000
    assert all(t.split == "test" and t.source.startswith("core:") for t in theorems)
    header = lean_server.run_cmd("import Std")
    for thm in theorems[:6]:  # each restatement elaborates on its own, universes declared
        assert lean_server.run_cmd(f"{thm.statement} := sorry", header).ok, thm.statement
    leveled = [t for t in theorems if ".{u_1" in t.statement]
    assert all("Type u_1" in t.statement or "Sort u_1" in t.statement for t in leveled)


def test_a_restatement_whose_type_holds_colon_equals_starts_a_proof(lean_server, tmp_path):
    """`UInt64.mul_def`'s type holds a structure instance (`{ toBitVec := … }`): its restatement
    must start as a goal (it ended in "unexpected end of input" when `:=` in the type was taken
    for a proof), and the search's env proves it honestly."""
    from leancot.lean.results import TacticState
    from leancot.prover.core_suite import restate
    from leancot.prover.lean_env import LeanEnv

    header = lean_server.header_env("import Std")
    entry = restate(lean_server, {"name": "UInt64.mul_def"}, header)
    assert ":=" in entry["statement"], entry
    start = LeanEnv(lean_server, "import Std").start(entry["statement"])
    assert isinstance(start, TacticState), start
    assert "toBitVec :=" in start.pp
