"""Round data from real searches on the WASM Lean: first-error PRM rows and SFT rows along the
verified proof of a real search tree, and a ban-aware search that finds the honest proof of a
restated core lemma where the plain search stops on one the verifier refuses."""

from __future__ import annotations

import pytest

from leancot.lean.verify import verify
from leancot.models.prompts import format_state_prompt, parse_step
from leancot.prover.config import BudgetConfig
from leancot.prover.core_lemmas import core_library_theorems
from leancot.prover.policies import PortfolioPolicy
from leancot.prover.runner import read_log
from leancot.prover.workers import prove_theorems
from leancot.train.rows import (
    SearchTree,
    prm_rows_from_search_logs,
    prm_step_text,
    sft_rows_from_search_logs,
)

pytestmark = pytest.mark.slow

STATEMENT = "theorem leancot_rows_and (p q : Prop) (hp : p) (hq : q) : p ∧ q"
TACTICS = ("intro h", "exact hq", "constructor", "exact hp")


def test_rows_from_a_real_search_tree(lean_server, tmp_path):
    out = tmp_path / "log.jsonl"
    policy = PortfolioPolicy(TACTICS, instantiate=False)
    theorem = {"full_name": "leancot_rows_and", "statement": STATEMENT, "split": "train"}
    prove_theorems([theorem], [lean_server], method="baseline", policy=policy, out_path=out,
                   budget=BudgetConfig(lean_calls=32).budget(),
                   search_kwargs={"num_candidates": len(TACTICS)}, progress=False)  # fmt: skip
    (log,) = read_log(out)
    assert log["verified"], log.get("verify_error")
    tree = SearchTree(log)
    errors = [e for e in log["edges"] if e["result"] == "error"]
    assert {e["tactic"] for e in errors if e["src"] == tree.root} >= {"intro h", "exact hq"}

    rows = prm_rows_from_search_logs([log])
    proof = tree.proof_path()
    assert [e["tactic"] for e in proof] == ["constructor", "exact hp", "exact hq"]
    for row in rows:  # first-error labels: good steps, then at most one bad step, last
        labels = row["labels"]
        assert all(labels[:-1]) and row["prompt"] == format_state_prompt(tree.state(tree.root))
    bad_rows = [r for r in rows if not r["labels"][-1]]
    # every step Lean rejected on a good path is the last step of one row, labelled bad; any
    # other bad last step leads into a dead end (a FAILED node)
    rejected = {prm_step_text(tree.state(e["src"]), e["tactic"]) for e in errors}
    dead = {
        prm_step_text(tree.state(e["src"]), e["tactic"])
        for e in log["edges"]
        if tree.status(e.get("dst")) == "FAILED"
    }
    assert rejected <= {r["completions"][-1] for r in bad_rows} <= rejected | dead
    assert [True] * 3 in [r["labels"] for r in rows]  # the proof path
    for text in (c for r in rows for c in r["completions"]):  # no Lean message in a step
        assert not any(e["error"] and e["error"][:30] in text for e in errors)

    sft = sft_rows_from_search_logs([log])
    assert [parse_step(r["completion"])[1] for r in sft] == ["constructor", "exact hp", "exact hq"]
    assert [r["prompt"] for r in sft] == [format_state_prompt(tree.state(e["src"])) for e in proof]
    tactics = [parse_step(r["completion"])[1] for r in sft]
    assert verify(STATEMENT, "by\n  " + "\n  ".join(tactics), server=lean_server).ok


def test_ban_aware_search_finds_the_honest_proof(lean_server, tmp_path):
    """`simp` proves `!!b = b` with Bool.not_not itself (refused); `decide` is honest."""
    (thm,) = core_library_theorems(lean_server, ["Bool.not_not"])
    policy = PortfolioPolicy(("simp", "decide"), instantiate=False)
    budget = BudgetConfig(lean_calls=8).budget()
    kwargs = {"num_candidates": 2}
    plain, aware = tmp_path / "plain.jsonl", tmp_path / "aware.jsonl"
    prove_theorems([thm], [lean_server], method="baseline", policy=policy, out_path=plain,
                   budget=budget, search_kwargs=kwargs, progress=False,
                   ban_aware=False)  # fmt: skip
    prove_theorems([thm], [lean_server], method="baseline", policy=policy, out_path=aware,
                   budget=budget, search_kwargs=kwargs, progress=False)  # fmt: skip
    (before,) = read_log(plain)
    (after,) = read_log(aware)
    assert before["proved"] and not before["verified"] and before["proof"] == ["simp"]
    assert after["verified"] and after["proof"] == ["decide"]
    simp = next(e for e in after["edges"] if e["tactic"] == "simp")
    assert simp["result"] == "error" and "refused" in simp["error"]
