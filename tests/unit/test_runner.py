"""The per-theorem runner: the search log, resuming, verification, workers, and LeanEnv."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from types import SimpleNamespace

import pytest

from leancot.lean.results import (
    CommandResult,
    LeanError,
    Message,
    ProofFinished,
    StaleHandleError,
    TacticState,
    Timeout,
)
from leancot.prover import Budget, ConstantValue, ScriptedEnv, ScriptedPolicy
from leancot.prover.lean_env import LeanEnv
from leancot.prover.runner import format_proof, prove_all
from leancot.prover.search_log import read_log
from leancot.prover.theorems import bare_statement

THEOREMS = [
    {"full_name": "T.one", "statement": "theorem one : R", "split": "test"},
    {"full_name": "T.two", "statement": "theorem two : P", "split": "test"},
    {"full_name": "T.three", "statement": "theorem three : Q", "split": "val"},
]
STARTS = {"theorem one : R": "⊢ R", "theorem two : P": "⊢ P", "theorem three : Q": "⊢ Q"}
TABLE = {"⊢ R": {"b": "⊢ B"}, "⊢ B": {"z": "no goals"}, "⊢ P": {"p": "no goals"}}
POLICY = {"⊢ R": ["a", "b"], "⊢ B": ["z"], "⊢ P": ["p"], "⊢ Q": ["q"]}
LOG_KEYS = {
    "full_name", "statement", "split", "method", "proved", "proof", "root", "nodes", "edges",
    "lean_calls", "wall_s",
}  # fmt: skip


class Verifier:
    """Accepts every proof except that of `two` (a verdict object with reasons)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def __call__(self, statement: str, proof: str) -> object:
        self.calls.append((statement, proof))
        if "two" in statement:
            return SimpleNamespace(ok=False, reasons=("uses sorry",))
        return True


def run(tmp_path, theorems=THEOREMS, policy=None, **kwargs):
    out = tmp_path / "log.jsonl"
    verify = kwargs.pop("verify", None) or Verifier()
    summary = prove_all(
        theorems,
        lambda: ScriptedEnv(TABLE, STARTS),
        method=kwargs.pop("method", "best_first"),
        policy=policy or ScriptedPolicy(POLICY),
        verify=verify,
        out_path=out,
        progress=False,
        **kwargs,
    )
    return summary, out, verify


def test_one_line_per_theorem_then_a_rerun_skips_them(tmp_path):
    summary, out, verify = run(tmp_path)
    assert (summary.total, summary.skipped, summary.attempted) == (3, 0, 3)
    assert (summary.proved, summary.unverified, summary.errors) == (1, 1, 0)
    records = read_log(out)
    assert [r["full_name"] for r in records] == ["T.one", "T.two", "T.three"]
    assert all(LOG_KEYS <= r.keys() for r in records)
    one, two, three = records
    assert one["proved"] and one["verified"] and one["proof"] == ["b", "z"]
    assert one["method"] == "best_first" and one["split"] == "test" and one["root"] == 0
    assert one["nodes"][0] == {
        "id": 0,
        "state": "⊢ R",
        "status": "PROVED",
        "visits": 0,  # best-first keeps no visit counts
        "value": None,  # nor values without a value function
    }
    assert [e["result"] for e in one["edges"]] == ["error", "ok", "proved"]
    assert one["stop_reason"] == "proved" and one["lean_calls"] == 4
    assert two["proved"] and not two["verified"] and two["verify_error"] == "uses sorry"
    assert not three["proved"] and not three["verified"] and three["proof"] is None
    assert three["stop_reason"] == "exhausted"
    assert verify.calls == [("theorem one : R", "by\n  b\n  z"), ("theorem two : P", "by\n  p")]
    before = out.read_bytes()
    again, _, verify2 = run(tmp_path)
    assert (again.skipped, again.attempted, again.proved) == (3, 0, 0)
    assert out.read_bytes() == before and verify2.calls == []


def test_another_method_is_a_separate_attempt(tmp_path):
    run(tmp_path)
    summary, out, _ = run(tmp_path, method="mcts_prm", value=ConstantValue())
    assert (summary.skipped, summary.attempted) == (0, 3)
    assert [r["method"] for r in read_log(out)] == ["best_first"] * 3 + ["mcts_prm"] * 3


def test_a_truncated_last_line_is_dropped_and_redone(tmp_path):
    summary, out, _ = run(tmp_path, theorems=THEOREMS[:2])
    assert summary.attempted == 2
    full = json.dumps({"full_name": "T.three", "method": "best_first", "proved": False})
    with out.open("a") as f:
        f.write("this line is garbage\n")
        f.write(full[: len(full) // 2])  # killed in the middle of a write
    assert [r["full_name"] for r in read_log(out)] == ["T.one", "T.two"]
    summary, _, _ = run(tmp_path)
    assert (summary.skipped, summary.attempted) == (2, 1)
    lines = out.read_text().splitlines()
    assert lines[2] == "this line is garbage"
    assert [json.loads(line)["full_name"] for line in lines[:2] + lines[3:]] == [
        "T.one",
        "T.two",
        "T.three",
    ]


def test_a_search_that_raises_is_not_written_and_is_retried(tmp_path):
    class Flaky(ScriptedPolicy):
        def propose(self, states, n):
            if states == ["⊢ P"]:
                raise RuntimeError("model server went away")
            return super().propose(states, n)

    summary, out, _ = run(tmp_path, policy=Flaky(POLICY))
    assert (summary.attempted, summary.errors) == (3, 1)
    assert [r["full_name"] for r in read_log(out)] == ["T.one", "T.three"]
    summary, _, _ = run(tmp_path)
    assert (summary.skipped, summary.attempted, summary.errors) == (2, 1, 0)
    assert sorted(r["full_name"] for r in read_log(out)) == ["T.one", "T.three", "T.two"]


def test_an_exception_in_verify_counts_as_unverified(tmp_path):
    def broken(statement, proof):
        raise RuntimeError("lean died")

    summary, out, _ = run(tmp_path, verify=broken)
    assert (summary.proved, summary.unverified) == (0, 2)
    assert read_log(out)[0]["verify_error"] == "RuntimeError: lean died"


def test_workers_each_get_and_close_an_env(tmp_path):
    made, closed = [], []

    class ClosingEnv(ScriptedEnv):
        def close(self) -> None:
            closed.append(self)

    def make_env():
        made.append(ClosingEnv(TABLE, STARTS))
        return made[-1]

    many = [
        {"full_name": f"T.{i}", "statement": s}
        for i, s in zip(range(12), itertools.cycle(STARTS), strict=False)
    ]
    out = tmp_path / "log.jsonl"
    summary = prove_all(
        many,
        make_env,
        method="baseline",
        policy=ScriptedPolicy(POLICY),
        verify=lambda s, p: True,
        out_path=out,
        workers=3,
        budget=Budget(max_expansions=4),
        progress=False,
    )
    assert (summary.attempted, summary.proved, summary.errors) == (12, 8, 0)
    assert len(made) == 3 and sorted(map(id, closed)) == sorted(map(id, made))
    assert sorted(r["full_name"] for r in read_log(out)) == sorted(t["full_name"] for t in many)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="method must be"):
        run(tmp_path, method="dfs")
    with pytest.raises(ValueError, match="needs a value function"):
        run(tmp_path, method="mcts_prm")
    with pytest.raises(ValueError, match="full_name"):
        run(tmp_path, theorems=[{"statement": "x"}])


def test_format_proof_indents_multiline_tactics():
    tactics = ["intro n", "induction n with\n| zero => rfl\n| succ k ih => simp"]
    assert format_proof(tactics) == (
        "by\n  intro n\n  induction n with\n  | zero => rfl\n  | succ k ih => simp"
    )


def test_bare_statement_drops_a_trailing_by():
    assert bare_statement("theorem t : 1 = 1 := by\n") == "theorem t : 1 = 1"
    assert bare_statement("theorem t : 1 = 1 :=") == "theorem t : 1 = 1"
    assert bare_statement("theorem t : 1 = 1") == "theorem t : 1 = 1"
    assert bare_statement("def f := 1") == "def f := 1"


SLOW_RUN = """
import sys, time
from leancot.prover import ScriptedEnv, ScriptedPolicy
from leancot.prover.runner import prove_all

class Slow(ScriptedEnv):
    def step(self, state, tactic, timeout=None):
        time.sleep(0.05)
        return super().step(state, tactic, timeout)

theorems = [{{"full_name": f"T.{{i}}", "statement": "s"}} for i in range(200)]
prove_all(theorems, lambda: Slow({{"⊢ P": {{"p": "no goals"}}}}, "⊢ P"), method="best_first",
          policy=ScriptedPolicy({{"⊢ P": ["p"]}}), verify=lambda s, p: True,
          out_path={out!r}, progress=False)
"""


def test_kill_9_loses_only_the_theorem_in_flight(tmp_path):
    out = tmp_path / "log.jsonl"
    script = tmp_path / "slow_run.py"
    script.write_text(textwrap.dedent(SLOW_RUN.format(out=str(out))))
    proc = subprocess.Popen([sys.executable, str(script)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if out.exists() and out.read_text().count("\n") >= 3:
                break
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    written = read_log(out)
    assert 3 <= len(written) < 200
    theorems = [{"full_name": f"T.{i}", "statement": "s"} for i in range(200)]
    summary = prove_all(
        theorems,
        lambda: ScriptedEnv({"⊢ P": {"p": "no goals"}}, "⊢ P"),
        method="best_first",
        policy=ScriptedPolicy({"⊢ P": ["p"]}),
        verify=lambda s, p: True,
        out_path=out,
        progress=False,
    )
    assert summary.skipped == len(written) and summary.attempted == 200 - len(written)
    names = [r["full_name"] for r in read_log(out)]
    assert sorted(names) == sorted(t["full_name"] for t in theorems)  # each exactly once


# --- LeanEnv on a fake server ------------------------------------------------------------------


class FakeServer:
    """Enough of LeanServer: a tactic "boom" times out and restarts the process."""

    TABLE = {"⊢ R": {"a": "⊢ A", "b": "⊢ B"}, "⊢ A": {"x": "no goals", "boom": None}}

    def __init__(self) -> None:
        self.generation = 0
        self.requests: list[tuple[str, str]] = []
        self.ids = itertools.count(1)
        self.header_ok = True
        self.scopes: list[str] = []  # "open N" / "close N", as the handle scopes came and went

    def maybe_recycle(self) -> bool:
        return False

    def open_scope(self) -> int:
        depth = sum(1 if e.startswith("open") else -1 for e in self.scopes) + 1
        self.scopes.append(f"open {depth}")
        return depth

    def close_scope(self, depth: int) -> int:
        self.scopes.append(f"close {depth}")
        return 0

    def header_env(self, header, timeout=None):
        self.requests.append(("header", header))
        errors = () if self.header_ok else (Message("error", 1, 0, None, None, "unknown"),)
        return CommandResult(env=7, messages=errors, generation=self.generation)

    def start_proof(self, statement, env=None, timeout=None):
        self.requests.append(("start", statement))
        return TacticState("⊢ R", next(self.ids), ("⊢ R",), generation=self.generation)

    def run_tac(self, state, tactic, timeout=None):
        if state.generation != self.generation:
            raise StaleHandleError("stale handle")
        self.requests.append((state.pp, tactic))
        after = self.TABLE.get(state.pp, {}).get(tactic, "missing")
        if after is None:
            self.generation += 1
            return Timeout(timeout or 1.0)
        if after == "missing":
            return LeanError("unknown tactic")
        if after == "no goals":
            return ProofFinished(next(self.ids))
        return TacticState(after, next(self.ids), (after,), generation=self.generation)


def test_lean_env_replays_a_path_after_a_restart():
    server = FakeServer()
    env = LeanEnv(server, header="import Foo")  # type: ignore[arg-type]
    root = env.start("theorem t : R")
    a = env.step(root, "a")
    assert isinstance(a, TacticState) and a.pp == "⊢ A"
    assert isinstance(env.step(a, "boom", timeout=2.0), Timeout)
    assert server.generation == 1
    assert isinstance(env.step(a, "x"), ProofFinished)  # the old handle of A is stale
    assert env.replays == 1
    b = env.step(root, "b")  # the root's fresh handle came with the replay
    assert isinstance(b, TacticState) and env.replays == 1
    assert server.requests == [
        ("header", "import Foo"),
        ("start", "theorem t : R := by sorry"),
        ("⊢ R", "a"),
        ("⊢ A", "boom"),
        ("header", "import Foo"),
        ("start", "theorem t : R := by sorry"),
        ("⊢ R", "a"),
        ("⊢ A", "x"),
        ("⊢ R", "b"),
    ]


def test_lean_env_states_a_type_with_its_own_colon_equals_with_a_proof_to_come():
    """A restated core lemma whose type holds `:=` (a structure instance, a `have` in the
    type) is sent with ` := by sorry`, not taken for a statement with a proof ("unexpected end
    of input" before)."""
    server = FakeServer()
    env = LeanEnv(server)  # type: ignore[arg-type]
    statement = (
        "theorem leancot_core_UInt64_mul_def : ∀ (a b : UInt64), "
        "a * b = { toBitVec := a.toBitVec * b.toBitVec }"
    )
    env.start(statement + " :=")  # a trailing `:=` is dropped first
    env.start("theorem h : have w := 1;\n  w = 1")
    assert server.requests == [
        ("start", statement + " := by sorry"),
        ("start", "theorem h : have w := 1;\n  w = 1 := by sorry"),
    ]


def test_lean_env_frees_each_theorems_handles_when_the_next_starts():
    server = FakeServer()
    env = LeanEnv(server)  # type: ignore[arg-type]
    env.start("theorem t : R")
    assert server.scopes == ["open 1"]
    env.start("theorem u : R")
    assert server.scopes == ["open 1", "close 1", "open 1"]
    env.close()
    env.close()  # idempotent
    assert server.scopes == ["open 1", "close 1", "open 1", "close 1"]


def test_an_env_owning_its_server_keeps_it_between_theorems_and_stops_it_on_close():
    """A Ray actor's env (`OwnServerEnv`): freeing a theorem's handles never stops its Lean."""
    from leancot.prover.workers import OwnServerEnv

    class OwnedServer(FakeServer):
        closed = 0

        def close(self) -> None:
            self.closed += 1

    server = OwnedServer()
    env = OwnServerEnv(server)  # type: ignore[arg-type]
    env.start("theorem t : R")
    env.start("theorem u : R")
    assert server.closed == 0 and server.scopes == ["open 1", "close 1", "open 1"]
    env.close()
    assert server.closed == 1 and server.scopes[-1] == "close 1"


def test_lean_env_reports_a_broken_header():
    server = FakeServer()
    server.header_ok = False
    result = LeanEnv(server, header="import Nope").start("theorem t : R")  # type: ignore[arg-type]
    assert isinstance(result, LeanError) and "header" in result.error
