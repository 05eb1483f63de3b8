"""The process layer on the real WASM Lean: a runaway tactic ends as a Timeout inside Lean and the
same process answers next; `forget` frees handles; a hard kill hands over to a standby process.

All use the session's server; the standby test gives it a standby process for its duration (two
Lean processes at once, 1-2 min on a loaded machine).
"""

from __future__ import annotations

import time

import pytest

from leancot.lean import (
    CommandResult,
    ProofFinished,
    StaleHandleError,
    TacticState,
    Timeout,
)
from leancot.lean.limits import hard_deadline_s

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(900)]

RUNAWAY = "theorem runaway_decide : ∀ a < 80, ∀ b < 80, a * b ≠ 6401"  # > 4M heartbeats
SPIN = "partial def spin (n : Nat) : Nat := spin (n + 1)\n#eval spin 0"


def test_a_runaway_tactic_times_out_in_lean_and_the_process_serves_on(lean_server):
    state = lean_server.start_proof(RUNAWAY)
    assert isinstance(state, TacticState), state
    before = lean_server.stats
    sent = time.monotonic()
    result = lean_server.run_tac(state, "decide", timeout=3.0)
    returned = time.monotonic()
    assert result == Timeout(3.0)
    assert returned - sent < hard_deadline_s(3.0)  # Lean stopped it: no kill
    after = lean_server.run_tac(state, "intro a ha b hb")  # the same handle still works
    assert isinstance(after, TacticState), after
    stats = lean_server.stats
    assert stats.generation == before.generation and stats.restarts == before.restarts
    assert stats.lean_timeouts == before.lean_timeouts + 1


def test_a_runaway_command_times_out_in_lean(lean_server):
    before = lean_server.stats
    result = lean_server.run_cmd("#reduce (List.range 100000).length", timeout=3.0)
    assert result == Timeout(3.0)
    assert lean_server.stats.generation == before.generation
    check = lean_server.run_cmd("#check Nat")
    assert isinstance(check, CommandResult) and check.ok


def test_forget_frees_proof_states_and_environments(lean_server):
    with lean_server.handle_scope():
        state = lean_server.start_proof("theorem to_free (p : Prop) (hp : p) : p")
        assert isinstance(state, TacticState)
        assert isinstance(lean_server.run_tac(state, "exact hp"), ProofFinished)
    with pytest.raises(StaleHandleError, match="freed"):
        lean_server.run_tac(state, "exact hp")
    # Lean itself refuses a freed handle (here freed behind the client's back)
    other = lean_server.start_proof("theorem to_free2 : True")
    assert isinstance(other, TacticState)
    reply = lean_server.request({"forget": {"proofStates": [other.id]}})
    assert reply == {"forgotten": {"envs": 0, "proofStates": 1}}
    refused = lean_server.request({"tactic": "trivial", "proofState": other.id})
    assert isinstance(refused, dict) and "freed" in refused.get("message", ""), refused


def test_a_hard_kill_hands_over_to_the_standby_with_the_header_replayed(lean_server):
    header = "def standbyHeader : Nat := 41\ntheorem standbyHeader_eq : standbyHeader = 41 := rfl"
    server = lean_server
    env = server.header_env(header)
    assert isinstance(env, CommandResult) and env.ok, env
    before = server.stats
    server.set_standby(True)  # two Lean processes from here to the end of the test
    try:
        deadline = time.monotonic() + 600
        while not server.standby_ready and time.monotonic() < deadline:
            time.sleep(0.5)
        assert server.standby_ready
        time.sleep(2.0)  # the header's replay on the standby (milliseconds when idle)
        sent = time.monotonic()
        # heartbeats do not stop this loop: the hard deadline kills it
        assert server.run_cmd(SPIN, env=env, timeout=2.0) == Timeout(2.0)
        replayed = server.header_env(header)
        check = server.run_cmd("#check standbyHeader_eq", env=replayed)
        visible = time.monotonic() - sent - hard_deadline_s(2.0)
    finally:
        server.set_standby(False)
    assert isinstance(check, CommandResult) and check.ok, check
    stats = server.stats
    assert stats.handovers == before.handovers + 1
    assert stats.generation == before.generation + 1
    assert stats.header_hits > before.header_hits  # from the standby, not elaborated again
    assert visible < 5.0, visible  # a handover, not a 30-100 s start-up
