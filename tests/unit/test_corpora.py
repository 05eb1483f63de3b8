"""Building the CoT corpora from traced theorems (translate/corpora.py)."""

from __future__ import annotations

import hashlib

from leancot.translate.corpora import (
    proof_docs,
    search_records,
    split_of,
    star_rows,
    step_id,
    step_records,
)

NAME = "LeanCot.Corpus.Nat.add_zero_right"
STATEMENT = "theorem add_zero_right (n : Nat) : n + 0 = n"
PROOF = "by\n  induction n with\n  | zero => rfl\n  | succ k ih => simp"


def theorem(**extra):
    thm = {
        "url": "local:/work/main/lean_project",
        "commit": "workdir",
        "file_path": "LeanCot/Corpus/Nat.lean",
        "full_name": NAME,
        "start": [10, 0],
        "end": [13, 0],
        "statement": STATEMENT,
        "proof": PROOF,
        "traced_tactics": [
            {
                "tactic": "induction n with\n  | zero => rfl\n  | succ k ih => simp",
                "annotated_tactic": ["induction n with ...", []],
                "state_before": "n : Nat\n⊢ n + 0 = n",
                "state_after": "no goals",
                "depth": 0,
            },
            {
                "tactic": "rfl",
                "annotated_tactic": ["rfl", []],
                "state_before": "case zero\n⊢ 0 + 0 = 0",
                "state_after": "no goals",
                "depth": 1,
            },
            {
                "tactic": "simp",
                "annotated_tactic": ["simp", []],
                "state_before": "case succ\nk : Nat\nih : k + 0 = k\n⊢ k + 1 + 0 = k + 1",
                "state_after": "no goals",
                "depth": 1,
            },
        ],
    }
    thm.update(extra)
    return thm


def test_split_of_follows_the_hash_rule():
    names = [f"T.thm{i}" for i in range(2000)]
    splits = [split_of(n) for n in names]
    assert set(splits) == {"train", "val", "test"}
    assert 0.85 < splits.count("train") / len(splits) < 0.95
    assert [split_of(n) for n in names] == splits  # pure and stable
    for name, split in zip(names[:50], splits[:50], strict=True):
        x = int(hashlib.sha256(name.encode()).hexdigest()[:16], 16) / 16**16
        expected = "train" if x < 0.9 else "val" if x < 0.95 else "test"
        assert split == expected


def test_step_records():
    rows = list(step_records([theorem()]))
    assert [r["step"] for r in rows] == [0, 1, 2]
    assert [r["depth"] for r in rows] == [0, 1, 1]
    first = rows[0]
    assert first["id"] == hashlib.sha256(f"{NAME}:0".encode()).hexdigest()[:16]
    assert first["id"] == step_id(NAME, 0)
    assert first["split"] == split_of(NAME)
    assert first["template"] == "induction"
    assert "induction on `n`" in first["thought"] and "`ih`" in first["thought"]
    assert first["verified"] is True and first["source"] == "extract"
    assert set(first) == {
        "id",
        "full_name",
        "split",
        "step",
        "depth",
        "state_before",
        "tactic",
        "state_after",
        "thought",
        "template",
        "verified",
        "source",
    }
    assert rows[1]["template"] == "rfl" and "case `zero`" in rows[1]["thought"]
    assert "completes the proof" not in rows[1]["thought"]  # nested: ends its block only
    assert len({r["id"] for r in rows}) == 3


def test_step_records_depth_filter_keeps_ids_stable():
    rows = list(step_records([theorem()], max_depth=0))
    assert [r["step"] for r in rows] == [0]
    assert rows[0]["id"] == step_id(NAME, 0)


def test_explicit_split_wins():
    rows = list(step_records([theorem(split="test")]))
    assert {r["split"] for r in rows} == {"test"}
    rows = list(step_records([theorem()], split_fn=lambda name: "val"))
    assert {r["split"] for r in rows} == {"val"}


def test_star_rows():
    rows = list(star_rows(step_records([theorem()])))
    assert rows[0] == {
        "full_name": NAME,
        "split": split_of(NAME),
        "state": "n : Nat\n⊢ n + 0 = n",
        "thought": rows[0]["thought"],
        "tactic": "induction n with\n  | zero => rfl\n  | succ k ih => simp",
    }
    assert rows[0]["thought"].startswith("The goal is `n + 0 = n`.")


def test_proof_docs():
    (doc,) = proof_docs([theorem()])
    assert doc["full_name"] == NAME and doc["statement"] == STATEMENT
    assert doc["proof"] == PROOF and len(doc["steps"]) == 3
    text = doc["text"]
    assert text.startswith(f"Statement: {STATEMENT}\n")
    assert "\n1. The goal is `n + 0 = n`." in text
    assert "\n   2. In case `zero`" in text and "\n   3. In case `succ`" in text
    assert "Lean: `induction n with | zero => rfl | succ k ih => simp`" in text
    assert f"```lean\n{STATEMENT} := {PROOF}\n```\n" in text
    assert not any(line != line.rstrip() for line in text.split("\n"))
    assert list(proof_docs([theorem()]))[0] == doc  # deterministic


def test_proof_doc_without_statement_or_proof_text():
    thm = theorem()
    del thm["statement"], thm["proof"]
    (doc,) = proof_docs([thm])
    assert doc["text"].startswith("Goal:\nn : Nat\n⊢ n + 0 = n\n")
    assert doc["proof"] == "by\n  induction n with\n    | zero => rfl\n    | succ k ih => simp"
    assert doc["proof"] in doc["text"]


def test_theorem_without_tactics_yields_no_doc():
    assert list(proof_docs([theorem(traced_tactics=[])])) == []


def test_search_records_follow_the_proof_path():
    log = {
        "full_name": NAME,
        "statement": STATEMENT,
        "split": "test",
        "method": "best_first",
        "proved": True,
        "proof": ["intro h", "exact h"],
        "root": 0,
        "nodes": [
            {"id": 0, "state": "p : Prop\n⊢ p → p", "status": "PROVED", "visits": 1},
            {"id": 1, "state": "p : Prop\nh : p\n⊢ p", "status": "PROVED", "visits": 1},
        ],
        "edges": [
            {"src": 0, "dst": None, "tactic": "simp", "result": "error", "error": "x"},
            {"src": 0, "dst": 1, "tactic": "intro h", "result": "ok", "error": None},
            {"src": 1, "dst": None, "tactic": "exact h", "result": "proved", "error": None},
        ],
    }
    failed = dict(log, proved=False, proof=None)
    rows = list(search_records([failed, log]))
    assert [r["tactic"] for r in rows] == ["intro h", "exact h"]
    assert [r["template"] for r in rows] == ["intro", "exact"]
    assert rows[1]["state_after"] == "no goals"
    assert {r["source"] for r in rows} == {"search"} and {r["split"] for r in rows} == {"test"}
