"""LeanServer / LeanPool process management against a fake REPL (no Lean needed, seconds)."""

from __future__ import annotations

import time
from pathlib import Path

import psutil
import pytest
from fake_repl import fake_backend

from leancot.lean import (
    CommandResult,
    Crashed,
    LeanCrashed,
    LeanError,
    LeanPool,
    LeanServer,
    LeanStartupError,
    ProofFinished,
    StaleHandleError,
    TacticState,
    Timeout,
)


def gone(pid: int, wait: float = 5.0) -> bool:
    """The process no longer runs (absent or a zombie awaiting its new parent)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def spawned_child(server: LeanServer) -> int:
    result = server.run_cmd("spawn")
    assert isinstance(result, CommandResult)
    return int(result.messages[0].text)


@pytest.fixture
def server(tmp_path):
    with LeanServer(fake_backend(tmp_path), request_timeout=5.0) as s:
        yield s


def test_ready_line_and_commands(server):
    assert server.version == "fake-4.0"
    result = server.run_cmd("theorem t : True := trivial")
    assert isinstance(result, CommandResult)
    assert result.ok and not result.has_sorry
    again = server.run_cmd("example : True := trivial", env=result)
    assert isinstance(again, CommandResult) and again.env == result.env + 1


def test_noise_lines_are_ignored(server):
    result = server.run_cmd("noise")
    assert isinstance(result, CommandResult)
    assert server.run_cmd("x").env == result.env + 1  # still in step


def test_lean_level_errors_are_values(server):
    assert isinstance(server.run_cmd("x", env=99), LeanError)
    result = server.run_cmd("def f := bad_term")
    assert isinstance(result, CommandResult)
    assert [m.text for m in result.errors] == ["unknown identifier 'bad_term'"]
    raw = server.request({"nonsense": 1})
    assert raw == {"message": "bad request"}


def test_tactics_and_backtracking(server):
    state = server.start_proof("theorem t : True")
    assert isinstance(state, TacticState) and state.pp == "⊢ True"
    a = server.run_tac(state, "intro h")
    b = server.run_tac(state, "intro h")  # same state again: backtracking
    assert isinstance(a, TacticState) and isinstance(b, TacticState)
    assert a == b and hash(a) == hash(b) and a.id != b.id
    assert isinstance(server.run_tac(a, "fail"), LeanError)
    assert isinstance(server.run_tac(a, "done"), ProofFinished)


def test_timeout_then_next_request_served(tmp_path):
    with LeanServer(fake_backend(tmp_path), request_timeout=0.5) as server:
        child = spawned_child(server)
        old_pid = server.pid
        t0 = time.monotonic()
        assert server.run_cmd("sleep") == Timeout(0.5)
        assert time.monotonic() - t0 < 5
        assert gone(old_pid) and gone(child)
        assert server.generation == 1 and server.pid != old_pid
        assert isinstance(server.run_cmd("theorem t : True := trivial"), CommandResult)
        assert server.run_cmd("sleep", timeout=0.2) == Timeout(0.2)
        stats = server.stats
        assert stats.timeouts == 2 and stats.restarts == 2 and stats.generation == 2


def test_tactic_timeout(tmp_path):
    with LeanServer(fake_backend(tmp_path), request_timeout=5) as server:
        state = server.start_proof("theorem t : True")
        assert server.run_tac(state, "sleep", timeout=0.3) == Timeout(0.3)
        with pytest.raises(StaleHandleError):
            server.run_tac(state, "done")


def test_crash_then_next_request_served(server):
    old_pid = server.pid
    result = server.run_cmd("exit 7")
    assert isinstance(result, Crashed)
    assert "code 7" in result.reason and "dying on purpose" in result.reason
    assert "[DEBUG" not in result.reason
    assert gone(old_pid)
    assert isinstance(server.run_cmd("theorem t : True := trivial"), CommandResult)
    assert server.stats.crashes == 1


def test_malformed_reply_is_a_crash(server):
    result = server.run_cmd("garbage")
    assert isinstance(result, Crashed) and "malformed JSON" in result.reason
    assert isinstance(server.run_cmd("x"), CommandResult)


def test_stale_handles_raise(server):
    env = server.run_cmd("def a := 1")
    state = server.start_proof("theorem t : True")
    assert isinstance(env, CommandResult) and isinstance(state, TacticState)
    assert isinstance(server.run_cmd("exit 1"), Crashed)
    with pytest.raises(StaleHandleError):
        server.run_tac(state, "done")
    with pytest.raises(StaleHandleError):
        server.run_cmd("def b := 2", env=env)
    with pytest.raises(StaleHandleError):
        server.run_cmd("def b := 2", env=env.env)  # the bare id too
    fresh = server.run_cmd("def a := 1")
    assert isinstance(server.run_cmd("def b := 2", env=fresh), CommandResult)


def test_death_between_requests_restarts(server):
    state = server.start_proof("theorem t : True")
    psutil.Process(server.pid).kill()
    assert gone(server.pid)
    with pytest.raises(StaleHandleError):
        server.run_tac(state, "done")
    assert isinstance(server.run_cmd("x"), CommandResult)


def test_recycle_after_max_requests(tmp_path):
    with LeanServer(fake_backend(tmp_path), max_requests=3) as server:
        first = server.run_cmd("a")
        server.run_cmd("b", env=first)
        server.run_cmd("c", env=first)
        assert server.generation == 0  # never in the middle of a proof
        assert server.maybe_recycle() is True
        assert server.generation == 1 and server.stats.recycles == 1
        for _ in range(3):
            server.run_cmd("d")
        server.run_cmd("e")  # env=None: a safe point, recycles first
        assert server.generation == 2


def test_recycle_above_rss(tmp_path):
    with LeanServer(fake_backend(tmp_path), max_rss_gb=0.0001) as server:
        server.run_cmd("a")
        assert server.maybe_recycle() is True
        assert server.stats.peak_rss > 0


def test_hard_memory_limit_kills(tmp_path):
    with LeanServer(fake_backend(tmp_path), hard_rss_gb=0.15, request_timeout=10) as server:
        result = server.run_cmd("alloc 300")
        assert isinstance(result, Crashed) and result.reason.startswith("memory")
        assert isinstance(server.run_cmd("x"), CommandResult)
        assert server.stats.peak_rss > 0.15 * (1 << 30)


def test_process_group_killed_on_exit(tmp_path):
    with LeanServer(fake_backend(tmp_path)) as server:
        pid = server.pid
        child = spawned_child(server)
        assert psutil.pid_exists(child)
    assert gone(pid) and gone(child)
    with pytest.raises(LeanCrashed):
        server.run_cmd("x")


def test_startup_errors(tmp_path):
    with pytest.raises(LeanStartupError, match="cannot import Init"):
        LeanServer(fake_backend(tmp_path, FAKE_MODE="die_at_start")).start()
    with pytest.raises(LeanStartupError, match="not ready after"):
        LeanServer(fake_backend(tmp_path, FAKE_MODE="never_ready"), startup_timeout=0.5).start()
    with pytest.raises(LeanStartupError, match="garbage"):
        LeanServer(fake_backend(tmp_path, FAKE_MODE="garbage_at_start")).start()
    bad = fake_backend(tmp_path)
    bad = type(bad)("missing", ("/nonexistent/lean",), (), None, "marker", 1.0)
    with pytest.raises(LeanStartupError, match="cannot start"):
        LeanServer(bad).start()


def test_failed_restart_raises_lean_crashed(tmp_path):
    flag = tmp_path / "fail"
    with LeanServer(fake_backend(tmp_path, FAKE_FAIL_FILE=str(flag))) as server:
        flag.touch()
        with pytest.raises(LeanCrashed, match="cannot import Init"):
            server.run_cmd("exit 1")
        flag.unlink()
        assert isinstance(server.run_cmd("x"), CommandResult)  # starts again on demand


def test_plain_framing(tmp_path):
    with LeanServer(fake_backend(tmp_path, FAKE_FRAMING="plain")) as server:
        state = server.start_proof("theorem t : True")
        assert isinstance(state, TacticState)
        assert isinstance(server.run_tac(state, "done"), ProofFinished)


def test_pool_map_preserves_order(tmp_path):
    with LeanPool(fake_backend(tmp_path), 2, max_requests=2) as pool:
        pids = {s.pid for s in pool.servers}
        assert len(pids) == 2

        def job(server: LeanServer, i: int) -> tuple[int, int]:
            result = server.run_cmd(f"def x{i} := {i}")
            assert isinstance(result, CommandResult)
            return i, server.pid

        results = pool.map(job, range(8))
        assert [i for i, _ in results] == list(range(8))
        assert sum(s.recycles for s in pool.stats) > 0
        with pool.acquire() as server:
            assert isinstance(server.run_cmd("x"), CommandResult)
    assert all(gone(pid) for pid in pids)


def test_private_dir_per_process(tmp_path):
    import dataclasses

    backend = dataclasses.replace(fake_backend(tmp_path), private_dir_env="FAKE_PRIVATE_DIR")
    with LeanServer(backend, request_timeout=5.0) as server:
        first = server._proc.private_dir
        repl = psutil.Process(server.pid).children()[0]  # the REPL behind the guard
        assert repl.cwd() == first and repl.environ()["FAKE_PRIVATE_DIR"] == first
        assert Path(first).name.startswith("leancot-lean-") and Path(first).is_dir()
        assert isinstance(server.run_cmd("exit 3"), Crashed)  # restarts: a fresh directory
        second = server._proc.private_dir
        assert second != first and Path(second).is_dir() and not Path(first).exists()
    assert not Path(second).exists()
