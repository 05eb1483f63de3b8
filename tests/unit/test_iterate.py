"""The proof cache of `leancot iterate` and the round sampling that skips proved statements
(no Lean)."""

from __future__ import annotations

import json
import random

import pytest

from leancot.pipeline.proof_cache import (
    TUNE_FRACTION,
    ProofCache,
    first_unproved,
    in_tune_slice,
    sample_unproved,
    statement_key,
)
from leancot.prover.theorems import Theorem


def _record(name: str, statement: str, *, verified: bool = True) -> dict:
    proof = ["simp"] if verified else None
    return {"full_name": name, "statement": statement, "proof": proof, "verified": verified}


def test_proof_cache_keeps_one_proof_per_statement_across_rounds(tmp_path):
    path = tmp_path / "iterate" / "proofs.jsonl"
    cache = ProofCache(path)
    added = cache.add(
        [_record("a", "theorem a : R"), _record("b", "theorem b : S", verified=False)],
        1,
        headers={"a": "import Std"},
    )
    assert added == 1 and "theorem a : R" in cache and "theorem b : S" not in cache
    # the same statement reflowed, and a rerun of round 1, add nothing
    assert cache.add([_record("a2", "theorem  a :\n R")], 2) == 0
    assert cache.add([_record("a", "theorem a : R")], 1) == 0
    assert cache.add([_record("c", "theorem c : T")], 2) == 1
    again = ProofCache(path)
    assert len(again) == 2 and again.count(1) == 1 and again.count(2) == 1
    assert again.entries[statement_key("theorem a : R")]["header"] == "import Std"
    assert again.proved_before(2) == {"theorem a : R"}
    assert len(path.read_text().splitlines()) == 2


def test_proof_cache_resumes_after_a_half_written_line(tmp_path):
    path = tmp_path / "proofs.jsonl"
    ProofCache(path).add([_record("a", "theorem a : R")], 1)
    with path.open("a") as f:
        f.write('{"statement": "theorem b : S", "pro')  # killed mid-write
    cache = ProofCache(path)
    assert len(cache) == 1 and "theorem b : S" not in cache
    assert cache.add([_record("b", "theorem b : S")], 2) == 1
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(line.endswith("}") for line in lines)
    assert len(ProofCache(path)) == 2


def test_round_sampling_skips_proved_statements():
    pool = [{"full_name": f"t{i}", "statement": f"theorem t{i} : R"} for i in range(10)]
    proved = {statement_key(f"theorem t{i} : R") for i in range(0, 10, 2)}
    sample = sample_unproved(pool, proved, 3, random.Random(7))
    assert len(sample) == 3 and all(int(t["full_name"][1:]) % 2 == 1 for t in sample)
    assert sample == sample_unproved(pool, proved, 3, random.Random(7))  # seeded
    assert len(sample_unproved(pool, proved, 50, random.Random(0))) == 5  # all that is left
    assert [t["full_name"] for t in first_unproved(pool, proved, 2)] == ["t1", "t3"]
    assert (
        sample_unproved(pool, {statement_key(t["statement"]) for t in pool}, 3, random.Random(0))
        == []
    )


def test_the_tuning_slice_is_a_fixed_tenth_no_round_samples(monkeypatch):
    """Core rounds never draw from the tuning slice: it is left out before restating, and the
    round takes the first `train_limit` statements of the seeded order not yet proved."""
    from leancot.pipeline import iterate
    from leancot.pipeline.config import IterateConfig
    from leancot.prover import core_suite, suites

    names = [f"Lib.t{i}" for i in range(2000)]
    share = sum(map(in_tune_slice, names)) / len(names)
    assert abs(share - TUNE_FRACTION) < 0.03
    assert [in_tune_slice(n) for n in names] == [in_tune_slice(n) for n in names]  # stable
    lemmas = [f"Lib.t{i}" for i in range(200)]
    restated: list[str] = []

    def fake_core_suite(server, split, *, limit=None, seed=0, report=None, keep=None):
        out = []
        for lemma in lemmas:  # the real one restates in this loop: each candidate costs Lean
            if limit is not None and len(out) >= limit:
                break
            if keep is None or keep(lemma):
                restated.append(lemma)
                name = core_suite.core_theorem_name(lemma)
                out.append(Theorem(name, f"theorem {name} : R", "import Std", split, "core:"))
        return out

    monkeypatch.setattr(core_suite, "core_suite", fake_core_suite)
    server = object()
    kept, _ = suites.load_suite("core", "train", server=server, limit=30, keep=lambda n: True)
    assert len(kept) == 30
    lean = type("L", (), {"get": lambda self: server})()
    config = IterateConfig(train_benchmark="core:train", train_limit=40)
    proved = {statement_key(t["statement"]) for t in kept[:10]}
    restated.clear()
    chosen = iterate.round_theorems(config, 1, proved, lean, None, None)
    assert len(chosen) == 40
    assert not any(in_tune_slice(t["full_name"]) for t in chosen)
    assert not any(in_tune_slice(core_suite.core_theorem_name(n)) for n in restated)
    assert not {statement_key(t["statement"]) for t in chosen} & proved
    outside = [t for t in kept[10:] if not in_tune_slice(t["full_name"])]
    assert chosen[: len(outside)] == outside  # the seeded order, nothing skipped but the slice
    held_out, _ = suites.load_suite("core", "train", server=server, limit=5, keep=in_tune_slice)
    assert len(held_out) == 5 and all(in_tune_slice(t["full_name"]) for t in held_out)


def test_sft_rows_weight_the_verified_proof_rows_and_replay_the_step_rows_once(tmp_path):
    """`search_log_weight` k: each proof-path row k times, each step row once; the counts of
    `iterate.sft_row_counts` are those rows."""
    from leancot.pipeline.iterate import sft_row_counts
    from leancot.prover import ScriptedEnv, ScriptedPolicy
    from leancot.prover.runner import prove_all
    from leancot.train.data import load_inputs
    from leancot.train.policy import build_rows

    steps = tmp_path / "steps.jsonl"
    records = [
        {"full_name": "S.a", "split": "train", "state_before": "⊢ A", "tactic": "rfl"},
        {"full_name": "S.b", "split": "train", "state_before": "⊢ B", "tactic": "simp"},
        {"full_name": "S.b", "split": "train", "state_before": "⊢ B", "tactic": "simp"},
    ]
    steps.write_text("".join(json.dumps(r) + "\n" for r in records))
    log = tmp_path / "train_verified.jsonl"
    theorems = [
        {"full_name": n, "statement": f"theorem {n} : R", "split": "train", "header": ""}
        for n in ("T.x", "T.y", "T.z")
    ]
    starts = {t["statement"]: f"⊢ {t['full_name']}" for t in theorems}
    table = {
        "⊢ T.x": {"intro": "⊢ X1"},
        "⊢ X1": {"simp": "no goals"},
        "⊢ T.y": {"omega": "no goals"},
    }
    prove_all(
        theorems, lambda: ScriptedEnv(table, starts), method="best_first",
        policy=ScriptedPolicy({"⊢ T.x": ["intro"], "⊢ X1": ["simp"], "⊢ T.y": ["omega"],
                               "⊢ T.z": ["simp"]}),
        verify=lambda s, p: True, out_path=log, progress=False,
    )  # fmt: skip
    inputs = load_inputs([steps, log])
    once = build_rows(inputs, "train")
    assert len(once) == 2 + 3  # two distinct step rows; T.x's path has two steps, T.y's one
    weighted = build_rows(inputs, "train", search_log_weight=4)
    assert len(weighted) == 2 + 3 * 4
    assert sum(r["prompt"].startswith("⊢ A") or "⊢ A" in r["prompt"] for r in weighted) == 1
    assert sft_row_counts([str(steps), str(log)], 4) == {"replay": 2, "new": 3, "trained": 14}
    from leancot.train.policy import PolicyConfig

    with pytest.raises(ValueError, match="search_log_weight"):
        PolicyConfig(data=[str(steps)], output_dir=str(tmp_path), search_log_weight=0)
