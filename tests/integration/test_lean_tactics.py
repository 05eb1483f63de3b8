"""Tactic mode on the real Lean: goals step by step, tactic errors as values, backtracking."""

from __future__ import annotations

import pytest

from leancot.lean import LeanError, ProofFinished, TacticState

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(600)]


def step(server, state: TacticState, tactic: str) -> TacticState | ProofFinished:
    result = server.run_tac(state, tactic)
    assert isinstance(result, (TacticState, ProofFinished)), f"{tactic!r} gave {result!r}"
    return result


def start(server, statement: str) -> TacticState:
    state = server.start_proof(statement)
    assert isinstance(state, TacticState), state
    return state


def test_intro_and_cases(lean_server):
    s0 = start(lean_server, "theorem and_swap (p q : Prop) : p ∧ q → q ∧ p")
    assert s0.pp == "p q : Prop\n⊢ p ∧ q → q ∧ p"
    s1 = step(lean_server, s0, "intro h")
    assert s1.goals == ("p q : Prop\nh : p ∧ q\n⊢ q ∧ p",)
    s2 = step(lean_server, s1, "cases h with\n  | intro hp hq => ?_")
    assert s2.goals == ("case intro\np q : Prop\nhp : p\nhq : q\n⊢ q ∧ p",)
    s3 = step(lean_server, s2, "constructor")
    assert s3.num_goals == 2
    assert s3.goals[0].startswith("case intro.left") and s3.goals[0].endswith("⊢ q")
    s4 = step(lean_server, s3, "exact hq")
    assert s4.num_goals == 1 and s4.goals[0].endswith("⊢ p")
    assert isinstance(step(lean_server, s4, "exact hp"), ProofFinished)


def test_induction_with_named_cases(lean_server):
    s0 = start(lean_server, "theorem zero_add' (n : Nat) : 0 + n = n")
    s1 = step(lean_server, s0, "induction n")
    assert [g.splitlines()[0] for g in s1.goals] == ["case zero", "case succ"]
    s2 = step(lean_server, s1, "case zero => rfl")
    assert s2.num_goals == 1 and s2.goals[0].startswith("case succ")
    assert isinstance(step(lean_server, s2, "case succ k ih => omega"), ProofFinished)
    # The whole structured induction as one request, from the same start state.
    done = step(lean_server, s0, "induction n with\n| zero => rfl\n| succ k ih => omega")
    assert isinstance(done, ProofFinished)


def test_simp_omega_and_sequences(lean_server):
    s0 = start(lean_server, "theorem mix (a b : Nat) (h : a < b) : a + 0 ≤ b ∧ [a].length = 1")
    s1 = step(lean_server, s0, "simp")
    assert s1.goals == ("a b : Nat\nh : a < b\n⊢ a ≤ b",)
    assert isinstance(step(lean_server, s1, "omega"), ProofFinished)
    assert isinstance(step(lean_server, s0, "constructor <;> simp; omega"), ProofFinished)
    assert isinstance(step(lean_server, s0, "refine ⟨?_, rfl⟩; omega"), ProofFinished)


def test_tactic_errors_are_lean_errors(lean_server):
    s0 = start(lean_server, "theorem lt_irr (n : Nat) : ¬ n < n")
    failures = {
        "exact rfl": "",
        "omega_nonexistent": "unknown tactic",
        "simp [": "expected ']'",
        "intro h; exact h": "",
        "intro h; intro h'": "",
        "sorry": "sorry",
        "rfl rfl": "unexpected input",
    }
    for tactic, fragment in failures.items():
        result = lean_server.run_tac(s0, tactic)
        assert isinstance(result, LeanError), f"{tactic!r} gave {result!r}"
        assert result.error and fragment in result.error, (tactic, result.error)
    # None of the failures disturbed the state: it still proves.
    assert isinstance(step(lean_server, s0, "omega"), ProofFinished)


def test_start_proof_of_ill_formed_statement_is_an_error(lean_server):
    result = lean_server.start_proof("theorem bad (n : Nat) : n + = n")
    assert isinstance(result, LeanError)
    result = lean_server.start_proof('theorem bad2 : (1 : Nat) = "one"')
    assert isinstance(result, LeanError) and "String" in result.error


def test_backtracking_reuses_earlier_states(lean_server):
    s0 = start(lean_server, "theorem or_comm' (p q : Prop) : p ∨ q → q ∨ p")
    s1 = step(lean_server, s0, "intro h")
    dead_end = lean_server.run_tac(s1, "left; exact h")
    assert isinstance(dead_end, LeanError)
    cases = step(lean_server, s1, "cases h")
    assert cases.num_goals == 2
    wrong = step(lean_server, cases, "left")  # `⊢ q` from `p`: a branch that cannot close...
    assert isinstance(lean_server.run_tac(wrong, "assumption"), LeanError)
    # ...so go back to `cases` (an older handle) and take the other branch.
    left_done = step(lean_server, cases, "next hp => exact Or.inr hp")
    assert left_done.num_goals == 1
    assert isinstance(step(lean_server, left_done, "next hq => exact Or.inl hq"), ProofFinished)
    # The same tactic from the same state gives an equal state (new id): search can dedupe.
    again = step(lean_server, s0, "intro h")
    assert again == s1 and hash(again) == hash(s1) and again.id != s1.id
    assert len({s1: 1, again: 2}) == 1
    # A state reached along another path with the same goals is equal too.
    via_intros = step(lean_server, s0, "intros h")
    assert via_intros == s1
    # The oldest handle still works after all this.
    assert isinstance(step(lean_server, s0, "intro h; exact h.symm"), ProofFinished)


def test_term_and_tactic_sorries_give_proof_states(lean_server):
    s0 = start(lean_server, "theorem add_zero'' (n : Nat) : n + 0 = n := sorry")
    assert s0.pp == "n : Nat\n⊢ n + 0 = n"
    assert isinstance(step(lean_server, s0, "simp"), ProofFinished)
    result = lean_server.run_cmd("example (a b : Nat) : a + b = b + a ∧ True := ⟨sorry, by sorry⟩")
    goals = [s.goal for s in result.sorries]
    assert goals == ["a b : Nat\n⊢ a + b = b + a", "a b : Nat\n⊢ True"]
    assert all(s.proof_state is not None for s in result.sorries)
    nested = lean_server.run_cmd("example : ∀ n : Nat, n = n := fun n => sorry")
    assert [s.goal for s in nested.sorries] == ["n : Nat\n⊢ n = n"]
