"""Whole-proof verification with Lean as the judge (also behind `leancot check FILE.lean`).

The text is untrusted (model output, a downloaded dataset); what Lean built decides, not the text:
1. A fast text pass (screen.py) rejects plain `sorry`, `#eval` and the like without a Lean call;
   it runs only where its lexer understood the whole text, so it never rejects a proof Lean would
   accept for a reason Lean would not give.
2. Our REPL (`lean_project/LeanCot/Repl.lean`, the `verify` request) parses the text with Lean's
   own parser, one command at a time, and checks each command against an allow-list before it is
   elaborated: the theorem alone (optionally under `open … in` / harmless `set_option … in`); no
   code-running syntax (`#eval`, `run_tac`, `by_elab`, `unsafe`, …), no `sorry`, no options off
   the allow-list (guillemets or not: Lean resolves the name), no attributes that run code.
3. After elaboration, in Lean: the expected theorem exists with the kind and type of the
   reference statement elaborated alone; nothing but its auxiliary constants was added; the axioms
   it depends on (`collectAxioms`, with the module each comes from); every added constant is
   checked again by the kernel in the environment the text started from.
4. Here: errors, `sorry` and the axioms are judged (propext, Classical.choice, Quot.sound; the
   compiler-trusting ones with `allow_native_decide`).
The embedded WASM Lean runs in a sandbox (backends.py): no writable host directory but its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leancot.lean.protocol import error_text, parse_messages
from leancot.lean.results import (
    CommandResult,
    Crashed,
    LeanError,
    Message,
    StaleHandleError,
    Timeout,
)
from leancot.lean.screen import (
    DEFAULT_MAX_HEARTBEATS,
    DEFAULT_MAX_REC_DEPTH,
    ScreenHit,
    mask,
    mask_is_complete,
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
# The core library whose .olean files the embedded Lean ships without proofs (Backend.
# stripped_library): its theorems look like axioms to `collectAxioms` and are trusted as theorems.
LIBRARY_ROOTS = frozenset({"Init", "Std", "Lean", "Lake"})
THEOREM_KINDS = ("theorem", "lemma")
_DECL_KINDS = "theorem|lemma|def|abbrev|instance|example|opaque|axiom|structure|inductive|class"

_DECL = re.compile(
    r"^[ \t]*(?:@\[[^\]]*\][ \t]*)*(?:(?:private|protected|noncomputable|nonrec|partial|unsafe)"
    rf"[ \t]+)*({_DECL_KINDS})(?![\w'])[ \t]*([^\s(\[{{:⦃]*)",
    re.M,
)
_SCOPE = re.compile(
    r"^[ \t]*(?:noncomputable[ \t]+)?(namespace|section|end|mutual)(?![\w'])"
    r"[ \t]*([^\s]*)",
    re.M,
)
_HEADER_LINE = re.compile(r"\s*(?:(?:(?:public|meta|private)\s+)*import\s.*|prelude|module)?\s*")


@dataclass(frozen=True)
class Verdict:
    """Whether a proof is accepted; if not, why. `axioms`: those the theorem depends on."""

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
    """Top-level declarations of a masked text, with names qualified by `namespace` blocks.

    A text-level approximation for tools that index files (the extractor); verification asks Lean.
    """
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
    while (
        k < len(lines)
        and _HEADER_LINE.fullmatch(masked_lines[k].rstrip("\n"))
        and not lines[k].lstrip().startswith(("/--", "/-!"))  # a doc comment starts the body
    ):
        k += 1
    return "".join(lines[:k]), "".join(lines[k:])


def assemble(statement: str, proof: str) -> str:
    """The declaration text: `proof` is what follows `:=` (`by ...` or a term), or starts with
    `:=` or `|`; a statement ending in `:= by` takes tactic lines as the proof."""
    s = statement.rstrip()
    p = proof.strip("\n").rstrip()
    if p.lstrip().startswith("|") and "\n" in p:  # equations on their own lines, as written
        return f"{s}\n{p}"
    if re.search(r":=\s*by$", s):
        return f"{s}\n{p}" if "\n" in p or p.startswith(" ") else f"{s} {p}"
    p = p.strip()
    if s.endswith(":=") or p.startswith((":=", "|")):
        return f"{s} {p}"
    return f"{s} := {p}"


def reference_text(statement: str) -> str:
    """The statement with a `sorry` proof: elaborated alone, it gives the expected type."""
    s = statement.rstrip()
    return f"{s} sorry" if re.search(r":=(\s*by)?$", s) else f"{s} := sorry"


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
    if isinstance(outcome, Timeout):
        return f"{what}: timed out after {outcome.seconds:g} s"
    if isinstance(outcome, Crashed):
        return f"{what}: Lean crashed ({outcome.reason})"
    return f"{what}: Lean refused the request ({outcome.error})"


def unencodable(text: str) -> str | None:
    """Why `text` cannot be sent to Lean as UTF-8 (a lone surrogate, say), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as e:
        line = text.count("\n", 0, e.start) + 1
        return f"not valid Unicode text: {e.reason} at offset {e.start} (line {line})"
    return None


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n")


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
    reasons = [_located(m) for m in messages if m.is_error]
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


def base_env(
    server: LeanServer,
    imports: str,
    preamble: str,
    options: CheckOptions,
    trust_header: bool = False,
) -> CommandResult | str:
    """The environment after a header (cached while the process lives), or why there is none.

    The preamble (what follows the imports: `open`s, definitions) passes Lean's allow-list and
    kernel replay like a checked file, unless `trust_header`.
    """
    hdr = server.header_env(imports)
    if not isinstance(hdr, CommandResult):
        return f"header: {outcome_reason('imports', hdr)}"
    if hdr.errors:
        return "header: imports: " + "; ".join(m.text for m in hdr.errors)
    if not preamble.strip():
        return hdr

    def elaborate() -> CommandResult | LeanError | Timeout | Crashed:
        if trust_header:
            return server.run_cmd(preamble, env=hdr)
        reply = server.verify_text(preamble, hdr, mode="file", fields=options.request_fields())
        if isinstance(reply, (Timeout, Crashed)):
            return reply
        refused = problem_reasons(reply) or (
            [] if (reply.get("kernel") or {}).get("ok") else ["the kernel rejects its declarations"]
        )
        if error_text(reply) is not None or refused or "env" not in reply:
            why = "; ".join(refused) or error_text(reply) or "no environment"
            return LeanError(f"{why} (pass trust_header / --trust-header if you trust it)")
        return CommandResult(int(reply["env"]), parse_messages(reply), generation=hdr.generation)

    key = f"{'trusted' if trust_header else 'checked'} {options}\n{imports}\0{preamble}"
    result = server.memo_env(key, elaborate)
    if not isinstance(result, CommandResult):
        return outcome_reason("header", result)
    if result.errors:
        return "header: " + "; ".join(_located(m) for m in result.errors)
    return result


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
    trust_header: bool = False,
) -> Verdict:
    """Check `statement` + `proof` from scratch after `header` (imports, then `open`s etc.).

    Message lines in the verdict count from the statement's first line. `timeout` is the budget
    for checking the theorem (the header gets the server's default). The header is untrusted too:
    commands in it that run code are refused unless `trust_header`.
    """
    for what, text in (("statement", statement), ("proof", proof), ("header", header)):
        problem = unencodable(text)
        if problem is not None:
            return Verdict(False, (f"the {what} is {problem}",))
    # as Lean's frontend reads files: CRLF line endings are plain newlines
    statement, proof, header = (normalize_newlines(x) for x in (statement, proof, header))
    options = CheckOptions(allow_native_decide, max_rec_depth, max_heartbeats)
    imports, preamble = split_header(header)
    theorem = assemble(statement, proof)
    if mask_is_complete(theorem):  # the fast pass, only where the lexer is sure
        hits = screen_hits(
            theorem,
            allow_native_decide=allow_native_decide,
            max_rec_depth=max_rec_depth,
            max_heartbeats=max_heartbeats,
        )
        if hits:
            return Verdict(False, tuple(str(h) for h in hits))
    for attempt in range(2):
        try:
            base = base_env(server, imports, preamble, options, trust_header)
            if isinstance(base, str):
                return Verdict(False, (base,))
            reply = server.verify_text(
                theorem,
                base,
                mode="theorem",
                reference=reference_text(statement),
                fields=options.request_fields(),
                timeout=timeout,
            )
        except StaleHandleError:  # the process died between two of our requests: redo once
            if attempt:
                raise
            continue
        if isinstance(reply, (Timeout, Crashed)):
            return Verdict(False, (outcome_reason("proof", reply),))
        return theorem_verdict(reply, options, stripped_library=server.backend.stripped_library)
    raise AssertionError("unreachable")


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
    """Check every theorem of a Lean file; `timeout` is the budget for the whole file.

    The whole file is untrusted: its commands pass Lean's allow-list (declarations, `open`,
    `namespace`, `variable`, notation, harmless options) before they are elaborated; every
    constant it adds is replayed through the kernel; each theorem's axioms are collected in Lean.
    """
    path = Path(path)
    text = normalize_newlines(read_lean_file(path))
    options = CheckOptions(allow_native_decide, max_rec_depth, max_heartbeats)
    imports, rest = split_header(text)
    body = "\n" * imports.count("\n") + rest  # keeps the file's line numbers
    for attempt in range(2):
        try:
            hdr = server.header_env(imports)
            if not isinstance(hdr, CommandResult):
                return FileReport(path, (), (f"{path}: {outcome_reason('imports', hdr)}",))
            if hdr.errors:
                errors = tuple(f"{path}: imports: {m.text}" for m in hdr.errors)
                return FileReport(path, (), errors, hdr.messages)
            reply = server.verify_text(
                body, hdr, mode="file", fields=options.request_fields(), timeout=timeout
            )
        except StaleHandleError:  # the process died between two of our requests: redo once
            if attempt:
                raise
            continue
        if isinstance(reply, (Timeout, Crashed)):
            return FileReport(path, (), (f"{path}: {outcome_reason('file', reply)}",))
        return file_report(
            path, text, reply, options, stripped_library=server.backend.stripped_library
        )
    raise AssertionError("unreachable")


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
            for d in find_declarations(mask(text))
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


__all__ = [
    "CheckOptions",
    "FileReport",
    "ScreenHit",
    "TheoremReport",
    "Verdict",
    "check_file",
    "verify",
]
