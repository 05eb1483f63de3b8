"""benchmarks/repl_compat.py without Lean: cases, path rewriting, shifted handles, verdicts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_harness():
    spec = importlib.util.spec_from_file_location(
        "repl_compat", ROOT / "benchmarks" / "repl_compat.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def write_case(folder: Path, name: str, requests: str, replies: str) -> None:
    (folder / f"{name}.in").write_text(requests, encoding="utf-8")
    (folder / f"{name}.expected.out").write_text(replies, encoding="utf-8")


def test_cases_skip_mathlib_and_missing_outputs(tmp_path):
    rc = load_harness()
    write_case(tmp_path, "a", '{"cmd": "def f := 1"}\n', '{"env": 0}\n')
    write_case(tmp_path, "m", '{"cmd": "import Mathlib"}\n', '{"env": 0}\n')
    (tmp_path / "lonely.in").write_text('{"cmd": "x"}\n', encoding="utf-8")
    cases, skipped = rc.load_cases(tmp_path)
    assert [c.name for c in cases] == ["a"]
    assert skipped == ["lonely (no expected output)", "m (needs Mathlib)"]
    assert [c.name for c in rc.load_cases(tmp_path, ["m"])[0]] == []


def test_paths_are_made_absolute(tmp_path):
    rc = load_harness()
    out = rc.localise(
        {"path": "test/file.lean", "pickleTo": "test/a.olean", "env": 0},
        tmp_path,
        tmp_path / "p",
        "c",
    )
    assert out == {
        "path": str((tmp_path / "test" / "file.lean").resolve()),
        "pickleTo": str(tmp_path / "p" / "a.olean"),
        "env": 0,
    }


def test_a_case_runs_with_shifted_handles_and_fails_on_any_field(tmp_path):
    rc = load_harness()
    write_case(
        tmp_path,
        "t",
        '{"cmd": "def f : Nat := by sorry"}\n\n{"tactic": "exact 1", "proofState": 0}\n',
        '{"env": 0, "sorries": [{"proofState": 0, "goal": "⊢ Nat"}]}\n\n'
        '{"proofState": 1, "goals": [], "proofStatus": "Completed"}\n',
    )
    sent = []

    def lean(obj):  # a process that has issued envs 0..6 and proof states 0..2 already
        sent.append(obj)
        if obj == {"cmd": "example : True := sorry"}:
            return {"env": 7, "sorries": [{"proofState": 3, "goal": "⊢ True"}]}
        if "cmd" in obj:
            return {"env": 8, "messages": [], "sorries": [{"proofState": 4, "goal": "⊢ Nat"}]}
        return {"proofState": 5, "goals": [], "proofStatus": status}

    status = "Completed"
    (case,), _ = rc.load_cases(tmp_path)
    rc.run_case(case, lean, tmp_path, tmp_path, fresh=False)
    assert case.passed, case.differences
    assert sent[2] == {"tactic": "exact 1", "proofState": 4}  # shifted into the process
    status = "Incomplete: contains sorry"
    (case,), _ = rc.load_cases(tmp_path)
    rc.run_case(case, lean, tmp_path, tmp_path, fresh=False)
    assert case.differences == [
        'reply 2.proofStatus: got "Incomplete: contains sorry", expected "Completed"'
    ]
