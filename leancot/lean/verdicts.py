"""Judging what Lean reported: a `verify` reply in, a `Verdict` or `FileReport` out (no Lean calls).

`theorem_verdict` and `file_report` are pure functions of the reply of our REPL's `verify` request
(`lean_project/LeanCot/Repl.lean`; sent by verify.py): errors, `sorry`, the allow-list's refusals,
the theorem's kind and type against the reference, kernel replay, and the axioms the proof uses
(`axiom_problems`: propext, Classical.choice and Quot.sound; the compiler-trusting ones only with
`allow_native_decide`). `CheckOptions` is what the Lean side allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leancot.lean.protocol import error_text, parse_messages
from leancot.lean.results import Crashed, LeanError, Message, Timeout
from leancot.lean.screen import DEFAULT_MAX_HEARTBEATS, DEFAULT_MAX_REC_DEPTH, mask
from leancot.lean.source_text import THEOREM_KINDS, find_declarations

STANDARD_AXIOMS = frozenset({"propext", "Classical.choice", "Quot.sound"})
NATIVE_AXIOMS = frozenset(
    {
        "Lean.ofReduceBool",
        "Lean.ofReduceNat",
        "Lean.trustCompiler",
        "Lean.reduceBool",
        "Lean.reduceNat",
    }
)
# The core library whose .olean files the embedded Lean ships without proofs (Backend.
# stripped_library): its theorems look like axioms to `collectAxioms` and are trusted as theorems.
LIBRARY_ROOTS = frozenset({"Init", "Std", "Lean", "Lake"})


@dataclass(frozen=True)
class Verdict:
    """Whether a proof is accepted; if not, why. `axioms`: those the theorem depends on."""

    ok: bool
    reasons: tuple[str, ...] = ()
    axioms: tuple[str, ...] = ()
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class TheoremReport:
    name: str
    line: int
    verdict: Verdict


@dataclass(frozen=True)
class FileReport:
    """Per-theorem verdicts of a file, plus problems not inside any theorem (`file:line: ...`)."""

    path: Path
    theorems: tuple[TheoremReport, ...]
    errors: tuple[str, ...] = ()
    messages: tuple[Message, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and all(t.verdict.ok for t in self.theorems)

    def verdict(self, name: str) -> Verdict:
        for t in self.theorems:
            if t.name == name:
                return t.verdict
        raise KeyError(f"no theorem named {name!r} in {self.path}")


@dataclass(frozen=True)
class CheckOptions:
    """What the Lean side allows; shared by `verify` and `check_file`."""

    allow_native_decide: bool = False
    max_rec_depth: int = DEFAULT_MAX_REC_DEPTH
    max_heartbeats: int = DEFAULT_MAX_HEARTBEATS

    def request_fields(self) -> dict[str, Any]:
        return {
            "allowNativeDecide": self.allow_native_decide,
            "maxRecDepth": self.max_rec_depth,
            "maxHeartbeats": self.max_heartbeats,
        }


def problem_reasons(reply: Mapping[str, Any]) -> list[str]:
    """The commands Lean's allow-list refused (before elaborating them), as `line L:C: why`."""
    reasons = []
    for p in reply.get("problems") or ():
        pos = p.get("pos") or {}
        reasons.append(
            f"line {pos.get('line', 0)}:{pos.get('column', 0)}: {p.get('reason', 'not allowed')}"
        )
    return reasons


def _axiom_map(entry: Mapping[str, Any]) -> dict[str, str | None]:
    return {str(a["name"]): a.get("module") for a in entry.get("axioms") or ()}


def axiom_problems(
    axioms: tuple[str, ...] | Mapping[str, str | None],
    allow_native_decide: bool,
    *,
    stripped_library: bool = False,
) -> list[str]:
    """Why the axioms are not acceptable (empty: they are).

    `axioms` maps each axiom to the module it comes from (None: declared by the checked text). With
    `stripped_library` (see Backend) an imported "axiom" of the core library (Init, Std, Lean,
    Lake) is one of its theorems whose proof was not shipped, and is trusted; anything else that
    is not standard is rejected, `sorryAx` and the compiler-trusting axioms always.
    """
    modules = dict(axioms) if isinstance(axioms, Mapping) else dict.fromkeys(axioms)
    problems = []
    for a, module in modules.items():
        if a == "sorryAx":
            problems.append("the proof depends on `sorry` (axiom sorryAx)")
        elif a in NATIVE_AXIOMS:
            if not allow_native_decide:
                problems.append(f"the proof trusts the compiler (native_decide: {a})")
        elif a in STANDARD_AXIOMS:
            continue
        elif stripped_library and module is not None and module.split(".")[0] in LIBRARY_ROOTS:
            continue
        else:
            where = f" (from {module})" if module else ""
            problems.append(f"the proof depends on the axiom {a}{where}")
    return problems


def outcome_reason(what: str, outcome: LeanError | Timeout | Crashed) -> str:
    """Why `what` got no verdict: it timed out, Lean crashed, or Lean refused the request."""
    if isinstance(outcome, Timeout):
        return f"{what}: timed out after {outcome.seconds:g} s"
    if isinstance(outcome, Crashed):
        return f"{what}: Lean crashed ({outcome.reason})"
    return f"{what}: Lean refused the request ({outcome.error})"


REASON_CHARS = 600


def _short(text: str, limit: int = REASON_CHARS) -> str:
    """Lean's message text cut for a reason line (the full text stays in `messages`)."""
    return text if len(text) <= limit else text[:limit] + " …"


def located_reason(m: Message) -> str:
    """A message as a reason line: `line L:C: severity: text` (`header` before the statement)."""
    where = f"line {m.line}:{m.column}" if m.line > 0 else "header"
    return f"{where}: {m.severity}: {_short(m.text)}"


def theorem_verdict(
    reply: Mapping[str, Any], options: CheckOptions, *, stripped_library: bool
) -> Verdict:
    """Judge a `verify` reply in theorem mode (a pure function of what Lean reported)."""
    error = error_text(reply)
    if error is not None:
        return Verdict(False, (f"Lean refused the check: {error}",))
    messages = parse_messages(reply)
    reasons = problem_reasons(reply)
    if reasons:
        return Verdict(False, tuple(reasons), (), messages)
    reasons = [located_reason(m) for m in messages if m.is_error]
    if reply.get("sorries") or any(m.is_sorry_warning for m in messages):
        reasons.append("the proof uses `sorry`")
    info = reply.get("theorem") or {}
    name = info.get("name", "?")
    if not info.get("found"):
        reasons.append(f"the text does not declare the theorem {name}")
    elif info.get("kind") != "theorem":
        reasons.append(f"{name} is a {info.get('kind')}, not a theorem")
    else:
        if not info.get("typeMatches"):
            reasons.append(f"the type of {name} is not the statement's")
        if not info.get("levelsMatch"):
            reasons.append(f"the universe parameters of {name} are not the statement's")
    for extra in reply.get("extra") or ():
        reasons.append(f"the proof must not declare anything besides the theorem ({extra})")
    if reply.get("scopeChanged"):
        reasons.append("the proof must not change options, namespaces or `open`s")
    for n in reply.get("unsafe") or ():
        reasons.append(f"{n} is unsafe or implemented by foreign code")
    kernel = reply.get("kernel") or {}
    if not kernel.get("ok"):
        reasons.append(f"the kernel rejects the replayed declarations: {kernel.get('error')}")
    axioms: dict[str, str | None] = {}
    for entry in reply.get("axioms") or ():
        if entry.get("error"):
            reasons.append(f"could not collect the axioms of {name}: {entry['error']}")
        axioms.update(_axiom_map(entry))
    reasons += axiom_problems(
        axioms, options.allow_native_decide, stripped_library=stripped_library
    )
    return Verdict(not reasons, tuple(reasons), tuple(axioms), messages)


def file_report(
    path: Path,
    text: str,
    reply: Mapping[str, Any],
    options: CheckOptions,
    *,
    stripped_library: bool,
) -> FileReport:
    """Judge a `verify` reply in file mode (a pure function of what Lean reported)."""
    error = error_text(reply)
    if error is not None:
        return FileReport(path, (), (f"{path}: Lean refused the check: {error}",))
    messages = parse_messages(reply)
    refused = problem_reasons(reply)
    if refused:
        errors = tuple(f"{path}:{r.removeprefix('line ')}" for r in refused)
        note = f"not run: the file contains a command that is not allowed ({errors[0]})"
        theorems = tuple(
            TheoremReport(d.name, d.line, Verdict(False, (note,)))
            for d in find_declarations(mask(text), text)
            if d.kind in THEOREM_KINDS and d.name
        )
        return FileReport(path, theorems, errors, messages)
    commands = [c for c in reply.get("commands") or () if c.get("theorem")]
    axioms = {str(e.get("theorem")): e for e in reply.get("axioms") or ()}
    reasons: list[list[str]] = [[] for _ in commands]
    owned: list[list[Message]] = [[] for _ in commands]
    errors: list[str] = []

    def owner(line: int) -> int | None:
        for k, c in enumerate(commands):
            if int(c["line"]) <= line <= int(c["endLine"]):
                return k
        return None

    for m in messages:
        k = owner(m.line)
        if k is not None:
            owned[k].append(m)
        if m.is_error:
            reason = f"{path}:{m.line}:{m.column}: error: {_short(m.text)}"
        elif m.is_sorry_warning:
            reason = f"{path}:{m.line}:{m.column}: the proof uses `sorry`"
        else:
            continue
        (errors if k is None else reasons[k]).append(reason)
    for n in reply.get("unsafe") or ():
        errors.append(f"{path}: {n} is unsafe or implemented by foreign code")
    kernel = reply.get("kernel") or {}
    if not kernel.get("ok"):
        errors.append(
            f"{path}: the kernel rejects the replayed declarations: {kernel.get('error')}"
        )
        for r in reasons:
            r.append(f"the kernel replay of the file failed: {kernel.get('error')}")
    listed: list[tuple[str, ...]] = []
    for k, c in enumerate(commands):
        entry = axioms.get(str(c["theorem"]), {})
        found = _axiom_map(entry)
        listed.append(tuple(found))
        if entry.get("error") or not entry:
            reasons[k].append(
                f"{path}:{c['line']}: could not collect the axioms: {entry.get('error')}"
            )
        problems = axiom_problems(
            found, options.allow_native_decide, stripped_library=stripped_library
        )
        reasons[k].extend(f"{path}:{c['line']}: {p}" for p in problems)
    theorems = tuple(
        TheoremReport(str(c["theorem"]), int(c["line"]), Verdict(not r, tuple(r), ax, tuple(ms)))
        for c, r, ax, ms in zip(commands, reasons, listed, owned, strict=True)
    )
    return FileReport(path, theorems, tuple(errors), messages)
