"""Per-round evaluation of `leancot iterate` on named splits (full search and policy alone), its
report, the benchmark's JSON object, the resume of a killed round, and the ban-aware search env
of restated core lemmas (no Lean: scripted environments)."""

from __future__ import annotations

import dataclasses
import importlib.util
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from leancot.files import write_json
from leancot.lean.results import LeanError, ProofFinished, TacticState
from leancot.pipeline import iterate, round_eval, steps
from leancot.pipeline.config import IterateConfig, RunConfig
from leancot.prover import ScriptedEnv, ScriptedPolicy
from leancot.prover.runner import prove_all
from leancot.prover.workers import FileContextEnv
from tests.unit.fake_lean import FakeLazyLean

ROOT = Path(__file__).resolve().parents[2]
SPLITS = {
    "core:val": ["V.a", "V.b", "V.c"],
    "bundled:test": ["B.1", "B.2", "B.3"],
}


def _theorem(name: str, split: str = "test") -> dict[str, str]:
    return {"full_name": name, "statement": f"theorem {name} : R", "split": split, "header": ""}


def _fake_run_dir(tmp_path: Path) -> Path:
    run_dir = tmp_path / "run"
    for stage in ("extract", "cot", "policy", "negatives", "prm"):
        write_json(run_dir / stage / "manifest.json", {"key": stage, "outputs": {}})
    config = {**dataclasses.asdict(RunConfig(run_dir=run_dir)), "source": str(tmp_path)}
    write_json(run_dir / "report/run.json", {"config": config}, default=str)
    return run_dir


class Interrupted(BaseException):
    """Stands in for a kill: not an `Exception`, so the runner does not catch it."""


def _fakes(
    monkeypatch, kill_at: str | None, seen: dict[str, Any] | None = None
) -> list[tuple[str, str]]:
    """Lean, the models and the trainers replaced; searches run `prove_all` on a scripted env:
    the full search proves every theorem, the policy alone those of names ending in "a" or
    "1". Returns (log path relative to the rounds, theorem) per search started; the first search
    of `kill_at` raises `Interrupted` (once). `seen` gets each log's Lean-call budget and the
    SFT trainer's `search_log_weight`."""
    from leancot.models import hf
    from leancot.train import policy, prm

    started: list[tuple[str, str]] = []
    killed: list[bool] = []

    def fake_prove(theorems, servers, *, out_path, method, policy, **kw):
        alone = type(policy).__name__ == "SampledPolicy"
        rounds = out_path.parents[4] if out_path.name == "log.jsonl" else out_path.parents[2]
        if seen is not None:
            seen[str(out_path.relative_to(rounds))] = kw["budget"].max_lean_calls
            seen.setdefault("methods", {})[str(out_path.relative_to(rounds))] = method

        class Env(ScriptedEnv):
            def start(self, statement, timeout=None):
                name = statement.split()[1]
                started.append((str(out_path.relative_to(rounds)), name))
                if name == kill_at and not killed:
                    killed.append(True)
                    raise Interrupted
                return super().start(statement, timeout)

        starts = {t["statement"]: f"⊢ {t['full_name']}" for t in theorems}
        table = {
            f"⊢ {t['full_name']}": {"simp": "no goals"}
            for t in theorems
            if not alone or t["full_name"][-1] in "a1"
        }
        prove_all(
            theorems, lambda: Env(table, starts), method="best_first",
            policy=ScriptedPolicy({s: ["simp"] for s in starts.values()}),
            verify=lambda s, p: True, out_path=out_path, progress=False,
        )  # fmt: skip

    def trainer(cfg):
        if seen is not None and hasattr(cfg, "search_log_weight"):
            seen.setdefault("weights", []).append(cfg.search_log_weight)
        return type("R", (), {"metrics": {"global_step": cfg.max_steps}})()

    monkeypatch.setattr(iterate, "LazyLean", FakeLazyLean)
    monkeypatch.setattr(steps, "test_theorems", lambda *a: [])
    monkeypatch.setattr(
        round_eval, "eval_theorems", lambda pair, lean, limit: [_theorem(n) for n in SPLITS[pair]]
    )
    monkeypatch.setattr(
        "leancot.prover.benchmarks.load_leandojo_split",
        lambda *a, **k: [_theorem("T.x", "train"), _theorem("T.y", "train")],
    )
    monkeypatch.setattr("leancot.prover.workers.prove_theorems", fake_prove)
    monkeypatch.setattr(hf, "HFPolicy", lambda *a, **k: object())
    monkeypatch.setattr(hf, "HFPRM", lambda *a, **k: object())
    monkeypatch.setattr(policy, "main", trainer)
    monkeypatch.setattr(prm, "main", trainer)
    monkeypatch.setattr("leancot.prover.mixture.PRMValue", lambda prm: object())
    return started


def test_split_keys_are_the_reports_names():
    assert round_eval.split_key("core:val") == "core_val"
    assert round_eval.split_key("minif2f-core:valid") == "minif2f_valid"
    assert round_eval.split_key("bundled:test") == "bundled_test"
    assert IterateConfig().eval_splits == ("core:val", "minif2f-core:valid", "bundled:test")
    assert round_eval.split_key("core:val:10") == "core_val"
    assert round_eval.parse_eval_split("minif2f-core:valid:5") == ("minif2f-core", "valid", 5)
    assert round_eval.parse_eval_split("bundled:test") == ("bundled", "test", None)
    with pytest.raises(ValueError, match="NAME:SPLIT"):
        IterateConfig(eval_splits=("core",))
    with pytest.raises(ValueError, match="positive integer"):
        IterateConfig(eval_splits=("core:val:x",))
    with pytest.raises(ValueError, match="eval_limit"):
        IterateConfig(eval_limit=-1)


def test_rounds_are_evaluated_on_named_splits_and_a_killed_round_resumes(tmp_path, monkeypatch):
    run_dir = _fake_run_dir(tmp_path)
    config = IterateConfig(
        run_dir=run_dir, rounds=1, train_limit=2, test_limit=0, progress=False,
        eval_splits=tuple(SPLITS), eval_limit=3,
    )  # fmt: skip
    started = _fakes(monkeypatch, kill_at="B.2")
    with pytest.raises(Interrupted):  # killed in round 0, in the middle of bundled:test (full)
        iterate.main(config)
    assert started[-1] == ("round0/eval/bundled_test/full/log.jsonl", "B.2")
    done = set(started[:-1])
    started.clear()
    rows = iterate.main(config)
    # the rerun proves nothing that was done: it starts at the theorem that was in flight
    assert not done & set(started)
    assert started[0] == ("round0/eval/bundled_test/full/log.jsonl", "B.2")
    expected = {
        "core_val": {"full": 3, "model_only": 1, "total": 3},
        "bundled_test": {"full": 3, "model_only": 1, "total": 3},
    }
    assert rows[0].evals == expected and rows[1].evals == expected
    assert rows[1].new_proofs == 2 and rows[1].sft_rows == 2
    report = config.iterate_dir / "report"
    saved = json.loads((report / "rounds.json").read_text())
    assert [r["round"] for r in saved["rounds"]] == [0, 1]
    assert saved["rounds"][1]["core_val"] == expected["core_val"]
    assert (report / "round0.png").stat().st_size > 0 and (report / "round1.png").is_file()
    assert "| 1 | 3 / 1 of 3 | 3 / 1 of 3 | 2 |" in (report / "rounds.md").read_text()
    started.clear()
    assert iterate.main(config) == rows and started == []  # finished: every stage skipped

    spec = importlib.util.spec_from_file_location("bench_iterate", ROOT / "benchmarks/iterate.py")
    bench = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(bench)
    out = bench.summary(rows, config)
    assert set(out) >= {"rounds", "retriever_recall10", "bm25_recall10", "minutes"}
    assert out["rounds"][0] == {
        "round": 0, **expected, "new_proofs": None, "sft_rows": None, "sft_rows_trained": None,
        "prm_rows": None,
    }  # fmt: skip
    assert out["retriever_recall10"] is None and "retrieval" not in out  # not measured
    assert out["minutes"] >= 0
    measured = {"retriever_recall10": 0.6, "bm25_recall10": 0.3, "per_seed": []}
    out = bench.summary(rows, config, measured)
    assert (out["retriever_recall10"], out["bm25_recall10"]) == (0.6, 0.3)
    assert out["retrieval"] is measured


def test_a_round_harvests_at_its_own_budget_weights_its_rows_and_resumes_after_a_kill(
    tmp_path, monkeypatch
):
    """Training statements are proved with `harvest_lean_calls`, the evaluations with the
    budget's; the round's SFT repeats each verified-proof row `new_rows_weight` times beside
    the run's step rows once; a round killed while proving its statements resumes."""
    from leancot.prover.config import BudgetConfig

    run_dir = _fake_run_dir(tmp_path)
    step = {"full_name": "S.s", "split": "train", "state_before": "⊢ S", "tactic": "rfl",
            "thought": "Close it by reflexivity."}  # fmt: skip
    (run_dir / "cot" / "step_records.jsonl").write_text(json.dumps(step) + "\n")
    config = IterateConfig(
        run_dir=run_dir, rounds=1, train_limit=2, test_limit=0, progress=False,
        eval_splits=("core:val",), eval_limit=3, budget=BudgetConfig(lean_calls=8),
        harvest_lean_calls=48, new_rows_weight=3,
    )  # fmt: skip
    seen: dict[str, Any] = {}
    started = _fakes(monkeypatch, kill_at="T.y", seen=seen)
    with pytest.raises(Interrupted):  # killed in round 1, proving its second statement
        iterate.main(config)
    assert started[-1] == ("round1/prove_train/train.jsonl", "T.y")
    started.clear()
    rows = iterate.main(config)
    train = [name for log, name in started if log.startswith("round1/prove_train")]
    assert train == ["T.y"]  # T.x was proved before the kill: not again
    assert seen["round1/prove_train/train.jsonl"] == 48
    assert seen["round1/eval/core_val/full/log.jsonl"] == 8
    assert seen["round1/eval/core_val/model_only/log.jsonl"] == 8
    assert seen["weights"] == [3]
    assert rows[1].new_proofs == 2 and rows[1].sft_rows == 2
    policy_stage = json.loads((config.iterate_dir / "round1/policy/manifest.json").read_text())
    assert policy_stage["outputs"]["rows"] == {"replay": 1, "new": 2, "trained": 1 + 2 * 3}
    assert rows[1].sft_trained == 7
    saved = json.loads((config.iterate_dir / "report/rounds.json").read_text())
    assert saved["rounds"][1]["sft_rows_trained"] == 7


def test_a_heuristic_harvest_proves_with_no_model_while_the_evaluations_keep_the_method(
    tmp_path, monkeypatch
):
    """`harvest_method="heuristic"`: the round's training statements are searched by the
    heuristic (no model loaded for them), the evaluations by `method`; the harvest's stage key
    differs from the default's, so switching recomputes it instead of reusing other proofs."""
    from leancot.models import hf

    run_dir = _fake_run_dir(tmp_path)
    (run_dir / "cot" / "step_records.jsonl").write_text("")
    base = IterateConfig(
        run_dir=run_dir, rounds=1, train_limit=2, test_limit=0, progress=False,
        eval_splits=("core:val",), eval_limit=3,
    )  # fmt: skip
    config = dataclasses.replace(base, harvest_method="heuristic", out_dir=tmp_path / "h")
    seen: dict[str, Any] = {}
    _fakes(monkeypatch, kill_at=None, seen=seen)
    loaded: list[str] = []
    monkeypatch.setattr(hf, "HFPolicy", lambda path, **k: loaded.append(str(path)) or object())
    rows = iterate.main(config)
    methods = seen["methods"]
    assert methods["round1/prove_train/train.jsonl"] == "heuristic"
    assert methods["round1/eval/core_val/full/log.jsonl"] == "best_first"
    assert methods["round1/eval/core_val/model_only/log.jsonl"] == "best_first"
    n_evals = sum(1 for log in methods if "/eval/" in log)
    assert len(loaded) == n_evals  # a model per evaluation search, none for the harvest
    assert rows[1].new_proofs == 2
    stage = json.loads((config.iterate_dir / "round1/prove_train/manifest.json").read_text())
    assert stage["outputs"]["method"] == "heuristic"
    assert stage["outputs"]["prover"] == "heuristic"
    iterate.main(dataclasses.replace(base, out_dir=tmp_path / "b"))
    other = json.loads((tmp_path / "b/round1/prove_train/manifest.json").read_text())
    assert other["key"] != stage["key"] and other["outputs"]["method"] == "best_first"


def test_a_harvest_schedule_changes_the_search_and_count_per_round_and_keeps_earlier_keys(
    tmp_path, monkeypatch
):
    """`harvest_schedule`: round r takes the r-th entry (the last repeating), METHOD:N proving N
    statements that round; a round whose entry equals `harvest_method` keeps that run's stage
    key, so rounds finished without a schedule resume under one."""
    run_dir = _fake_run_dir(tmp_path)
    (run_dir / "cot" / "step_records.jsonl").write_text("")
    base = IterateConfig(
        run_dir=run_dir, rounds=1, train_limit=2, test_limit=0, progress=False,
        eval_splits=("core:val",), eval_limit=3, harvest_method="heuristic",
    )  # fmt: skip
    seen: dict[str, Any] = {}
    pool = [_theorem(f"T.{n}", "train") for n in "wxyz"]
    _fakes(monkeypatch, kill_at=None, seen=seen)
    monkeypatch.setattr("leancot.prover.benchmarks.load_leandojo_split", lambda *a, **k: pool)
    iterate.main(base)
    first = json.loads((base.iterate_dir / "round1/prove_train/manifest.json").read_text())
    scheduled = dataclasses.replace(
        base, rounds=2, harvest_method=None, harvest_schedule=("heuristic", "best_first:1")
    )
    started = _fakes(monkeypatch, kill_at=None, seen=seen)
    monkeypatch.setattr("leancot.prover.benchmarks.load_leandojo_split", lambda *a, **k: pool)
    rows = iterate.main(scheduled)
    assert not [log for log, _ in started if log.startswith("round1/")]  # round 1 resumed
    again = json.loads((base.iterate_dir / "round1/prove_train/manifest.json").read_text())
    assert again["key"] == first["key"]
    assert seen["methods"]["round2/prove_train/train.jsonl"] == "best_first"
    assert len([log for log, _ in started if log.startswith("round2/prove_train")]) == 1
    second = json.loads((base.iterate_dir / "round2/prove_train/manifest.json").read_text())
    assert second["outputs"]["method"] == "best_first" and rows[2].train_total == 1
    assert scheduled.harvest_for(3) == ("best_first", 1)  # the last entry repeats


def test_a_finished_rounds_folder_copied_elsewhere_resumes_without_proving_again(
    tmp_path, monkeypatch
):
    """Stage keys name the round's models by their place inside the rounds folder, not by an
    absolute path: a copy of a finished folder runs no stage; a new round in the copy does."""
    import shutil

    run_dir = _fake_run_dir(tmp_path)
    (run_dir / "cot" / "step_records.jsonl").write_text("")
    config = IterateConfig(
        run_dir=run_dir, rounds=1, train_limit=1, test_limit=None, progress=False,
        eval_splits=("core:val",), eval_limit=3, out_dir=tmp_path / "a",
    )  # fmt: skip
    _fakes(monkeypatch, kill_at=None)
    rows = iterate.main(config)
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    copied = dataclasses.replace(config, out_dir=tmp_path / "b")
    started = _fakes(monkeypatch, kill_at=None)
    again = iterate.main(copied)
    assert started == []
    assert [r.evals for r in again] == [r.evals for r in rows]
    iterate.main(dataclasses.replace(copied, rounds=2))
    assert any(log.startswith("round2/") for log, _ in started)
    assert not any(log.startswith(("round0/", "round1/")) for log, _ in started)


def test_harvest_schedule_entries_are_checked():
    assert IterateConfig(harvest_schedule=("mcts_prm:40",)).harvest_for(1) == ("mcts_prm", 40)
    assert IterateConfig(train_limit=7, harvest_method="heuristic").harvest_for(5) == (
        "heuristic", 7
    )  # fmt: skip
    for bad in ("portfolio", "mcts_prm:", "mcts_prm:0", "mcts_prm:x"):
        with pytest.raises(ValueError, match="METHOD:N"):
            IterateConfig(harvest_schedule=("heuristic", bad))
    with pytest.raises(ValueError, match="no model"):
        IterateConfig(harvest_schedule=("best_first", "heuristic"), teacher="big/model")


def test_the_heuristic_harvest_takes_no_teacher():
    with pytest.raises(ValueError, match="no model"):
        IterateConfig(harvest_method="heuristic", teacher="big/model")
    with pytest.raises(ValueError, match="harvest_method"):
        IterateConfig(harvest_method="portfolio")


# --- ban-aware search env -------------------------------------------------------------------------


class FakeServer:
    """Enough of LeanServer: from ⊢ G, `simp` and `omega` close the goal, `intro` opens ⊢ H."""

    def __init__(self) -> None:
        self.generation = 0
        self.tactics: list[str] = []
        self.ids = itertools.count(1)

    def maybe_recycle(self) -> bool:
        return False

    def open_scope(self) -> int:  # handle freeing: nothing to free in this fake
        return 1

    def close_scope(self, depth: int) -> int:
        return 0

    def start_proof(self, statement, env=None, timeout=None):
        return TacticState("⊢ G", next(self.ids), ("⊢ G",))

    def run_tac(self, state, tactic, timeout=None):
        self.tactics.append(tactic)
        if tactic in ("simp", "omega"):
            return ProofFinished(next(self.ids))
        if tactic == "intro":
            return TacticState("⊢ H", next(self.ids), ("⊢ H",))
        return LeanError("unknown tactic")


def test_ban_aware_env_refuses_the_restated_lemma_and_keeps_searching():
    server = FakeServer()
    checked: list[str] = []

    def check(statement, proof, header):  # the ban: a proof by `simp` used the lemma
        checked.append(proof)
        return "simp" not in proof

    statement = "theorem leancot_core_Nat_add_zero (n : Nat) : n + 0 = n"
    env = FileContextEnv(server, banned={statement: "Nat.add_zero"}, check=check)  # type: ignore[arg-type]
    root = env.start(statement)
    named = env.step(root, "exact Nat.add_zero n")
    assert isinstance(named, LeanError) and "Nat.add_zero" in named.error
    assert server.tactics == []  # refused without a Lean call
    assert isinstance(env.step(root, "exact (add_zero n)"), LeanError)  # the last component too
    refused = env.step(root, "simp")
    assert isinstance(refused, LeanError) and "refused" in refused.error and env.refused == 1
    inner = env.step(root, "intro")
    assert isinstance(inner, TacticState)
    assert isinstance(env.step(inner, "omega"), ProofFinished)
    assert checked == ["by\n  simp", "by\n  intro\n  omega"]  # the whole path is checked
    # another statement is not restricted
    other = env.start("theorem t : True")
    assert isinstance(env.step(other, "simp"), ProofFinished) and len(checked) == 2


def test_a_teacher_proves_the_training_statements_and_is_evaluated_on_the_same_budget(
    tmp_path, monkeypatch, capsys
):
    from leancot.models import hf

    run_dir = _fake_run_dir(tmp_path)
    config = IterateConfig(
        run_dir=run_dir, rounds=1, train_limit=2, test_limit=0, progress=False,
        eval_splits=("bundled:test",), eval_limit=3, teacher="org/big-prover",
    )  # fmt: skip
    started = _fakes(monkeypatch, kill_at=None)
    loaded: list[str] = []
    monkeypatch.setattr(hf, "HFPolicy", lambda path, **k: loaded.append(str(path)) or object())
    rows = iterate.main(config)
    train = [name for log, name in started if log.startswith("round1/prove_train")]
    assert sorted(train) == ["T.x", "T.y"]
    assert "org/big-prover" in loaded
    assert any(log.startswith("round0/eval_teacher/bundled_test/") for log, _ in started)
    saved = json.loads((config.iterate_dir / "report" / "rounds.json").read_text())
    assert saved["teacher"] == {
        "policy": "org/big-prover",
        "bundled_test": {"full": 3, "model_only": 1, "total": 3},
    }
    assert rows[1].new_proofs == 2  # the teacher's proofs went into the cache and the data
    table = (config.iterate_dir / "report" / "rounds.md").read_text().splitlines()
    assert table[-1] == "| teacher org/big-prover | 3 / 1 of 3 | – | – | – |"  # last, same columns
    assert all(line.count("|") == table[0].count("|") for line in table)
    # the command prints the rounds and the teacher in one table
    import argparse

    from leancot.cli.pipeline_commands import register_pipeline

    parser = argparse.ArgumentParser()
    register_pipeline(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        ["iterate", "--run-dir", str(run_dir), "--rounds", "1", "--train-limit", "2",
         "--test-limit", "0", "--eval-splits", "bundled:test", "--eval-limit", "3",
         "--teacher", "org/big-prover", "--no-progress"]
    )  # fmt: skip
    assert args.handler(args) == 0
    printed = capsys.readouterr().out
    assert "bundled_test" in printed and "teacher org/big-prover" in printed
    assert "3 / 1 of 3" in printed


def test_the_large_tiny_model_is_a_larger_policy_for_a_teacher():
    from leancot.train.model import build_tiny_causal_lm, count_parameters, tiny_spec

    tokenizer = type(
        "Tok", (), {"__len__": lambda self: 512, "bos_token_id": 1, "eos_token_id": 2,
                    "pad_token_id": 0}
    )()  # fmt: skip
    small = count_parameters(build_tiny_causal_lm(tokenizer, tiny_spec("small")))
    large = count_parameters(build_tiny_causal_lm(tokenizer, tiny_spec("large")))
    assert 3 * small < large < 8 * small
    with pytest.raises(ValueError, match="tiny model size"):
        tiny_spec("huge")


def test_each_evaluation_split_is_loaded_once_for_all_rounds(tmp_path, monkeypatch):
    """Rounds 0-2, two splits, full and model only: 12 evaluation stages, one load per split."""
    run_dir = _fake_run_dir(tmp_path)
    config = IterateConfig(
        run_dir=run_dir, rounds=2, train_limit=2, test_limit=0, progress=False,
        eval_splits=tuple(SPLITS), eval_limit=3,
    )  # fmt: skip
    started = _fakes(monkeypatch, kill_at=None)
    loads: list[str] = []

    def load(pair, lean, limit):
        loads.append(pair)
        return [_theorem(n) for n in SPLITS[pair]]

    monkeypatch.setattr(round_eval, "eval_theorems", load)
    rows = iterate.main(config)
    assert sorted(loads) == sorted(SPLITS)
    evals = {p for p, _ in started if "/eval/" in p}
    assert len(evals) == 3 * 2 * 2  # rounds 0-2, two splits, full and model only
    assert [r.evals["core_val"]["total"] for r in rows] == [3, 3, 3]
    for r in range(3):  # test_limit 0: no test-set stages at all
        d = config.iterate_dir / f"round{r}"
        assert not (d / "prove_test").exists() and not (d / "prove_test_model_only").exists()
    assert [(r.test_proved, r.test_total, r.model_only_proved) for r in rows] == [(0, 0, None)] * 3


def test_outcome_value_rounds_train_the_value_on_all_logs_and_search_with_it(tmp_path, monkeypatch):
    """With `value` "outcome" a round trains `leancot train value` (not the PRM) on the run's
    negatives and every round's search logs, from the previous round's value (round 1: the
    run's PRM), and the round's searches load that value."""
    from leancot.models import hf
    from leancot.train import prm, value

    run_dir = _fake_run_dir(tmp_path)
    config = IterateConfig(
        run_dir=run_dir, rounds=2, train_limit=1, test_limit=0, progress=False,
        eval_splits=("bundled:test",), eval_limit=3, value="outcome",
    )  # fmt: skip
    _fakes(monkeypatch, kill_at=None)
    trained: list[Any] = []
    loaded: list[str] = []

    def fake_value(cfg):
        trained.append(cfg)
        return type("R", (), {"metrics": {"global_step": cfg.max_steps}})()

    def no_prm(cfg):
        raise AssertionError("the PRM is not trained when the rounds use an outcome value")

    monkeypatch.setattr(value, "main", fake_value)
    monkeypatch.setattr(prm, "main", no_prm)
    monkeypatch.setattr(hf, "HFPRM", lambda path, **k: loaded.append(str(path)) or object())
    rows = iterate.main(config)
    assert len(rows) == 3 and [type(c).__name__ for c in trained] == ["ValueTrainConfig"] * 2
    first, second = trained
    negatives = str(run_dir / "negatives" / steps.NEGATIVES_FILE)
    logs = [str(config.iterate_dir / f"round{r}/prove_train/train_verified.jsonl") for r in (1, 2)]
    assert (first.model, first.data) == (str(run_dir / "prm"), [negatives, logs[0]])
    assert first.output_dir == str(config.iterate_dir / "round1/value")
    assert (second.model, second.data) == (first.output_dir, [negatives, *logs])
    assert loaded.count(str(run_dir / "prm")) >= 1  # round 0 and round 1's harvest: the PRM
    assert first.output_dir in loaded and second.output_dir in loaded  # round 1, 2 searches
    with pytest.raises(ValueError, match="value must be one of"):
        IterateConfig(value="critic")
