"""Outcome-value rows (`train.value_rows`) from real search logs: three `heuristic` searches on
`core` train statements at 32 Lean calls (tests/data/value_search_logs.jsonl, written by
`leancot prove --benchmark core --split train --method heuristic`): a two-step proof
(`intro; rfl`), a proof reached by several equal first steps (`simp_all [BitVec]`, `simp`, ...
then `decide`) and a search that proved nothing (`true_or`: `intro` works but leads nowhere)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from leancot.models.prompts import format_state_prompt
from leancot.train.rows import prm_step_text
from leancot.train.value_rows import (
    edge_remaining,
    held_out,
    outcome_target,
    remaining_steps,
    value_rows,
    value_rows_from_log,
)

LOGS = {
    log["full_name"].removeprefix("leancot_core_"): log
    for log in map(
        json.loads,
        (Path(__file__).parent.parent / "data" / "value_search_logs.jsonl")
        .read_text(encoding="utf-8")
        .splitlines(),
    )  # fmt: skip
}


def by_tactic(rows, state_prefix=""):
    return {
        r["completions"][0].rsplit("\n", 1)[-1]: r
        for r in rows
        if r["prompt"].startswith(state_prefix)
    }


def test_fixture_is_what_the_tests_say():
    assert LOGS["UInt8_toNat_toUInt16"]["proof"] == ["intro", "rfl"]
    assert LOGS["UInt8_toNat_toUInt16"]["verified"]
    assert LOGS["BitVec_eq_of_zero_length"]["proof"] == ["simp_all [BitVec]", "decide"]
    assert not LOGS["true_or"]["proved"]


def test_remaining_steps_count_the_fewest_steps_to_the_proof():
    assert remaining_steps(LOGS["UInt8_toNat_toUInt16"]) == {0: 2, 1: 1}
    assert remaining_steps(LOGS["BitVec_eq_of_zero_length"]) == {0: 2, 1: 1}
    assert remaining_steps(LOGS["true_or"]) == {}


def test_subtree_with_a_proof_is_positive_and_discounted():
    gamma = 0.5
    rows = value_rows_from_log(LOGS["UInt8_toNat_toUInt16"], gamma=gamma)
    assert len(rows) == len(LOGS["UInt8_toNat_toUInt16"]["edges"])  # one row per tried edge
    root = by_tactic(rows, "⊢ ∀ (x : UInt8)")
    assert root["intro"]["labels"] == [gamma] and root["intro"]["remaining"] == 1
    assert root["intros"]["labels"] == [gamma]  # the same state: the same subtree
    # a step Lean accepted into a state the search never proved is a negative
    assert root["(intro n; induction n <;> simp)"]["labels"] == [0.0]
    assert root["(intro n; induction n <;> simp)"]["remaining"] is None
    below = by_tactic(rows, "x✝ : UInt8")
    assert below["rfl"]["labels"] == [1.0] and below["rfl"]["remaining"] == 0
    # every step Lean rejected is a negative
    edges = LOGS["UInt8_toNat_toUInt16"]["edges"]
    errors = [r for r, e in zip(rows, edges, strict=True) if e["result"] == "error"]
    assert errors and all(r["labels"] == [0.0] for r in errors)
    assert sum(r["labels"][0] > 0 for r in rows) == 3


def test_every_first_step_into_the_proved_state_counts_and_others_do_not():
    rows = value_rows_from_log(LOGS["BitVec_eq_of_zero_length"], gamma=0.9)
    root = by_tactic(rows, "⊢ ∀ {w : Nat}")
    for tactic in ("simp_all [BitVec]", "simp", "simp_all", "simp at *"):
        assert root[tactic]["labels"] == [pytest.approx(0.9)]
    assert root["intro"]["labels"] == [0.0]  # accepted, but no proof below it in this search
    assert by_tactic(rows, "⊢ ∀ {x y : BitVec 0}")["decide"]["labels"] == [1.0]


def test_a_search_that_proved_nothing_gives_only_negatives():
    rows = value_rows_from_log(LOGS["true_or"])
    assert rows and all(r["labels"] == [0.0] for r in rows)
    assert by_tactic(rows)["intro"]["labels"] == [0.0]  # `intro` worked: still a negative


def test_an_unverified_claim_gives_no_rows():
    claimed = {**LOGS["UInt8_toNat_toUInt16"], "verified": False}
    assert value_rows_from_log(claimed) == []


def test_no_outcome_reaches_the_model_inputs():
    """The inputs are the state before the step and a step text made from that state and the
    tactic: changing every outcome field of the log changes the labels and nothing else."""
    log = LOGS["UInt8_toNat_toUInt16"]
    rows = value_rows_from_log(log)
    flipped = copy.deepcopy(log)
    flipped.update(proved=False, verified=False, proof=None)
    for n in flipped["nodes"]:
        n.update(status="OPEN", visits=7, value=0.123)
    for e in flipped["edges"]:
        e.update(result="ok" if e["dst"] is not None else "error", error="boom", visits=3)
    other = value_rows_from_log(flipped)
    assert [(r["prompt"], r["completions"]) for r in rows] == [
        (r["prompt"], r["completions"]) for r in other
    ]
    assert [r["labels"] for r in rows] != [r["labels"] for r in other]
    states = {n["id"]: n["state"] for n in log["nodes"]}
    errors = {e["error"] for e in log["edges"] if e.get("error")}
    for row, edge in zip(rows, log["edges"], strict=True):
        state = states[edge["src"]]
        assert row["prompt"] == format_state_prompt(state)
        assert row["completions"] == [prm_step_text(state, edge["tactic"])]
        text = row["prompt"] + "".join(row["completions"])
        assert not any(err in text for err in errors)
        for word in ("PROVED", "FAILED", "proved", "verified", "no goals"):
            assert word not in text


def test_value_rows_select_the_split_and_keep_the_best_outcome_of_a_repeated_step():
    logs = list(LOGS.values())
    assert value_rows(logs, split="val") == []
    rows = value_rows(logs, split="train", dedupe=False)
    assert len(rows) == sum(len(log["edges"]) for log in logs)
    # the same (state, step) as a failure in another search: the proof's outcome is kept
    failed = {**LOGS["UInt8_toNat_toUInt16"], "full_name": "copy", "proved": False,
              "verified": False, "proof": None}  # fmt: skip
    deduped = value_rows([failed, LOGS["UInt8_toNat_toUInt16"]], gamma=0.5)
    assert by_tactic(deduped, "⊢ ∀ (x : UInt8)")["intro"]["labels"] == [0.5]
    assert len(deduped) == len({(r["prompt"], r["completions"][0]) for r in deduped})


def test_targets_and_hold_out():
    assert outcome_target(None, 0.8) == 0.0
    assert outcome_target(0, 0.8) == 1.0
    assert outcome_target(3, 0.5) == 0.125
    assert edge_remaining({"result": "error", "dst": None}, {}) is None
    assert held_out("a", 0.0) is False and held_out("a", 1.0) is True
    assert held_out("Nat.add_comm", 0.3) == held_out("Nat.add_comm", 0.3)
    with pytest.raises(ValueError, match="gamma"):
        value_rows_from_log(LOGS["true_or"], gamma=0.0)
    bad = {**LOGS["true_or"], "edges": [{"src": 99, "dst": None, "tactic": "x", "result": "error"}]}
    with pytest.raises(ValueError, match="true_or.*unknown node 99"):
        value_rows_from_log(bad)
