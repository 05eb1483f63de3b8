"""The verifier's text pass, how Lean's findings become verdicts, and the plumbing (no Lean)."""

from __future__ import annotations

import pytest
from fake_repl import fake_backend

from leancot.lean import LeanServer, StaleHandleError, screen
from leancot.lean.screen import mask, screen_hits
from leancot.lean.source_text import assemble, find_declarations, reference_text, split_header
from leancot.lean.verdicts import CheckOptions, axiom_problems, file_report, theorem_verdict
from leancot.lean.verify import check_file, verify

SMUGGLED = {
    "native_decide": "theorem t : 2 + 2 = 4 := by native_decide",
    "sorry": "theorem t : 1 = 2 := by sorry",
    "admit": "theorem t : 1 = 2 := by admit",
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


# Identifiers and configuration a legitimate proof may also spell: Lean decides (their axioms),
# the text pass must not (see tests/integration/test_verify_adversarial.py).
LEAN_DECIDES = {
    "decide +native": "theorem t : 2 + 2 = 4 := by decide +native",
    "native := true": "theorem t : 2 + 2 = 4 := by decide (config := { native := true })",
    "ofReduceBool": "theorem t : True := Lean.ofReduceBool _ _ rfl ▸ trivial",
    "sorryAx": "theorem t : 1 = 2 := sorryAx _ false",
    "a variable named native": "theorem t (native : Nat) : 0 + native = native := by simp",
    "a quoted name": "theorem «sorry #eval axiom» : True := trivial",
}


@pytest.mark.parametrize("name", sorted(LEAN_DECIDES))
def test_identifiers_are_left_to_lean(name):
    assert screen(LEAN_DECIDES[name]) == (), name


@pytest.mark.parametrize("name", sorted(SMUGGLED))
def test_smuggled_constructs_are_rejected(name):
    assert screen(SMUGGLED[name]), name


def test_native_decide_allowed_on_request():
    for name in ("native_decide",):
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
    quoted = (
        "namespace N\ntheorem «my thm» : True := trivial\ndef x.«1» := 1\n"
        "example : True := trivial\nend N\n"
    )
    assert [d.name for d in find_declarations(mask(quoted), quoted)] == [
        "N.«my thm»",
        "N.x.«1»",
        "",
    ]


def test_reference_text():
    assert reference_text("theorem t : True") == "theorem t : True := sorry"
    assert reference_text("theorem t : True :=") == "theorem t : True := sorry"
    assert reference_text("theorem t : True := by") == "theorem t : True := by sorry"
    assert reference_text("theorem t : True := by  \n") == "theorem t : True := by sorry"


def test_assemble():
    assert assemble("theorem t : True", "by trivial") == "theorem t : True := by trivial"
    assert assemble("theorem t : True", ":= trivial") == "theorem t : True := trivial"
    assert assemble("theorem t : True :=", "trivial") == "theorem t : True := trivial"
    assert assemble("theorem t : True := by", "  skip\n  trivial") == (
        "theorem t : True := by\n  skip\n  trivial"
    )


@pytest.fixture
def server(tmp_path):
    """A scripted REPL (tests/unit/fake_repl.py): these tests cover the plumbing around Lean's
    replies; real proof checks by Lean are in tests/integration/test_lean_verify.py."""
    with LeanServer(fake_backend(tmp_path), request_timeout=5.0) as s:
        yield s


OPTIONS = CheckOptions()


def lean_reply(**changes):
    """A `verify` reply (theorem mode) as Repl.lean writes it for a good proof, with changes."""
    reply = {
        "messages": [],
        "sorries": 0,
        "commands": [{"line": 1, "endLine": 1, "theorem": "t"}],
        "axioms": [{"theorem": "t", "axioms": [{"name": "propext", "module": "Init.Core"}]}],
        "kernel": {"ok": True},
        "unsafe": [],
        "extra": [],
        "scopeChanged": False,
        "theorem": {
            "name": "t",
            "found": True,
            "kind": "theorem",
            "typeMatches": True,
            "levelsMatch": True,
        },
    }
    reply.update(changes)
    return reply


def judged(**changes):
    return theorem_verdict(lean_reply(**changes), OPTIONS, stripped_library=True)


def test_a_good_reply_is_accepted_with_its_axioms():
    verdict = judged()
    assert verdict.ok and verdict.axioms == ("propext",) and verdict.reasons == ()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        (
            {"problems": [{"pos": {"line": 2, "column": 4}, "reason": "`eval` runs code"}]},
            "line 2:4: `eval` runs code",
        ),
        (
            {"messages": [{"severity": "error", "pos": {"line": 2, "column": 1}, "data": "bad"}]},
            "line 2:1: error: bad",
        ),
        ({"sorries": 1}, "uses `sorry`"),
        ({"theorem": {"name": "t", "found": False}}, "does not declare the theorem t"),
        ({"theorem": {"name": "t", "found": True, "kind": "def"}}, "is a def, not a theorem"),
        (
            {
                "theorem": {
                    "name": "t",
                    "found": True,
                    "kind": "theorem",
                    "typeMatches": False,
                    "levelsMatch": True,
                }
            },
            "type of t is not the statement's",
        ),
        (
            {
                "theorem": {
                    "name": "t",
                    "found": True,
                    "kind": "theorem",
                    "typeMatches": True,
                    "levelsMatch": False,
                }
            },
            "universe parameters",
        ),
        ({"extra": ["cheat"]}, "besides the theorem (cheat)"),
        ({"scopeChanged": True}, "must not change options"),
        ({"unsafe": ["t.impl"]}, "t.impl is unsafe"),
        (
            {"kernel": {"ok": False, "error": "(kernel) declaration type mismatch"}},
            "kernel rejects the replayed declarations: (kernel) declaration type mismatch",
        ),
        (
            {
                "axioms": [
                    {"theorem": "t", "axioms": [{"name": "sorryAx", "module": "Init.Prelude"}]}
                ]
            },
            "sorryAx",
        ),
        (
            {"axioms": [{"theorem": "t", "axioms": [{"name": "cheat", "module": None}]}]},
            "the axiom cheat",
        ),
        (
            {"axioms": [{"theorem": "t", "axioms": [{"name": "c", "module": "LeanCot.Corpus.X"}]}]},
            "the axiom c (from LeanCot.Corpus.X)",
        ),
        ({"axioms": [{"theorem": "t", "error": "unknown constant"}]}, "could not collect"),
        ({"message": "unknown environment 7"}, "Lean refused the check: unknown environment 7"),
    ],
)
def test_each_finding_of_lean_rejects(changes, reason):
    verdict = judged(**changes)
    assert not verdict.ok
    assert any(reason in r for r in verdict.reasons), verdict.reasons


def test_native_axioms_only_when_allowed():
    reply = lean_reply(
        axioms=[{"theorem": "t", "axioms": [{"name": "Lean.ofReduceBool", "module": "Init.Core"}]}]
    )
    assert not theorem_verdict(reply, OPTIONS, stripped_library=True).ok
    allowed = CheckOptions(allow_native_decide=True)
    assert theorem_verdict(reply, allowed, stripped_library=True).ok


def test_verify_sends_the_theorem_and_its_reference(server, monkeypatch):
    sent = []
    real = server.verify_text

    def spy(text, env, **kw):
        sent.append((text, kw))
        return real(text, env, **kw)

    monkeypatch.setattr(server, "verify_text", spy)
    assert verify("theorem t : True", "by trivial", server=server).ok
    ((text, kw),) = sent
    assert text == "theorem t : True := by trivial"
    assert kw["mode"] == "theorem" and kw["reference"] == "theorem t : True := sorry"
    assert kw["fields"]["allowNativeDecide"] is False


def test_the_fast_pass_answers_without_lean(server):
    before = server.stats.requests
    screened = verify("theorem t : True", "by sorry", server=server)
    assert not screened.ok and "sorry" in screened.reasons[0]
    assert server.stats.requests == before


def test_unencodable_text_is_a_verdict_not_an_exception(server):
    verdict = verify("theorem t : True", "by trivial \ud800", server=server)
    assert not verdict.ok and "not valid Unicode" in verdict.reasons[0]


def test_verify_timeout_and_crash_leave_the_server_usable(server):
    slow = verify("theorem t : True", "by loop_forever", server=server, timeout=0.3)
    assert not slow.ok and "timed out" in slow.reasons[0]
    crash = verify("theorem t : True", "by crash_now", server=server)
    assert not crash.ok and "crashed" in crash.reasons[0]
    assert verify("theorem t : True", "trivial", server=server).ok


@pytest.mark.parametrize("stale_replies", [1, 2])
def test_a_stale_handle_is_retried_once(server, monkeypatch, tmp_path, stale_replies):
    """The process died between the header and the check: redo once, then give up loudly."""
    path = tmp_path / "Ok.lean"
    path.write_text("theorem t : True := trivial\n", encoding="utf-8")
    real = server.verify_text
    calls = []

    def flaky(text, env, **kw):
        calls.append(text)
        if len(calls) <= stale_replies:
            raise StaleHandleError("the server restarted")
        return real(text, env, **kw)

    monkeypatch.setattr(server, "verify_text", flaky)
    for check in (
        lambda: verify("theorem t : True", "trivial", server=server).ok,
        lambda: check_file(path, server=server).ok,
    ):
        calls.clear()
        if stale_replies == 1:
            assert check() and len(calls) == 2
        else:
            with pytest.raises(StaleHandleError):
                check()
            assert len(calls) == 2


def test_the_community_repl_cannot_verify(tmp_path):
    with LeanServer(fake_backend(tmp_path, FAKE_FRAMING="plain"), request_timeout=5.0) as s:
        with pytest.raises(ValueError, match="own REPL"):
            verify("theorem t : True", "trivial", server=s)


def test_file_report_from_a_scripted_reply(tmp_path):
    path = tmp_path / "Demo.lean"
    text = "namespace Foo\ntheorem good : True := trivial\ntheorem broken : True := x\nend Foo\n"
    reply = {
        "messages": [
            {"severity": "error", "pos": {"line": 3, "column": 25}, "data": "unknown x"},
            {"severity": "error", "pos": {"line": 5, "column": 0}, "data": "outside"},
        ],
        "commands": [
            {"line": 1, "endLine": 1, "theorem": None},
            {"line": 2, "endLine": 2, "theorem": "Foo.good"},
            {"line": 3, "endLine": 3, "theorem": "Foo.broken"},
        ],
        "axioms": [
            {"theorem": "Foo.good", "axioms": []},
            {"theorem": "Foo.broken", "axioms": [{"name": "sorryAx", "module": "Init.Prelude"}]},
        ],
        "kernel": {"ok": True},
        "unsafe": [],
        "env": 3,
    }
    report = file_report(path, text, reply, OPTIONS, stripped_library=True)
    verdicts = {t.name: t.verdict for t in report.theorems}
    assert list(verdicts) == ["Foo.good", "Foo.broken"]
    assert verdicts["Foo.good"].ok
    assert verdicts["Foo.broken"].reasons[0].startswith(f"{path}:3:25: error")
    assert report.errors == (f"{path}:5:0: error: outside",)


def test_file_report_when_a_command_is_refused(tmp_path):
    path = tmp_path / "Eval.lean"
    text = "#eval 1\ntheorem t : True := trivial\n"
    reply = {"problems": [{"pos": {"line": 1, "column": 0}, "reason": "`eval` runs code"}]}
    report = file_report(path, text, reply, OPTIONS, stripped_library=True)
    assert not report.ok and report.errors == (f"{path}:1:0: `eval` runs code",)
    assert "not run" in report.theorems[0].verdict.reasons[0]


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
    standard = ("propext", "Classical.choice", "Quot.sound")
    assert axiom_problems(standard, False) == []
    assert axiom_problems(("sorryAx",), True)
    assert axiom_problems(("Lean.ofReduceBool",), False)
    assert axiom_problems(("Lean.ofReduceBool", "Lean.trustCompiler"), True) == []
    assert axiom_problems(("my_axiom",), False) == ["the proof depends on the axiom my_axiom"]
    # WASM: library theorems with stripped proofs are listed as axioms; trust the library ...
    library = {"Nat.lt_irrefl": "Init.Prelude", "trivial": "Init.Core"}
    assert axiom_problems(library, False, stripped_library=True) == []
    assert axiom_problems(library, False, stripped_library=False)
    # ... but not an axiom of the checked text or of a project module, nor sorry or the compiler
    assert axiom_problems({"cheat": None}, False, stripped_library=True)
    assert axiom_problems({"cheat": "LeanCot.Corpus.Nat"}, False, stripped_library=True)
    assert axiom_problems({"sorryAx": "Init.Prelude"}, False, stripped_library=True)
    assert axiom_problems({"Lean.ofReduceBool": "Init.Core"}, False, stripped_library=True)
