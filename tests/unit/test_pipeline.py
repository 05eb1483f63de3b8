"""The pipeline without Lean or training: stage manifests and resumption, the PRM value adapter,
paths handed to value functions, negatives labelling, policy mixing and the CLI flags."""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
from pathlib import Path

import pytest

from leancot.cli.config_args import config_from_args
from leancot.cli.pipeline_commands import register_pipeline
from leancot.files import write_json
from leancot.lean.results import CommandResult, LeanError, ProofFinished, TacticState
from leancot.pipeline import iterate, run, steps
from leancot.pipeline.config import IterateConfig, ProveConfig, RunConfig
from leancot.pipeline.iterate import verified_only
from leancot.pipeline.negatives import lean_negatives
from leancot.pipeline.stages import fingerprint, read_manifest, run_stage
from leancot.prover import (
    Budget,
    PortfolioPolicy,
    ScriptedEnv,
    ScriptedPolicy,
    best_first_search,
    mcts_search,
)
from leancot.prover.config import BudgetConfig, SearchConfig
from leancot.prover.mixture import normalized, search_setup
from leancot.prover.prm_value import PRMValue
from leancot.train.rows import prm_rows_from_search_logs, prm_step_text
from tests.unit.fake_lean import FakeLazyLean

# --- stages ----------------------------------------------------------------------------------


def test_run_stage_writes_a_manifest_and_skips_when_done(tmp_path):
    calls = []

    def work(d: Path) -> dict:
        calls.append(d)
        (d / "out.txt").write_text("x")
        return {"n": 1}

    first = run_stage("s", tmp_path / "s", "k1", work)
    assert not first.resumed and first.outputs == {"n": 1} and len(calls) == 1
    assert read_manifest(tmp_path / "s")["key"] == "k1"
    again = run_stage("s", tmp_path / "s", "k1", work)
    assert again.resumed and again.outputs == {"n": 1} and len(calls) == 1


def test_run_stage_starts_clean_when_the_key_changes(tmp_path):
    run_stage("s", tmp_path / "s", "k1", lambda d: (d / "old.txt").write_text("x") and {})
    seen = []
    run_stage("s", tmp_path / "s", "k2", lambda d: seen.append(sorted(os.listdir(d))) or {})
    assert seen == [["stage.json"]]  # old.txt and the old manifest are gone


def test_run_stage_keeps_an_interrupted_folder_of_the_same_key(tmp_path):
    def crash(d: Path) -> dict:
        (d / "partial.jsonl").write_text("line\n")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_stage("s", tmp_path / "s", "k1", crash)
    assert read_manifest(tmp_path / "s") is None
    seen = []
    run_stage(
        "s", tmp_path / "s", "k1", lambda d: seen.append((d / "partial.jsonl").read_text()) or {}
    )
    assert seen == ["line\n"]


def test_fingerprint_is_stable_and_order_free():
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


class FakeSteps:
    """Stand-ins for pipeline.steps' stage functions that record which ran, the step records the
    policy trained on and the retriever each prove stage was given."""

    def __init__(self) -> None:
        self.ran: list[str] = []
        self.policy_data: list[str] = []
        self.prove_retriever: dict[str, str | None] = {}

    def install(self, monkeypatch) -> None:
        def stage(name):
            def run(d, *args, **kwargs):
                self.ran.append(name if name != "prove" else f"prove/{args[0]}")
                if name == "prove":
                    (d / steps.RESULTS_NAME).write_text("")
                    premises = args[6] if len(args) > 6 else None
                    self.prove_retriever[args[0]] = premises.name if premises else None
                if name == "train_policy":
                    self.policy_data.append(str(Path(args[0]).relative_to(d.parent)))
                return {"stage": name}

            return run

        names = ("extract", "translate", "retriever", "train_policy", "negatives", "train_prm")
        for name in (*names, "prove", "report"):
            monkeypatch.setattr(steps, name, stage(name))
        fake_install = type("I", (), {"lean_version": "4.x"})()
        monkeypatch.setattr(
            "leancot.lean.install.install_embedded_lean", lambda progress=None: fake_install
        )


def test_main_runs_every_stage_then_resumes_and_reruns_what_changed(tmp_path, monkeypatch):
    fake = FakeSteps()
    fake.install(monkeypatch)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "A.lean").write_text("theorem a : True := by trivial\n")
    config = RunConfig(run_dir=tmp_path / "run", source=corpus, progress=False, retrieval=True)
    messages: list[str] = []
    result = run.main(config, notify=messages.append)
    order = ["extract", "translate", "retriever", "train_policy", "negatives", "train_prm",
             "prove/baseline", "prove/heuristic", "prove/best_first", "prove/mcts_prm",
             "report"]  # fmt: skip
    assert fake.ran == order
    assert all(read_manifest(s.path) for s in result.stages)
    assert json.loads((tmp_path / "run/report/run.json").read_text())["lean_calls_budget"] == 64
    assert any("[1/11] extract: running" in m for m in messages)
    assert any("[3/11] retriever: running" in m for m in messages)
    # the policy trains on the retriever stage's records; the learned searches use its retriever
    assert fake.policy_data == ["retriever/step_records.jsonl"]
    trained = str(tmp_path / "run" / "retriever")
    assert fake.prove_retriever == {"baseline": None, "heuristic": None,
                                    "best_first": trained, "mcts_prm": trained}  # fmt: skip

    fake.ran.clear()
    result = run.main(config)
    assert fake.ran == [] and all(s.resumed for s in result.stages)

    changed = dataclasses.replace(config, sft_steps=7)
    run.main(changed)
    assert fake.ran == ["train_policy", "train_prm", "prove/best_first", "prove/mcts_prm", "report"]

    fake.ran.clear()
    fewer = dataclasses.replace(changed, retriever_steps=9)
    run.main(fewer)  # the retriever changed: what reads it reruns, the baselines and negatives not
    assert fake.ran == ["retriever", "train_policy", "train_prm", "prove/best_first",
                        "prove/mcts_prm", "report"]  # fmt: skip

    fake.ran.clear()
    (corpus / "A.lean").write_text("theorem a : True := trivial\n")  # the corpus changed
    run.main(fewer)
    assert fake.ran == order


def test_no_retrieval_drops_the_stage_and_a_named_retriever_is_not_trained(tmp_path, monkeypatch):
    fake = FakeSteps()
    fake.install(monkeypatch)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "A.lean").write_text("theorem a : True := by trivial\n")
    plain = RunConfig(run_dir=tmp_path / "run", source=corpus, progress=False, retrieval=False)
    messages: list[str] = []
    run.main(plain, notify=messages.append)
    assert "retriever" not in fake.ran and fake.policy_data == ["cot/step_records.jsonl"]
    assert set(fake.prove_retriever.values()) == {None}
    assert any("[1/10] extract: running" in m for m in messages)
    fake.ran.clear()
    with_retrieval = dataclasses.replace(plain, retrieval=True)
    run.main(with_retrieval)  # switched on: the stage and everything learned downstream rerun
    assert fake.ran == ["retriever", "train_policy", "train_prm", "prove/best_first",
                        "prove/mcts_prm", "report"]  # fmt: skip
    fake.ran.clear()
    bm25 = dataclasses.replace(with_retrieval, search=SearchConfig(retriever="bm25"))
    run.main(bm25)
    assert fake.ran[:2] == ["retriever", "train_policy"]
    assert fake.prove_retriever["best_first"] == "bm25"
    with pytest.raises(ValueError, match="--retrieval"):
        RunConfig(retrieval=False, search=SearchConfig(retriever="bm25"))
    args = _parse(["run", "--no-retrieval", "--retriever-steps", "12"])
    parsed = config_from_args(RunConfig, args)
    assert parsed.retrieval is False and parsed.retriever_steps == 12
    assert config_from_args(RunConfig, _parse(["run"])).retrieval is False  # opt-in: its cost
    assert config_from_args(RunConfig, _parse(["run", "--retrieval"])).retrieval is True


def test_run_config_validates():
    with pytest.raises(ValueError, match="methods"):
        RunConfig(methods=("nope",))
    with pytest.raises(ValueError, match="sft_steps"):
        RunConfig(sft_steps=0)
    assert RunConfig().budget.budget().max_lean_calls == 64


# --- the PRM as value ----------------------------------------------------------------------------


class FakePRM:
    """score_batch: one probability per step, 0.9 for a step whose tactic is "good", else 0.2."""

    def __init__(self) -> None:
        self.items: list = []

    def score_batch(self, items):
        self.items.extend(items)
        return [[0.9 if tac == "good" else 0.2 for _, tac in steps] for _, steps in items]


@pytest.mark.parametrize(
    "aggregate, expected", [("min", 0.2), ("last", 0.9), ("prod", 0.9 * 0.2 * 0.9)]
)
def test_prm_value_aggregates_the_path(aggregate, expected):
    prm = FakePRM()
    value = PRMValue(prm, aggregate=aggregate, empty_value=0.5)
    path = [("t1", "good"), ("t2", "bad"), ("t3", "good")]
    got = value.value_paths("⊢ R", [path, []])
    assert got[0] == pytest.approx(expected) and got[1] == 0.5
    assert prm.items == [("⊢ R", path)]  # the root (no steps) is not sent to the PRM


def test_prm_value_nan_steps_and_plain_states():
    class NanPRM:
        def score_batch(self, items):
            return [[0.8, float("nan")] for _ in items]

    value = PRMValue(NanPRM(), root_state="⊢ R")
    assert value.value_paths("⊢ R", [[("", "a"), ("", "b")]]) == [0.8]
    assert value.value(["⊢ A"]) == [0.5]
    assert value.value(["⊢ A"], paths=[[("", "a"), ("", "b")]]) == [0.8]
    with pytest.raises(ValueError, match="aggregate"):
        PRMValue(NanPRM(), aggregate="mean")
    with pytest.raises(TypeError):
        PRMValue(object())


def test_prm_value_reads_intent_thoughts_made_from_the_state_before():
    from leancot.translate.templates import render_intent

    prm = FakePRM()
    value = PRMValue(prm)
    paths = [[("⊢ R", "the policy's own thought", "good"), ("⊢ B", "", "bad")]]
    assert value.value_state_paths("⊢ R", paths) == [pytest.approx(0.2)]
    ((root, steps),) = prm.items
    assert steps == [(render_intent("⊢ R", "good").thought, "good"),
                     (render_intent("⊢ B", "bad").thought, "bad")]  # fmt: skip


def test_best_first_gives_a_prm_the_states_its_steps_start_from():
    prm = FakePRM()
    env = ScriptedEnv(TABLE, "⊢ R")
    result = best_first_search(
        env, "t", policy=ScriptedPolicy(POLICY), value=PRMValue(prm), priority="value"
    )
    assert result.proved
    from leancot.translate.templates import render_intent

    assert ("⊢ R", [(render_intent("⊢ R", "b").thought, "b")]) in prm.items


class PathRecorder:
    """A value function that takes paths: records (root, path) and prefers paths with "b"."""

    def __init__(self) -> None:
        self.calls: list = []

    def value_paths(self, root, paths):
        self.calls.extend((root, list(p)) for p in paths)
        return [0.9 if any(t == "b" for _, t in p) else 0.1 for p in paths]


TABLE = {"⊢ R": {"a": "⊢ A", "b": "⊢ B"}, "⊢ B": {"z": "no goals"}, "⊢ A": {}}
POLICY = {"⊢ R": [("think a", "a", -0.1), ("think b", "b", -2.0)], "⊢ B": [("fin", "z", -0.5)]}


def test_best_first_hands_the_value_function_each_nodes_path():
    value = PathRecorder()
    env = ScriptedEnv(TABLE, "⊢ R")
    result = best_first_search(
        env, "t", policy=ScriptedPolicy(POLICY), value=value, priority="value"
    )
    assert result.proved and result.proof == ["b", "z"]
    assert value.calls[0] == ("⊢ R", [])
    assert ("⊢ R", [("think a", "a")]) in value.calls
    assert ("⊢ R", [("think b", "b")]) in value.calls


def test_mcts_hands_the_value_function_the_leaf_path():
    value = PathRecorder()
    env = ScriptedEnv(TABLE, "⊢ R")
    budget = Budget(max_expansions=None, max_lean_calls=20)
    result = mcts_search(env, "t", policy=ScriptedPolicy(POLICY), value=value, budget=budget)
    assert result.proved
    assert value.calls[0] == ("⊢ R", [])
    assert ("⊢ R", [("think b", "b")]) in value.calls


def test_prm_value_in_mcts_end_to_end():
    prm = FakePRM()
    env = ScriptedEnv({"⊢ R": {"bad": "⊢ A", "good": "⊢ B"}, "⊢ B": {"z": "no goals"}}, "⊢ R")
    policy = ScriptedPolicy(
        {"⊢ R": [("", "bad", -0.1), ("", "good", -0.1)], "⊢ A": ["x"], "⊢ B": ["z"]}
    )
    result = mcts_search(env, "t", policy=policy, value=PRMValue(prm))
    assert result.proved
    states = {n.state: n.prior_value for n in result.graph.nodes}
    assert states["⊢ B"] == pytest.approx(0.9) and states["⊢ A"] == pytest.approx(0.2)


# --- policies ------------------------------------------------------------------------------------


def test_normalized_is_a_log_distribution_times_the_weight():
    cands = normalized([("", "a", -30.0), ("", "b", -31.0)], math.log(0.5))
    assert [c.tactic for c in cands] == ["a", "b"]
    assert sum(math.exp(c.logprob) for c in cands) == pytest.approx(0.5)
    assert normalized([]) == []


def test_search_setup():
    policy, value, kwargs = search_setup("baseline", SearchConfig(baseline_n=5))
    assert isinstance(policy, PortfolioPolicy) and value is None
    assert kwargs == {"num_candidates": 5}
    with pytest.raises(ValueError, match="needs a PRM"):
        search_setup("mcts_prm")

    class Model:
        def propose(self, states, n, **kw):
            return [[("thought", "omega", -3.0), ("t2", "simp", -5.0)] for _ in states]

    two = SearchConfig(portfolio_n=2)
    policy, value, kwargs = search_setup("mcts_prm", two, model=Model(), prm=FakePRM())
    assert isinstance(value, PRMValue)
    cands = policy.propose(["n : Nat\n⊢ n = n"], 2)[0]
    # the model's samples, then the goal-aware tactics, then the portfolio
    assert [c.tactic for c in cands][:4] == ["omega", "simp", "cases n <;> simp_all", "rfl"]
    assert sum(math.exp(c.logprob) for c in cands) == pytest.approx(1.0, abs=0.3)
    plain, _, _ = search_setup(
        "mcts_prm", SearchConfig(portfolio_n=2, goal_tactics=False), model=Model(), prm=FakePRM()
    )
    assert [c.tactic for c in plain.propose(["n : Nat\n⊢ n = n"], 2)[0]][:3] == [
        "omega",
        "simp",
        "rfl",
    ]
    with pytest.raises(ValueError, match="priority"):
        search_setup("best_first", SearchConfig(priority="value"), model=Model())
    heuristic, value, kwargs = search_setup("heuristic", SearchConfig(baseline_n=3))
    assert value is None and kwargs == {"num_candidates": 3}
    tactics = [c.tactic for c in heuristic.propose(["n : Nat\n⊢ n = n"], 3)[0]]
    assert tactics[0] == "cases n <;> simp_all" and "rfl" in tactics  # goal tactics, portfolio


def test_sampling_seed_makes_samples_depend_on_the_seed_and_state_only():
    from leancot.prover.mixture import SampledPolicy

    class Model:
        def __init__(self):
            self.seeds = []

        def propose(self, states, n, **kw):
            self.seeds.append(kw.get("seed"))
            return [[("", "simp", -1.0)] for _ in states]

    def seeds(seed, order):
        model = Model()
        policy = SampledPolicy(model, seed=seed)
        for state in order:
            policy.propose([state], 2)
        return dict(zip(order, model.seeds, strict=True)), model.seeds

    a, _ = seeds(0, ["⊢ A", "⊢ B"])
    b, _ = seeds(0, ["⊢ B", "⊢ A"])
    assert a == b  # the same seed per state whatever the order
    assert seeds(1, ["⊢ A", "⊢ B"])[0] != a
    _, again = seeds(0, ["⊢ A", "⊢ A"])
    assert again[0] != again[1]  # a second expansion of a state samples afresh
    assert seeds(None, ["⊢ A"])[1] == [None]  # no seed: the model's own stream


def test_the_default_search_keeps_the_stage_keys_finished_runs_were_written_with():
    """A knob added to SearchConfig is left out of the stage keys at its neutral value
    (`KEY_NEUTRAL`), so a finished run's stages stay valid; set to another value it is keyed. The
    digests pin the default's keys: adding a field without a neutral entry changes them."""
    from leancot.pipeline.stages import fingerprint
    from leancot.prover.config import KEY_NEUTRAL

    default = SearchConfig()
    assert set(KEY_NEUTRAL) <= {f.name for f in dataclasses.fields(SearchConfig)}
    assert "sample_logprob_scale" not in default.key_fields()
    assert fingerprint(default.key_fields()) == "8990ec4280b57b0e"
    assert fingerprint(default.key_text()) == "e30647960d2cb973"
    assert default.key_text() == repr(default).replace(", sample_logprob_scale=1.0", "")
    sharper = dataclasses.replace(default, sample_logprob_scale=8.0)
    assert sharper.key_fields()["sample_logprob_scale"] == 8.0
    assert sharper.key_text() == repr(sharper)


def test_the_sample_logprob_scale_evens_out_the_samples_shares_of_the_prior():
    """`SearchConfig.sample_logprob_scale` reaches the learned searches' sampled policy: at 1
    a sample whose thought is unlikely gets almost none of the model's share (MCTS would try it
    after every other candidate); at inf every distinct sample gets an equal share. The order of
    the candidates is kept either way; a scale that is not positive is refused."""
    import math

    from leancot.prover.mixture import search_setup
    from leancot.prover.policies import softmax

    class Model:
        def propose(self, states, n, **kw):
            return [
                [("likely", "exact h", -1.0), ("garbled", "exact h.symm", -30.0)] for _ in states
            ]

    def model_priors(scale):
        search = SearchConfig(sample_logprob_scale=scale, goal_tactics=False)
        policy, _, _ = search_setup("best_first", search, model=Model())
        cands = policy.propose(["⊢ p"], 8)[0]
        assert [c.tactic for c in cands[:2]] == ["exact h", "exact h.symm"]
        priors = softmax([c.logprob for c in cands])
        return priors[0], priors[1], max(priors[2:])  # the two samples, the best fixed tactic

    likely, garbled, fixed = model_priors(1.0)
    assert garbled < 1e-9 < fixed < likely
    likely, garbled, fixed = model_priors(math.inf)
    assert likely == pytest.approx(garbled) and likely + garbled == pytest.approx(0.5)
    assert garbled > fixed
    with pytest.raises(ValueError, match="sample_logprob_scale"):
        SearchConfig(sample_logprob_scale=0.0)


def test_run_config_takes_a_named_benchmark_split():
    assert RunConfig(benchmark="minif2f-core:valid").benchmark == "minif2f-core:valid"
    with pytest.raises(ValueError, match="NAME:SPLIT"):
        RunConfig(benchmark="imo:test")


def test_run_prove_and_iterate_share_the_search_and_budget_settings():
    assert RunConfig().search == ProveConfig().search == SearchConfig()
    assert RunConfig().budget == ProveConfig().budget == BudgetConfig()
    assert IterateConfig().search is None and IterateConfig().budget is None  # the run's
    with pytest.raises(ValueError, match="priority"):
        SearchConfig(priority="best")
    with pytest.raises(ValueError, match="lean_calls"):
        BudgetConfig(lean_calls=0)


def test_verified_only_demotes_rejected_proofs():
    logs = [
        {"proved": True, "verified": False, "proof": ["simp"]},
        {"proved": True, "verified": True, "proof": ["rfl"]},
    ]
    logs = [{**log, "root": 0, "nodes": [{"id": 0}]} for log in logs]
    out = verified_only([*logs, {"proved": False, "root": None, "nodes": []}])
    assert out[0]["proved"] is False and out[0]["proof"] is None and out[1] == logs[1]
    assert len(out) == 2


# --- negatives -----------------------------------------------------------------------------------


class FakeServer:
    """Commands always elaborate; a tactic works only where `table[state][tactic]` says so."""

    def __init__(self, table) -> None:
        self.table = table
        self.commands: list[str] = []
        self._id = 0

    def _state(self, pp):
        self._id += 1
        return TacticState(pp, self._id, (pp,))

    def run_cmd(self, cmd, env=None, timeout=None):
        self.commands.append(cmd)
        self._id += 1
        return CommandResult(self._id)

    def start_proof(self, statement, env=None, timeout=None):
        return self._state("⊢ R")

    def run_tac(self, state, tactic, timeout=None):
        after = self.table.get(state.pp, {}).get(tactic)
        if after is None:
            return LeanError(f"no: {tactic}")
        return ProofFinished(0) if after == "no goals" else self._state(after)


def _entries(tmp_path):
    text = (
        "namespace N\n\ntheorem one : R := by\n  intro\n  exact h\n\n"
        "theorem two : R := by\n  skip\nend N\n"
    )
    (tmp_path / "F.lean").write_text(text)
    tactics = [
        {"tactic": "intro", "state_before": "⊢ R", "state_after": "⊢ B", "depth": 0},
        {"tactic": "exact h", "state_before": "⊢ B", "state_after": "no goals", "depth": 0},
    ]
    one = {
        "full_name": "N.one",
        "file_path": "F.lean",
        "start": [3, 1],
        "statement": "theorem one : R",
        "traced_tactics": tactics,
    }
    two = {
        "full_name": "N.two",
        "file_path": "F.lean",
        "start": [7, 1],
        "statement": "theorem two : R",
        "traced_tactics": [],
    }
    return [one, two]


def test_lean_negatives_labels_rejected_tactics_first_error_style(tmp_path):
    server = FakeServer({"⊢ R": {"intro": "⊢ B"}, "⊢ B": {"exact h": "no goals"}})
    logs = lean_negatives(
        server, _entries(tmp_path), tmp_path, train_names={"N.one"},
        thoughts={("N.one", 0): "introduce", ("N.one", 1): "close"}, per_state=2, tries_per_state=4,
    )  # fmt: skip
    assert server.commands[:2] == ["namespace N", "\n\ntheorem one : R := by\n  intro\n  exact h"]
    (log,) = logs
    assert log["proved"] and log["proof"] == ["intro", "exact h"] and log["split"] == "train"
    rows = prm_rows_from_search_logs(logs)
    good = [r for r in rows if all(r["labels"])]
    bad = [r for r in rows if not all(r["labels"])]
    gold = [
        e for e in log["edges"] if e["result"] in ("ok", "proved") and e["thought"] == "introduce"
    ]
    assert gold  # the log keeps the CoT thought; the PRM reads a state-only one (rows.py)
    steps = [prm_step_text("⊢ R", "intro"), prm_step_text("⊢ B", "exact h")]
    assert good and good[0]["completions"] == steps
    assert bad and all(r["labels"][-1] is False and all(r["labels"][:-1]) for r in bad)
    assert {len(r["labels"]) for r in bad} == {1, 2}  # negatives at both states


# --- CLI -----------------------------------------------------------------------------------------


def _parse(argv):
    parser = argparse.ArgumentParser()
    register_pipeline(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_flags_fill_the_configs(tmp_path):
    args = _parse(["run", "--run-dir", str(tmp_path), "--sft-steps", "5", "--methods",
                   "baseline", "best_first", "--test-limit", "3", "--no-progress"])  # fmt: skip
    config = config_from_args(RunConfig, args)
    assert config.sft_steps == 5 and config.methods == ("baseline", "best_first")
    assert config.test_limit == 3 and config.progress is False and config.run_dir == tmp_path
    args = _parse(["prove", "--method", "baseline", "--workers", "2", "--out", "x.jsonl"])
    config = config_from_args(ProveConfig, args)
    assert config.workers == 2 and config.out == Path("x.jsonl") and config.policy == "portfolio"
    args = _parse(["iterate", "--rounds", "3", "--dpo", "--teacher", "big/"])
    config = config_from_args(IterateConfig, args)
    assert config.rounds == 3 and config.dpo and config.teacher == "big/"
    assert config.search is None and config.budget is None


def test_search_and_budget_flags_are_shared_and_iterate_inherits_the_runs(tmp_path):
    flags = ["--num-samples", "3", "--lean-calls", "16", "--no-goal-tactics"]
    for command, cls in (("run", RunConfig), ("prove", ProveConfig)):
        config = config_from_args(cls, _parse([command, *flags]))
        assert config.search == SearchConfig(num_samples=3, goal_tactics=False)
        assert config.budget == BudgetConfig(lean_calls=16)
    ran = {"search": SearchConfig(temperature=0.2), "budget": BudgetConfig(lean_calls=8)}
    config = config_from_args(IterateConfig, _parse(["iterate", "--num-samples", "3"]), base=ran)
    assert config.search == SearchConfig(temperature=0.2, num_samples=3)
    assert config.budget == BudgetConfig(lean_calls=8)


def test_yaml_configs_take_nested_or_flat_fields_and_flags_win(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text("sft_steps: 9\nsearch:\n  num_samples: 2\nlean_calls: 4\n")
    config = config_from_args(
        RunConfig, _parse(["run", "--config", str(path), "--num-samples", "5"])
    )
    assert config.sft_steps == 9 and config.search.num_samples == 5
    assert config.budget.lean_calls == 4
    path.write_text("no_such_field: 1\n")
    with pytest.raises(ValueError, match="no_such_field"):
        config_from_args(RunConfig, _parse(["run", "--config", str(path)]))


def test_prove_config_validates():
    with pytest.raises(ValueError, match="at most one"):
        ProveConfig(dataset=Path("d"), minif2f=Path("m"))
    with pytest.raises(ValueError, match="one policy"):
        ProveConfig(policy="dir", vllm="m")
    with pytest.raises(ValueError, match="model-name"):
        ProveConfig(endpoint="http://x")
    with pytest.raises(ValueError, match="iterate"):
        IterateConfig(method="baseline")


# --- iterate -------------------------------------------------------------------------------------


def _fake_run_dir(tmp_path: Path, *, retrieval: bool = False) -> Path:
    run_dir = tmp_path / "run"
    for stage in ("extract", "cot", "policy", "negatives", "prm"):
        write_json(run_dir / stage / "manifest.json", {"key": stage, "outputs": {}})
    write_json(
        run_dir / "prove/best_first/manifest.json",
        {"key": "p", "outputs": {"proved": 1, "total": 2}},
    )
    run_config = RunConfig(run_dir=run_dir, retrieval=retrieval)
    config = {**dataclasses.asdict(run_config), "source": str(tmp_path)}
    write_json(run_dir / "report/run.json", {"config": config}, default=str)
    return run_dir


def _theorem(name: str, statement: str) -> dict[str, str]:
    return {"full_name": name, "statement": statement, "split": "train", "header": ""}


def _fake_iterate(monkeypatch) -> tuple[list, list]:
    """Provers and trainers replaced: the full search proves every theorem it is given (and
    claims an unverified proof of T.b), the policy alone proves none. Returns the trainer calls
    and the prover calls (log folder, method, policy class, theorem names)."""
    from leancot.models import hf
    from leancot.train import dpo, policy, prm

    trained: list[tuple[str, list[str]]] = []
    searched: list[tuple[str, str, str, list[str]]] = []

    def fake_prove(theorems, servers, *, out_path, method, policy, **kw):
        alone = type(policy).__name__ == "SampledPolicy"
        names = [t["full_name"] for t in theorems]
        searched.append((out_path.parent.name, method, type(policy).__name__, names))
        sampled = policy if alone else policy.model  # the mixture's model part
        retrieving.append(sampled.premises is not None)
        theorems = list({t["full_name"]: t for t in theorems}.values())  # once per name
        log = {
            "split": "train",
            "method": method,
            "root": 0,
            "nodes": [{"id": 0, "state": "⊢ R", "status": "PROVED"}],
            "edges": [
                {
                    "src": 0,
                    "dst": None,
                    "tactic": "simp",
                    "thought": "t",
                    "logprob": 0.0,
                    "result": "proved",
                    "error": None,
                }
            ],
            "lean_calls": 2,
            "wall_s": 0.1,
            "time_lean_s": 0.05,
            "time_model_s": 0.05,
        }
        rows = [
            {**log, "full_name": t["full_name"], "statement": t["statement"],
             "proof": None if alone else ["simp"], "verified": not alone, "proved": not alone}
            for t in theorems
        ]  # fmt: skip
        if not alone:
            bad = {"full_name": "T.b", "statement": "theorem b : R", "proof": ["rfl"]}
            rows.append({**log, **bad, "verified": False, "proved": True})
        out_path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def trainer(kind):
        def main(cfg):
            trained.append((kind, [f"{Path(p).parent.name}/{Path(p).name}" for p in cfg.data]))
            return type("R", (), {"metrics": {"global_step": cfg.max_steps}})()

        return main

    monkeypatch.setattr(iterate, "LazyLean", FakeLazyLean)
    monkeypatch.setattr(steps, "test_theorems", lambda *a: [_theorem("T.a", "theorem a : R")])
    monkeypatch.setattr("leancot.prover.workers.prove_theorems", fake_prove)
    monkeypatch.setattr(hf, "HFPolicy", lambda *a, **k: object())
    monkeypatch.setattr(hf, "HFPRM", lambda *a, **k: FakePRM())
    for module, kind in ((policy, "policy"), (prm, "prm"), (dpo, "dpo")):
        monkeypatch.setattr(module, "main", trainer(kind))
    return trained, searched


retrieving: list[bool] = []  # per search of `_fake_iterate`: whether its model retrieves


def test_iterate_rounds_train_on_verified_logs_and_resume(tmp_path, monkeypatch):
    from leancot.prover import benchmarks

    run_dir = _fake_run_dir(tmp_path)
    thm = _theorem("T.a", "theorem a : R")
    trained, searched = _fake_iterate(monkeypatch)
    monkeypatch.setattr(benchmarks, "load_leandojo_split", lambda *a, **k: [thm, thm])

    config = IterateConfig(run_dir=run_dir, rounds=2, dpo=True, progress=False, eval_limit=0)
    rows = iterate.main(config)
    assert [(r.round, r.test_proved, r.test_total) for r in rows] == [
        (0, 1, 2),
        (1, 1, 2),
        (2, 1, 2),
    ]
    assert rows[1].train_proved == 1 and rows[1].sft_rows == 1  # the unverified proof is dropped
    assert [r.new_proofs for r in rows] == [None, 1, 0]
    assert [r.model_only_proved for r in rows] == [0, 0, 0]
    assert [k for k, _ in trained] == ["policy", "dpo", "prm"] * 2
    assert trained[3][1] == [
        "cot/step_records.jsonl", "prove_train/train_verified.jsonl",
        "prove_train/train_verified.jsonl",
    ]  # fmt: skip
    assert rows[2].policy.endswith("round2/dpo")
    # round 0's policy alone, then per round: train, test, test with the policy alone
    assert [(d, m, p) for d, m, p, _ in searched[:4]] == [
        ("prove_test_model_only", "best_first", "SampledPolicy"),
        ("prove_train", "best_first", "MixedPolicy"),
        ("prove_test", "best_first", "MixedPolicy"),
        ("prove_test_model_only", "best_first", "SampledPolicy"),
    ]
    assert searched[1][3] == ["T.a", "T.a"] and searched[4][3] == []  # proved: not sampled again
    cache = (run_dir / "iterate/proofs.jsonl").read_text().splitlines()
    assert [(json.loads(x)["full_name"], json.loads(x)["round"]) for x in cache] == [("T.a", 1)]
    trained.clear()
    searched.clear()
    again = iterate.main(config)
    assert trained == [] and searched == [] and again == rows


def test_iterate_retrieves_with_the_runs_retriever_and_trains_on_its_prompts(tmp_path, monkeypatch):
    from retrieval_corpus import LIBRARY

    from leancot.formats import RETRIEVED_PREMISES
    from leancot.prover import benchmarks, retrieval

    run_dir = _fake_run_dir(tmp_path, retrieval=True)
    annotated = run_dir / "retriever" / "step_records.jsonl"
    outputs = {"retriever": "bm25", "steps_file": str(annotated), "trained": False}
    write_json(run_dir / "retriever/manifest.json", {"key": "r", "outputs": outputs})
    thms = [_theorem("T.a", "theorem a : R"), _theorem("T.b", "theorem b : R")]
    trained, searched = _fake_iterate(monkeypatch)
    retrieving.clear()
    monkeypatch.setattr(benchmarks, "load_leandojo_split", lambda *a, **k: thms)
    real = retrieval.premise_source
    asked = []

    def source(name, server, theorems, k=8, **kw):
        asked.append(name)
        return real(name, None, theorems, k, library=LIBRARY)

    monkeypatch.setattr(retrieval, "premise_source", source)
    config = IterateConfig(run_dir=run_dir, rounds=1, progress=False, eval_limit=0)
    iterate.main(config)
    assert set(asked) == {"bm25"} and retrieving and all(retrieving)
    policy_data = next(data for kind, data in trained if kind == "policy")
    prm_data = next(data for kind, data in trained if kind == "prm")
    assert policy_data[0] == "retriever/step_records.jsonl"  # the run's records with premises
    assert prm_data[0] == "cot/step_records.jsonl"  # the PRM's prompts show none
    logs = (run_dir / "iterate/round1/prove_train/train_verified.jsonl").read_text()
    logs = [json.loads(x) for x in logs.splitlines()]
    assert logs and all(log["nodes"][0][RETRIEVED_PREMISES] for log in logs)  # shown at the root
    # a run without a retriever stage, or with retrieval off, lends none
    assert iterate.run_retriever(run_dir, iterate.saved_run_config(run_dir)) == outputs
    off = dataclasses.replace(iterate.saved_run_config(run_dir), retrieval=False)
    assert iterate.run_retriever(run_dir, off) is None


def test_iterate_proves_a_fresh_benchmark_sample_each_round(tmp_path, monkeypatch, capsys):
    from leancot.prover import suites

    run_dir = _fake_run_dir(tmp_path)
    pool = [_theorem(f"T.{c}", f"theorem {c} : R") for c in "cdefg"]
    asked: list[tuple] = []

    def fake_suite(name, split, *, server=None, limit=None, seed=0, **kw):
        asked.append((name, split, server is not None, limit, seed))
        order = sorted(pool, key=lambda t: fingerprint([seed, t["full_name"]]))
        return (order[:limit] if limit is not None else order), None

    trained, searched = _fake_iterate(monkeypatch)
    monkeypatch.setattr(suites, "load_suite", fake_suite)
    args = _parse(["iterate", "--run-dir", str(run_dir), "--rounds", "2", "--train-limit", "2",
                   "--train-benchmark", "core:train", "--seed", "3", "--no-model-only",
                   "--out-dir", str(tmp_path / "rounds"), "--test-limit", "1",
                   "--eval-limit", "0", "--no-progress"])  # fmt: skip
    assert args.handler(args) == 0
    table = capsys.readouterr().out
    assert "| new proofs |" in table and "| 2 | 2/3 | 2 | 1/2 | 50.0% | – |" in table
    assert asked == [("core", "train", True, 2, 3001), ("core", "train", True, 4, 3002)]
    train = [names for d, _, _, names in searched if d == "prove_train"]
    assert all(d != "prove_test_model_only" for d, *_ in searched)
    # another test limit than the run's: round 0 proves the test set again with the run's models
    assert searched[0][0] == "prove_test" and (tmp_path / "rounds/round0/prove_test").is_dir()
    config = config_from_args(IterateConfig, args)
    assert config.train_benchmark == "core:train" and not config.model_only
    searched.clear()
    rows = iterate.main(config)  # resumed: nothing proved again
    assert searched == [] and len(asked) == 2
    assert len(train[0]) == len(train[1]) == 2 and not set(train[0]) & set(train[1])
    assert [r.new_proofs for r in rows] == [None, 2, 2]
    assert (rows[0].test_proved, rows[0].test_total) == (1, 2)
    assert [r.model_only_proved for r in rows] == [None, None, None]
    assert not (run_dir / "iterate").exists()
    cached = [json.loads(x) for x in (tmp_path / "rounds/proofs.jsonl").read_text().splitlines()]
    assert sorted(x["full_name"] for x in cached) == sorted(train[0] + train[1])
    with pytest.raises(ValueError, match="NAME:SPLIT"):
        IterateConfig(train_benchmark="core")
    with pytest.raises(ValueError, match="NAME:SPLIT"):
        IterateConfig(train_benchmark="nope:train")


def test_worker_servers_bind_one_server_per_thread(monkeypatch):
    import importlib
    import threading

    from leancot.prover.workers import WorkerServers

    verify_module = importlib.import_module("leancot.lean.verify")  # the package exports verify()

    servers = [FakeServer({}), FakeServer({})]
    workers = WorkerServers(servers, verify_timeout=7.0)
    seen = {}

    def fake_verify(statement, proof, header, *, server, timeout, trust_header):
        assert trust_header is False  # headers are untrusted unless the user says otherwise
        return (server, header, timeout)

    monkeypatch.setattr(verify_module, "verify", fake_verify)

    def work(i):
        env = workers.make_env()
        seen[i] = (env.server, workers.verify("theorem t : R", "by simp", f"h{i}"))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {id(seen[i][0]) for i in range(2)} == {id(s) for s in servers}
    for i in range(2):
        env_server, (verify_server, header, timeout) = seen[i]
        assert verify_server is env_server and header == f"h{i}" and timeout == 7.0
