"""Theorem-level header routing of the prover (`workers.PooledServers`, `PooledEnv`) on a real
`LeanPool` over fake servers: the routing logic needs no Lean."""

from __future__ import annotations

import importlib
import itertools
import threading

import pytest

from leancot.lean.handles import EnvHandles, header_key
from leancot.lean.pool import LeanPool
from leancot.lean.results import CommandResult, ProofFinished, TacticState
from leancot.prover import Budget, ScriptedPolicy
from leancot.prover.search_log import read_log
from leancot.prover.theorems import goal_command
from leancot.prover.workers import PooledServers, prove_theorems


class HeaderServer:
    """Enough of LeanServer for routing: header environments cached in a real `EnvHandles`
    (what `LeanPool.route` reads); every theorem starts at `⊢ R`, which `x` closes."""

    ids = itertools.count(1)

    def __init__(self, name: str) -> None:
        self.name = name
        self.backend = None
        self.generation = 0
        self.env_handles = EnvHandles()
        self.elaborated: list[str] = []  # headers elaborated (cache misses), in order
        self.started: list[str] = []  # statements started here
        self.scopes: list[str] = []
        self.lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HeaderServer({self.name})"

    def maybe_recycle(self) -> bool:
        return False

    def open_scope(self) -> int:
        self.scopes.append("open")
        return 1

    def close_scope(self, depth: int) -> int:
        self.scopes.append("close")
        return 0

    def header_env(self, header: str, timeout: float | None = None) -> CommandResult:
        key = header_key(header)
        cached = self.env_handles.cached(key, self.generation)
        if cached is not None:
            return cached
        with self.lock:
            self.elaborated.append(header)
        result = CommandResult(env=next(self.ids), generation=self.generation)
        self.env_handles.remember(key, result, self.generation)
        return result

    def start_proof(self, statement, env=None, timeout=None):
        with self.lock:
            self.started.append(statement)
        return TacticState("⊢ R", next(self.ids), ("⊢ R",), generation=self.generation)

    def run_tac(self, state, tactic, timeout=None):
        return ProofFinished(next(self.ids))


def test_each_theorem_leases_the_server_holding_its_header():
    a, b = HeaderServer("a"), HeaderServer("b")
    pool = LeanPool.from_servers([a, b])  # type: ignore[list-item]
    workers = PooledServers(pool, verify_timeout=None)
    env = workers.make_env()
    leased = []
    for header in ["import H1", "import H2", "import H1", "import H2", "import H1"]:
        env.use_header(header)
        assert isinstance(env.start("theorem t : R"), TacticState)
        leased.append(env.server.name)
    # the first lease of a header goes to the emptiest free server, every later one to the
    # server that holds it: each header is elaborated once in all
    assert leased == ["a", "b", "a", "b", "a"]
    assert a.elaborated == ["import H1"] and b.elaborated == ["import H2"]
    assert pool.header_requests == 5 and pool.header_hits == 3
    # the last theorem's handles are freed on its own server before that server goes back
    assert a.scopes == ["open", "close", "open", "close", "open"]
    assert b.scopes == ["open", "close", "open", "close"]
    env.close()
    assert a.scopes[-1] == "close" and not env.leased
    assert sorted(s.name for s in pool._free) == ["a", "b"]


def test_a_theorem_without_header_leases_any_server_and_drops_the_last_header():
    a, b = HeaderServer("a"), HeaderServer("b")
    workers = PooledServers(LeanPool.from_servers([a, b]), verify_timeout=None)  # type: ignore[list-item]
    env = workers.make_env()
    env.use_header("import H1")
    env.start("theorem t : R")
    env.use_header("")
    env.start("theorem u : R")
    assert env.header == ""
    assert a.elaborated + b.elaborated == ["import H1"]  # no header for the second theorem
    assert workers.pool.header_requests == 1


def test_prove_theorems_routes_by_header_and_verifies_where_it_searched(tmp_path, monkeypatch):
    servers = [HeaderServer("a"), HeaderServer("b")]
    verified: list[tuple[str, str, str]] = []

    def fake_verify(statement, proof, header, *, server, timeout, trust_header):
        assert goal_command(statement) in server.started  # the same server searched it
        assert header_key(header) in server.env_handles.keys()
        verified.append((server.name, statement, header))
        return True

    # `leancot.lean.verify` the module (the package re-exports a function of that name)
    monkeypatch.setattr(importlib.import_module("leancot.lean.verify"), "verify", fake_verify)
    theorems = [
        {
            "full_name": f"F{i % 2}.t{i}",
            "statement": f"theorem t{i} : R",
            "header": f"import H{i % 2}",
            "split": "test",
        }
        for i in range(8)
    ]
    out = tmp_path / "log.jsonl"
    summary = prove_theorems(
        theorems,
        servers,  # type: ignore[arg-type]
        method="best_first",
        policy=ScriptedPolicy({"⊢ R": ["x"]}),
        out_path=out,
        budget=Budget(max_expansions=4, max_lean_calls=8, theorem_wall_s=None),
        progress=False,
        ban_aware=False,
    )
    assert summary.attempted == 8
    assert all(r["verified"] for r in read_log(out))
    assert sorted(s for _, s, _ in verified) == sorted(t["statement"] for t in theorems)
    # each (server, header) is elaborated at most once, whatever order the threads ran in
    for s in servers:
        assert len(s.elaborated) == len(set(s.elaborated))


@pytest.mark.parametrize("header", ["import H1", ""])
def test_close_without_a_theorem_holds_nothing(header):
    a = HeaderServer("a")
    workers = PooledServers(LeanPool.from_servers([a]), verify_timeout=None)  # type: ignore[list-item]
    env = workers.make_env()
    env.close()
    assert not env.leased
    env.use_header(header)
    assert env.leased
    env.close()
    assert workers.pool._free == [a]
