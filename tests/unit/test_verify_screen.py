"""The verifier's text screen, and verify/check_file plumbing against a fake REPL (no Lean)."""

from __future__ import annotations

import pytest
from fake_repl import fake_backend

from leancot.lean import LeanServer, screen
from leancot.lean.screen import mask, screen_hits
from leancot.lean.verify import (
    assemble,
    check_file,
    find_declarations,
    parse_axioms,
    split_header,
    verify,
)

SMUGGLED = {
    "native_decide": "theorem t : 2 + 2 = 4 := by native_decide",
    "decide +native": "theorem t : 2 + 2 = 4 := by decide +native",
    "native := true": "theorem t : 2 + 2 = 4 := by decide (config := { native := true })",
    "ofReduceBool": "theorem t : True := Lean.ofReduceBool _ _ rfl ▸ trivial",
    "sorry": "theorem t : 1 = 2 := by sorry",
    "admit": "theorem t : 1 = 2 := by admit",
    "sorryAx": "theorem t : 1 = 2 := sorryAx _ false",
    "#eval": "#eval IO.println 1\ntheorem t : True := trivial",
    "#exit": "theorem t : True := by\n  #exit",
    "run_tac": "theorem t : True := by run_tac Lean.Elab.admitGoal",
    "run_cmd": "run_cmd pure ()",
    "run_elab": "run_elab pure ()",
    "run_meta": "run_meta pure ()",
    "by_elab": "theorem t : True := by_elab pure (Lean.mkConst ``True.intro)",
    "elab": 'elab "cheat" : tactic => pure ()',
    "macro": 'macro "cheat" : tactic => `(tactic| sorry)',
    "syntax": 'syntax "cheat" : tactic',
    "macro_rules": "macro_rules | `(tactic| cheat) => `(tactic| trivial)",
    "elab_rules": "elab_rules : tactic | `(tactic| cheat) => pure ()",
    "initialize": "initialize pure ()",
    "axiom": "axiom cheat : False\ntheorem t : False := cheat",
    "unsafe": "unsafe def f : Nat := 1",
    "implemented_by": "@[implemented_by g] def f : Nat := 1",
    "extern": '@[extern "c_f"] def f : Nat := 1',
    "export": "@[export f_c] def f : Nat := 1",
    "tactic attribute": "@[tactic cheat] def evalCheat : Nat := 1",
    "attribute command": "attribute [command_elab foo] bar",
    "maxHeartbeats 0": "set_option maxHeartbeats 0 in\ntheorem t : True := trivial",
    "maxHeartbeats big": "set_option maxHeartbeats 100000000 in\ntheorem t : True := trivial",
    "maxRecDepth big": "set_option maxRecDepth 1000000 in\ntheorem t : True := trivial",
    "skipKernelTC": "set_option debug.skipKernelTC true\ntheorem t : 1 = 2 := rfl",
    "tactic-level option": "theorem t : True := by\n  set_option maxHeartbeats 0 in trivial",
}


@pytest.mark.parametrize("name", sorted(SMUGGLED))
def test_smuggled_constructs_are_rejected(name):
    assert screen(SMUGGLED[name]), name


def test_native_decide_allowed_on_request():
    for name in ("native_decide", "decide +native", "ofReduceBool"):
        assert screen(SMUGGLED[name], allow_native_decide=True) == ()


def test_code_running_constructs_are_marked():
    assert all(h.runs_code for h in screen_hits(SMUGGLED["#eval"]))
    assert not any(h.runs_code for h in screen_hits(SMUGGLED["sorry"]))


CLEAN = [
    "theorem t : True := trivial -- no sorry here, no native_decide either",
    "theorem t : True := /- sorry /- nested sorry -/ still #eval -/ trivial",
    "/-- Docs mention `sorry` and `axiom`. -/\ntheorem t : True := trivial",
    'theorem t : "sorry #eval" = "sorry #eval" := rfl',
    "theorem t : '\"' = '\"' := rfl  -- a quote char must not open a string",
    "theorem t : 'a' ≠ 'b' := by decide",
    "theorem sorry_free (h' : True) (my_axiom : True) : True := h'",
    "@[simp] theorem t : True := trivial\nattribute [local simp] Nat.add_comm",
    "@[macro_inline, elab_as_elim] def f : Nat := 1",
    "set_option maxHeartbeats 400000 in\ntheorem t : True := trivial",
    "set_option maxRecDepth 2000 in\ntheorem t : True := trivial",
    "theorem t : True := by\n  #print axioms Nat.add_comm\n  trivial",
    'theorem t : r#"sorry"# = r#"sorry"# := rfl',
    "theorem native_decide_free : True := trivial",
]


@pytest.mark.parametrize("text", CLEAN)
def test_comments_strings_and_names_do_not_trigger(text):
    assert screen(text) == ()


def test_ambiguous_strings_leave_the_rest_visible():
    # Lean: the string "{", code `sorry`, the string "}"; a lexer that took "{" for an
    # interpolation would hide the sorry inside a "nested string".
    assert screen('theorem t : ("{" = "{") := sorry "}"')
    assert screen('def s := s!"{ f "abc" run_tac "def" }"')
    assert screen("def x' := λ'\"' => 1\nrun_cmd pure ()")


def test_mask_keeps_offsets_and_lines():
    text = 'a -- c\n/- x\ny -/ "s\\"t" b'
    masked = mask(text)
    assert len(masked) == len(text) and masked.count("\n") == text.count("\n")
    assert masked.split() == ["a", '"', '"', "b"]


def test_hit_line_numbers():
    hits = screen_hits("theorem t : True := by\n  -- sorry\n  sorry")
    assert [h.line for h in hits] == [3]
    assert str(hits[0]).startswith("line 3:")


def test_declarations_and_header():
    text = (
        "import Init\n\nnamespace A.B\ntheorem t : True := trivial\nend A.B\n"
        "theorem _root_.u : True := trivial\nprivate lemma v : True := trivial\n"
    )
    header, rest = split_header(text)
    assert header == "import Init\n\n" and rest.startswith("namespace")
    decls = find_declarations(mask(text))
    assert [(d.kind, d.name, d.line) for d in decls] == [
        ("theorem", "A.B.t", 4),
        ("theorem", "u", 6),
        ("lemma", "v", 7),
    ]
    assert split_header("/- c -/\nimport A\n-- x\nimport B\nopen C\n")[1] == "open C\n"


def test_assemble():
    assert assemble("theorem t : True", "by trivial") == "theorem t : True := by trivial"
    assert assemble("theorem t : True", ":= trivial") == "theorem t : True := trivial"
    assert assemble("theorem t : True :=", "trivial") == "theorem t : True := trivial"
    assert assemble("theorem t : True := by", "  skip\n  trivial") == (
        "theorem t : True := by\n  skip\n  trivial"
    )


def test_parse_axioms():
    assert parse_axioms("'t' depends on axioms: [propext, Classical.choice, Quot.sound]") == (
        "propext",
        "Classical.choice",
        "Quot.sound",
    )
    assert parse_axioms("'t' does not depend on any axioms") == ()
    assert parse_axioms("something else") is None


@pytest.fixture
def server(tmp_path):
    """A scripted REPL (tests/unit/fake_repl.py): these tests cover how verify reads replies;
    real proof checks by Lean are in tests/integration/test_lean_verify.py."""
    with LeanServer(fake_backend(tmp_path), request_timeout=5.0) as s:
        yield s


def test_verdicts_from_scripted_replies(server):
    ok = verify("theorem t : True", "by trivial", "import Init\nopen Nat", server=server)
    assert ok.ok and ok.axioms == ("propext",) and ok.reasons == ()
    screened = verify("theorem t : True", "by sorry", server=server)
    assert not screened.ok and "sorry" in screened.reasons[0]
    bad = verify("theorem t : True", "by\n  exact bad_term", "import Init\nopen Nat", server=server)
    assert not bad.ok and bad.reasons[0].startswith("line 2:")  # counted from the statement
    with_sorry_axiom = verify("theorem t_sorry : True", "trivial", server=server)
    assert not with_sorry_axiom.ok and "sorry" in with_sorry_axiom.reasons[0]
    native = verify("theorem t_native : True", "trivial", server=server)
    assert not native.ok and "native_decide" in native.reasons[0]
    assert verify("theorem t_native : True", "trivial", server=server, allow_native_decide=True).ok


def test_verify_checks_the_declared_name(server):
    anonymous = verify("example : True", "trivial", server=server)
    assert not anonymous.ok and "theorem NAME" in anonymous.reasons[0]
    extra = verify("theorem t : True", "trivial\ntheorem u : True := trivial", server=server)
    assert not extra.ok and "declare" in extra.reasons[0]


def test_verify_timeout_and_crash_leave_the_server_usable(server):
    slow = verify("theorem t : True", "by loop_forever", server=server, timeout=0.3)
    assert not slow.ok and "timed out" in slow.reasons[0]
    crash = verify("theorem t : True", "by crash_now", server=server)
    assert not crash.ok and "crashed" in crash.reasons[0]
    assert verify("theorem t : True", "trivial", server=server).ok


def test_check_file(server, tmp_path):
    path = tmp_path / "Demo.lean"
    path.write_text(
        "import Init\n"
        "namespace Foo\n"
        "theorem good : True := trivial\n"
        "theorem broken : True := bad_term\n"
        "theorem uses_sorry_axiom : True := trivial\n"
        "end Foo\n"
        "def helper : Nat := bad_term\n",
        encoding="utf-8",
    )
    report = check_file(path, server=server)
    verdicts = {t.name: t.verdict for t in report.theorems}
    assert list(verdicts) == ["Foo.good", "Foo.broken", "Foo.uses_sorry_axiom"]
    assert verdicts["Foo.good"].ok and verdicts["Foo.good"].axioms == ("propext",)
    assert verdicts["Foo.broken"].reasons[0].startswith(f"{path}:4:")
    assert "sorry" in verdicts["Foo.uses_sorry_axiom"].reasons[0]
    assert report.errors and report.errors[0].startswith(f"{path}:7:")
    assert not report.ok


def test_check_file_does_not_run_code(server, tmp_path):
    path = tmp_path / "Eval.lean"
    path.write_text("#eval crash_now\ntheorem t : True := trivial\n", encoding="utf-8")
    report = check_file(path, server=server)
    assert not report.ok and "not run" in report.theorems[0].verdict.reasons[-1]
    assert server.stats.crashes == 0


def test_check_file_rejects_non_utf8(server, tmp_path):
    path = tmp_path / "Bad.lean"
    data = b"import Init\ntheorem t : True := trivial -- caf\xe9\n"
    path.write_bytes(data)
    offset = data.index(b"\xe9")
    with pytest.raises(
        ValueError, match=rf"Bad\.lean: not valid UTF-8 at byte offset {offset} \(line 2\)"
    ):
        check_file(path, server=server)


def test_axiom_policy():
    from leancot.lean.verify import axiom_problems

    standard = ("propext", "Classical.choice", "Quot.sound")
    assert axiom_problems(standard, False) == []
    assert axiom_problems(("sorryAx",), True)
    assert axiom_problems(("Lean.ofReduceBool",), False)
    assert axiom_problems(("Lean.ofReduceBool", "Lean.trustCompiler"), True) == []
    assert axiom_problems(("my_axiom",), False) == ["the proof depends on the axiom my_axiom"]
    # WASM: library theorems with stripped proofs are listed as axioms; trust the library ...
    assert axiom_problems(("Nat.lt_irrefl", "trivial"), False, stripped_library=True) == []
    # ... but not a name declared in the checked text, nor sorry or the compiler
    assert axiom_problems(
        ("cheat",), False, stripped_library=True, local_names=frozenset({"cheat"})
    )
    assert axiom_problems(("sorryAx",), False, stripped_library=True)
    assert axiom_problems(("Lean.ofReduceBool",), False, stripped_library=True)
