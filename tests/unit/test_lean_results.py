"""Result values: goal states equal and hash by their text only; helpers on command results."""

from __future__ import annotations

import dataclasses

import pytest

from leancot.lean.results import (
    CommandResult,
    Crashed,
    LeanError,
    Message,
    ProofFinished,
    Sorry,
    StaleHandleError,
    TacticState,
    Timeout,
    goals_pp,
)


def test_tactic_state_equal_by_pp_only():
    a = TacticState("⊢ p", id=1, goals=("⊢ p",), generation=0)
    b = TacticState("⊢ p", id=7, goals=("⊢ p",), generation=3)
    c = TacticState("⊢ q", id=1, goals=("⊢ q",))
    assert a == b and hash(a) == hash(b)
    assert a != c
    seen = {a: "first"}
    assert seen.get(b) == "first"  # transpositions deduplicate in a dict
    assert len({a, b, c}) == 2


def test_results_are_frozen():
    state = TacticState("⊢ p", id=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.pp = "x"  # type: ignore[misc]
    assert Timeout(2.0) == Timeout(2.0)
    assert Crashed("x") != Crashed("y")
    assert ProofFinished(1) == ProofFinished(1, generation=5)
    assert LeanError("e").messages == ()


def test_goals_pp():
    assert goals_pp(("a", "b")) == "a\n\nb"
    assert goals_pp(()) == ""


def test_command_result_helpers():
    warn = Message("warning", 3, 0, 3, 7, "declaration uses `sorry`")
    err = Message("error", 4, 2, None, None, "type mismatch")
    info = Message("info", 1, 0, None, None, "'t' does not depend on any axioms")
    assert warn.is_sorry_warning and not err.is_sorry_warning
    result = CommandResult(2, (info, warn, err))
    assert result.errors == (err,) and not result.ok and result.has_sorry
    assert CommandResult(2, (info,)).ok and not CommandResult(2, (info,)).has_sorry
    assert CommandResult(1, sorries=(Sorry(1, 0, 1, 5, "⊢ True", 0),)).has_sorry
    assert CommandResult(1, generation=1) == CommandResult(1, generation=2)
    assert str(err) == "4:2: error: type mismatch"
    assert err.shifted(-2) == Message("error", 2, 2, None, None, "type mismatch")
    assert warn.shifted(10).end_line == 13


def test_stale_handle_is_a_value_error():
    assert issubclass(StaleHandleError, ValueError)
