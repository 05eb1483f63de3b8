"""The wire protocol: request encoding, both framings, response parsing (pure, no Lean)."""

from __future__ import annotations

import json

import pytest

from leancot.lean.protocol import (
    MARKER,
    MarkerDecoder,
    PlainDecoder,
    command_request,
    encode_request,
    is_ready,
    make_decoder,
    parse_command_response,
    parse_tactic_response,
    start_from_command,
    tactic_request,
)
from leancot.lean.results import (
    CommandResult,
    LeanError,
    LeanProtocolError,
    Message,
    ProofFinished,
    TacticState,
)

COMMUNITY_CMD_REPLY = """{"sorries":
 [{"proofState": 0,
   "pos": {"line": 1, "column": 29},
   "goal": "x : Unit\\n⊢ Nat",
   "endPos": {"line": 1, "column": 34}}],
 "messages":
 [{"severity": "warning",
   "pos": {"line": 1, "column": 4},
   "endPos": {"line": 1, "column": 5},
   "data": "declaration uses 'sorry'"}],
 "env": 0}
"""


def test_encode_is_one_json_line_and_a_blank_line():
    data = encode_request(command_request("theorem t :\n  True := trivial", env=3))
    text = data.decode("utf-8")
    assert text.endswith("\n\n") and text.count("\n") == 2
    assert json.loads(text) == {"cmd": "theorem t :\n  True := trivial", "env": 3}
    assert command_request("x") == {"cmd": "x"}
    assert tactic_request("simp", 4) == {"tactic": "simp", "proofState": 4}
    assert "⊢" in encode_request({"cmd": "⊢"}).decode("utf-8")  # not \u-escaped


def test_marker_decoder_skips_noise():
    dec = MarkerDecoder()
    assert dec.feed("[DEBUG] something\n") == []
    assert dec.feed("hello from #eval\n") == []
    assert dec.feed(f'{MARKER} {{"ready": true, "version": "4.28"}}\n') == [
        {"ready": True, "version": "4.28"}
    ]
    assert dec.feed(f'{MARKER}{{"env": 1}}') == [{"env": 1}]
    assert dec.noise_lines == 2 and dec.flush() == []
    assert is_ready({"ready": True}) and not is_ready({"env": 0})


def test_marker_decoder_rejects_malformed_json():
    with pytest.raises(LeanProtocolError, match="malformed JSON from Lean"):
        MarkerDecoder().feed(f"{MARKER} {{oops\n")
    with pytest.raises(LeanProtocolError, match="JSON object"):
        MarkerDecoder().feed(f"{MARKER} [1, 2]\n")


def test_plain_decoder_multiline_responses():
    dec = make_decoder("plain")
    assert isinstance(dec, PlainDecoder)
    out = []
    for line in ("leading noise", *COMMUNITY_CMD_REPLY.splitlines(), "", ""):
        out += dec.feed(line + "\n")
    out += dec.feed('{"env": 1}\n')
    out += dec.feed("\n")
    assert [r["env"] for r in out] == [0, 1]
    assert dec.noise_lines == 1
    dec.feed('{"env": 2}')
    assert dec.flush() == [{"env": 2}]  # a reply cut short by end of output


def test_plain_decoder_rejects_malformed_json():
    dec = PlainDecoder()
    dec.feed('{"env": \n')
    with pytest.raises(LeanProtocolError, match="plain framing"):
        dec.feed("\n")
    with pytest.raises(ValueError, match="unknown framing"):
        make_decoder("xml")  # type: ignore[arg-type]


def test_parse_community_command_reply():
    raw = json.loads(COMMUNITY_CMD_REPLY)
    result = parse_command_response(raw, generation=2)
    assert isinstance(result, CommandResult)
    assert result.env == 0 and result.generation == 2
    assert result.messages == (Message("warning", 1, 4, 1, 5, "declaration uses 'sorry'"),)
    assert result.has_sorry and result.ok
    state = start_from_command(result)
    assert isinstance(state, TacticState)
    assert state.id == 0 and state.goals == ("x : Unit\n⊢ Nat",) and state.generation == 2


def test_parse_command_reply_without_optional_fields():
    result = parse_command_response({"env": 5})
    assert result == CommandResult(5)
    assert not result.has_sorry and result.ok
    error = parse_command_response({"message": "unknown environment 9"})
    assert error == LeanError("unknown environment 9")
    with pytest.raises(LeanProtocolError, match="without 'env'"):
        parse_command_response({"messages": []})
    with pytest.raises(LeanProtocolError, match="integer env"):
        parse_command_response({"env": "3"})


def test_null_end_pos_and_errors():
    raw = {
        "env": 1,
        "messages": [
            {"severity": "error", "pos": {"line": 2, "column": 3}, "endPos": None, "data": "bad"}
        ],
    }
    result = parse_command_response(raw)
    assert isinstance(result, CommandResult)
    assert result.errors == (Message("error", 2, 3, None, None, "bad"),)
    assert not result.ok
    assert isinstance(start_from_command(result), LeanError)
    assert isinstance(start_from_command(CommandResult(0)), LeanError)  # no sorry


def test_parse_tactic_replies():
    state = parse_tactic_response({"proofState": 3, "goals": ["a", "b"]}, generation=1)
    assert isinstance(state, TacticState)
    assert state.pp == "a\n\nb" and state.goals == ("a", "b") and state.generation == 1
    done = parse_tactic_response({"proofState": 4, "goals": [], "proofStatus": "Completed"})
    assert done == ProofFinished(4)
    assert parse_tactic_response({"proofState": 4, "goals": []}) == ProofFinished(4)


def test_tactic_failures_are_lean_errors():
    assert parse_tactic_response({"message": "Unknown proof state."}) == LeanError(
        "Unknown proof state."
    )
    thrown = {"message": "Lean error:\n<input>:1:1: unknown tactic"}
    assert parse_tactic_response(thrown) == LeanError("<input>:1:1: unknown tactic")
    community_error = {
        "proofState": 2,
        "goals": ["⊢ True"],
        "messages": [{"severity": "error", "pos": {"line": 1, "column": 0}, "data": "no"}],
    }
    result = parse_tactic_response(community_error)
    assert isinstance(result, LeanError) and result.error == "no"
    sorry_status = {"proofState": 5, "goals": [], "proofStatus": "Incomplete: contains sorry"}
    assert isinstance(parse_tactic_response(sorry_status), LeanError)
    with_sorries = {"proofState": 5, "goals": [], "sorries": [{"goal": "⊢ True"}]}
    assert isinstance(parse_tactic_response(with_sorries), LeanError)
    error_status = {"proofState": 6, "goals": ["⊢ x"], "proofStatus": "Error: kernel"}
    assert isinstance(parse_tactic_response(error_status), LeanError)
    with pytest.raises(LeanProtocolError):
        parse_tactic_response({"goals": []})
    with pytest.raises(LeanProtocolError, match="goals"):
        parse_tactic_response({"proofState": 1, "goals": "⊢ x"})


def test_all_tactics_request_and_traced_tactics():
    assert command_request("x", 2, all_tactics=True) == {"cmd": "x", "env": 2, "allTactics": True}
    ours = {
        "env": 3,
        "messages": [],
        "sorries": [],
        "tactics": [
            {
                "kind": "Lean.Parser.Tactic.omega",
                "pos": {"line": 2, "column": 2},
                "endPos": {"line": 2, "column": 7},
                "decl": "t",
                "goalsBefore": ["n : Nat\n⊢ n + 0 = n"],
                "goalsAfter": [],
                "constants": ["Nat.add_zero"],
            }
        ],
    }
    result = parse_command_response(ours)
    assert isinstance(result, CommandResult)
    (tac,) = result.tactics
    assert (tac.line, tac.column, tac.end_line, tac.end_column) == (2, 2, 2, 7)
    assert tac.kind.endswith("omega") and tac.decl == "t"
    assert tac.goals_before == ("n : Nat\n⊢ n + 0 = n",) and tac.goals_after == ()
    assert tac.constants == ("Nat.add_zero",)
    community = {
        "env": 0,
        "tactics": [
            {
                "tactic": "exact rfl",
                "proofState": 0,
                "pos": {"line": 5, "column": 29},
                "goals": "⊢ f + g = 39",
                "endPos": {"line": 5, "column": 38},
            }
        ],
    }
    (tac,) = parse_command_response(community).tactics
    assert (
        tac.text == "exact rfl" and tac.proof_state == 0 and tac.goals_before == ("⊢ f + g = 39",)
    )
