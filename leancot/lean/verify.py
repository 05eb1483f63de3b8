"""Whole-proof verification with Lean as the judge (also behind `leancot check FILE.lean`).

1. Screen the text (screen.py): constructs that run code or break soundness are rejected unseen.
2. Elaborate the imports as their own environment (cached per header by the server), then the
   rest in that environment; any error, or `sorry`, rejects.
3. `#print axioms NAME`: only propext, Classical.choice and Quot.sound are accepted
   (Lean.ofReduceBool / Lean.trustCompiler too with `allow_native_decide`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from leancot.lean.results import (
    CommandResult,
    Crashed,
    LeanError,
    Message,
    StaleHandleError,
    Timeout,
)
from leancot.lean.screen import (
    _IDENT_HEAD,
    _IDENT_TAIL,
    DEFAULT_MAX_HEARTBEATS,
    DEFAULT_MAX_REC_DEPTH,
    ScreenHit,
    attribute_spans,
    mask,
    screen_hits,
)
from leancot.lean.server import LeanServer

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
THEOREM_KINDS = ("theorem", "lemma")
_DECL_KINDS = "theorem|lemma|def|abbrev|instance|example|opaque|axiom|structure|inductive|class"

_DECL = re.compile(
    r"^[ \t]*(?:@\[[^\]]*\][ \t]*)*(?:(?:private|protected|noncomputable|nonrec|partial|unsafe)"
    rf"[ \t]+)*({_DECL_KINDS})(?![\w'])[ \t]*([^\s(\[{{:⦃]*)",
    re.M,
)
_DECL_ANYWHERE = re.compile(_IDENT_HEAD + rf"(?:{_DECL_KINDS})" + _IDENT_TAIL)
_SCOPE = re.compile(
    r"^[ \t]*(?:noncomputable[ \t]+)?(namespace|section|end|mutual)(?![\w'])"
    r"[ \t]*([^\s]*)",
    re.M,
)
_HEADER_LINE = re.compile(r"\s*(?:(?:(?:public|meta|private)\s+)*import\s.*|prelude|module)?\s*")
_AXIOMS = re.compile(r"depends on axioms:\s*\[(.*?)\]", re.S)
_NO_AXIOMS = "does not depend on any axioms"


@dataclass(frozen=True)
class Verdict:
    """Whether a proof is accepted; if not, why. `axioms` as `#print axioms` listed them."""

    ok: bool
    reasons: tuple[str, ...] = ()
    axioms: tuple[str, ...] = ()
    messages: tuple[Message, ...] = ()


@dataclass(frozen=True)
class Declaration:
    kind: str
    name: str  # qualified by the enclosing namespaces; "" for `example`/anonymous instances
    line: int  # 1-based


def find_declarations(masked: str) -> list[Declaration]:
    """Top-level declarations of a masked text, with names qualified by `namespace` blocks."""
    events = sorted(
        [(m.start(), "scope", m) for m in _SCOPE.finditer(masked)]
        + [(m.start(), "decl", m) for m in _DECL.finditer(masked)],
        key=lambda e: e[0],
    )
    stack: list[tuple[str, str]] = []
    decls = []
    for offset, what, m in events:
        kind, name = m.group(1), m.group(2)
        if what == "scope":
            if kind == "end":
                if stack:
                    stack.pop()
            else:
                stack.append((kind, name if kind != "mutual" else ""))
            continue
        if name.startswith("_root_."):
            full = name[len("_root_.") :]
        else:
            prefix = ".".join(n for k, n in stack if k == "namespace" and n)
            full = f"{prefix}.{name}" if prefix and name else name
        decls.append(Declaration(kind, full, masked.count("\n", 0, offset) + 1))
    return decls


def split_header(text: str) -> tuple[str, str]:
    """(leading import lines, the rest); comments before and between imports stay in the header."""
    masked = mask(text)
    lines = text.splitlines(keepends=True)
    masked_lines = masked.splitlines(keepends=True)
    k = 0
    while k < len(lines) and _HEADER_LINE.fullmatch(masked_lines[k].rstrip("\n")):
        k += 1
    return "".join(lines[:k]), "".join(lines[k:])


def assemble(statement: str, proof: str) -> str:
    """The declaration text: `proof` is what follows `:=` (`by ...` or a term), or starts with
    `:=` or `|`; a statement ending in `:= by` takes tactic lines as the proof."""
    s = statement.rstrip()
    p = proof.strip("\n").rstrip()
    if re.search(r":=\s*by$", s):
        return f"{s}\n{p}" if "\n" in p or p.startswith(" ") else f"{s} {p}"
    p = p.strip()
    if s.endswith(":=") or p.startswith((":=", "|")):
        return f"{s} {p}"
    return f"{s} := {p}"


def parse_axioms(text: str) -> tuple[str, ...] | None:
    """The axioms named in a `#print axioms` message (None if it is not one)."""
    if _NO_AXIOMS in text:
        return ()
    m = _AXIOMS.search(text)
    if m is None:
        return None
    return tuple(a.strip() for a in m.group(1).split(",") if a.strip())


def axiom_problems(
    axioms: tuple[str, ...],
    allow_native_decide: bool,
    *,
    stripped_library: bool = False,
    local_names: frozenset[str] = frozenset(),
) -> list[str]:
    """Why the listed axioms are not acceptable (empty: they are).

    With `stripped_library` (see Backend), `#print axioms` also lists imported library theorems
    whose proofs were stripped; then only sorryAx, the compiler-trusting axioms and names declared
    in the checked text itself are rejected, and the library is trusted.
    """
    problems = []
    for a in axioms:
        if a == "sorryAx":
            problems.append("the proof depends on `sorry` (axiom sorryAx)")
        elif a in NATIVE_AXIOMS:
            if not allow_native_decide:
                problems.append(f"the proof trusts the compiler (native_decide: {a})")
        elif a in STANDARD_AXIOMS or (stripped_library and a not in local_names):
            continue
        else:
            problems.append(f"the proof depends on the axiom {a}")
    return problems


def outcome_reason(what: str, outcome: LeanError | Timeout | Crashed) -> str:
    if isinstance(outcome, Timeout):
        return f"{what}: timed out after {outcome.seconds:g} s"
    if isinstance(outcome, Crashed):
        return f"{what}: Lean crashed ({outcome.reason})"
    return f"{what}: Lean refused the request ({outcome.error})"


def _count_declarations(masked: str) -> int:
    chars = list(masked)
    for start, end in attribute_spans(masked):
        chars[start:end] = " " * (end - start)
    return len(_DECL_ANYWHERE.findall("".join(chars)))


def verify(
    statement: str,
    proof: str,
    header: str = "",
    *,
    server: LeanServer,
    allow_native_decide: bool = False,
    max_rec_depth: int = DEFAULT_MAX_REC_DEPTH,
    max_heartbeats: int = DEFAULT_MAX_HEARTBEATS,
    timeout: float | None = None,
) -> Verdict:
    """Check `statement` + `proof` from scratch after `header` (imports, then `open`s etc.).

    Message lines in the verdict count from the statement's first line. `timeout` is the budget
    for elaborating the theorem (the imports get the server's default).
    """
    imports, preamble = split_header(header)
    if preamble and not preamble.endswith("\n"):
        preamble += "\n"
    theorem = assemble(statement, proof)
    body = preamble + theorem
    offset = preamble.count("\n")
    options = dict(
        max_rec_depth=max_rec_depth,
        max_heartbeats=max_heartbeats,
        allow_native_decide=allow_native_decide,
    )
    reasons = [f"header {h}" for h in screen_hits(imports + preamble, **options)]
    reasons += [str(h) for h in screen_hits(theorem, **options)]
    stated = find_declarations(mask(statement))
    if not stated or stated[0].kind not in THEOREM_KINDS or not stated[0].name:
        reasons.append("the statement must start with `theorem NAME` (or `lemma NAME`)")
    elif _count_declarations(mask(theorem)) != 1:
        reasons.append("the proof must not declare anything besides the theorem itself")
    if reasons:
        return Verdict(False, tuple(reasons))
    declared = find_declarations(mask(body))
    name, local_names = declared[-1].name, frozenset(d.name for d in declared)
    for attempt in range(2):
        try:
            return _check(
                server, imports, body, offset, name, local_names, allow_native_decide, timeout
            )
        except StaleHandleError:  # the process died between two of our requests: redo once
            if attempt:
                raise
    raise AssertionError("unreachable")


def _check(
    server: LeanServer,
    imports: str,
    body: str,
    offset: int,
    name: str,
    local_names: frozenset[str],
    allow_native_decide: bool,
    timeout: float | None,
) -> Verdict:
    hdr = server.header_env(imports)
    if not isinstance(hdr, CommandResult):
        return Verdict(False, (outcome_reason("imports", hdr),))
    if hdr.errors:
        return Verdict(False, tuple(f"imports: {m.text}" for m in hdr.errors), (), hdr.messages)
    res = server.run_cmd(body, env=hdr, timeout=timeout)
    if not isinstance(res, CommandResult):
        return Verdict(False, (outcome_reason("proof", res),))
    messages = tuple(m.shifted(-offset) for m in res.messages)
    reasons = [_located(m) for m in messages if m.is_error]
    if res.has_sorry:
        reasons.append("the proof uses `sorry`")
    if reasons:
        return Verdict(False, tuple(reasons), (), messages)
    printed = server.run_cmd(f"#print axioms {name}", env=res, timeout=timeout)
    if not isinstance(printed, CommandResult):
        return Verdict(False, (outcome_reason("#print axioms", printed),), (), messages)
    axioms = None
    for m in printed.messages:
        axioms = parse_axioms(m.text) if axioms is None else axioms
    if printed.errors or axioms is None:
        detail = "; ".join(m.text for m in printed.messages) or "no output"
        return Verdict(False, (f"could not list the axioms of {name}: {detail}",), (), messages)
    problems = axiom_problems(
        axioms,
        allow_native_decide,
        stripped_library=server.backend.stripped_library,
        local_names=local_names,
    )
    return Verdict(not problems, tuple(problems), axioms, messages)


REASON_CHARS = 600


def _short(text: str, limit: int = REASON_CHARS) -> str:
    """Lean's message text cut for a reason line (the full text stays in `messages`)."""
    return text if len(text) <= limit else text[:limit] + " …"


def _located(m: Message) -> str:
    where = f"line {m.line}:{m.column}" if m.line > 0 else "header"
    return f"{where}: {m.severity}: {_short(m.text)}"


# --- whole files --------------------------------------------------------------------------------


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


def read_lean_file(path: Path) -> str:
    """The file's text; a ValueError naming the file and byte offset if it is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ValueError(
            f"{path}: not valid UTF-8 at byte offset {e.start} (line {line})"
        ) from None


def check_file(
    path: Path | str,
    *,
    server: LeanServer,
    allow_native_decide: bool = False,
    max_rec_depth: int = DEFAULT_MAX_REC_DEPTH,
    max_heartbeats: int = DEFAULT_MAX_HEARTBEATS,
    timeout: float | None = None,
) -> FileReport:
    """Check every `theorem`/`lemma` of a Lean file; `timeout` is the budget for the whole file."""
    path = Path(path)
    text = read_lean_file(path)
    masked = mask(text)
    imports, rest = split_header(text)
    header_lines = imports.count("\n")
    hits = screen_hits(
        text,
        allow_native_decide=allow_native_decide,
        max_rec_depth=max_rec_depth,
        max_heartbeats=max_heartbeats,
    )
    decls = find_declarations(masked)
    total_lines = text.count("\n") + 1
    ranges: list[tuple[Declaration, int]] = []  # theorem, last line of its range
    for i, d in enumerate(decls):
        if d.kind in THEOREM_KINDS and d.name:
            end = decls[i + 1].line - 1 if i + 1 < len(decls) else total_lines
            ranges.append((d, max(end, d.line)))

    def owner(line: int) -> int | None:
        for k, (d, end) in enumerate(ranges):
            if d.line <= line <= end:
                return k
        return None

    reasons: list[list[str]] = [[] for _ in ranges]
    axioms: list[tuple[str, ...]] = [() for _ in ranges]
    theorem_messages: list[list[Message]] = [[] for _ in ranges]
    errors: list[str] = []

    def attach(line: int, reason: str) -> None:
        k = owner(line)
        (errors if k is None else reasons[k]).append(f"{path}:{reason}")

    for h in hits:
        attach(h.line, f"{h.line}: {h.reason}")
    messages: tuple[Message, ...] = ()
    blocked = [h for h in hits if h.runs_code]
    if blocked:
        note = f"not run: the file contains code that would run ({path}:{blocked[0]})"
        for r in reasons:
            r.append(note)
    else:
        failure, env = _run_file(server, imports, "\n" * header_lines + rest, timeout)
        messages = env.messages if env is not None else ()
        if failure is not None:
            errors.append(f"{path}: {failure}")
            for r in reasons:
                r.append(failure)
        for m in messages:
            k = owner(m.line)
            if k is not None:
                theorem_messages[k].append(m)
            if m.is_error:
                attach(m.line, f"{m.line}:{m.column}: error: {_short(m.text)}")
            elif m.is_sorry_warning:
                attach(m.line, f"{m.line}:{m.column}: the proof uses `sorry`")
        if env is not None and ranges:
            local_names = frozenset(d.name for d in decls)
            _file_axioms(
                server,
                env,
                path,
                ranges,
                reasons,
                axioms,
                local_names,
                allow_native_decide,
                timeout,
            )
    theorems = tuple(
        TheoremReport(d.name, d.line, Verdict(not r, tuple(r), ax, tuple(ms)))
        for (d, _), r, ax, ms in zip(ranges, reasons, axioms, theorem_messages, strict=True)
    )
    return FileReport(path, theorems, tuple(errors), messages)


def _run_file(
    server: LeanServer, imports: str, body: str, timeout: float | None
) -> tuple[str | None, CommandResult | None]:
    """(why it could not be elaborated, or None; the environment after the file)."""
    for attempt in range(2):
        try:
            hdr = server.header_env(imports)
            if not isinstance(hdr, CommandResult):
                return outcome_reason("imports", hdr), None
            if hdr.errors:
                return "imports: " + "; ".join(m.text for m in hdr.errors), None
            res = server.run_cmd(body, env=hdr, timeout=timeout)
        except StaleHandleError:  # the process died between two of our requests: redo once
            if attempt:
                raise
            continue
        if not isinstance(res, CommandResult):
            return outcome_reason("file", res), None
        return None, res
    raise AssertionError("unreachable")


def _file_axioms(
    server: LeanServer,
    env: CommandResult,
    path: Path,
    ranges: list[tuple[Declaration, int]],
    reasons: list[list[str]],
    axioms: list[tuple[str, ...]],
    local_names: frozenset[str],
    allow_native_decide: bool,
    timeout: float | None,
) -> None:
    cmd = "\n".join(f"#print axioms {d.name}" for d, _ in ranges)
    try:
        printed: CommandResult | LeanError | Timeout | Crashed = server.run_cmd(
            cmd, env=env, timeout=timeout
        )
    except StaleHandleError:
        printed = Crashed("the Lean process restarted before the axioms were listed")
    if not isinstance(printed, CommandResult):
        for r in reasons:
            r.append(outcome_reason("#print axioms", printed))
        return
    seen = [False] * len(ranges)
    for m in printed.messages:
        k = m.line - 1
        if not 0 <= k < len(ranges):
            continue
        seen[k] = True
        listed = parse_axioms(m.text)
        if m.is_error or listed is None:
            if not reasons[k]:
                reasons[k].append(f"{path}:{ranges[k][0].line}: could not list axioms: {m.text}")
            continue
        axioms[k] = listed
        problems = axiom_problems(
            listed,
            allow_native_decide,
            stripped_library=server.backend.stripped_library,
            local_names=local_names,
        )
        reasons[k].extend(f"{path}:{ranges[k][0].line}: {p}" for p in problems)
    for k, done in enumerate(seen):
        if not done and not reasons[k]:
            reasons[k].append(f"{path}:{ranges[k][0].line}: `#print axioms` gave no answer")


__all__ = [
    "FileReport",
    "ScreenHit",
    "TheoremReport",
    "Verdict",
    "check_file",
    "verify",
]
