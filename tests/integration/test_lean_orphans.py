"""No orphaned Lean processes: a Lean child dies within a second of its parent, even after kill -9.

Each test starts a Python process that runs the embedded Lean (through LeanServer, or a whole
`leancot prove` run), kills that process's group with SIGKILL while Lean is busy, and asserts
that the Lean process tree (guard.py and node, in a session of their own) is gone soon after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(900)]

LIMIT_S = 1.5  # the guard polls every 0.2 s; the issue asks for "within a second"

BUSY_SERVER = r"""
import sys, threading, time
import psutil
from leancot.lean.backends import wasm_backend
from leancot.lean.server import LeanServer

LOOP = "partial def spin (n : Nat) : Nat := spin (n + 1)\n#eval spin 0"
server = LeanServer(wasm_backend(), request_timeout=600)
server.start()
threading.Thread(target=server.run_cmd, args=(LOOP,), daemon=True).start()
time.sleep(2)  # the request is in flight: Lean spins
tree = [server.pid, *(p.pid for p in psutil.Process(server.pid).children(recursive=True))]
print(" ".join(map(str, tree)), flush=True)
time.sleep(600)
"""


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def seconds_until_gone(pids: list[int], limit: float) -> float | None:
    start = time.monotonic()
    while any(running(p) for p in pids):
        if time.monotonic() - start > limit:
            return None
        time.sleep(0.02)
    return time.monotonic() - start


def lean_tree(root: int) -> tuple[list[int], list[Path]]:
    """The embedded-Lean processes under `root` (each guard.py and the node below it), and the
    private directories their guards were told to remove."""
    try:
        procs = psutil.Process(root).children(recursive=True)
    except psutil.NoSuchProcess:
        return [], []
    pids, dirs = [], []
    for p in procs:
        try:
            argv = p.cmdline()
        except psutil.Error:
            continue
        if any(a.endswith("lean.js") for a in argv):
            pids.append(p.pid)
            if "--cleanup" in argv:
                dirs.append(Path(argv[argv.index("--cleanup") + 1]))
    return pids, dirs


def kill_group(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def test_a_busy_lean_dies_with_its_killed_parent(wasm_install):
    parent = subprocess.Popen(
        [sys.executable, "-c", BUSY_SERVER],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        line = parent.stdout.readline()
        assert line, "the parent died before Lean was busy"
        tree = [int(pid) for pid in line.split()]
        assert len(tree) >= 2 and all(running(p) for p in tree)  # the guard and node
        pids, dirs = lean_tree(parent.pid)
        assert sorted(pids) == sorted(tree) and len(dirs) == 1 and dirs[0].is_dir()
        kill_group(parent)
        took = seconds_until_gone(tree, LIMIT_S)
        assert took is not None, f"Lean outlived its parent by more than {LIMIT_S} s"
        assert not dirs[0].exists()  # the guard removed the private directory
    finally:
        if parent.poll() is None:
            kill_group(parent)


def test_kill_9_of_leancot_prove_leaves_no_lean_running(wasm_install, tmp_path):
    out = tmp_path / "results.jsonl"
    cmd = [
        sys.executable, "-c", "import sys; from leancot.cli import main; sys.exit(main())",
        "prove", "--method", "baseline", "--limit", "20",
        "--out", str(out), "--no-progress",
    ]  # fmt: skip
    prove = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        start_new_session=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + 600
        pids: list[int] = []
        dirs: list[Path] = []
        while time.monotonic() < deadline and prove.poll() is None:
            pids, dirs = lean_tree(prove.pid)
            if pids and out.is_file() and out.read_text(encoding="utf-8").count("\n") >= 1:
                break  # Lean is up and proving
            time.sleep(0.2)
        assert prove.poll() is None, "leancot prove ended before it could be killed"
        assert pids, "no Lean process under leancot prove"
        kill_group(prove)
        took = seconds_until_gone(pids, LIMIT_S)
        assert took is not None, f"Lean outlived `leancot prove` by more than {LIMIT_S} s"
        assert dirs and not any(d.exists() for d in dirs)
    finally:
        if prove.poll() is None:
            kill_group(prove)
