"""GRPO's prompts (`pipeline.grpo.initial_prompts`) with and without a retriever: the same
prompt the searching policy is sent at the initial state (no Lean: a scripted server)."""

from __future__ import annotations

import itertools

from retrieval_corpus import LIBRARY

from leancot.lean.results import CommandResult, LeanError, TacticState
from leancot.models.bm25 import BM25Retriever
from leancot.models.premises import PremiseIndex, header_premises
from leancot.pipeline.grpo import GRPORunConfig, initial_prompts
from leancot.prover.mixture import mixture
from leancot.prover.policies import bind_theorem
from leancot.prover.retrieval import PremiseSource
from leancot.prover.theorems import Theorem
from tests.unit.recording_policy import RecordingPolicy

STATE = "n m : Nat\n⊢ n + m = m + n"


class StartServer:
    """Enough of LeanServer to state theorems: `bad` ones do not start."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.generation = 0

    def maybe_recycle(self) -> bool:
        return False

    def open_scope(self) -> int:
        return 1

    def close_scope(self, depth: int) -> int:
        return 0

    def header_env(self, header, timeout=None):
        return CommandResult(env=1, messages=(), generation=0)

    def start_proof(self, statement, env=None, timeout=None):
        if "bad" in statement:
            return LeanError("unknown identifier")
        return TacticState(STATE, next(self.ids), (STATE,))


def _theorems() -> list[Theorem]:
    header = "namespace A\ntheorem add_comm' (n m : Nat) : n + m = m + n := by omega\nend A\n"
    good = Theorem(
        "leancot_core_Nat_add_comm",
        "theorem leancot_core_Nat_add_comm : ∀ (n m : Nat), n + m = m + n",
        header, "train", "core:Nat.add_comm",
    )  # fmt: skip
    bad = Theorem("bad_one", "theorem bad_one : bad", "", "train", "core:bad")
    return [good, bad]


def _source(theorem: Theorem, k: int = 3) -> PremiseSource:
    docs = [*LIBRARY, *header_premises(theorem.header)]
    return PremiseSource(BM25Retriever(docs), PremiseIndex(list(LIBRARY)), k=k)


def test_grpo_prompts_show_the_retrieved_premises_as_the_searching_policy_sees_them():
    theorems = _theorems()
    source = _source(theorems[0])
    rows, dropped = initial_prompts(theorems, StartServer(), 5.0, premises=source)
    assert dropped == {"LeanError": 1} and len(rows) == 1
    prompt = rows[0]["prompt"]
    assert prompt.count("-- premise: ") == 3 and prompt.endswith(STATE + "\n")
    assert "Nat.add_comm :" not in prompt  # the restated lemma is banned from its own prompt
    model = RecordingPolicy()  # the prover's policy at the same state: the same prompt
    bound = bind_theorem(mixture(model, premises=source, goal_tactics=False), theorems[0])
    bound.propose([STATE], 1)
    assert model.prompts == [prompt]
    plain, _ = initial_prompts(theorems, StartServer(), 5.0)  # no retriever: the state alone
    assert plain[0]["prompt"] == STATE + "\n"


def test_grpo_takes_a_retriever_on_the_command_line():
    import argparse

    from leancot.cli.config_args import config_from_args
    from leancot.cli.train_commands import register_train

    parser = argparse.ArgumentParser(prog="leancot")
    register_train(parser.add_subparsers())
    argv = ["train", "grpo", "--output-dir", "o", "--retriever", "bm25", "--retriever-k", "4"]
    config = config_from_args(GRPORunConfig, parser.parse_args(argv), positional=("data",))
    assert (config.retriever, config.retriever_k) == ("bm25", 4)
    plain = parser.parse_args(["train", "grpo", "--output-dir", "o"])
    assert config_from_args(GRPORunConfig, plain, positional=("data",)).retriever is None
