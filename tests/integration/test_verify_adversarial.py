"""An attacker's suite for `verify` and `check_file` (issue 9, item 7), on the real Lean.

Each case is (statement, proof, header, expected verdict, a word the reasons must contain). A
proof of a false statement dressed up in any way must be refused; legitimate proofs, however
they look to a text lexer, must be accepted. Code that would write a file writes to `@MARK@`, a
path under the test's tmp_path: no file may appear there, whatever the verdict, and Lean's
messages must not name that path (they do when the code ran and its write failed, as it does
inside the sandbox). A hole found is a strict xfail with the reason: fix the verifier, then drop
the mark.

One Lean process serves the whole module (the session's `lean_server`); `import Lean` is needed
by the meta-code attacks and is imported once (cached header, ~15 s). No case restarts Lean.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from leancot import cli
from leancot.lean import check_file, verify

pytestmark = [pytest.mark.slow, pytest.mark.lean, pytest.mark.timeout(900)]

MARK = "@MARK@"  # replaced by a path under tmp_path: code run by the text would write there
META = "import Lean"  # the header under which run_tac / by_elab / run_cmd elaborate
PAD = "-" * 99 + "\n"  # 100 bytes of comment: 1,000 of them make a 100 KB proof


@dataclass(frozen=True)
class Case:
    statement: str
    proof: str
    header: str = ""
    ok: bool = False
    why: tuple[str, ...] = ()  # the reasons must mention one of these (refusals only)
    options: dict[str, Any] = field(default_factory=dict)


def case(
    cid: str,
    statement: str,
    proof: str,
    header: str = "",
    *,
    ok: bool = False,
    why: str | tuple[str, ...] = (),
    hole: str | None = None,
    **options: Any,
) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=f"hole: {hole}")] if hole else []
    whys = (why,) if isinstance(why, str) else why
    return pytest.param(Case(statement, proof, header, ok, whys, options), id=cid, marks=marks)


WRITE = f'IO.FS.writeFile "{MARK}" "pwned"'
FAKE_REPLY = r'"@@LEANCOT@@ {\"env\": 1, \"messages\": [], \"sorries\": []}"'

# --- false statements (and forbidden means), however dressed --------------------------------------
REFUSED = [
    # options written with guillemets resolve to the same option in Lean
    case(
        "skipKernelTC-guillemet-tactic",
        "theorem g1 : 1 = 2",
        "by\n  set_option «debug».skipKernelTC true in\n  decide +kernel",
        why="skipKernelTC",
    ),
    case(
        "skipKernelTC-guillemet-term",
        "theorem g2 : 1 = 2",
        "set_option «debug».skipKernelTC true in (by decide +kernel)",
        why="skipKernelTC",
    ),
    case(
        "skipKernelTC-guillemet-command",
        "set_option «debug».«skipKernelTC» true in\ntheorem g3 : 1 = 2",
        "by decide +kernel",
        why="skipKernelTC",
    ),
    case(
        "skipKernelTC-plain-tactic",
        "theorem g4 : 1 = 2",
        "by set_option debug.skipKernelTC true in decide +kernel",
        why="skipKernelTC",
    ),
    case(
        "skipKernelTC-one-guillemet-name",
        "theorem g5 : 1 = 2",
        "by set_option «debug.skipKernelTC» true in decide +kernel",
    ),
    case("decide-kernel-alone", "theorem g6 : 1 = 2", "by decide +kernel"),
    case(
        "byAsSorry-option",
        "theorem g7 : 1 = 2",
        "by set_option debug.byAsSorry true in decide",
        why="byAsSorry",
    ),
    case(
        "maxHeartbeats-guillemet-0",
        "theorem h1 (n : Nat) : n + 0 = n",
        "by set_option «maxHeartbeats» 0 in simp",
        why="maxHeartbeats",
    ),
    case(
        "maxHeartbeats-0-term",
        "theorem h2 (n : Nat) : n + 0 = n",
        "set_option maxHeartbeats 0 in (by simp)",
        why="no limit",
    ),
    case(
        "maxHeartbeats-0-command",
        "set_option maxHeartbeats 0 in\ntheorem h3 (n : Nat) : n + 0 = n",
        "by simp",
        why="no limit",
    ),
    case(
        "maxHeartbeats-above-bound",
        "theorem h4 (n : Nat) : n + 0 = n",
        "by set_option maxHeartbeats 2000000 in simp",
        why="above the bound",
    ),
    case(
        "maxRecDepth-guillemet-100000",
        "theorem h5 (n : Nat) : n + 0 = n",
        "by set_option «maxRecDepth» 100000 in simp",
        why="maxRecDepth",
    ),
    case(
        "maxRecDepth-above-bound-command",
        "set_option maxRecDepth 20000 in\ntheorem h6 (n : Nat) : n + 0 = n",
        "by simp",
        why="above the bound",
    ),
    case(
        "synth-maxHeartbeats-0",
        "theorem h7 (n : Nat) : n + 0 = n",
        "by set_option synthInstance.maxHeartbeats 0 in simp",
        why="maxHeartbeats",
    ),
    # text that confuses a lexer: raw strings, char literals, interpolation
    case(
        "raw-backslash-then-skipKernelTC",
        "theorem r1 : 1 = 2",
        'by\n  have _b := !r"\\".isEmpty\n  set_option debug.skipKernelTC true in decide +kernel',
        why="skipKernelTC",
    ),
    case(
        "raw-backslash-then-axiom",
        "theorem r2 : False",
        'ax\n-- r"\\"\naxiom ax : False',
    ),
    case(
        "raw-backslash-term-then-axiom",
        "theorem r3 : False",
        '(fun (_ : String) => ax) r"\\"\naxiom ax : False',
    ),
    case(
        "raw-hash-then-sorry",
        "theorem r4 : 1 = 2",
        'by\n  have _s : String := r#"a "quoted" one"#\n  exact sorry',
        why="sorry",
    ),
    case(
        "char-quote-then-sorry",
        "theorem r5 : 1 = 2",
        "by\n  have _c : Char := '\"'\n  exact sorry",
        why="sorry",
    ),
    case(
        "char-quote-then-axiom",
        "theorem r6 : 1 = 2",
        "by\n  have _c : Char := '\"'\n  exact ax\naxiom ax : 1 = 2",
    ),
    case(
        "interpolated-then-sorry",
        "theorem r7 : 1 = 2",
        'by\n  have _s : String := s!"{1 + 1}"\n  exact sorry',
        why="sorry",
    ),
    case(
        "sorry-inside-interpolation",
        "theorem r8 : 1 = 2",
        'by\n  have _s : String := s!"{(sorry : Nat)}"\n  exact sorry',
        why="sorry",
    ),
    case(
        "interpolated-then-skipKernelTC",
        "theorem r9 : 1 = 2",
        'by\n  have _s : String := s!"{1}"\n  set_option debug.skipKernelTC true in decide +kernel',
        why="skipKernelTC",
    ),
    case(
        "interpolated-then-eval-bang",
        "theorem r10 : True",
        f'trivial\n#eval! IO.FS.writeFile "{MARK}" s!"{{1}}"',
    ),
    case(
        "escaped-quote-then-sorry",
        "theorem r11 : 1 = 2",
        'by\n  have _s : String := "\\"\\\\"\n  exact sorry',
        why="sorry",
    ),
    # commands after (or around) the theorem: nothing but the theorem may come
    case("eval-after", "theorem c1 : True", f"trivial\n#eval {WRITE}", why="#eval"),
    case(
        "eval-bang-after",
        "theorem c2 : True",
        f"trivial\n#eval! {WRITE}",
        why=("#eval", "after the theorem"),
    ),
    case("eval-same-line", "theorem c3 : True", f"trivial #eval {WRITE}", why="#eval"),
    case(
        "eval-bang-fake-reply",
        "theorem c4 : False",
        f"by simp\n#eval! IO.println {FAKE_REPLY}",
        why=("#eval", "after the theorem"),
    ),
    case(
        "eval-fake-reply-for-true",
        "theorem c5 : True",
        f"trivial\n#eval IO.println {FAKE_REPLY}",
        why=("#eval", "after the theorem"),
    ),
    case("run-cmd-after", "theorem c6 : True", f"trivial\nrun_cmd ({WRITE} : IO Unit)", META),
    case("run-elab-after", "theorem c7 : True", f"trivial\nrun_elab ({WRITE} : IO Unit)", META),
    case("run-meta-after", "theorem c8 : True", f"trivial\nrun_meta ({WRITE} : IO Unit)", META),
    case(
        "run-tac-writes",
        "theorem c9 : True",
        f"by\n  run_tac ({WRITE} : IO Unit)\n  trivial",
        META,
        why="run_tac",
    ),
    case(
        "run-tac-admitGoal",
        "theorem c10 : False",
        "by\n  run_tac do Lean.Elab.admitGoal (← Lean.Elab.Tactic.getMainGoal)",
        META,
        why="run_tac",
    ),
    case(
        "by-elab-writes",
        "theorem c11 : True",
        f"by_elab do\n  {WRITE}\n  return Lean.mkConst ``trivial",
        META,
        why="by_elab",
    ),
    case(
        "by-elab-inside-tactic",
        "theorem c12 : 1 = 2",
        "by\n  exact (by_elab return Lean.mkApp2 (Lean.mkConst ``sorryAx [0]) "
        "(Lean.mkConst ``True) (Lean.mkConst ``false))",
        META,
        why="by_elab",
    ),
    case(
        "elab-command-after",
        "theorem c13 : True",
        f'trivial\nelab "pwn" : tactic => do {WRITE}',
        META,
    ),
    case(
        "macro-after",
        "theorem c14 : True",
        'trivial\nmacro "cheat" : tactic => `(tactic| sorry)',
    ),
    case(
        "syntax-macro-rules-after",
        "theorem c15 : True",
        'trivial\nsyntax "cheat" : term\nmacro_rules | `(cheat) => `(sorry)',
    ),
    case("notation-after", "theorem c16 : True", 'trivial\nnotation "cheat" => sorry'),
    case("initialize-after", "theorem c17 : True", f"trivial\ninitialize {WRITE}"),
    case("guard-after", "theorem c18 : True", "trivial\n#guard 1 + 1 == 2"),
    case("exit-after-sorry", "theorem c19 : 1 = 2", "by\n  exact sorry\n#exit", why="sorry"),
    case("exit-in-empty-by", "theorem c20 : False", "by\n#exit"),
    case(
        "new-theorem-after",
        "theorem c21 : True",
        "trivial\ntheorem other : 1 = 1 := rfl",
        why="after the theorem",
    ),
    case(
        "same-name-theorem-after",
        "theorem c22 : 1 = 2 := by",
        "  decide\ntheorem c22' : True := trivial",
    ),
    case("namespace-same-line", "theorem c23 : True", "trivial namespace X theorem c23 : True"),
    case("namespace-in-statement", "namespace X theorem c24 : 1 = 2", "by decide"),
    case("section-end-after", "theorem c25 : True", "trivial\nsection\nend"),
    case("axiom-same-line", "theorem c26 : 1 = 2", "ax axiom ax : 1 = 2"),
    case("axiom-after-in-file-style", "theorem c27 : False", "ax\n\naxiom ax : False"),
    case(
        "open-in-native-decide",
        "open Nat in theorem c28 : 2 ^ 10 = 1024",
        "by native_decide",
        why=("native", "compiler"),
    ),
    case(
        "attribute-command-after",
        "theorem c29 : True",
        "trivial\nattribute [implemented_by id] Nat.succ",
    ),
    case("extern-attribute", '@[extern "c_fn"] theorem c30 : True', "trivial", why="extern"),
    case(
        "implemented-by-attribute",
        "@[implemented_by id] theorem c31 : True",
        "trivial",
        why="implemented_by",
    ),
    case("unsafe-theorem", "unsafe theorem c32 : True", "trivial", why="unsafe"),
    case("partial-theorem", "partial theorem c33 : False", "c33", why="partial"),
    case("opaque-not-theorem", "opaque c34 : Nat", ":= 0", why="theorem"),
    case(
        "instance-after",
        "theorem c35 : True",
        "trivial\ninstance : Decidable (1 = 2) := isTrue sorry",
    ),
    case(
        "mutual-after",
        "theorem c36 : True",
        "trivial\nmutual\ntheorem m1 : False := m2\ntheorem m2 : False := m1\nend",
    ),
    case("where-aux-sorry", "theorem c37 : 1 = 2", "aux\nwhere aux : 1 = 2 := sorry", why="sorry"),
    case(
        "where-aux-extern",
        "theorem c38 : True",
        'aux\nwhere @[extern "c_fn"] aux : True := trivial',
        why="extern",
    ),
    case(
        "decreasing-by-sorry",
        "theorem c39 : False",
        "go 0\nwhere\n  go (n : Nat) : False := go (n + 1)\n  termination_by n\n"
        "  decreasing_by sorry",
        why="sorry",
    ),
    case(
        "decreasing-by-admit",
        "theorem c40 : False",
        "go 0\nwhere\n  go (n : Nat) : False := go (n + 1)\n  termination_by n\n"
        "  decreasing_by all_goals admit",
        why=("sorry", "admit"),
    ),
    case(
        "termination-by-wrong-measure",
        "theorem c41 : False",
        "go 0\nwhere\n  go (n : Nat) : False := go (n + 1)\n  termination_by 0",
    ),
    case("self-recursive-theorem", "theorem c42 : False", "c42"),
    # sorry in every spelling
    case("sorry-term", "theorem s1 : 1 = 2", "sorry", why="sorry"),
    case("sorry-tactic", "theorem s2 : 1 = 2", "by sorry", why="sorry"),
    case("admit", "theorem s3 : 1 = 2", "by admit", why=("sorry", "admit")),
    case("sorryAx-false", "theorem s4 : 1 = 2", "sorryAx _ false", why="sorry"),
    case("sorryAx-true-explicit", "theorem s5 : 1 = 2", "@sorryAx (1 = 2) true", why="sorry"),
    case("sorry-ascribed", "theorem s6 : 1 = 2", "(sorry : _)", why="sorry"),
    case("exact-sorry-parenthesised", "theorem s7 : 1 = 2", "by exact (sorry)", why="sorry"),
    case("stop-tactic", "theorem s8 : 1 = 2", "by\n  stop\n  simp", why="sorry"),
    case("exact-question-fails", "theorem s9 : 1 = 2", "by exact?"),
    case("apply-sorryAx", "theorem s10 : 1 = 2", "by apply sorryAx", why="sorry"),
    # the compiler trusted in all its spellings
    case(
        "native-decide",
        "theorem n1 : 12 * 12 = 144",
        "by native_decide",
        why=("native", "compiler"),
    ),
    case(
        "decide-plus-native",
        "theorem n2 : 12 * 12 = 144",
        "by decide +native",
        why=("native", "compiler"),
    ),
    case(
        "decide-config-native",
        "theorem n3 : 12 * 12 = 144",
        "by decide (config := { native := true })",
        why=("native", "compiler"),
    ),
    case(
        "ofReduceBool-direct",
        "theorem n4 : 12 * 12 = 144",
        "of_decide_eq_true (Lean.ofReduceBool _ _ rfl)",
        why=("native", "compiler", "ofReduceBool"),
    ),
    case(
        "ofReduceBool-under-open-Lean",
        "open Lean in theorem n5 : 12 * 12 = 144",
        "of_decide_eq_true (ofReduceBool _ _ rfl)",
    ),
    case("trustCompiler", "theorem n6 : True", "by\n  have := Lean.trustCompiler\n  trivial"),
    # statements the proof text tries to change
    case("proof-starts-with-assign", "theorem m1 : 1 = 2", ":= by decide"),
    case(
        "proof-redeclares-statement",
        "theorem m2 : 1 = 2",
        "by decide\ntheorem m2' : True := trivial",
    ),
    case(
        "universe-level-mismatch",
        "theorem m3.{u} (α : Sort u) (a : α) : a = a",
        "@rfl.{0} α a",
    ),
    case(
        "term-after-proof-same-line",
        "theorem m4 : True",
        "trivial theorem m4' : False := sorry",
    ),
    # headers are untrusted unless trust_header
    case("header-eval", "theorem hd1 : True", "trivial", f"#eval {WRITE}", why="#eval"),
    case("header-eval-bang", "theorem hd2 : True", "trivial", f"#eval! {WRITE}", why="#eval"),
    case(
        "header-run-cmd",
        "theorem hd3 : True",
        "trivial",
        f"import Lean\nrun_cmd ({WRITE} : IO Unit)",
    ),
    case("header-axiom", "theorem hd4 : False", "ax", "axiom ax : False", why="axiom"),
    case(
        "header-skipKernelTC",
        "theorem hd5 : 1 = 2",
        "by decide +kernel",
        "set_option debug.skipKernelTC true",
        why="skipKernelTC",
    ),
    case(
        "header-implemented-by",
        "theorem hd6 : True",
        "trivial",
        "def f (n : Nat) : Nat := n\n@[implemented_by f] def g (n : Nat) : Nat := n + 1",
        why="implemented_by",
    ),
    case(
        "header-sorry-lemma-used",
        "theorem hd7 : 1 = 2",
        "helper",
        "theorem helper : 1 = 2 := sorry",
        why="sorry",
    ),
    case(
        "header-notation-for-sorry",
        "theorem hd8 : 1 = 2",
        "cheat",
        'notation "cheat" => sorry',
        why="sorry",
    ),
    case(
        "header-inhabited-false",
        "theorem hd9 : False",
        "default",
        "instance : Inhabited False := ⟨sorry⟩",
        why="sorry",
    ),
    case(
        "header-macro",
        "theorem hd10 : 1 = 2",
        "by cheat",
        'macro "cheat" : tactic => `(tactic| sorry)',
    ),
    case(
        "trusted-header-skipKernelTC",
        "theorem hd11 : 1 = 2",
        "by decide +kernel",
        "set_option debug.skipKernelTC true",
        trust_header=True,
    ),
    case(
        "trusted-header-axiom",
        "theorem hd12 : 1 = 2",
        "ax",
        "axiom ax : 1 = 2",
        why="axiom ax",
        trust_header=True,
    ),
    # bad text: a failing verdict, never an exception
    case("lone-surrogate-proof", "theorem b1 : True", "trivial -- \ud800", why="Unicode"),
    case("lone-surrogate-statement", "theorem b2\udfff : True", "trivial", why="Unicode"),
    case("lone-surrogate-header", "theorem b3 : True", "trivial", "-- \ud800", why="Unicode"),
    case("nul-in-proof", "theorem b4 : True", "triv\x00ial"),
    case("nul-in-statement", "theorem b5 : Tr\x00ue", "trivial"),
    case("nul-in-header", "theorem b6 : True", "trivial", "def x\x00 := 1"),
    case("long-proof-ending-in-sorry", "theorem b7 : 1 = 2", "by\n" + PAD * 1000 + "  sorry"),
    case("statement-check-before", "#check Nat\ntheorem st0 : True", "trivial", why="#check"),
    case(
        "statement-guard-msgs",
        "/-- info: hi -/\n#guard_msgs in\ntheorem st00 : 1 = 2",
        "by decide",
    ),
    case("statement-term-unsafe", "theorem st000 : True", "(fun (_ : Nat) => trivial) (unsafe 1)"),
    case(
        "header-decidable-instance-smuggled",
        "theorem hd13 : 1 = 2",
        "by decide",
        "instance (priority := high) bad : DecidableEq Nat := fun _ _ => isTrue sorry",
        why="sorry",
    ),
    # code in the statement: the statement is also elaborated alone (for the reference type), and
    # must pass the allow-list there too, even where the text pass gives up (`s!"{…}"`)
    case("statement-eval-line", f"#eval {WRITE}\ntheorem st1 : True", "trivial"),
    case(
        "statement-eval-bang-line",
        f"#eval! {WRITE}\ntheorem st2 : True",
        "trivial",
    ),
    case(
        "statement-eval-hidden-from-lexer",
        f'#eval IO.FS.writeFile "{MARK}" s!"{{1}}"\ntheorem st3 : True',
        "trivial",
    ),
    case(
        "statement-run-cmd-hidden-from-lexer",
        f'run_cmd (IO.FS.writeFile "{MARK}" s!"{{1}}" : IO Unit)\ntheorem st4 : True',
        "trivial",
        META,
    ),
    case(
        "statement-by-elab-in-type",
        f'theorem st5 : (s!"{{1}}" = s!"{{1}}") ∧ (by_elab do {WRITE}; return Lean.mkConst ``True)',
        "⟨rfl, trivial⟩",
        META,
    ),
    case(
        "statement-by-elab-plain",
        f"theorem st6 : (by_elab do {WRITE}; return Lean.mkConst ``True)",
        "trivial",
        META,
        why="by_elab",
    ),
]

# --- legitimate proofs: no false rejects ---------------------------------------------------------
ACCEPTED = [
    case("universe-explicit", "theorem a1.{u} (α : Sort u) (a : α) : a = a", "rfl", ok=True),
    case(
        "universe-header",
        "theorem a2 (α : Sort u) (a : α) : a = a",
        "rfl",
        "universe u",
        ok=True,
    ),
    case(
        "universe-two-levels",
        "theorem a3.{u, v} (α : Sort u) (β : Sort v) (f : α → β) (a : α) : f a = f a",
        "rfl",
        ok=True,
    ),
    case("guillemet-name-with-space", "theorem «my thm» : True", "trivial", ok=True),
    case(
        "guillemet-name-sorry",
        "theorem «sorry» : True",
        "trivial",
        ok=True,
    ),
    case(
        "guillemet-name-eval-axiom",
        "theorem «#eval axiom» : True",
        "trivial",
        ok=True,
    ),
    case(
        "guillemet-name-native-decide",
        "theorem «native_decide» : True",
        "trivial",
        ok=True,
    ),
    case(
        "variable-named-extern",
        "theorem v1 (extern : Nat) : extern + 0 = extern",
        "by simp",
        ok=True,
    ),
    case(
        "variable-named-implemented-by",
        "theorem v2 (implemented_by : Nat) : implemented_by = implemented_by",
        "rfl",
        ok=True,
    ),
    case(
        "variable-named-native",
        "theorem v3 (native : Nat) : 0 + native = native",
        "by simp",
        ok=True,
    ),
    case(
        "interpolated-then-comment-sorry",
        "theorem a4 : True",
        'by\n  have _s : String := s!"{1 + 1}"\n  trivial -- no sorry here, no axiom',
        ok=True,
    ),
    case(
        "strings-mention-sorry",
        "theorem a5 : True",
        '(fun (_ : String) => trivial) "sorry #eval axiom set_option debug.skipKernelTC"',
        ok=True,
    ),
    case(
        "comments-mention-sorry",
        "theorem a6 : True",
        "by\n  -- sorry #eval axiom native_decide\n  /- nested /- sorry -/ #exit -/\n  trivial",
        ok=True,
    ),
    case(
        "raw-and-char-literals",
        "theorem a7 : True",
        'by\n  have _r : String := r#"sorry "quoted""#\n  have _c : Char := \'"\'\n'
        '  have _b : String := r"\\"\n  trivial',
        ok=True,
    ),
    case(
        "match-proof",
        "theorem a8 (n : Nat) : n = 0 ∨ n ≠ 0",
        "match n with\n  | 0 => Or.inl rfl\n  | _ + 1 => Or.inr (by omega)",
        ok=True,
    ),
    case(
        "equations-proof-one-line",
        "theorem a9 : ∀ n : Nat, n + 0 = n",
        "| 0 => rfl | n + 1 => rfl",
        ok=True,
    ),
    case(
        "equations-proof-lines",
        "theorem a9' : ∀ n : Nat, n + 0 = n",
        "  | 0 => rfl\n  | n + 1 => rfl",
        ok=True,
    ),
    case(
        "induction-simp",
        "theorem a10 (xs : List Nat) : (xs ++ []).length = xs.length",
        "by\n  induction xs <;> simp",
        ok=True,
    ),
    case("omega", "theorem a11 (a b : Nat) (h : a < b) : a + 1 ≤ b", "by omega", ok=True),
    case("decide", "theorem a12 : 7 * 6 = 42", "by decide", ok=True),
    case("term-proof", "theorem a13 (p q : Prop) (hp : p) (hq : q) : p ∧ q", "⟨hp, hq⟩", ok=True),
    case("exact-anonymous", "theorem a14 : ∃ n : Nat, n + 1 = 3", "by exact ⟨_, rfl⟩", ok=True),
    case(
        "let-rec",
        "theorem a15 (n : Nat) : n + 0 = n",
        "by\n  let rec go : (m : Nat) → m + 0 = m\n    | 0 => rfl\n"
        "    | m + 1 => congrArg Nat.succ (go m)\n  exact go n",
        ok=True,
    ),
    case(
        "where-aux",
        "theorem a16 (n : Nat) : n * 1 = n",
        "aux n\nwhere aux (m : Nat) : m * 1 = m := by simp",
        ok=True,
    ),
    case(
        "termination-by-ok",
        "theorem a17 (n : Nat) : n - n = 0",
        "go n\nwhere\n  go : (m : Nat) → m - m = 0\n    | 0 => rfl\n    | m + 1 => by omega",
        ok=True,
    ),
    case(
        "header-open-and-def",
        "theorem a18 : helper 2 = succ 5",
        "by decide",
        "open Nat\ndef helper (n : Nat) : Nat := 3 * n",
        ok=True,
    ),
    case("open-in", "open Nat in theorem a19 : succ 1 = 2", "rfl", ok=True),
    case(
        "maxHeartbeats-in-bound",
        "set_option maxHeartbeats 400000 in\ntheorem a20 (n : Nat) : n + 0 = n",
        "by simp",
        ok=True,
    ),
    case(
        "maxHeartbeats-in-bound-tactic",
        "theorem a20' (n : Nat) : n + 0 = n",
        "by set_option maxHeartbeats 400000 in simp",
        ok=True,
    ),
    case(
        "maxRecDepth-in-bound-tactic",
        "theorem a20'' (n : Nat) : n + 0 = n",
        "by set_option maxRecDepth 2000 in simp",
        ok=True,
    ),
    case("pp-all-command", "set_option pp.all true in\ntheorem a21 : True", "trivial", ok=True),
    case(
        "pp-all-tactic",
        "theorem a22 (n : Nat) : n + 0 = n",
        "by\n  set_option pp.all true in\n  simp",
        ok=True,
    ),
    case(
        "trace-option-tactic",
        "theorem a23 (n : Nat) : n + 0 = n",
        "by set_option trace.Meta.Tactic.simp.rewrite true in simp",
        ok=True,
    ),
    case(
        "show-calc",
        "theorem a24 (a b c : Nat) (h1 : a = b) (h2 : b = c) : a = c",
        "by\n  show a = c\n  calc a = b := h1\n    _ = c := h2",
        ok=True,
    ),
    case(
        "conv",
        "theorem a25 (a b : Nat) : a + b = b + a",
        "by\n  conv => lhs; rw [Nat.add_comm]",
        ok=True,
    ),
    case(
        "simp-only",
        "theorem a26 (a : Nat) : a + 0 = a",
        "by simp only [Nat.add_zero]",
        ok=True,
    ),
    case("simp-attribute", "@[simp] theorem a27 (n : Nat) : n * 0 = 0", "by simp", ok=True),
    case("private-theorem", "private theorem a28 : True", "trivial", ok=True),
    case("protected-theorem", "protected theorem Foo.a29 : True", "trivial", ok=True),
    case("sort-placeholder", "theorem a30 (α : Sort _) (a : α) : a = a", "rfl", ok=True),
    case("root-theorem", "theorem _root_.a31 : True", "trivial", "namespace Deep", ok=True),
    case("namespaced-header", "theorem a32 : True", "trivial", "namespace Deep", ok=True),
    case("statement-ends-in-by", "theorem a33 (n : Nat) : n + 0 = n := by", "  simp", ok=True),
    case("exact-question", "theorem a34 (a b : Nat) : a + b = b + a", "by exact?", ok=True),
    case("classical", "theorem a35 (p : Prop) : p ∨ ¬p", "Classical.em p", ok=True),
    case(
        "native-decide-allowed",
        "open Nat in theorem a36 : 2 ^ 10 = 1024",
        "by native_decide",
        ok=True,
        allow_native_decide=True,
    ),
    case(
        "noncomputable-theorem-is-lean-error",
        "noncomputable theorem a30' : True",
        "trivial",
        why="noncomputable",
    ),
    case("long-commented-proof", "theorem a37 : True", "by\n" + PAD * 1000 + "  trivial", ok=True),
    case("nul-in-comment", "theorem a38 : True", "trivial -- \x00", ok=True),
    case(
        "trusted-header-def",
        "theorem a39 : helper = 3",
        "rfl",
        "def helper : Nat := 3",
        ok=True,
        trust_header=True,
    ),
    case(
        "dbg-trace-fake-reply-harmless",
        "theorem a40 : True",
        f"by\n  dbg_trace {FAKE_REPLY}\n  trivial",
        ok=True,
    ),
    case("grind", "theorem a42 (a b : Nat) (h : a = b) : b = a", "by grind", ok=True),
    case("decide-kernel-true", "theorem a43 : 12 * 12 = 144", "by decide +kernel", ok=True),
    case("instance-theorem", "@[instance] theorem a44 : Nonempty Nat", "⟨0⟩", ok=True),
    case("simp-reverse-attr", "@[simp ←] theorem a45 (n : Nat) : n = n + 0", "by simp", ok=True),
    case("local-simp-attr", "@[local simp] theorem a46 (n : Nat) : n + 0 = n", "by simp", ok=True),
    case(
        "two-opens-in",
        "open Nat in\nopen List in\ntheorem a47 : succ 0 = 1",
        "rfl",
        ok=True,
    ),
    case(
        "trace-option-command",
        "set_option trace.Meta.Tactic.simp true in\ntheorem a48 (n : Nat) : n + 0 = n",
        "by simp",
        ok=True,
    ),
    case("nonrec-theorem", "nonrec theorem a49 : True", "trivial", ok=True),
    case("docstring-statement", "/-- A docstring. -/\ntheorem a50 : True", "trivial", ok=True),
    case(
        "instance-binder",
        "theorem a51 [inst : Inhabited Nat] : (default : Nat) = default",
        "rfl",
        ok=True,
    ),
    case(
        "header-module-doc",
        "theorem a52 : helper = 3",
        "rfl",
        "import Init\n/-! module doc -/\ndef helper : Nat := 3",
        ok=True,
    ),
    case(
        "header-docstring-def",
        "theorem a53 : helper = 3",
        "rfl",
        "/-- doc -/\ndef helper : Nat := 3",
        ok=True,
    ),
    case(
        "crlf-line-endings",
        "theorem a54 (n : Nat) : n + 0 = n",
        "by\r\n  simp",
        ok=True,
    ),
    case(
        "profiler-output-option",
        "theorem a41 (n : Nat) : n + 0 = n",
        f'by\n  set_option trace.profiler true in\n  set_option trace.profiler.output "{MARK}" in\n'
        "  simp",
        ok=True,
    ),
]


def _fill(text: str, mark: Path) -> str:
    return text.replace(MARK, str(mark))


def _ran(mark: Path, texts: list[str]) -> bool:
    """Whether Lean's messages name the mark path: the text's code ran (and its write failed,
    say inside a sandbox), as no refusal quotes the path."""
    return any(str(mark) in t for t in texts)


@pytest.mark.parametrize("c", REFUSED + ACCEPTED)
def test_verdict(lean_server, tmp_path, c: Case):
    mark = tmp_path / "mark"
    verdict = verify(
        _fill(c.statement, mark),
        _fill(c.proof, mark),
        _fill(c.header, mark),
        server=lean_server,
        **c.options,
    )
    assert not mark.exists(), "the checked text wrote a file on the host"
    assert list(tmp_path.iterdir()) == []
    said = [*verdict.reasons, *(m.text for m in verdict.messages)]
    assert not _ran(mark, said), f"the checked text ran code: {said}"
    assert verdict.ok is c.ok, verdict.reasons
    if c.ok:
        assert "sorryAx" not in verdict.axioms
    else:
        assert verdict.reasons
        if c.why:
            assert any(w in r for w in c.why for r in verdict.reasons), verdict.reasons


# --- whole files ----------------------------------------------------------------------------------

FILES: dict[str, tuple[str, bool, str | None]] = {  # name: (text, ok, hole)
    "eval-writes": (f"theorem t : True := trivial\n#eval {WRITE}\n", False, None),
    "eval-bang-hidden-after-raw-string": (
        f'def s : String := r"\\"\n#eval! {WRITE}\ntheorem t : True := trivial\n',
        False,
        None,
    ),
    "open-in-eval": (f"open Nat in #eval {WRITE}\ntheorem t : True := trivial\n", False, None),
    "elab-writes": (
        f'import Lean\nelab "pwn" : tactic => do {WRITE}\ntheorem t : True := by pwn; trivial\n',
        False,
        None,
    ),
    "check-by-elab": (
        "import Lean\n#check (by_elab return Lean.mkConst ``True : Prop)\n"
        "theorem t : True := trivial\n",
        False,
        None,
    ),
    "good": (
        "import Init\n\nnamespace Demo\n\ntheorem z (n : Nat) : n + 0 = n := by simp\n\n"
        "theorem «with space» : True := trivial\n\nend Demo\n",
        True,
        None,
    ),
    "axiom-used": ("axiom ax : False\n\ntheorem t : False := ax\n", False, None),
    "raw-string-then-axiom": (
        'def s : String := r"\\"\naxiom ax : False\ntheorem t : False := ax\n',
        False,
        None,
    ),
    "axiom-same-line": (
        "theorem a : True := trivial axiom ax : False\ntheorem t : False := ax\n",
        False,
        None,
    ),
    "mutual-with-axiom": ("mutual\ntheorem t : False := ax\naxiom ax : False\nend\n", False, None),
    "implemented-by": (
        "def f (n : Nat) : Nat := n\n@[implemented_by f] def g (n : Nat) : Nat := n + 1\n"
        "theorem t : g 0 = 1 := rfl\n",
        False,
        None,
    ),
    "attribute-extern": (
        'theorem t : True := trivial\nattribute [extern "c"] Nat.succ\n',
        False,
        None,
    ),
    "skipKernelTC": (
        "set_option debug.skipKernelTC true\ntheorem t : 1 = 2 := by decide +kernel\n",
        False,
        None,
    ),
    "skipKernelTC-guillemet-in": (
        "set_option «debug».skipKernelTC true in\ntheorem t : 1 = 2 := by decide +kernel\n",
        False,
        None,
    ),
    "notation-for-sorry": ('notation "cheat" => sorry\ntheorem t : 1 = 2 := cheat\n', False, None),
    "macro": (
        'macro "cheat" : tactic => `(tactic| sorry)\ntheorem t : 1 = 2 := by cheat\n',
        False,
        None,
    ),
    "inhabited-false": (
        "instance : Inhabited False := ⟨sorry⟩\ntheorem t : False := default\n",
        False,
        None,
    ),
    "decidable-instance-smuggled": (
        "instance (priority := high) bad : DecidableEq Nat := fun _ _ => isTrue sorry\n"
        "theorem t : 1 = 2 := by decide\n",
        False,
        None,
    ),
    "non-positive-inductive": (
        "inductive Bad : Prop\n  | mk : (Bad → False) → Bad\n"
        "theorem t : False := by\n  have h : Bad → False := fun ⟨f⟩ => f ⟨f⟩\n  exact h ⟨h⟩\n",
        False,
        None,
    ),
    "guard-msgs-hides-error": (
        "theorem pre : True := trivial\n/-- error: unsolved goals\n⊢ False -/\n#guard_msgs in\n"
        "theorem t : False := by skip\n",
        False,
        None,
    ),
    "def-decreasing-by-sorry": (
        "def loop (n : Nat) : Nat := loop (n + 1)\ntermination_by n\ndecreasing_by sorry\n"
        "theorem t : loop 0 = loop 0 + 1 := by\n  rw [loop]\n  sorry\n",
        False,
        None,
    ),
    "example-with-sorry": ("theorem t0 : True := trivial\nexample : False := sorry\n", False, None),
    "native-decide": ("theorem t : 12 * 12 = 144 := by native_decide\n", False, None),
    "module-doc-first": ("/-! # Title -/\ntheorem t : True := trivial\n", True, None),
    "comment-first": ("-- a comment\ntheorem t : True := trivial\n", True, None),
    "doc-comment-later": (
        "theorem a : True := trivial\n/-- The answer. -/\ntheorem t : True := trivial\n",
        True,
        None,
    ),
    "export-variable-universe": (
        "export Nat (succ)\nuniverse u\nvariable (α : Sort u)\n"
        "theorem t (a : α) : a = a := rfl\ntheorem t2 : succ 0 = 1 := rfl\n",
        True,
        None,
    ),
    "opaque-structure-deriving": (
        "opaque o : Nat\nstructure P where\n  x : Nat\ninductive C | a | b deriving DecidableEq\n"
        "theorem t (p : P) : o = o ∧ p.x = p.x := ⟨rfl, rfl⟩\n"
        "theorem t2 : C.a ≠ C.b := by decide\n",
        True,
        None,
    ),
    "nested-namespaces-section": (
        "namespace A\nnamespace B\nsection\nvariable (n : Nat)\n"
        "theorem t : n + 0 = n := by simp\nend\nend B\nend A\n",
        True,
        None,
    ),
    "profiler-output": (
        f'set_option trace.profiler true\nset_option trace.profiler.output "{MARK}"\n'
        "theorem t (n : Nat) : n + 0 = n := by simp\n",
        True,
        None,
    ),
    "doc-comment-first": ("/-- The answer. -/\ntheorem t : True := trivial\n", True, None),
    "doc-comment-after-imports": (
        "import Init\n/-- The answer. -/\ntheorem t : True := trivial\n",
        True,
        None,
    ),
    "crlf-file": (
        "theorem t (n : Nat) : n + 0 = n := by\r\n  simp\r\n",
        True,
        None,
    ),
}


def _file_params() -> list[Any]:
    return [
        pytest.param(
            name,
            marks=[pytest.mark.xfail(strict=True, reason=f"hole: {hole}")] if hole else [],
        )
        for name, (_, _, hole) in FILES.items()
    ]


@pytest.mark.parametrize("name", _file_params())
def test_check_file(lean_server, tmp_path, name):
    text, ok, _ = FILES[name]
    src = tmp_path / "src"
    src.mkdir()
    mark = tmp_path / "mark"
    path = src / "input.lean"
    path.write_bytes(_fill(text, mark).encode("utf-8"))
    report = check_file(path, server=lean_server)
    assert not mark.exists(), "the checked file wrote a file on the host"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]
    said = [*report.errors, *(m.text for m in report.messages)]
    said += [r for t in report.theorems for r in t.verdict.reasons]
    assert not _ran(mark, said), f"the checked file ran code: {said}"
    assert report.ok is ok, (report.errors, [(t.name, t.verdict.reasons) for t in report.theorems])
    if ok:
        assert report.theorems and all(t.verdict.ok for t in report.theorems)
    else:
        assert report.errors or any(not t.verdict.ok for t in report.theorems)
        assert not any(t.name == "t" and t.verdict.ok for t in report.theorems)


@contextlib.contextmanager
def _shared(server):
    yield server


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("good", 0),
        ("eval-writes", 1),
        ("axiom-used", 1),
        ("raw-string-then-axiom", 1),
        ("macro", 1),
    ],
)
def test_cli_check_exit_code(lean_server, tmp_path, monkeypatch, capsys, name, code):
    """`leancot check` in-process on the session's server: exit 0 only for a sound file."""
    import leancot.lean.server as server_module

    monkeypatch.setattr(server_module, "LeanServer", lambda backend, **kw: _shared(lean_server))
    mark = tmp_path / "mark"
    path = tmp_path / f"{name}.lean"
    path.write_text(_fill(FILES[name][0], mark), encoding="utf-8")
    assert cli.main(["check", str(path)]) == code, capsys.readouterr()
    assert not mark.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
