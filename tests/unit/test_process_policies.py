"""The process layer's policies without Lean: heartbeat limits, hard deadlines, the LRU env cache,
routing by header, freeing handles, and the standby handover (on the fake REPL)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from leancot.lean.handles import EnvHandles, header_key
from leancot.lean.limits import (
    HARD_GRACE_S,
    MIN_HEARTBEATS,
    default_heartbeat_rate,
    hard_deadline_s,
    heartbeat_limit,
    hit_heartbeat_limit,
    reply_handles,
    with_heartbeats,
)
from leancot.lean.pool import route
from leancot.lean.results import (
    CommandResult,
    LeanError,
    StaleHandleError,
    TacticState,
    Timeout,
)
from leancot.lean.server import LeanServer
from tests.unit.fake_repl import fake_backend

HEARTBEAT_TEXT = (
    "(deterministic) timeout at `whnf`, maximum number of heartbeats (600) has been reached"
)


# --- limits -----------------------------------------------------------------------------------


def test_heartbeat_limit_scales_with_the_budget_and_has_a_floor():
    assert heartbeat_limit(10, 600) == 6000
    assert heartbeat_limit(0.01, 600) == MIN_HEARTBEATS
    with pytest.raises(ValueError):
        heartbeat_limit(0, 600)
    assert default_heartbeat_rate("wasm", "marker") < default_heartbeat_rate("native", "marker")
    assert default_heartbeat_rate("repl", "plain") is None  # the community REPL takes none


def test_only_commands_and_tactics_without_their_own_limit_get_one():
    assert with_heartbeats({"cmd": "x"}, 5) == ({"cmd": "x", "maxHeartbeats": 5}, 5)
    assert with_heartbeats({"tactic": "simp", "proofState": 1}, 5)[1] == 5
    assert with_heartbeats({"cmd": "x", "maxHeartbeats": 9}, 5) == (
        {"cmd": "x", "maxHeartbeats": 9},
        None,
    )
    assert with_heartbeats({"verify": "x"}, 5) == ({"verify": "x"}, None)


def test_a_heartbeat_timeout_counts_only_at_the_requests_own_limit():
    assert hit_heartbeat_limit({"message": HEARTBEAT_TEXT}, 600)
    cmd_reply = {"env": 3, "messages": [{"severity": "error", "data": HEARTBEAT_TEXT}]}
    assert hit_heartbeat_limit(cmd_reply, 600)
    assert not hit_heartbeat_limit(cmd_reply, 601)  # `set_option maxHeartbeats 600` in the text
    warning = {"env": 3, "messages": [{"severity": "warning", "data": HEARTBEAT_TEXT}]}
    assert not hit_heartbeat_limit(warning, 600)
    assert not hit_heartbeat_limit({"env": 1, "messages": []}, 600)


def test_hard_deadline_leaves_a_grace_that_grows_with_the_budget():
    assert hard_deadline_s(1.0) == 1.0 + HARD_GRACE_S
    assert hard_deadline_s(60.0) == 90.0


def test_reply_handles_finds_envs_and_proof_states():
    reply = {
        "env": 4,
        "sorries": [{"proofState": 7}, {"proofState": None}],
        "tactics": [{"proofState": 8}, {"kind": "x"}],
    }
    assert reply_handles(reply) == ([4], [7, 8])
    assert reply_handles({"proofState": 2, "goals": []}) == ([], [2])
    assert reply_handles({"message": "no"}) == ([], [])


# --- the LRU env cache and routing -------------------------------------------------------------


def _env(n: int, generation: int = 0) -> CommandResult:
    return CommandResult(env=n, generation=generation)


def test_env_cache_is_an_lru_that_queues_evictions_for_forget():
    handles = EnvHandles(capacity=2)
    handles.remember("a", _env(1), 0)
    handles.remember("b", _env(2), 0)
    assert handles.cached("a", 0) == _env(1)  # a is now the most recent
    handles.remember("c", _env(3), 0)
    assert handles.keys() == ["a", "c"]
    assert handles.take_evicted() == [2] and handles.take_evicted() == []
    assert handles.cached("b", 0) is None
    assert (handles.hits, handles.misses) == (1, 1)
    assert handles.cached("a", 1) is None  # made by an older process
    assert handles.pinned() == {1, 3}


def test_freed_handles_raise():
    handles = EnvHandles()
    handles.mark_forgotten([5], [9])
    with pytest.raises(StaleHandleError, match="env 5 was freed"):
        handles.check_live(5, None)
    with pytest.raises(StaleHandleError, match="proof state 9 was freed"):
        handles.check_live(None, 9)
    handles.check_live(6, 10)
    handles.record(5, 0)  # a new process may issue the number again
    handles.check_live(5, None)


def _server(name: str, keys: list[str], generation: int = 0) -> SimpleNamespace:
    handles = EnvHandles()
    for i, key in enumerate(keys):
        handles.remember(key, _env(i + 1, generation), generation)
    return SimpleNamespace(name=name, env_handles=handles, generation=generation)


def test_route_prefers_a_server_holding_the_header_else_the_emptiest():
    a = _server("a", [header_key("H1"), header_key("H2")])
    b = _server("b", [header_key("H3")])
    c = _server("c", [])
    assert route([a, b, c], "H3").name == "b"
    assert route([a, b, c], "H2").name == "a"
    assert route([a, b, c], "H9").name == "c"
    assert route([a, b, c], None).name == "c"
    stale = _server("s", [header_key("H1")], generation=0)
    stale.generation = 1  # restarted since: its cache is gone
    assert route([a, stale], "H1").name == "a"


# --- on the fake REPL --------------------------------------------------------------------------


def test_a_heartbeat_timeout_is_a_timeout_and_the_process_lives_on(tmp_path):
    with LeanServer(fake_backend(tmp_path), request_timeout=5.0, heartbeats_per_s=1000) as server:
        pid = server.pid
        limit = server.run_cmd("heartbeats")
        assert isinstance(limit, CommandResult) and limit.messages[0].text == "5000"
        assert server.run_cmd("runaway", timeout=2.0) == Timeout(2.0)
        state = server.start_proof("theorem t : True")
        assert isinstance(state, TacticState)
        assert server.run_tac(state, "runaway", timeout=3.0) == Timeout(3.0)
        assert isinstance(server.run_tac(state, "intro"), TacticState)  # same process, same state
        stats = server.stats
        assert server.pid == pid and stats.restarts == 0 and stats.generation == 0
        assert stats.timeouts == stats.lean_timeouts == 2


def test_without_heartbeats_a_runaway_is_an_ordinary_lean_error(tmp_path):
    with LeanServer(fake_backend(tmp_path), heartbeats_per_s=0) as server:
        result = server.run_cmd("heartbeats")
        assert isinstance(result, CommandResult) and result.messages[0].text == "None"


def test_a_handle_scope_frees_what_it_issued_but_not_cached_headers(tmp_path):
    with LeanServer(fake_backend(tmp_path), request_timeout=5.0) as server:
        header = server.header_env("def h := 1")
        assert isinstance(header, CommandResult)
        with server.handle_scope():
            state = server.start_proof("theorem t : True", header)
            assert isinstance(state, TacticState)
            step = server.run_tac(state, "intro")
            assert isinstance(step, TacticState)
        assert server.stats.forgotten == 3  # the command's env, its sorry's state, the step's
        with pytest.raises(StaleHandleError, match="freed"):
            server.run_tac(state, "intro")
        assert server.header_env("def h := 1") == header  # still cached, still usable
        assert isinstance(server.start_proof("theorem u : True", header), TacticState)


def test_evicted_headers_are_freed_at_the_next_safe_point(tmp_path):
    with LeanServer(fake_backend(tmp_path), cached_envs=1) as server:
        first = server.header_env("def a := 1")
        server.header_env("def b := 2")
        assert isinstance(first, CommandResult)
        assert server.maybe_recycle() is False
        assert server.stats.forgotten == 1
        with pytest.raises(StaleHandleError):
            server.run_cmd("#check a", env=first)


def test_a_hard_timeout_hands_over_to_the_standby(tmp_path):
    with LeanServer(
        fake_backend(tmp_path), request_timeout=5.0, standby=True, hard_grace_s=0.2
    ) as server:
        header = server.header_env("def h := 1")
        assert isinstance(header, CommandResult)
        deadline = time.monotonic() + 10
        while not server.standby_ready and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.standby_ready
        time.sleep(0.3)  # the header's replay on the standby
        old_pid = server.pid
        sent = time.monotonic()
        assert server.run_cmd("sleep", timeout=0.3) == Timeout(0.3)
        handover = time.monotonic() - sent - hard_deadline_s(0.3, 0.2)
        assert handover < 1.0  # a swap, not a start-up
        stats = server.stats
        assert stats.handovers == 1 and stats.generation == 1 and server.pid != old_pid
        with pytest.raises(StaleHandleError):
            server.run_cmd("#check h", env=header)
        replayed = server.header_env("def h := 1")
        assert isinstance(replayed, CommandResult) and replayed.generation == 1
        assert server.stats.header_hits >= 1  # replayed on the standby, not elaborated again
        assert isinstance(server.run_cmd("#check h", env=replayed), CommandResult)
        deadline = time.monotonic() + 10
        while not server.standby_ready and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.standby_ready  # a new standby for the next restart


def test_a_crash_without_a_ready_standby_restarts_the_slow_way(tmp_path):
    with LeanServer(fake_backend(tmp_path), request_timeout=5.0) as server:
        result = server.run_cmd("crash_now")
        assert not isinstance(result, (CommandResult, LeanError))
        assert server.stats.handovers == 0 and server.stats.generation == 1


def test_a_crash_while_the_standby_starts_waits_for_it(tmp_path):
    backend = fake_backend(tmp_path, FAKE_START_DELAY="1.0")
    with LeanServer(backend, request_timeout=5.0, standby=True) as server:
        assert not server.standby_ready  # started just now, one second to go
        result = server.run_cmd("crash_now")
        assert not isinstance(result, (CommandResult, LeanError))
        assert server.stats.handovers == 1 and server.stats.generation == 1
        assert isinstance(server.run_cmd("#check x"), CommandResult)


def test_a_standby_can_be_switched_on_and_off(tmp_path):
    with LeanServer(fake_backend(tmp_path), request_timeout=5.0) as server:
        assert not server.standby_ready
        server.set_standby(True)
        deadline = time.monotonic() + 10
        while not server.standby_ready and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.standby_ready
        server.set_standby(False)
        assert not server.standby_ready
        assert server.run_cmd("crash_now") is not None
        assert server.stats.handovers == 0  # restarted the slow way
