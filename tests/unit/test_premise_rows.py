"""Training rows with retrieved premises: the training prompt of a state is the prompt the
prover gives the policy at that state under the same retriever, retrieved from the state alone
(never the tactic's own premises), and the PRM's prompt stays without premises."""

from __future__ import annotations

from retrieval_corpus import LIBRARY

from leancot.formats import RETRIEVED_PREMISES
from leancot.models.bm25 import BM25Retriever
from leancot.models.premises import PremiseIndex, header_premises
from leancot.models.prompts import PREMISE_LINE, format_state_prompt, prompt_state
from leancot.pipeline.premise_rows import annotate_logs, annotate_steps, by_name
from leancot.prover.mixture import SampledPolicy, mixture
from leancot.prover.policies import bind_theorem
from leancot.prover.retrieval import PremiseSource
from leancot.train.rows import (
    dpo_pairs_from_search_logs,
    prm_rows_from_search_logs,
    prm_rows_from_steps,
    sft_rows,
    sft_rows_from_search_logs,
)
from tests.unit.recording_policy import RecordingPolicy

HEADER = (
    "namespace A\n"
    "theorem add_comm' (n m : Nat) : n + m = m + n := by omega\n"
    "theorem mul_one' (n : Nat) : n * 1 = n := by simp\n"
    "end A\n"
)
THEOREM = {
    "full_name": "A.swap_add",
    "statement": "theorem swap_add (a b : Nat) : a + b + 0 = b + a",
    "header": HEADER,
    "split": "train",
    "source": "bundled",
}
S0 = "a b : Nat\n⊢ a + b + 0 = b + a"
S1 = "a b : Nat\n⊢ a + b = b + a"


class CountingRetriever:
    """BM25, recording every query it is asked."""

    def __init__(self, premises):
        self.bm25 = BM25Retriever(premises)
        self.queries = []

    def rank(self, state, allowed, k):
        self.queries.append(state)
        return self.bm25.rank(state, allowed, k)


def source(k=3):
    docs = [*LIBRARY, *header_premises(HEADER)]
    return PremiseSource(CountingRetriever(docs), PremiseIndex(list(LIBRARY)), k=k)


def prover_prompt(premises, state):
    """The prompt the learned search's model is given at `state` (the mixture of `search_setup`,
    bound to the theorem as the runner binds it)."""
    model = RecordingPolicy()
    bind_theorem(mixture(model, premises=premises), THEOREM).propose([state], 2)
    assert len(model.prompts) == 1
    return model.prompts[0]


def step(i, state, tactic):
    return {"id": f"s{i}", "full_name": THEOREM["full_name"], "split": "train", "step": i,
            "depth": 0, "state_before": state, "tactic": tactic, "thought": "t",
            "verified": True}  # fmt: skip


def search_log():
    return {
        "full_name": THEOREM["full_name"], "split": "train", "method": "best_first",
        "proved": True, "verified": True, "proof": ["rw [Nat.add_zero]", "omega"], "root": 0,
        "nodes": [{"id": 0, "state": S0, "status": "PROVED"},
                  {"id": 1, "state": S1, "status": "PROVED"},
                  {"id": 2, "state": "⊢ False", "status": "FAILED"}],
        "edges": [{"src": 0, "dst": 1, "tactic": "rw [Nat.add_zero]", "thought": "drop 0",
                   "result": "ok"},
                  {"src": 0, "dst": None, "tactic": "exact A.mul_one' a", "result": "error"},
                  {"src": 1, "dst": 2, "tactic": "exfalso", "result": "ok"},
                  {"src": 1, "dst": None, "tactic": "omega", "result": "proved"}],
    }  # fmt: skip


def test_the_training_prompt_of_a_state_is_the_provers_prompt_under_the_same_retriever():
    premises = source()
    records = annotate_steps(
        [step(0, S0, "rw [Nat.add_zero]"), step(1, S1, "omega")], premises, by_name([THEOREM])
    )
    rows = sft_rows(records)
    assert [r["prompt"] for r in rows] == [prover_prompt(premises, S0), prover_prompt(premises, S1)]
    assert all(r["prompt"].count(PREMISE_LINE) == 3 for r in rows)
    assert prompt_state(rows[0]["prompt"]) == S0
    # the query was the state alone, not the tactic nor the premise it names
    assert set(premises.retriever.queries) == {S0, S1}


def test_search_log_rows_carry_the_premises_of_the_state_each_step_starts_from():
    premises = source(k=2)
    logs = annotate_logs([search_log()], premises, by_name([THEOREM]))
    nodes = {n["id"]: n for n in logs[0]["nodes"]}
    assert RETRIEVED_PREMISES not in nodes[2]  # no step starts there: no prompt is built there
    sft = sft_rows_from_search_logs(logs)
    assert [r["prompt"] for r in sft] == [prover_prompt(premises, S0), prover_prompt(premises, S1)]
    pairs = dpo_pairs_from_search_logs(logs)
    assert pairs and all(p["prompt"] == prover_prompt(premises, S0) for p in pairs[:1])
    assert {p["prompt"] for p in pairs} <= {prover_prompt(premises, s) for s in (S0, S1)}
    # the PRM scorer shows no premises (HFPRM reads format_state_prompt(state)): neither do its rows
    prm = prm_rows_from_search_logs(logs)
    assert prm and all(r["prompt"] == format_state_prompt(S0) for r in prm)
    assert all(PREMISE_LINE not in r["prompt"] for r in prm_rows_from_steps(
        annotate_steps([step(0, S0, "simp")], premises, by_name([THEOREM]))
    ))  # fmt: skip


def test_retrieved_premises_exclude_the_theorem_and_differ_from_the_gold_premises():
    theorem = {**THEOREM, "full_name": "A.add_comm'"}
    premises = source(k=20)
    state = "n m : Nat\n⊢ n + m = m + n"
    [rec] = annotate_steps(
        [{**step(0, state, "exact Nat.add_comm n m"), "full_name": "A.add_comm'"}],
        premises,
        by_name([theorem]),
    )
    shown = rec[RETRIEVED_PREMISES]
    assert not any(t.startswith("theorem add_comm'") for t in shown)  # itself: banned
    assert len(shown) == len(LIBRARY) + 1  # the allowed set: library + mul_one', not a label
    assert shown == [p.text for p in premises.for_theorem(theorem).top(state)]


def test_an_unknown_theorem_is_a_clear_error():
    import pytest

    with pytest.raises(ValueError, match="'B.nope'"):
        annotate_steps([{**step(0, S0, "simp"), "full_name": "B.nope"}], source(), {})


def test_model_only_policy_with_premises_shows_them_without_premise_tactics():
    premises = source()
    model = RecordingPolicy()
    alone = bind_theorem(SampledPolicy(model, premises=premises), THEOREM)
    cands = alone.propose([S0], 2)[0]
    assert model.prompts == [prover_prompt(premises, S0)]
    assert [c.tactic for c in cands] == ["simp"]
