"""Training rows from step records and search logs: formats, first-error labels, DPO pairs."""

from __future__ import annotations

import json

import pytest
from synthetic_corpus import synthetic_corpus

from leancot.models.prompts import format_state_prompt, format_step, parse_step
from leancot.train.data import load_inputs
from leancot.train.rows import (
    SearchTree,
    dpo_pairs_from_search_logs,
    first_error_index,
    prm_candidates,
    prm_rows_from_search_logs,
    prm_rows_from_steps,
    prm_step_text,
    record_kind,
    sft_rows,
    sft_rows_from_search_logs,
)
from leancot.translate.templates import render_intent

ROOT = "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q"


def _node(i, state, status="OPEN", visits=0, value=None):
    return {"id": i, "state": state, "status": status, "visits": visits, "value": value}


def _edge(src, dst, tactic, result="ok", thought=""):
    return {
        "src": src,
        "dst": dst,
        "tactic": tactic,
        "thought": thought or f"try {tactic}",
        "logprob": -1.0,
        "result": result,
        "error": "failed" if result == "error" else None,
    }


@pytest.fixture
def proved_log():
    """constructor; exact hp; exact hq proves it. Around the proof path: a rejected `left`,
    `intro h` into a FAILED node (with an error below it), a rejected `exact hq` at node 1,
    `simp` to an OPEN node whose `rfl` fails, and `skip` to an unexpanded OPEN leaf."""
    nodes = [
        _node(0, ROOT, "PROVED"),
        _node(1, "case left\n⊢ p\n\ncase right\n⊢ q", "PROVED", visits=4, value=0.5),
        _node(2, "case right\n⊢ q", "PROVED"),
        _node(3, "no goals", "PROVED"),
        _node(4, "h : p\n⊢ False", "FAILED"),
        _node(5, "⊢ p ∧ q", "OPEN", visits=2, value=0.25),
        _node(6, "case right\n⊢ q", "OPEN"),
    ]
    edges = [
        _edge(0, 1, "constructor"),
        _edge(0, None, "left", "error"),
        _edge(0, 4, "intro h"),
        _edge(4, None, "exact h", "error"),
        _edge(1, 2, "exact hp"),
        _edge(1, None, "exact hq", "error"),
        _edge(1, 5, "simp"),
        _edge(5, None, "rfl", "error"),
        _edge(2, 3, "exact hq", "proved"),
        _edge(2, 6, "skip"),
    ]
    return {
        "full_name": "T.and",
        "statement": "theorem and ...",
        "split": "train",
        "method": "best_first",
        "proved": True,
        "proof": ["constructor", "exact hp", "exact hq"],
        "root": 0,
        "nodes": nodes,
        "edges": edges,
        "lean_calls": 10,
        "wall_s": 1.0,
    }


@pytest.fixture
def failed_log():
    nodes = [_node(0, "⊢ a = a"), _node(1, "⊢ b = b")]
    edges = [_edge(0, 1, "change b = b"), _edge(1, None, "omega", "timeout")]
    return {
        "full_name": "T.refl",
        "statement": "theorem refl",
        "split": "val",
        "method": "mcts_prm",
        "proved": False,
        "proof": None,
        "root": 0,
        "nodes": nodes,
        "edges": edges,
        "lean_calls": 2,
        "wall_s": 0.5,
    }


def _steps(rows):
    return {tuple(parse_step(c)[1] for c in r["completions"]): r["labels"] for r in rows}


def test_step_format_round_trip():
    text = format_step("Split the\nconjunction.", "induction n with\n  | zero => rfl")
    assert text == "Split the conjunction.\ninduction n with\n  | zero => rfl"
    assert parse_step(text) == ("Split the conjunction.", "induction n with\n  | zero => rfl")
    assert parse_step(format_step("", "simp")) == ("", "simp")
    assert parse_step("simp") == ("", "simp")
    assert parse_step("Close it.\nsimp\n\nNext.\nrfl") == ("Close it.", "simp")
    assert format_state_prompt("⊢ p\n") == "⊢ p\n"


def test_record_kinds(proved_log):
    assert record_kind(proved_log) == "search_log"
    assert record_kind({"state_before": "⊢ p", "tactic": "rfl"}) == "step"
    assert record_kind({"state": "⊢ p", "thought": "", "tactic": "rfl"}) == "leanstar"
    assert record_kind({"steps": [], "proof": "by rfl"}) == "cot_doc"


def test_sft_rows_from_steps_and_leanstar():
    records = [
        {"full_name": "A", "split": "train", "state_before": "⊢ p", "thought": "t", "tactic": "x"},
        {"full_name": "A", "split": "train", "state": "⊢ p", "thought": "t", "tactic": "x"},
        {"full_name": "B", "split": "test", "state": "⊢ q", "thought": "u", "tactic": "y"},
        {
            "full_name": "C",
            "split": "train",
            "state_before": "⊢ r",
            "tactic": "z",
            "verified": False,
        },
    ]
    assert sft_rows(records) == [{"prompt": "⊢ p\n", "completion": "t\nx"}]
    assert sft_rows(records, split="test") == [{"prompt": "⊢ q\n", "completion": "u\ny"}]
    assert len(sft_rows(records, split=None)) == 2


def test_proof_path_and_sft_from_search(proved_log, failed_log):
    tree = SearchTree(proved_log)
    assert [e["tactic"] for e in tree.proof_path()] == ["constructor", "exact hp", "exact hq"]
    assert SearchTree(failed_log).proof_path() == []
    rows = sft_rows_from_search_logs([proved_log, failed_log], split=None)
    assert [r["prompt"] for r in rows] == [
        format_state_prompt(n["state"]) for n in proved_log["nodes"][:3]
    ]


def test_proof_path_falls_back_when_tactics_do_not_match(proved_log):
    proved_log["proof"] = ["constructor", "exact  hp", "something else"]
    assert [e["tactic"] for e in SearchTree(proved_log).proof_path()] == [
        "constructor",
        "exact hp",
        "exact hq",
    ]


def test_prm_first_error_labels(proved_log):
    rows = prm_rows_from_search_logs([proved_log])
    assert all(r["prompt"] == format_state_prompt(ROOT) for r in rows)
    assert _steps(rows) == {
        ("constructor", "exact hp", "exact hq"): [True, True, True],
        ("left",): [False],
        ("intro h",): [False],  # leads to a FAILED node; the error below it is dropped
        ("constructor", "exact hq"): [True, False],
        ("constructor", "simp", "rfl"): [True, True, False],
    }
    for row in rows:  # nothing follows a bad step
        index = first_error_index(row["labels"])
        assert index is None or index == len(row["labels"]) - 1


def test_prm_open_leaves_and_soft_labels(proved_log):
    rows = prm_rows_from_search_logs([proved_log], include_open_leaves=True)
    assert _steps(rows)[("constructor", "exact hp", "skip")] == [True, True, True]
    soft = _steps(prm_rows_from_search_logs([proved_log], soft=True))
    assert soft[("constructor", "exact hp", "exact hq")] == [1.0, 1.0, 1.0]
    # node 1 is PROVED, so 1.0; node 5 has a Monte-Carlo value of 0.25 from 2 visits
    assert soft[("constructor", "simp", "rfl")] == [1.0, 0.25, 0.0]


def test_prm_accepted_steps_off_the_proof_path(proved_log):
    rows = prm_rows_from_search_logs([proved_log], include_accepted=True)
    steps = _steps(rows)
    assert steps[("constructor", "simp")] == [True, True]  # accepted, OPEN node below
    assert steps[("constructor", "exact hp", "skip")] == [True, True, True]
    assert steps[("left",)] == [False] and ("constructor", "exact hq") in steps
    assert ("intro h",) in steps and steps[("intro h",)] == [False]  # FAILED node: still bad


def _gold_and_rejected_logs(tactic, state, thought):
    """The same tactic at the same state: in one log the gold step, its thought rendered from
    Lean's reply; in the other a rejected candidate with the negatives' thought."""
    gold = {
        "split": "train",
        "proved": True,
        "proof": [tactic],
        "root": 0,
        "nodes": [_node(0, state, "PROVED")],
        "edges": [_edge(0, None, tactic, "proved", thought=thought)],
    }
    rejected = {
        **gold,
        "proved": False,
        "proof": None,
        "nodes": [_node(0, state, "FAILED")],
        "edges": [_edge(0, None, tactic, "error", thought="")],
    }
    return gold, rejected


@pytest.mark.parametrize(
    ("state", "tactic", "thought"),
    [
        ("n : Nat\n⊢ n * 1 = n", "simp", "Simplification closes it. This completes the proof."),
        (ROOT, "exact ⟨hp, hq⟩", "The pair proves it. This completes the proof."),
        ("⊢ ∀ (x : Nat), x = x", "intro x", "This introduces `x`. The goal becomes `x = x`."),
        ("x : Nat\n⊢ x ≤ x + 1", "cases x <;> omega", ""),
    ],
)
def test_prm_text_does_not_depend_on_the_outcome(state, tactic, thought):
    """For one state and tactic, accepted (with a thought rendered from Lean's reply, as gold
    steps have) or rejected (no thought, as portfolio tactics have), a PRM reads the same step,
    from search logs and from step records alike."""
    gold, rejected = _gold_and_rejected_logs(tactic, state, thought)
    (good,) = prm_rows_from_search_logs([gold])
    (bad,) = prm_rows_from_search_logs([rejected])
    assert good["labels"] == [True] and bad["labels"] == [False]
    assert good["prompt"] == bad["prompt"] and good["completions"] == bad["completions"]
    assert good["completions"] == [prm_step_text(state, tactic)]
    record = {"full_name": "T", "split": "train", "step": 0, "state_before": state}
    accepted = {**record, "tactic": tactic, "thought": thought, "verified": True}
    failed = {**record, "tactic": tactic, "thought": "", "verified": False}
    (a,) = prm_rows_from_steps([accepted])
    (f,) = prm_rows_from_steps([failed])
    assert a["completions"] == f["completions"] == good["completions"]
    assert (a["labels"], f["labels"]) == ([True], [False])
    text = good["completions"][0]
    assert parse_step(text)[1] == tactic and parse_step(text)[0]  # a thought, from the state
    assert "complete" not in text and "becomes" not in text


def test_prm_candidates_one_per_step(proved_log):
    rows = prm_rows_from_search_logs([proved_log], include_accepted=True)
    candidates = prm_candidates(rows)
    keys = [(c["prompt"], tuple(c["completions"])) for c in candidates]
    assert len(keys) == len(set(keys))
    got = {tuple(parse_step(x)[1] for x in c["completions"]): c["label"] for c in candidates}
    assert got[("constructor",)] is True and got[("left",)] is False
    assert got[("constructor", "exact hq")] is False and got[("constructor", "simp")] is True
    # one candidate per edge whose path is good: the 10 edges less the one below the FAILED node
    assert len(candidates) == 9


def test_prm_failed_attempt_and_split(failed_log):
    assert prm_rows_from_search_logs([failed_log]) == []  # split "val"
    rows = prm_rows_from_search_logs([failed_log], split="val")
    assert _steps(rows) == {("change b = b", "omega"): [True, False]}


def test_prm_rows_from_steps_top_level_and_unverified():
    def rec(step, tactic, depth=0, verified=True):
        return {
            "full_name": "N.t",
            "split": "train",
            "step": step,
            "depth": depth,
            "state_before": f"state {step}",
            "tactic": tactic,
            "thought": "",
            "verified": verified,
        }

    records = [rec(2, "c", verified=False), rec(0, "a"), rec(1, "nested", depth=1), rec(3, "d")]
    records.append(rec(1, "b"))
    (row,) = prm_rows_from_steps(records)
    assert row["prompt"] == "state 0\n"
    assert [parse_step(c)[1] for c in row["completions"]] == ["a", "b", "c"]
    assert row["labels"] == [True, True, False]


def test_dpo_pairs(proved_log, failed_log):
    pairs = dpo_pairs_from_search_logs([proved_log, failed_log], split=None)
    got = {(p["prompt"], parse_step(p["chosen"])[1], parse_step(p["rejected"])[1]) for p in pairs}
    node1 = format_state_prompt(proved_log["nodes"][1]["state"])
    assert got == {
        (format_state_prompt(ROOT), "constructor", "left"),
        (format_state_prompt(ROOT), "constructor", "intro h"),
        (node1, "exact hp", "exact hq"),
    }
    capped = dpo_pairs_from_search_logs([proved_log], max_rejected_per_state=1)
    assert len(capped) == 2


def test_synthetic_corpus_is_deterministic_and_loads(tmp_path):
    records, logs = synthetic_corpus(24, seed=3)
    assert (records, logs) == synthetic_corpus(24, seed=3)
    (tmp_path / "cot").mkdir()
    with open(tmp_path / "cot" / "steps.jsonl", "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)
    (tmp_path / "logs.json").write_text(json.dumps(logs))
    inputs = load_inputs([tmp_path])
    assert len(inputs.steps) == len(records) and len(inputs.search_logs) == 24
    assert len(inputs.digests) == 2
    prm = prm_rows_from_search_logs(inputs.search_logs, split=None)
    assert any(False in r["labels"] for r in prm) and any(all(r["labels"]) for r in prm)
    with pytest.raises(FileNotFoundError):
        load_inputs([tmp_path / "missing"])


# --- search-tree rows: thoughts from state_before, visit-count values -----------------------------

# what only Lean's answer could put there: the gold thoughts' ending, Lean's messages
OUTCOME_WORDS = ("this completes the proof", "no goals", "tactic failed", "unsolved", "error")


def test_search_rows_take_thoughts_from_the_state_before_never_from_the_outcome():
    """SFT and DPO rows of a search log: a step the policy wrote keeps its thought (made from
    the state before it); a portfolio step (no thought) gets one rendered from that state and
    the tactic; Lean's answer (a proof, an error message) is in no completion or prompt."""
    state = "n : Nat\n⊢ n * 1 = n"
    log = {
        "split": "train",
        "proved": True,
        "proof": ["simp"],
        "root": 0,
        "nodes": [_node(0, state, "PROVED")],
        "edges": [
            _edge(0, None, "omega", "error", thought="Use omega."),
            {**_edge(0, None, "rfl", "error"), "thought": "", "error": "The rfl tactic failed"},
            {**_edge(0, None, "simp", "proved"), "thought": ""},
        ],
    }
    (sft,) = sft_rows_from_search_logs([log])
    assert sft["completion"] == format_step(render_intent(state, "simp").thought, "simp")
    pairs = dpo_pairs_from_search_logs([log])
    assert {p["rejected"] for p in pairs} == {
        format_step("Use omega.", "omega"),
        format_step(render_intent(state, "rfl").thought, "rfl"),
    }
    prm = prm_rows_from_search_logs([log], include_accepted=True)
    texts = [sft["prompt"], sft["completion"]]
    texts += [t for p in pairs for t in (p["prompt"], p["chosen"], p["rejected"])]
    texts += [t for r in prm for t in (r["prompt"], *r["completions"])]
    for text in texts:
        assert not any(word in text.lower() for word in OUTCOME_WORDS), text
    # the same step read as a success or as a failure is the same text
    flipped = {**log, "proved": False, "proof": None, "nodes": [_node(0, state, "FAILED")],
               "edges": [{**_edge(0, None, "simp", "error"), "thought": ""}]}  # fmt: skip
    bad = prm_rows_from_search_logs([flipped])
    assert [r["completions"] for r in bad] == [[prm_step_text(state, "simp")]]
    assert prm_step_text(state, "simp") in {c for r in prm for c in r["completions"]}


def test_soft_labels_are_visit_weighted_shares_of_the_subtree():
    """MCTS visit counts: from the root, `intro` was visited 3 times; below it one visit ended
    in a proof and two in a rejected step, so its value is 1/3; a step into a FAILED node is 0."""
    log = {
        "split": "train",
        "proved": False,
        "proof": None,
        "root": 0,
        "nodes": [
            {**_node(0, "⊢ A", "OPEN"), "visits": 4},
            {**_node(1, "⊢ B", "OPEN"), "visits": 3},
            {**_node(2, "⊢ C", "OPEN"), "visits": 1, "value": 0.9},
            {**_node(3, "⊢ D", "FAILED"), "visits": 1},
        ],
        "edges": [
            {**_edge(0, 1, "intro", "ok"), "visits": 3},
            {**_edge(0, 3, "cases h", "ok"), "visits": 1},
            {**_edge(1, None, "omega", "error"), "visits": 2},
            {**_edge(1, 2, "simp", "ok"), "visits": 1},
        ],
    }
    tree = SearchTree(log)
    edges = {e["tactic"]: e for e in log["edges"]}
    assert tree.visit_value(2) == pytest.approx(0.9)  # no visited child: its backed-up value
    assert tree.soft_value(edges["simp"]) == pytest.approx(0.9)
    assert tree.soft_value(edges["intro"]) == pytest.approx((2 * 0 + 1 * 0.9) / 3)
    assert tree.soft_value(edges["cases h"]) == 0.0 and tree.soft_value(edges["omega"]) == 0.0
    rows = prm_rows_from_search_logs([log], soft=True, include_open_leaves=True)
    by_path = {tuple(r["completions"]): r["labels"] for r in rows}
    intro_simp = (prm_step_text("⊢ A", "intro"), prm_step_text("⊢ B", "simp"))
    assert by_path[intro_simp] == [pytest.approx(0.3), pytest.approx(0.9)]
