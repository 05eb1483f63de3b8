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
This module sends the requests (`verify`, `check_file`); verdicts.py judges the replies and
source_text.py holds the text helpers (names other modules import from here are re-exported).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from leancot.lean.protocol import error_text, parse_messages
from leancot.lean.results import CommandResult, Crashed, LeanError, StaleHandleError, Timeout
from leancot.lean.screen import (
    DEFAULT_MAX_HEARTBEATS,
    DEFAULT_MAX_REC_DEPTH,
    ScreenHit,
    mask_is_complete,
    screen_hits,
)
from leancot.lean.server import LeanServer
from leancot.lean.source_text import (
    THEOREM_KINDS,
    assemble,
    find_declarations,
    normalize_newlines,
    read_lean_file,
    reference_text,
    split_header,
    unencodable,
)
from leancot.lean.verdicts import (
    CheckOptions,
    FileReport,
    TheoremReport,
    Verdict,
    file_report,
    located_reason,
    outcome_reason,
    problem_reasons,
    theorem_verdict,
)

T = TypeVar("T")


def _redo_once_if_stale(check: Callable[[], T]) -> T:
    """`check()`, run once more if a handle went stale (the process died between two of its
    requests); a second StaleHandleError propagates."""
    try:
        return check()
    except StaleHandleError:
        return check()


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
        return "header: " + "; ".join(located_reason(m) for m in result.errors)
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

    def check() -> Verdict:
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
        if isinstance(reply, (Timeout, Crashed)):
            return Verdict(False, (outcome_reason("proof", reply),))
        return theorem_verdict(reply, options, stripped_library=server.backend.stripped_library)

    return _redo_once_if_stale(check)


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

    def check() -> FileReport:
        hdr = server.header_env(imports)
        if not isinstance(hdr, CommandResult):
            return FileReport(path, (), (f"{path}: {outcome_reason('imports', hdr)}",))
        if hdr.errors:
            errors = tuple(f"{path}: imports: {m.text}" for m in hdr.errors)
            return FileReport(path, (), errors, hdr.messages)
        reply = server.verify_text(
            body, hdr, mode="file", fields=options.request_fields(), timeout=timeout
        )
        if isinstance(reply, (Timeout, Crashed)):
            return FileReport(path, (), (f"{path}: {outcome_reason('file', reply)}",))
        return file_report(
            path, text, reply, options, stripped_library=server.backend.stripped_library
        )

    return _redo_once_if_stale(check)


__all__ = [  # with the names of verdicts.py and source_text.py that other modules import from here
    "THEOREM_KINDS",
    "CheckOptions",
    "FileReport",
    "ScreenHit",
    "TheoremReport",
    "Verdict",
    "base_env",
    "check_file",
    "find_declarations",
    "read_lean_file",
    "verify",
]
