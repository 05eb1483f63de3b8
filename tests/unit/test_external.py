"""The external evaluation's bookkeeping: seeds per method, counts within a budget, the seed
summary and the per-method curves (the proving itself is `leancot prove`, tested elsewhere)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from leancot.pipeline.external import (
    ExternalConfig,
    disagreements,
    proved_within,
    seed_summary,
    seeds_of,
    summarize,
)
from leancot.prover.config import SearchConfig


def _log(costs):
    """Records proved at the given Lean-call costs (None: not proved)."""
    return [
        {"full_name": f"t{i}", "verified": c is not None, "lean_calls": c or 128}
        for i, c in enumerate(costs)
    ]


def test_fixed_methods_run_once_learned_ones_at_every_seed():
    assert seeds_of("baseline", (3, 4, 5)) == (3,)
    assert seeds_of("heuristic", (3, 4, 5)) == (3,)
    assert seeds_of("mcts_prm", (3, 4, 5)) == (3, 4, 5)


def test_proved_within_counts_verified_proofs_up_to_the_budget():
    log = _log([5, 16, 17, None])
    log.append({"full_name": "x", "verified": False, "proved": True, "lean_calls": 2})
    assert [proved_within(log, b) for b in (4, 16, 64)] == [0, 2, 3]


def test_seed_summary_and_curves():
    assert seed_summary([3, 5, 4]) == {
        "mean": 4.0,
        "min": 3,
        "max": 5,
        "std": pytest.approx(0.816, abs=1e-3),
        "per_seed": [3, 5, 4],
    }
    logs = {"best_first": [_log([4, 20, None]), _log([4, None, None])], "baseline": [_log([9])]}
    out = summarize(logs, budgets=(8, 32), report_budget=32)
    assert out["best_first"]["proved"]["mean"] == 1.5 and out["best_first"]["seeds"] == 2
    assert out["best_first"]["curve"] == {"8": 1.0, "32": 1.5}
    assert out["baseline"]["curve"] == {"8": 0.0, "32": 1.0} and out["baseline"]["total"] == 1


def test_disagreements_list_the_theorems_some_run_proves_within_the_budget_and_another_not():
    """t0 is proved by every run within 16 calls and t3 by none: both are left out. t1 is
    proved within 16 by best_first only (mcts_prm needs 23 and 40, shown though beyond the
    budget); t2 by one mcts_prm seed only."""
    logs = {
        "best_first": [_log([4, 14, None, None])],
        "mcts_prm": [_log([6, 23, 9, None]), _log([5, 40, None, None])],
    }
    assert disagreements(logs, 16) == {
        "t1": {"best_first": [14], "mcts_prm": [23, 40]},
        "t2": {"best_first": [None], "mcts_prm": [9, None]},
    }
    assert list(disagreements(logs, 64)) == ["t2"]  # within 64 both prove t1
    # a theorem one run did not search counts as not proved there
    partial = {"heuristic": [_log([3])], "best_first": [[]]}
    assert disagreements(partial, 16) == {"t0": {"heuristic": [3], "best_first": [None]}}


def test_external_config_validates():
    with pytest.raises(ValueError, match="report_budget"):
        ExternalConfig(report_budget=50)
    with pytest.raises(ValueError, match="pairs"):
        ExternalConfig(splits=("core",))
    with pytest.raises(ValueError, match="unknown methods"):
        ExternalConfig(methods=("oracle",))


def test_best_first_with_and_without_value_are_separate_methods(tmp_path, monkeypatch):
    """`best_first` ranks by the policy's log-probability (no PRM), `best_first_value` is the same
    search ranked by the PRM, `mcts_prm` uses the PRM too; each has its own log."""
    from leancot.pipeline import external, prove

    for d in ("policy", "prm"):
        (tmp_path / "run" / d).mkdir(parents=True)
    asked = []

    def fake_main(config, *, notify, servers):
        asked.append((config.out.name, config.method, config.search.priority, config.prm))
        config.out.write_text("")
        return type("R", (), {"suite": {}})()

    monkeypatch.setattr(prove, "main", fake_main)
    config = ExternalConfig(
        run_dir=tmp_path / "run", out_dir=tmp_path / "ext", splits=("bundled:test",),
        methods=("heuristic", "best_first", "best_first_value", "mcts_prm"), seeds=(0,),
    )  # fmt: skip
    summary = external.main(config, servers=[object()])
    prm = str(tmp_path / "run" / "prm")
    assert asked == [
        ("heuristic-seed0.jsonl", "heuristic", "logprob", None),
        ("best_first-seed0.jsonl", "best_first", "logprob", None),
        ("best_first_value-seed0.jsonl", "best_first", "value", prm),
        ("mcts_prm-seed0.jsonl", "mcts_prm", "logprob", prm),
    ]
    assert list(summary["benchmarks"]["bundled:test"]["methods"]) == [
        "heuristic", "best_first", "best_first_value", "mcts_prm"
    ]  # fmt: skip


def test_the_retriever_reaches_every_method_search(tmp_path, monkeypatch):
    """`retriever` is handed to each method's search settings (`prove` applies it to the
    learned methods only)."""
    from leancot.pipeline import external, prove

    for d in ("policy", "prm"):
        (tmp_path / "run" / d).mkdir(parents=True)
    asked = []

    def fake_main(config, *, notify, servers):
        asked.append((config.method, config.search.retriever))
        config.out.write_text("")
        return type("R", (), {"suite": {}})()

    monkeypatch.setattr(prove, "main", fake_main)
    config = ExternalConfig(
        run_dir=tmp_path / "run", out_dir=tmp_path / "ext", splits=("bundled:test",),
        methods=("heuristic", "mcts_prm"), seeds=(0,), search=SearchConfig(retriever="bm25"),
    )  # fmt: skip
    external.main(config, servers=[object()])
    assert asked == [("heuristic", "bm25"), ("mcts_prm", "bm25")]
    assert ExternalConfig().search.retriever is None


def test_the_value_prior_weight_reaches_the_searches_and_the_summary(tmp_path, monkeypatch):
    """`value_prior_weight` goes into every method's search settings (the searches with a
    value use it) and is recorded in external.json; it is checked like the search's own."""
    from leancot.pipeline import external, prove

    for d in ("policy", "prm"):
        (tmp_path / "run" / d).mkdir(parents=True)
    asked = []

    def fake_main(config, *, notify, servers):
        asked.append((config.method, config.search.value_prior_weight))
        config.out.write_text("")
        return type("R", (), {"suite": {}})()

    monkeypatch.setattr(prove, "main", fake_main)
    config = ExternalConfig(
        run_dir=tmp_path / "run", out_dir=tmp_path / "ext", splits=("bundled:test",),
        methods=("best_first_value", "mcts_prm"), seeds=(0,),
        search=SearchConfig(value_prior_weight=0.5),
    )  # fmt: skip
    summary = external.main(config, servers=[object()])
    assert asked == [("best_first", 0.5), ("mcts_prm", 0.5)]
    assert summary["value_prior_weight"] == 0.5
    assert ExternalConfig().search.value_prior_weight == 0.0


def test_each_seed_can_take_its_own_models(tmp_path, monkeypatch):
    """With `model_dirs` the learned methods at the i-th seed search with the i-th folder's
    policy and PRM (one self-play replicate per seed); the fixed methods need none; the summary
    records which folder each seed used; `sample_logprob_scale` reaches every search; a folder
    count unequal to the seeds' is refused, and so is a folder without trained models."""
    from leancot.pipeline import external, prove

    replicates = [tmp_path / f"rep{i}" / "round3" for i in range(2)]
    scales = []
    for folder in replicates:
        for d in ("policy", "prm"):
            (folder / d).mkdir(parents=True)
    asked = []

    def fake_main(config, *, notify, servers):
        search = config.search
        asked.append((config.method, search.sampling_seed, config.policy, config.prm))
        scales.append(search.sample_logprob_scale)
        config.out.write_text("")
        return type("R", (), {"suite": {}})()

    monkeypatch.setattr(prove, "main", fake_main)
    config = ExternalConfig(
        run_dir=tmp_path / "no-models", out_dir=tmp_path / "ext", splits=("bundled:test",),
        methods=("heuristic", "mcts_prm"), seeds=(4, 7), model_dirs=tuple(replicates),
        search=SearchConfig(sample_logprob_scale=4.0),
    )  # fmt: skip
    summary = external.main(config, servers=[object()])
    rep0, rep1 = (str(f) for f in replicates)
    assert asked == [
        ("heuristic", 4, "portfolio", None),
        ("mcts_prm", 4, f"{rep0}/policy", f"{rep0}/prm"),
        ("mcts_prm", 7, f"{rep1}/policy", f"{rep1}/prm"),
    ]
    assert summary["models"] == {"4": rep0, "7": rep1}
    assert scales == [4.0] * 3 and summary["sample_logprob_scale"] == 4.0
    with pytest.raises(ValueError, match="one per seed"):
        ExternalConfig(seeds=(0, 1, 2), model_dirs=tuple(replicates))
    missing = replace(config, model_dirs=(replicates[0], tmp_path / "empty"))
    with pytest.raises(ValueError, match="empty has no trained policy"):
        external.main(missing, servers=[object()])


def test_the_prover_benchmark_prints_and_returns_the_disagreements(tmp_path, monkeypatch, capsys):
    """benchmarks/prover.py --suite external: the summary's disagreements reach its --json
    object and its printed table, one line per theorem and method."""
    import importlib.util
    from pathlib import Path
    from types import SimpleNamespace

    from leancot.pipeline import external

    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("bench_prover", root / "benchmarks/prover.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    logs = {"heuristic": [_log([3, None])], "mcts_prm": [_log([None, 12]), _log([4, 30])]}
    summary = {
        "lean_calls_budget": 16,
        "benchmarks": {
            "core:test": {
                "methods": summarize(logs, budgets=(16, 32), report_budget=16),
                "disagreements": disagreements(logs, 16),
                "filters": {},
            }
        },
    }
    monkeypatch.setattr(external, "main", lambda config, notify: summary)
    args = SimpleNamespace(
        run_dir=tmp_path, out_dir=tmp_path / "ext", quick=False, splits=None, methods=None,
        limit=None, seeds=None, budgets=(16, 32), report_budget=16, core_limit=None,
        workers=None, retriever=None, premise_roots=None, retriever_k=None, premise_n=None,
        value=None, step_values=False, value_prior_weight=None, c_puct=None, root_breadth=None,
        model_dirs=None, sample_logprob_scale=None,
    )  # fmt: skip
    result = bench.external(args)
    assert result["disagreements"]["core:test"] == {
        "t0": {"heuristic": [3], "mcts_prm": [None, 4]},
        "t1": {"heuristic": [None], "mcts_prm": [12, 30]},
    }
    bench.print_external(result)
    out = capsys.readouterr().out
    assert "| core:test | t0 | mcts_prm | - 4 |" in out
    assert "| core:test | t1 | mcts_prm | 12 30 |" in out
