"""Run comparison from search logs: rows at equal budget, the table, the JSON and the plot."""

from __future__ import annotations

import builtins
import json

import pytest

from leancot.prover import ScriptedEnv, ScriptedPolicy
from leancot.prover.report import (
    PLOT_PNG,
    REPORT_JSON,
    REPORT_MD,
    equal_budget,
    load_runs,
    method_row,
    method_rows,
    pass_curve,
    render_table,
    run_budget,
    write_report,
)
from leancot.prover.runner import prove_all


def rec(name, method, proved, calls, wall=1.0, lean=0.5, model=0.3, stop=None, **extra):
    return {
        "full_name": name,
        "statement": f"theorem {name} : P",
        "split": "test",
        "method": method,
        "proved": proved,
        "verified": proved,
        "proof": ["t"] if proved else None,
        "lean_calls": calls,
        "wall_s": wall,
        "time_lean_s": lean,
        "time_model_s": model,
        "stop_reason": stop or ("proved" if proved else "max_lean_calls"),
        **extra,
    }


def write_log(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    return path


BEST = [
    rec("a", "best_first", True, 3),
    rec("b", "best_first", True, 40),
    rec("c", "best_first", False, 64),
    rec("d", "best_first", True, 5),  # only best_first tried d
]
MCTS = [
    rec("a", "mcts_prm", True, 10, wall=2.0, lean=1.0, model=0.5),
    rec("b", "mcts_prm", False, 128, wall=2.0, lean=1.0, model=0.5),
    rec("c", "mcts_prm", True, 100, wall=2.0, lean=1.0, model=0.5),
]


def test_row_counts_calls_and_splits_time():
    row = method_row("best_first", BEST)
    assert (row.proved, row.total, row.budget) == (3, 4, None)
    assert row.lean_calls_sum == 112 and row.lean_calls_mean == 28.0
    assert row.wall_s_sum == 4.0
    assert row.lean_frac == pytest.approx(0.5) and row.model_frac == pytest.approx(0.3)
    assert row.overhead_frac == pytest.approx(0.2)
    assert row.lean_frac + row.model_frac + row.overhead_frac == pytest.approx(1.0)
    assert row.rate == 0.75
    capped = method_row("best_first", BEST, budget=5)
    assert capped.proved == 2 and capped.lean_calls_sum == 112  # calls are as run


def test_unverified_proofs_do_not_count_and_old_logs_fall_back_to_proved():
    claimed = rec("x", "m", True, 2, verified=False)
    old = {k: v for k, v in rec("y", "m", True, 2).items() if k != "verified"}
    assert method_row("m", [claimed, old]).proved == 1


def test_missing_time_fields_give_no_fractions_and_explicit_search_time_wins():
    bare = {"full_name": "a", "method": "m", "proved": False, "lean_calls": 4, "wall_s": 2.0}
    row = method_row("m", [bare])
    assert (row.lean_frac, row.model_frac, row.overhead_frac) == (None, None, None)
    explicit = rec("a", "m", False, 1, wall=2.0, lean=1.0, model=0.5, time_search_s=0.25)
    assert method_row("m", [explicit]).overhead_frac == pytest.approx(0.125)
    assert method_row("m", []).total == 0 and method_row("m", []).rate == 0.0


def test_equal_budget_is_the_smallest_lean_call_limit_a_run_hit():
    assert run_budget(BEST) == 64 and run_budget(MCTS) == 128
    assert run_budget([rec("a", "m", True, 9)]) is None
    assert equal_budget({"best_first": BEST, "mcts_prm": MCTS}) == 64
    assert equal_budget({"m": [rec("a", "m", True, 9)]}) is None


def test_rows_compare_common_theorems_at_equal_budget():
    runs = {"best_first": BEST, "mcts_prm": MCTS}
    rows = method_rows(runs)
    assert [r.method for r in rows] == ["best_first", "mcts_prm"]
    best, mcts = rows
    assert (best.proved, best.total, best.budget) == (2, 3, 64)
    assert (mcts.proved, mcts.total, mcts.budget) == (1, 3, 64)  # c took 100 > 64 calls
    as_run = {r.method: r for r in method_rows(runs, budget=None, common=False)}
    assert as_run["best_first"].total == 4 and as_run["mcts_prm"].proved == 2
    assert {r.method: r.proved for r in method_rows(runs, budget=200)} == {
        "best_first": 2,
        "mcts_prm": 2,
    }
    with pytest.raises(ValueError, match="budget"):
        method_rows(runs, budget="half")


def test_pass_curve_steps_at_proof_costs():
    assert pass_curve(BEST) == [(3, 1), (5, 2), (40, 3)]
    assert pass_curve([rec("a", "m", True, 2), rec("b", "m", True, 2)]) == [(2, 2)]
    assert pass_curve([rec("a", "m", False, 2)]) == []


def test_render_table_is_an_aligned_markdown_table():
    text = render_table(method_rows({"best_first": BEST, "mcts_prm": MCTS}))
    lines = text.splitlines()
    assert len(lines) == 4 and len({len(line) for line in lines}) == 1
    assert lines[0].startswith("| method") and "overhead" in lines[0]
    assert lines[1].startswith("|:-")
    assert "| best_first" in lines[2] and "2/3" in lines[2] and "66.7%" in lines[2]
    assert "50.0%" in lines[2] and "20.0%" in lines[2]
    bare = {"full_name": "a", "method": "m", "proved": True, "lean_calls": 1, "wall_s": 1.0}
    assert "–" in render_table([method_row("m", [bare])])


def test_load_runs_labels_a_method_seen_in_two_files(tmp_path):
    one = write_log(tmp_path / "one.jsonl", BEST + MCTS)
    two = write_log(tmp_path / "two.jsonl", [rec("a", "best_first", False, 64)])
    runs = load_runs([one, two])
    assert sorted(runs) == ["best_first (one)", "best_first (two)", "mcts_prm"]
    assert len(runs["best_first (one)"]) == 4
    dup = write_log(tmp_path / "dup.jsonl", [rec("a", "m", True, 1), rec("a", "m", False, 9)])
    assert [r["proved"] for r in load_runs([dup])["m"]] == [True]  # the first record counts
    with pytest.raises(FileNotFoundError, match="no such search log"):
        load_runs([tmp_path / "missing.jsonl"])


def test_write_report_writes_table_json_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    log = write_log(tmp_path / "log.jsonl", BEST + MCTS)
    report = write_report([log], tmp_path / "out")
    assert report.plot == tmp_path / "out" / PLOT_PNG and report.note is None
    assert report.plot.read_bytes().startswith(b"\x89PNG")
    md = (tmp_path / "out" / REPORT_MD).read_text("utf-8")
    assert "Theorems: 3 (attempted by every run)" in md and "within 64 Lean calls" in md
    assert render_table(report.rows) in md and f"]({PLOT_PNG})" in md
    data = json.loads((tmp_path / "out" / REPORT_JSON).read_text("utf-8"))
    assert data["budget"] == 64 and data["common"] and data["num_theorems"] == 3
    assert [r["method"] for r in data["rows"]] == ["best_first", "mcts_prm"]
    assert data["rows"][0]["proved"] == 2 and data["rows"][0]["rate"] == pytest.approx(2 / 3)
    assert data["curves"]["best_first"] == [[3, 1], [40, 2]] and data["plot"] == PLOT_PNG


def test_write_report_without_matplotlib_still_writes_the_table(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    log = write_log(tmp_path / "log.jsonl", BEST)
    report = write_report([log], tmp_path / "out", budget=None)
    assert report.plot is None and "pip install" in report.note
    assert not (tmp_path / "out" / PLOT_PNG).exists()
    assert "plot skipped" in report.markdown.read_text("utf-8")
    data = json.loads(report.json.read_text("utf-8"))
    assert data["plot"] is None and data["budget"] is None and not data["common"]
    assert write_report([log], tmp_path / "out2", plot=False).note is None


def test_write_report_needs_records(tmp_path):
    with pytest.raises(ValueError, match="no search-log records"):
        write_report([write_log(tmp_path / "empty.jsonl", [])], tmp_path / "out", plot=False)


def test_a_prove_all_log_reports_end_to_end(tmp_path):
    log = tmp_path / "log.jsonl"
    for method in ("best_first", "baseline"):
        prove_all(
            [{"full_name": "T.p", "statement": "theorem p : P"}],
            lambda: ScriptedEnv({"⊢ P": {"a": "⊢ Q", "b": "no goals"}, "⊢ Q": {}}, "⊢ P"),
            method=method,
            policy=ScriptedPolicy({"⊢ P": ["a", "b"] if method == "baseline" else ["b"]}),
            verify=lambda statement, proof: True,
            out_path=log,
            progress=False,
        )
    report = write_report([log], tmp_path / "out", plot=False)
    rows = {r.method: r for r in report.rows}
    assert rows["best_first"].proved == rows["baseline"].proved == 1
    assert rows["best_first"].lean_calls_sum < rows["baseline"].lean_calls_sum
    assert all(r.overhead_frac is not None and 0 <= r.overhead_frac <= 1 for r in report.rows)
