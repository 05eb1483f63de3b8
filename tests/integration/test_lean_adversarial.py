"""Hostile input for the real Lean: each gives a clear result and leaves the server usable.

Two of these restart the session's Lean process (the infinite loop, the crash): about 25 s each.
"""

from __future__ import annotations

import queue
import time

import pytest

from leancot.lean import (
    CommandResult,
    Crashed,
    LeanError,
    StaleHandleError,
    TacticState,
    Timeout,
    verify,
)

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(600)]

LOOP = "partial def spin (n : Nat) : Nat := spin (n + 1)\n#eval spin 0"
# 10,000 nested parentheses: the parser and elaborator recurse per level and the WASM Lean dies
# ("INTERNAL PANIC: out of memory") within seconds, with the default options and the default
# 512 MiB worker stack. (1,000 or 3,000 levels give "maximum recursion depth has been reached".)
DEEP = "example : True := " + "(" * 10_000 + "trivial" + ")" * 10_000


def served(server) -> None:
    """The server answers a fresh request correctly."""
    result = server.run_cmd("theorem still_up : 2 + 3 = 5 := by decide")
    assert isinstance(result, CommandResult) and result.ok, result
    assert verify("theorem still_ok (n : Nat) : n + 0 = n", "by simp", server=server).ok


def test_infinite_loop_times_out_and_the_next_request_is_served(lean_server):
    before = lean_server.stats
    state = lean_server.start_proof("theorem before_loop (n : Nat) : n = n")
    assert isinstance(state, TacticState)
    started = time.monotonic()
    result = lean_server.run_cmd(LOOP, timeout=10)
    assert result == Timeout(10)
    assert time.monotonic() - started < 10 + lean_server.startup_timeout
    after = lean_server.stats
    assert after.timeouts == before.timeouts + 1
    assert after.generation == before.generation + 1
    with pytest.raises(StaleHandleError):
        lean_server.run_tac(state, "rfl")  # a handle of the killed process
    served(lean_server)


def test_deep_recursion_crash_restarts_and_the_next_request_is_served(lean_server):
    before = lean_server.stats
    pid = lean_server.pid
    env = lean_server.run_cmd("def before_crash : Nat := 1")
    assert isinstance(env, CommandResult)
    result = lean_server.run_cmd(DEEP, timeout=180)
    assert isinstance(result, Crashed), result
    assert "exited" in result.reason or "signal" in result.reason, result.reason
    after = lean_server.stats
    assert after.crashes == before.crashes + 1
    assert after.generation == before.generation + 1
    assert lean_server.pid != pid
    with pytest.raises(StaleHandleError):
        lean_server.run_cmd("#check before_crash", env=env)
    served(lean_server)


def send_raw(server, data: bytes, wait: float = 60.0):
    """Write bytes to the REPL's stdin below the JSON layer; its next reply (or None)."""
    with server._lock:
        proc = server._proc
        assert proc is not None and proc.alive()
        proc.send(data)
        try:
            return proc.responses.get(timeout=wait)
        except queue.Empty:
            return None


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b'{"cmd": "#check Nat", \n\n', "Could not parse JSON"),
        (b"{cmd: #check Nat}\n\n", "Could not parse JSON"),
        (b"[1, 2, 3]\n\n", "Could not parse as a valid JSON command"),
        (b'"cmd"\n\n', "Could not parse as a valid JSON command"),
        (b'{"cmd": 5}\n\n', "Could not parse as a valid JSON command"),
        (b'{"proofState": 0}\n\n', "Could not parse as a valid JSON command"),
    ],
)
def test_malformed_requests_get_a_clear_error(lean_server, data, fragment):
    pid = lean_server.pid
    reply = send_raw(lean_server, data)
    assert isinstance(reply, dict) and fragment in reply.get("message", ""), reply
    assert lean_server.pid == pid
    served(lean_server)


def test_invalid_utf8_in_a_request_is_survived(lean_server):
    reply = send_raw(lean_server, b'{"cmd": "#eval \\"\xff\xfe\\""}\n\n')
    assert isinstance(reply, dict) and "env" in reply, reply
    served(lean_server)


def test_unknown_handles_are_lean_errors(lean_server):
    assert isinstance(lean_server.run_cmd("#check Nat", env=10**6), LeanError)
    ghost = TacticState("⊢ True", id=10**6, generation=lean_server.generation)
    result = lean_server.run_tac(ghost, "trivial")
    assert isinstance(result, LeanError) and result.error == "Unknown proof state."
    reply = lean_server.request({"tactic": "trivial"})
    assert reply["message"].startswith("Could not parse as a valid JSON command"), reply
    served(lean_server)


def test_an_env_of_the_wrong_type_is_an_error(lean_server):
    defined = lean_server.request({"cmd": "def only_in_env : Nat := 7"})
    assert "env" in defined
    for bad in (-1, str(defined["env"]), 1.5):
        reply = lean_server.request({"cmd": "#check only_in_env", "env": bad})
        assert "message" in reply, (bad, reply)


def test_one_megabyte_inputs(lean_server):
    comment = "/-" + ("x" * 99 + "\n") * 10_000 + "-/\n"
    cmd = comment + "theorem after_comment : 1 + 1 = 2 := by decide\n#check after_comment"
    assert len(cmd.encode()) > 1_000_000
    result = lean_server.run_cmd(cmd, timeout=120)
    assert isinstance(result, CommandResult) and result.ok, result
    [info] = result.messages
    assert info.line == 10_003 and info.text == "after_comment : 1 + 1 = 2"
    # A 1 MB string literal, echoed back: a 1 MB reply line.
    text = "ab" * 500_000
    result = lean_server.run_cmd(f'def big : String := "{text}"\n#eval big.length\n#eval big')
    assert isinstance(result, CommandResult) and result.ok, result
    assert [m.text for m in result.messages] == ["1000000", f'"{text}"']
    served(lean_server)
