"""The process layer's numbers for benchmarks/lean_latency.py: runaway work, standby handover,
header routing, memory over a long run (see leancot/lean/supervisor.py, standby.py, pool.py).

- `timeout_recovery_s`: a runaway tactic (`decide` on a large finite check) with a 3 s budget;
  from its deadline (or its Timeout, if that came first) to the next request answered by the same
  process. `runaways` lists which kinds of runaway work Lean stops itself (heartbeats).
- `restart_visible_s`: a server with a standby process and one cached header; a loop that heartbeats
  do not stop (`#eval` of a `partial def`) is killed at its hard deadline; from that deadline to
  the next answer in the header's environment (replayed on the standby).
- `header_hit_rate`: theorems of 3 headers (4 each, shuffled) on a pool of 2 servers, routed by
  header; `header_hit_rate_unrouted` is the same workload with other headers, not routed.
- `rss_after_5000_tactics_gb`: one server proving the corpus theorems tactic by tactic, each theorem
  in a handle scope (freed afterwards), until 5000 tactics; no recycling (the RSS of the tree).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from leancot.lean import (
    Backend,
    CommandResult,
    LeanPool,
    LeanServer,
    ProofFinished,
    TacticState,
    Timeout,
)
from leancot.lean.limits import hard_deadline_s

RUNAWAY_BUDGET_S = 3.0
# needs > 4M heartbeats of whnf (~5 s here); with 400 instead of 80 it fails at once on maxRecDepth
DECIDE_STATEMENT = "theorem runaway_decide : ∀ a < 80, ∀ b < 80, a * b ≠ 6401"
# (name, command) of runaway work, each with the budget above; the last needs the hard kill
RUNAWAYS = (
    ("decide (whnf)", f"{DECIDE_STATEMENT} := by decide"),
    ("decide +kernel", f"{DECIDE_STATEMENT} := by decide +kernel"),
    ("#reduce", "#reduce (List.range 100000).length"),
)
SPIN = "partial def spin (n : Nat) : Nat := spin (n + 1)\n#eval spin 0"


def timeout_recovery(backend: Backend, log: Callable[[str], None]) -> dict[str, Any]:
    """`timeout_recovery_s` and the runaway catalogue, on one server without a standby."""
    out: dict[str, Any] = {}
    with LeanServer(backend) as server:
        state = server.start_proof(DECIDE_STATEMENT)
        assert isinstance(state, TacticState), state
        generation = server.generation
        sent = time.perf_counter()
        result = server.run_tac(state, "decide", timeout=RUNAWAY_BUDGET_S)
        returned = time.perf_counter()
        after = server.run_tac(state, "intro a ha b hb")
        answered = time.perf_counter()
        late = max(0.0, returned - (sent + RUNAWAY_BUDGET_S))
        out["timeout_recovery_s"] = round(late + (answered - returned), 3)
        out["runaway_timeout_after_s"] = round(returned - sent, 3)
        out["runaway_result"] = type(result).__name__
        out["same_process"] = server.generation == generation and isinstance(after, TacticState)
        log(
            f"runaway decide: {result} after {returned - sent:.2f} s; next answered in "
            f"{answered - returned:.3f} s, same process: {out['same_process']}"
        )
        stopped = {}
        for name, cmd in RUNAWAYS:
            before = server.stats
            t = time.perf_counter()
            r = server.run_cmd(cmd, timeout=RUNAWAY_BUDGET_S)
            stats = server.stats
            stopped[name] = {
                "result": type(r).__name__,
                "seconds": round(time.perf_counter() - t, 2),
                "stopped_by_lean": stats.lean_timeouts > before.lean_timeouts,
                "killed": stats.generation > before.generation,
            }
        out["runaways"] = stopped
    return out


def standby_handover(backend: Backend, log: Callable[[str], None]) -> dict[str, Any]:
    """`restart_visible_s`: a hard kill on a server with a standby and a cached header."""
    header = "def standbyHeader : Nat := 41\ntheorem standbyHeader_eq : standbyHeader = 41 := rfl"
    with LeanServer(backend, standby=True) as server:
        env = server.header_env(header)
        assert isinstance(env, CommandResult) and env.ok, env
        waited = time.perf_counter()
        while not server.standby_ready and time.perf_counter() - waited < 600:
            time.sleep(0.5)
        time.sleep(1.0)  # the header's replay on the standby (milliseconds)
        log(f"standby ready after {time.perf_counter() - waited:.1f} s more")
        sent = time.perf_counter()
        result = server.run_cmd(SPIN, env=env, timeout=2.0)
        returned = time.perf_counter()
        hard = sent + hard_deadline_s(2.0)
        env2 = server.header_env(header)
        check = server.run_cmd("#check standbyHeader_eq", env=env2)
        answered = time.perf_counter()
        stats = server.stats
        ok = isinstance(check, CommandResult) and check.ok and isinstance(result, Timeout)
        log(
            f"hard kill: {result}, returned {returned - hard:.2f} s after the hard deadline; "
            f"next answer {answered - returned:.2f} s later; handovers {stats.handovers}"
        )
        return {
            "restart_visible_s": round(answered - hard, 3),
            "handover_ok": ok and stats.handovers == 1,
            "header_replayed": stats.header_hits >= 1,
        }


def _headers(first: int, count: int) -> list[str]:
    return [
        f"def hdr{i} : Nat := {i}\ntheorem hdr{i}_eq : hdr{i} = {i} := rfl"
        for i in range(first, first + count)
    ]


def _workload(headers: Sequence[str], per_header: int, seed: int) -> list[tuple[str, str]]:
    items = [
        (h, f"theorem t{n}_{k} : hdr{n} + {k} = {n + k}")
        for n, h in zip([int(h.split()[1][3:]) for h in headers], headers, strict=True)
        for k in range(per_header)
    ]
    random.Random(seed).shuffle(items)
    return items


def _prove(server: LeanServer, item: tuple[str, str]) -> bool:
    header, statement = item
    with server.handle_scope():
        env = server.header_env(header)
        if not isinstance(env, CommandResult) or not env.ok:
            return False
        state = server.start_proof(statement, env)
        if not isinstance(state, TacticState):
            return False
        return isinstance(server.run_tac(state, "decide"), ProofFinished)


def header_routing(backend: Backend, log: Callable[[str], None]) -> dict[str, Any]:
    """`header_hit_rate` on a pool of two, routed by header, and the unrouted baseline."""
    with LeanPool(backend, 2) as pool:
        routed = pool.map(_prove, _workload(_headers(0, 3), 4, 0), header_of=lambda it: it[0])
        hit_rate = pool.header_hit_rate
        before = [(s.env_handles.hits, s.env_handles.misses) for s in pool.servers]
        plain = pool.map(_prove, _workload(_headers(3, 3), 4, 0))
        hits = sum(s.env_handles.hits - h for s, (h, _) in zip(pool.servers, before, strict=True))
        misses = sum(
            s.env_handles.misses - m for s, (_, m) in zip(pool.servers, before, strict=True)
        )
    log(f"header routing: {hit_rate} routed, {hits}/{hits + misses} unrouted")
    return {
        "header_hit_rate": round(hit_rate or 0.0, 3),
        "header_hit_rate_unrouted": round(hits / max(1, hits + misses), 3),
        "routing_failures": routed.count(False) + plain.count(False),
    }


def rss_long_run(
    backend: Backend,
    prove_stepwise: Callable[[LeanServer, Any, CommandResult], tuple[list[float], str | None]],
    replay: Callable[[LeanServer], list[tuple[Any, CommandResult]]],
    log: Callable[[str], None],
    tactics: int = 5000,
    free: bool = True,
) -> dict[str, Any]:
    """`rss_after_5000_tactics_gb`: theorems proved tactic by tactic, each in a handle scope
    (`free`), after the corpus is replayed on the server (its environments are kept)."""
    server = LeanServer(backend, max_rss_gb=100.0)  # no recycling
    started = time.perf_counter()
    with server:
        ready_s = time.perf_counter() - started
        log(f"ready in {ready_s:.1f} s; replaying the corpus ...")
        items = replay(server)
        after_replay = server.current_rss()
        log(f"RSS after the replay {after_replay / 2**30:.2f} GiB")
        samples = []
        done, rounds, started = 0, 0, time.perf_counter()
        while done < tactics:
            rounds += 1
            for chunk, env in items:
                with server.handle_scope() if free else contextlib.nullcontext():
                    times, _ = prove_stepwise(server, chunk, env)
                done += len(times)
                if done >= tactics:
                    break
            samples.append(round(server.current_rss() / 2**30, 3))
        rss = server.stats
        current = server.current_rss()
        log(
            f"{done} tactics in {time.perf_counter() - started:.0f} s ({rounds} rounds); "
            f"RSS now {current / 2**30:.2f} GiB, peak {rss.peak_rss_gb:.2f}, "
            f"restarts {rss.restarts}, freed {rss.forgotten} handles"
        )
        return {
            "ready_s": round(ready_s, 2),
            "rss_after_5000_tactics_gb": round(current / 2**30, 3),
            "rss_long_run_peak_gb": round(rss.peak_rss_gb, 3),
            "rss_after_replay_gb": round(after_replay / 2**30, 3),
            "rss_per_round_gb": samples,
            "tactics": done,
            "freed_per_theorem": free,
            "long_run_restarts": rss.restarts,
            "handles_freed": rss.forgotten,
        }
