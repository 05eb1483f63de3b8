"""Named benchmarks without Lean: proof skeletons, group splits, miniF2F in core notation, and
the filters' report (the elaboration check runs on a scripted server here; the real Lean check is
in tests/integration/test_suites_lean.py)."""

from __future__ import annotations

import json

import pytest

from leancot.lean.results import CommandResult, Message
from leancot.prover.suites import (
    SuiteReport,
    core_statement,
    group_splits,
    load_bundled_grouped,
    load_minif2f_core,
    load_suite,
    proof_skeleton,
)
from leancot.prover.theorems import BenchmarkError


@pytest.mark.parametrize(
    ("proof", "skeleton"),
    [
        ("by\n  intro h\n  exact h.1", "by intro exact"),
        ("by\n  cases b <;> rfl", "by cases rfl"),
        (
            "by\n  induction l with\n  | nil => rfl\n  | cons x xs ih => simp [ih]",
            "by induction rfl simp",
        ),
        ("by simp -- a comment\n", "by simp"),
        ("rfl", "rfl"),
        ("by\n  · exact h\n  · exact k\nend Foo", "by exact exact"),
    ],
)
def test_proof_skeleton_keeps_tactic_names_only(proof, skeleton):
    assert proof_skeleton(proof) == skeleton


def test_group_splits_keep_groups_whole_and_near_the_target_sizes():
    groups = {f"g{i}": 1 + i % 5 for i in range(60)}
    splits = group_splits(groups, val_fraction=0.1, test_fraction=0.1)
    total = sum(groups.values())
    size = {
        s: sum(n for g, n in groups.items() if splits[g] == s) for s in ("train", "val", "test")
    }
    assert size["test"] <= 0.1 * total and size["val"] <= 0.1 * total
    assert size["test"] >= 0.1 * total - 5 and size["train"] == total - size["val"] - size["test"]
    assert group_splits(groups, val_fraction=0.1, test_fraction=0.1) == splits  # deterministic


def test_bundled_grouped_puts_same_skeleton_siblings_on_one_side():
    theorems = load_bundled_grouped(None)
    assert {t.split for t in theorems} == {"train", "val", "test"}
    by_name = {t.full_name: t.split for t in theorems}
    # siblings named in the evaluation issue: the same proof skeleton, the same side
    assert (
        by_name["LeanCot.Corpus.List.keep_all_true"]
        == by_name["LeanCot.Corpus.List.keep_all_false"]
    )
    assert len(load_bundled_grouped("test")) >= 20


def test_core_statement_writes_core_names():
    assert (
        core_statement("theorem t (n : ℕ) (z : ℤ) : n = n")
        == "theorem t (n : Nat) (z : Int) : n = n"
    )


class ScriptedServer:
    """Elaborates a statement unless it mentions `bad`."""

    def __init__(self) -> None:
        self.commands: list[str] = []

    def run_cmd(self, cmd, env=None, timeout=None):
        self.commands.append(cmd)
        if "bad" in cmd:
            return CommandResult(1, (Message("error", 1, 0, 1, 3, "unknown identifier 'bad'"),))
        return CommandResult(1)


def test_minif2f_core_filters_and_reports(tmp_path):
    statements = [
        ("ok", "valid", "theorem ok (n : ℕ) : n = n := by\n"),
        ("real", "valid", "theorem real (x : ℝ) : x = x := by\n"),
        ("bad", "valid", "theorem bad : bad := by\n"),
        ("other", "test", "theorem other : True := by\n"),
    ]
    rows = [
        {"name": n, "split": s, "formal_statement": f, "header": "import Mathlib\n"}
        for n, s, f in statements
    ]
    path = tmp_path / "minif2f.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    server = ScriptedServer()
    report = SuiteReport("minif2f-core", "valid")
    (thm,) = load_minif2f_core(server, path, "valid", report=report)
    assert thm.statement == "theorem ok (n : Nat) : n = n" and thm.header == ""
    assert thm.split == "val" and thm.source == "minif2f-core"
    assert report.as_dict()["dropped"] == {
        "mathlib notation": 1,
        "does not elaborate in core Lean": 1,
    }
    assert (report.candidates, report.kept) == (3, 1)
    assert server.commands[0] == "theorem ok (n : Nat) : n = n := sorry"


def test_load_suite_names_the_choices_and_needs_a_server():
    with pytest.raises(BenchmarkError, match="bundled-grouped"):
        load_suite("nope", "test")
    with pytest.raises(BenchmarkError, match="Lean server"):
        load_suite("minif2f-core", "test")
    thms, report = load_suite("bundled", "test", limit=3)
    assert len(thms) == 3 and report.kept == report.candidates >= 3
