"""`leancot prove --ray` on a real local Ray cluster: two actors, each with its own WASM Lean.

The cluster is the one a user makes with `ray start --head` (two CPUs); the first run is the
CLI joining it through `RAY_ADDRESS`, killed with SIGKILL once a theorem is done; the second
run resumes the same search log, skipping what is there. Every Lean and Ray process started
here is stopped by its id at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
THEOREMS = 20  # of the bundled test split (1-10 s each): most are left when the kill comes
LEAN_CALLS = 16
BUDGET = ["--lean-calls", str(LEAN_CALLS), "--theorem-timeout", "60"]
STARTUP_S = 300.0  # generous: a loaded machine starts a WASM Lean in 20 s to a few minutes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def process_table() -> dict[int, tuple[int, list[str]]]:
    """{pid: (parent pid, command line)} of every process, read in one pass."""
    table = {}
    for proc in psutil.process_iter(["ppid", "cmdline"]):
        table[proc.pid] = (proc.info["ppid"] or 0, proc.info["cmdline"] or [])
    return table


def descendants(table: dict[int, tuple[int, list[str]]], roots: set[int]) -> set[int]:
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), list(roots)
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def cluster_pids(temp_dir: str, table=None) -> set[int]:
    """Processes of the cluster: Ray's own (their command lines name its temp dir) and their
    descendants (the actors and their Lean processes)."""
    table = process_table() if table is None else table
    own = {pid for pid, (_, cmd) in table.items() if any(temp_dir in part for part in cmd)}
    return own | descendants(table, own)


def is_lean(cmdline: list[str]) -> bool:
    return any(part.endswith("lean.js") for part in cmdline)


def actors_with_lean(temp_dir: str) -> set[int]:
    """Prover actors (Ray titles their worker processes `ray::ProverWorker.<method>`) with a
    Lean process among their descendants."""
    table = process_table()
    owners = set()
    for pid in cluster_pids(temp_dir, table):
        if " ".join(table[pid][1]).startswith("ray::ProverWorker"):
            if any(is_lean(table[c][1]) for c in descendants(table, {pid}) if c in table):
                owners.add(pid)
    return owners


def cluster_tree(temp_dir: str) -> str:
    """The cluster's processes, for a failure message."""
    table = process_table()
    pids = sorted(cluster_pids(temp_dir, table))
    return "\n".join(f"{pid} <- {table[pid][0]}: {' '.join(table[pid][1])[:120]}" for pid in pids)


def wait_for(condition, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def log_names(path: Path) -> list[str]:
    if not path.exists():
        return []
    text = path.read_text("utf-8")
    return [json.loads(line)["full_name"] for line in text.splitlines() if line.endswith("}")]


@pytest.fixture
def ray_head(ray_module, wasm_install, monkeypatch) -> Iterator[tuple[str, str]]:
    """(address, temp dir) of a `ray start --head --num-cpus=2` cluster, stopped afterwards.

    Token authentication on, as Ray 2.59+ has it for `ray start`: every process here (the head, the
    drivers) gets the mode and a fresh token from the environment, so ~/.ray is not touched."""
    monkeypatch.setenv("RAY_AUTH_MODE", "token")
    monkeypatch.setenv("RAY_AUTH_TOKEN", secrets.token_hex(32))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    temp_dir = tempfile.mkdtemp(prefix="lcray")  # short: Ray's socket paths must stay short
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    log = Path(temp_dir) / "head.log"
    command = [
        sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
        f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
        "--include-dashboard=false",
        "--disable-usage-stats", f"--temp-dir={temp_dir}", "--object-store-memory=100000000",
    ]  # fmt: skip
    with log.open("wb") as out:
        head = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    try:
        wait_for(
            lambda: "Ray runtime started" in log.read_text(errors="replace") or head.poll(),
            STARTUP_S,
            "ray start --head",
        )
        assert head.poll() is None, log.read_text(errors="replace")
        yield f"127.0.0.1:{port}", temp_dir
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(timeout=30)
        left = []
        for pid in cluster_pids(temp_dir):  # whatever left the process group
            with contextlib.suppress(psutil.NoSuchProcess):
                left.append(psutil.Process(pid))
                left[-1].kill()
        psutil.wait_procs(left, timeout=30)
        shutil.rmtree(temp_dir, ignore_errors=True)


def test_two_actors_prove_then_a_killed_run_resumes(ray_head, tmp_path):
    address, temp_dir = ray_head
    out = tmp_path / "results.jsonl"
    env = {
        **os.environ,
        "RAY_ADDRESS": address,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable, "-m", "leancot.cli", "prove", "--ray", "auto", "--workers", "2",
        "--method", "baseline", "--limit", str(THEOREMS), "--out", str(out), "--no-progress",
        *BUDGET,
    ]  # fmt: skip
    driver_log = tmp_path / "driver.log"
    with driver_log.open("wb") as sink:
        driver = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )

    def running(condition):
        def check():
            if driver.poll() is not None:
                raise AssertionError(f"the driver exited early:\n{driver_log.read_text()[-4000:]}")
            return condition()

        return check

    def two_actors_with_lean():
        found = actors_with_lean(temp_dir)
        return found if len(found) == 2 else None

    try:
        try:
            owners = wait_for(running(two_actors_with_lean), STARTUP_S, "two actors, each a Lean")
        except AssertionError as exc:
            tree = cluster_tree(temp_dir)
            raise AssertionError(f"{exc}; the cluster's processes:\n{tree}") from None
        wait_for(
            running(lambda: out.exists() and out.stat().st_size > 0),
            STARTUP_S,
            "a first search in the log",
            interval=0.02,
        )
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)  # kill -9: the run stops mid-way
        driver.wait(timeout=60)
    output = driver_log.read_text(errors="replace")[-4000:]
    assert driver.returncode == -signal.SIGKILL, output
    done = log_names(out)
    assert 1 <= len(done) < THEOREMS, output
    assert len(owners) == 2
    # The job's actors die with their driver, and their Lean processes with them.
    wait_for(lambda: not actors_with_lean(temp_dir), 120, "the killed run's Lean processes to go")
    first_lines = out.read_text("utf-8").splitlines()

    # The same command again, a new driver on the same cluster: it resumes the log.
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=STARTUP_S * 2)
    assert rerun.returncode == 0, rerun.stdout[-4000:] + rerun.stderr[-4000:]
    names = log_names(out)
    assert f"{len(done)} theorems were already in {out}: skipped" in rerun.stdout
    assert "2 Ray actor(s), one Lean each, at auto" in rerun.stdout
    assert sorted(names) == sorted(set(names)) and len(names) == THEOREMS  # nothing twice
    assert out.read_text("utf-8").splitlines()[: len(first_lines)] == first_lines
    records = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    for r in records:  # each search stayed within its budget, and proofs were re-checked
        assert r["method"] == "baseline" and r["lean_calls"] <= LEAN_CALLS
        assert r["verified"] == (r["proved"] and r["verify_error"] is None)
    assert any(r["verified"] for r in records)
    assert not actors_with_lean(temp_dir)  # the actors closed their Lean on the way out
