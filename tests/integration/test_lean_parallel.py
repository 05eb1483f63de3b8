"""Two Lean processes at once: the session's server and one more, on different theorems."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from leancot.lean import LeanServer, ProofFinished, TacticState

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(600)]

NAT = [
    ("theorem p_add_zero (n : Nat) : n + 0 = n", ["rfl"]),
    ("theorem p_add_comm (a b : Nat) : a + b = b + a", ["omega"]),
    (
        "theorem p_zero_add (n : Nat) : 0 + n = n",
        ["induction n", "case zero => rfl", "case succ k ih => omega"],
    ),
    ("theorem p_le (a b : Nat) (h : a ≤ b) : a ≤ b + 1", ["omega"]),
    ("theorem p_mul_one (n : Nat) : n * 1 = n", ["simp"]),
]
LOGIC = [
    (
        "theorem p_and_swap (p q : Prop) : p ∧ q → q ∧ p",
        ["intro h", "obtain ⟨hp, hq⟩ := h", "exact ⟨hq, hp⟩"],
    ),
    (
        "theorem p_or_swap (p q : Prop) : p ∨ q → q ∨ p",
        ["intro h", "cases h", "next hp => exact Or.inr hp", "next hq => exact Or.inl hq"],
    ),
    (
        "theorem p_imp (p q r : Prop) : (p → q) → (q → r) → p → r",
        ["intro f g hp", "exact g (f hp)"],
    ),
    ("theorem p_not_not (p : Prop) (hp : p) : ¬¬p", ["intro hn", "exact hn hp"]),
    ("theorem p_len (xs : List Nat) : (0 :: xs).length = xs.length + 1", ["simp"]),
]
ROUNDS = 4


def prove_all(server: LeanServer, theorems, barrier: threading.Barrier):
    """Prove every theorem tactic by tactic, ROUNDS times; (start, end, pid, proved)."""
    barrier.wait(timeout=120)
    started, proved = time.monotonic(), 0
    for _ in range(ROUNDS):
        for statement, tactics in theorems:
            state = server.start_proof(statement)
            assert isinstance(state, TacticState), (statement, state)
            for tactic in tactics:
                state = server.run_tac(state, tactic)
                assert isinstance(state, (TacticState, ProofFinished)), (statement, tactic, state)
            assert isinstance(state, ProofFinished), (statement, state)
            proved += 1
    return started, time.monotonic(), server.pid, proved


def test_two_servers_prove_different_theorems_concurrently(lean_server):
    restarts = lean_server.stats.restarts
    with LeanServer(lean_server.backend) as second:
        barrier = threading.Barrier(2)
        with ThreadPoolExecutor(max_workers=2) as pool:
            a = pool.submit(prove_all, lean_server, NAT, barrier)
            b = pool.submit(prove_all, second, LOGIC, barrier)
            (a0, a1, pid_a, n_a), (b0, b1, pid_b, n_b) = a.result(), b.result()
        assert pid_a != pid_b
        assert n_a == len(NAT) * ROUNDS and n_b == len(LOGIC) * ROUNDS
        assert max(a0, b0) < min(a1, b1), "the two workloads did not overlap in time"
        assert lean_server.stats.restarts == restarts and second.stats.restarts == 0
