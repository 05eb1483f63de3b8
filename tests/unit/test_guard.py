"""guard.py, the launcher that kills a Lean process tree when its Python parent dies (no Lean)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from leancot.lean.process import GUARD_SCRIPT, guarded_argv

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups, /proc")


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids: list[int], limit: float) -> float | None:
    """Seconds until none of `pids` runs, or None if some still run after `limit`."""
    start = time.monotonic()
    while any(running(p) for p in pids):
        if time.monotonic() - start > limit:
            return None
        time.sleep(0.01)
    return time.monotonic() - start


def guard(*argv: str, **kwargs) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-I", "-S", str(GUARD_SCRIPT), "--", *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kwargs)


def test_exit_status_passes_through():
    assert guard("sh", "-c", "exit 7").returncode == 7
    assert guard("true").returncode == 0
    assert guard("sh", "-c", "kill -TERM $$").returncode == -signal.SIGTERM
    assert guard("sh", "-c", "kill -KILL $$").returncode == -signal.SIGKILL


def test_io_is_inherited_and_the_child_gets_a_clean_signal_state():
    script = "cat; grep -E '^Sig(Blk|Ign)' /proc/self/status"
    out = guard("sh", "-c", script, input="hello\n")
    lines = out.stdout.splitlines()
    assert lines[0] == "hello"
    # the state a plain subprocess gets (what the caller's own ignored signals, e.g. SIGHUP
    # under nohup, make it): none of the guard's blocked signals or Python's ignored ones leak
    plain = subprocess.run(["sh", "-c", script], input="hello\n", capture_output=True, text=True)
    assert set(lines[1:]) == set(plain.stdout.splitlines()[1:])
    blocked = next(line for line in lines if line.startswith("SigBlk:"))
    assert blocked == "SigBlk:\t0000000000000000"


def test_a_missing_command_says_so():
    out = guard("/nonexistent/lean")
    assert out.returncode == 127 and "cannot start '/nonexistent/lean'" in out.stderr
    bad = subprocess.run([sys.executable, str(GUARD_SCRIPT)], capture_output=True, text=True)
    assert bad.returncode != 0 and "no command" in bad.stderr


def exec_child(pid: int, name: str, timeout: float = 5.0) -> list[psutil.Process]:
    """The children of `pid` once one has exec'd `name` (between fork and exec a child still
    has its parent's name), or the children at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = psutil.Process(pid).children()
        try:
            if any(c.name() == name for c in children):
                return children
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.01)
    children = psutil.Process(pid).children()
    assert [c.name() for c in children] == [name]
    return children


def test_sigterm_is_forwarded_and_the_cleanup_dir_removed(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    (private / "file").write_text("x")
    argv = guarded_argv(["sleep", "30"], cleanup=str(private))
    proc = subprocess.Popen(argv, start_new_session=True)
    try:
        (child,) = exec_child(proc.pid, "sleep")
        assert os.getpgid(child.pid) == proc.pid
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == -signal.SIGTERM
        assert wait_gone([child.pid], 2) is not None
        assert not private.exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


PARENT = r"""
import subprocess, sys, time
import psutil
from leancot.lean.process import guarded_argv
p = subprocess.Popen(guarded_argv(["sleep", "30"], cleanup=sys.argv[1]), start_new_session=True)
while not psutil.Process(p.pid).children():
    time.sleep(0.01)
print(p.pid, psutil.Process(p.pid).children()[0].pid, flush=True)
time.sleep(60)
"""


def test_child_dies_within_a_second_of_kill_9_of_the_parent(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(private)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        guard_pid, child_pid = map(int, parent.stdout.readline().split())
        assert running(guard_pid) and running(child_pid)
        os.killpg(parent.pid, signal.SIGKILL)  # the parent's group only: the guard has its own
        parent.wait(timeout=5)
        took = wait_gone([guard_pid, child_pid], 1.0)
        assert took is not None, "the guarded child outlived its parent by more than 1 s"
        assert not private.exists()
    finally:
        if parent.poll() is None:
            parent.kill()


def test_the_address_space_limit_reaches_the_child():
    limit = 512 << 20
    cmd = guarded_argv(
        [sys.executable, "-c", "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"],
        memory_limit_bytes=limit,
    )
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and int(done.stdout) == limit
    big = guarded_argv([sys.executable, "-c", "b = bytearray(1 << 30)"], memory_limit_bytes=limit)
    failed = subprocess.run(big, capture_output=True, text=True, timeout=30)
    assert failed.returncode != 0 and "MemoryError" in failed.stderr
