"""Per-request limits of a Lean REPL: a heartbeat limit derived from the caller's wall-clock budget,
the hard deadline after which the process is killed, and the handles a reply issues.

A tactic or command that loops is stopped inside Lean by its heartbeat limit (Lean's deterministic
timeout: "maximum number of heartbeats (N) has been reached"), so the same process answers the next
request; `supervisor.ReplSupervisor` turns such a reply into a `Timeout` value. Heartbeats count
small allocations, so work that allocates nothing (an interpreted `#eval` loop over small numbers,
a busy `IO` loop) is not stopped by them: for that the supervisor waits until the hard deadline
(`hard_deadline_s`) and kills the process. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

# Thousands of heartbeats (the unit of `set_option maxHeartbeats`) that Lean spends per second of
# wall clock. Measured with the embedded WASM Lean on a loaded 2-core machine: `decide` unfolding
# in whnf ~840/s, `exact?` ~120/s (its first call builds an index mostly without heartbeats);
# the rate is set below the fast end so that a runaway whnf/simp/decide stops before its deadline.
# Native Lean is several times faster than the WASM build (its rate is a guess, not measured
# here). A request's limit is its budget times this rate.
HEARTBEATS_PER_S: Mapping[str, float] = {"wasm": 600.0, "native": 4_000.0}
MIN_HEARTBEATS = 1_000  # thousands: never below this (Lean's default limit is 200_000)
HARD_GRACE_S = 2.0  # the least time after its deadline a request may still answer before the kill
HARD_GRACE_SHARE = 0.5  # ... or this share of its budget, if longer (heartbeats slow under load)
HEARTBEAT_RE = re.compile(r"maximum number of heartbeats \((\d+)\) has been reached")


def default_heartbeat_rate(backend_name: str, framing: str) -> float | None:
    """The heartbeat rate of a backend, or None when its REPL takes no per-request limit (the
    community REPL has no `maxHeartbeats` request field)."""
    if framing != "marker":
        return None
    return HEARTBEATS_PER_S.get(backend_name, HEARTBEATS_PER_S["native"])


def heartbeat_limit(budget_s: float, rate: float) -> int:
    """The `maxHeartbeats` (in thousands) of a request with a wall-clock budget of `budget_s`."""
    if budget_s <= 0:
        raise ValueError(f"a budget must be positive, got {budget_s}")
    if rate <= 0:
        raise ValueError(f"a heartbeat rate must be positive, got {rate}")
    return max(MIN_HEARTBEATS, int(budget_s * rate))


def limited_kind(request: Mapping[str, Any]) -> str | None:
    """ "cmd" or "tactic" when the request elaborates something a heartbeat limit applies to."""
    if isinstance(request.get("cmd"), str):
        return "cmd"
    if isinstance(request.get("tactic"), str):
        return "tactic"
    return None


def with_heartbeats(request: Mapping[str, Any], limit: int) -> tuple[dict[str, Any], int | None]:
    """(the request with `maxHeartbeats` set, the limit it runs under); a request that sets its
    own limit, or is not a command or tactic, is left as it is (limit None: not ours)."""
    if limited_kind(request) is None or "maxHeartbeats" in request:
        return dict(request), None
    return {**request, "maxHeartbeats": limit}, limit


def _texts(reply: Mapping[str, Any]) -> Iterator[str]:
    message = reply.get("message")
    if isinstance(message, str):
        yield message
    for m in reply.get("messages") or ():
        if isinstance(m, Mapping) and m.get("severity", "error") == "error":
            data = m.get("data")
            if isinstance(data, str):
                yield data


def hit_heartbeat_limit(reply: Mapping[str, Any], limit: int) -> bool:
    """Whether the reply reports that the request's own heartbeat limit `limit` was reached (a
    limit the checked text sets itself with `set_option maxHeartbeats` does not count)."""
    for text in _texts(reply):
        for m in HEARTBEAT_RE.finditer(text):
            if int(m.group(1)) in (limit, limit * 1000):
                return True
    return False


def hard_deadline_s(budget_s: float, grace_s: float = HARD_GRACE_S) -> float:
    """Seconds after the request was sent at which an unanswered request kills the process: the
    budget plus the larger of `grace_s` and HARD_GRACE_SHARE of the budget."""
    return budget_s + max(0.0, grace_s, HARD_GRACE_SHARE * budget_s)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def reply_handles(reply: Mapping[str, Any]) -> tuple[list[int], list[int]]:
    """(env handles, proof-state handles) that a reply issues: its `env` and `proofState`, the
    proof states of its `sorries`, and of its traced `tactics` (community `allTactics` fields)."""
    envs = [e] if (e := _int(reply.get("env"))) is not None else []
    states = [p] if (p := _int(reply.get("proofState"))) is not None else []
    for key in ("sorries", "tactics"):
        items = reply.get(key)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, Mapping) and (p := _int(item.get("proofState"))) is not None:
                    states.append(p)
    return envs, states
