"""The proof cache of `leancot iterate` and the round sampling that skips proved statements
(no Lean)."""

from __future__ import annotations

import random

from leancot.pipeline.proof_cache import (
    ProofCache,
    first_unproved,
    sample_unproved,
    statement_key,
)


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
