"""Request/reply transcripts (leancot/lean/transcript.py): reading, handle shifts, comparison."""

from __future__ import annotations

import pytest

from leancot.lean.transcript import (
    Offsets,
    differences,
    normalise,
    parse_replies,
    parse_requests,
    probe_offsets,
    shift,
)

REQUESTS = """# a comment block

{"cmd": "theorem foo : 1 = 1 := by\\n
sorry"}

{"tactic": "rfl",
 "proofState": 0}

-- another comment
"""


def test_requests_join_lines_and_skip_comments():
    # lines are joined after trimming their ends, as the community REPL reads them: a raw line
    # break inside a JSON string disappears
    assert parse_requests(REQUESTS, "x.in") == [
        {"cmd": "theorem foo : 1 = 1 := by\nsorry"},
        {"tactic": "rfl", "proofState": 0},
    ]
    with pytest.raises(ValueError, match="block 1 is not JSON"):
        parse_requests("{nope}", "bad.in")
    assert parse_replies('{"env": 0}\n\n{"message":\n "x"}\n', "y") == [
        {"env": 0},
        {"message": "x"},
    ]


def test_shift_moves_handles_both_ways_but_not_unknown_ones():
    offsets = Offsets(env=10, proof_state=3)
    request = {"cmd": "x", "env": 1, "sorries": [{"proofState": 0}], "big": 1_000_000}
    moved = shift(request, offsets, +1)
    assert moved == {"cmd": "x", "env": 11, "sorries": [{"proofState": 3}], "big": 1_000_000}
    assert shift({"env": 1_000_000}, offsets, +1) == {"env": 1_000_000}
    assert shift(moved, offsets, -1) == request
    assert shift({"env": True}, offsets, +1) == {"env": True}


def test_probe_offsets_take_the_next_handles():
    sent = []

    def request(obj):
        sent.append(obj)
        return {"env": 4, "sorries": [{"proofState": 7, "goal": "⊢ True"}]}

    assert probe_offsets(request) == Offsets(env=5, proof_state=8)
    assert "env" not in sent[0]  # from the base environment
    with pytest.raises(AssertionError, match="probe"):
        probe_offsets(lambda obj: {"message": "no"})


def test_normalise_unifies_wording_and_empty_lists():
    got = {
        "env": 0,
        "messages": [{"data": "declaration uses 'sorry'\n"}],
        "sorries": [],
        "traces": [],
    }
    assert normalise(got) == {"env": 0, "messages": [{"data": "declaration uses `sorry`"}]}
    assert normalise({"data": "unknown identifier 'x'"}) == {"data": "Unknown identifier `x`"}


def test_differences_are_field_by_field():
    want = {"env": 0, "tactics": [{"tactic": "rfl", "proofState": 1}]}
    ours = {"env": 0, "tactics": [{"tactic": "rfl", "proofState": 1, "kind": "k", "decl": None}]}
    assert list(differences(ours, want)) == []  # leancot's additions to tactic entries
    assert list(differences({"env": 1, "extra": 2}, {"env": 0})) == [
        ".env: got 1, expected 0",
        ".extra: unexpected field",
    ]
    assert list(differences({}, {"env": 0})) == [".env: missing"]
    assert list(differences({"tactics": []}, {"tactics": [{}]})) == [
        ".tactics: 0 items, expected 1"
    ]
