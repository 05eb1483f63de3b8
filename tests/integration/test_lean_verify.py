"""Whole-proof verification on the real Lean: verdicts, the soundness screen, files and the CLI."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from leancot import cli
from leancot.lean import check_file, verify

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(600)]

TRUE_PROOFS = [
    ("theorem add_comm' (a b : Nat) : a + b = b + a", "by omega"),
    ("theorem two_two : 2 + 2 = 4", "by decide"),
    ("theorem and_swap (p q : Prop) : p ∧ q → q ∧ p", "fun ⟨hp, hq⟩ => ⟨hq, hp⟩"),
    (
        "theorem len_append (xs ys : List Nat) : (xs ++ ys).length = xs.length + ys.length",
        "by simp",
    ),
    (
        "theorem zero_add' (n : Nat) : 0 + n = n := by",
        "  induction n with\n  | zero => rfl\n  | succ k ih => omega",
    ),
]
FALSE_PROOFS = [
    ("theorem bad_add (a b : Nat) : a + b = b + a + 1", "by omega", "omega"),
    ("theorem bad_decide : 2 + 2 = 5", "by decide", "false"),
    ("theorem bad_type (p q : Prop) : p → q", "fun hp => hp", "mismatch"),
    ("theorem bad_unfinished (p q : Prop) (hp : p) (hq : q) : p ∧ q", "by constructor", "unsolved"),
]


@pytest.mark.parametrize(("statement", "proof"), TRUE_PROOFS)
def test_true_proofs_are_accepted(lean_server, statement, proof):
    verdict = verify(statement, proof, server=lean_server)
    assert verdict.ok, verdict.reasons
    assert "sorryAx" not in verdict.axioms


@pytest.mark.parametrize(("statement", "proof", "why"), FALSE_PROOFS)
def test_false_proofs_are_rejected(lean_server, statement, proof, why):
    verdict = verify(statement, proof, server=lean_server)
    assert not verdict.ok
    assert any(why in r for r in verdict.reasons), verdict.reasons
    assert any(m.is_error for m in verdict.messages)


def test_header_opens_and_definitions(lean_server):
    header = "import Init\n\ndef triple (n : Nat) : Nat := 3 * n\nopen Nat"
    ok = verify("theorem triple_two : triple 2 = 6", "by decide", header, server=lean_server)
    assert ok.ok, ok.reasons
    opened = verify("theorem s : succ 1 = 2", "rfl", header, server=lean_server)
    assert opened.ok, opened.reasons


@pytest.mark.parametrize("proof", ["by sorry", "sorry", "by admit", "by\n  exact sorry"])
def test_sorry_is_rejected(lean_server, proof):
    verdict = verify("theorem cheat (p : Prop) : p", proof, server=lean_server)
    assert not verdict.ok
    assert any("sorry" in r or "admit" in r for r in verdict.reasons), verdict.reasons


def test_native_decide_only_when_allowed(lean_server):
    statement, proof = "theorem big_mul : 1234 * 5678 = 7006652", "by native_decide"
    refused = verify(statement, proof, server=lean_server)
    assert not refused.ok and any("native_decide" in r for r in refused.reasons)
    allowed = verify(statement, proof, server=lean_server, allow_native_decide=True)
    assert allowed.ok, allowed.reasons
    assert "Lean.ofReduceBool" in allowed.axioms


def test_new_axioms_are_rejected(lean_server):
    in_header = verify(
        "theorem boom : False", "my_false", "axiom my_false : False", server=lean_server
    )
    assert not in_header.ok and any("axiom" in r for r in in_header.reasons)
    in_proof = verify("theorem boom2 : False", "by exact ax\naxiom ax : False", server=lean_server)
    assert not in_proof.ok and any("axiom" in r for r in in_proof.reasons)


def test_eval_doing_io_is_rejected(lean_server, tmp_path):
    marker = tmp_path / "written_by_eval"
    io = f'#eval IO.FS.writeFile "{marker}" "pwned"'
    in_header = verify("theorem t : True", "trivial", io, server=lean_server)
    assert not in_header.ok and any("#eval" in r for r in in_header.reasons)
    in_proof = verify("theorem t2 : True", f"trivial\n{io}", server=lean_server)
    assert not in_proof.ok and any("#eval" in r for r in in_proof.reasons)
    assert not marker.exists()


GOOD_FILE = """\
import Init

namespace Demo

theorem add_zero' (n : Nat) : n + 0 = n := by
  rfl

theorem and_comm' (p q : Prop) : p ∧ q ↔ q ∧ p := by
  constructor <;> (intro h; exact ⟨h.2, h.1⟩)

end Demo
"""

BAD_FILE = """\
theorem fine : 1 + 1 = 2 := by decide

theorem wrong (n : Nat) : n + 1 = n := by
  omega

theorem cheat (p : Prop) : p := by
  sorry
"""


def test_check_file_reports_each_theorem(lean_server, tmp_path):
    good = tmp_path / "good.lean"
    good.write_text(GOOD_FILE, encoding="utf-8")
    report = check_file(good, server=lean_server)
    assert report.ok, (report.errors, [t.verdict.reasons for t in report.theorems])
    assert [t.name for t in report.theorems] == ["Demo.add_zero'", "Demo.and_comm'"]
    bad = tmp_path / "bad.lean"
    bad.write_text(BAD_FILE, encoding="utf-8")
    report = check_file(bad, server=lean_server)
    assert not report.ok
    assert report.verdict("fine").ok
    assert not report.verdict("wrong").ok and not report.verdict("cheat").ok
    assert any("sorry" in r for r in report.verdict("cheat").reasons)


def test_non_utf8_file_is_a_value_error_naming_it(lean_server, tmp_path):
    path = tmp_path / "latin1.lean"
    path.write_bytes("theorem caf\u00e9 : True := trivial\n".encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.lean") as info:
        check_file(path, server=lean_server)
    assert "UTF-8" in str(info.value)


@contextlib.contextmanager
def _shared(server):
    yield server


def test_cli_check_bad_file_exits_1(lean_server, tmp_path, monkeypatch, capsys):
    """`leancot check` in-process, on the session's server (no second start-up)."""
    import leancot.lean.server as server_module

    monkeypatch.setattr(server_module, "LeanServer", lambda backend, **kw: _shared(lean_server))
    bad = tmp_path / "bad.lean"
    bad.write_text(BAD_FILE, encoding="utf-8")
    assert cli.main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "OK   fine" in out and "FAIL wrong" in out and "FAIL cheat" in out
    latin = tmp_path / "latin1.lean"
    latin.write_bytes(b"-- caf\xe9\ntheorem t : True := trivial\n")
    assert cli.main(["check", str(latin)]) == 1
    assert "latin1.lean" in capsys.readouterr().err


def test_cli_check_good_file_exits_0(tmp_path):
    """`leancot check` as its own process, which starts its own Lean (~25 s)."""
    good = tmp_path / "good.lean"
    good.write_text(GOOD_FILE, encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from leancot.cli import main; sys.exit(main())",
            "check",
            str(good),
        ],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert "OK   Demo.add_zero'" in run.stdout and "OK   Demo.and_comm'" in run.stdout
