"""A fast text pass for proofs before Lean sees them: keywords that run code or break soundness.

Only Lean keywords are matched (`sorry`, `#eval`, `run_tac`, `axiom`, `native_decide`, …), never
identifiers a proof may legitimately use; Lean's own allow-list (verify.py) decides the rest.

Matching happens on the text with comments and string contents blanked (`mask`), so a `sorry` in a
comment does not count. Where the lexing could disagree with Lean's (a string that might be
interpolated, a quote next to a character literal) the rest is left unmasked and `verify` skips
the text pass (`mask_is_complete`): what Lean parses is what counts.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

DEFAULT_MAX_REC_DEPTH = 10_000
DEFAULT_MAX_HEARTBEATS = 1_000_000

# Attributes that only tag lemmas for automation or change reducibility; anything else (elaborator
# registration, `extern`, `implemented_by`, `export`, `init`, meta extensions) is rejected.
ALLOWED_ATTRIBUTES = frozenset(
    """simp reducible irreducible semireducible instance inline noinline always_inline specialize
    macro_inline ext norm_cast push_cast elab_as_elim elab_without_expected_type
    induction_eliminator cases_eliminator default_instance class refl symm trans congr grind gcongr
    mono nolint simps
    to_additive coe deprecated match_pattern inherit_doc pp_nodot pp_with_univ
    pp_using_anonymous_constructor bound fun_prop continuity measurability wf_preprocess
    expose local scoped""".split()
)

_IDENT_TAIL = r"(?![\w'!?])"
_IDENT_HEAD = r"(?<![\w'.!?»])"


def _is_ident_char(c: str) -> bool:
    return c.isalnum() or c in "_'!?»"


_CHAR_LIT = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'\n])'")
_RAW_STRING = re.compile(r'r(#*)"')


def mask(text: str) -> str:
    """`text` with comments and the contents of string/char literals replaced by spaces.

    Newlines are kept, so offsets and line numbers stay valid. From the first ambiguous spot on,
    nothing more is masked.
    """
    return _mask(text)[0]


def mask_is_complete(text: str) -> bool:
    """Whether `mask` understood the whole text (no ambiguous spot where it stopped masking)."""
    return _mask(text)[1]


def _mask(text: str) -> tuple[str, bool]:
    out = list(text)
    n = len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    i = 0
    while i < n:
        c = text[i]
        if c == "-" and text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c == "/" and text.startswith("/-", i):
            j = _block_comment_end(text, i)
            blank(i, j)
            i = j
        elif c == "«":  # a quoted name: its text is not code
            j = text.find("»", i)
            if j < 0:
                break
            blank(i + 1, j)
            i = j + 1
        elif c == "'":
            m = _CHAR_LIT.match(text, i)
            if m is None:
                i += 1
            elif i > 0 and _is_ident_char(text[i - 1]):
                if '"' in m.group():  # a name's prime followed by a string, or a char literal?
                    break
                i += 1
            else:
                blank(i + 1, m.end() - 1)
                i = m.end()
        elif (
            c == "r" and (i == 0 or not _is_ident_char(text[i - 1])) and _RAW_STRING.match(text, i)
        ):
            m = _RAW_STRING.match(text, i)
            assert m is not None
            close = '"' + m.group(1)
            j = text.find(close, m.end())
            if j < 0 or "{" in text[m.end() : j]:
                break
            blank(m.end(), j)
            i = j + len(close)
        elif c == '"':
            j = _string_end(text, i + 1)
            if j is None or "{" in text[i + 1 : j]:  # maybe an interpolated string: stop here
                break
            blank(i + 1, j)
            i = j + 1
        else:
            i += 1
    return "".join(out), i >= n


def _block_comment_end(text: str, start: int) -> int:
    """End offset of the (nested) block comment opening at `start`, as Lean's lexer finds it."""
    depth, i, n = 1, start + 2, len(text)
    while i < n:
        if text.startswith("-/", i):
            depth -= 1
            i += 2
            if depth == 0:
                return i
        elif text.startswith("/-", i):
            depth += 1
            i += 2
        else:
            i += 1
    return n


def _string_end(text: str, i: int) -> int | None:
    """Offset of the closing quote of a string whose contents start at `i`."""
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i
        else:
            i += 1
    return None


@dataclass(frozen=True)
class ScreenHit:
    """A rejected construct at a 1-based line; `runs_code` marks those unsafe to even elaborate."""

    line: int
    reason: str
    runs_code: bool

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


def _kw(word: str) -> re.Pattern[str]:
    return re.compile(_IDENT_HEAD + re.escape(word) + _IDENT_TAIL)


_CODE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"#eval!?" + _IDENT_TAIL), "`#eval` runs code"),
    (re.compile(r"#guard" + _IDENT_TAIL), "`#guard` runs code"),
    *(
        (_kw(w), f"`{w}` runs meta code")
        for w in "run_cmd run_tac run_elab run_meta by_elab initialize builtin_initialize".split()
    ),
    *(
        (_kw(w), f"`{w}` defines new syntax or elaborators")
        for w in (
            "elab elab_rules macro macro_rules syntax declare_syntax_cat simproc dsimproc "
            "simproc_decl"
        ).split()
    ),
    (_kw("unsafe"), "`unsafe` code is not allowed"),
)

_SOUNDNESS_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_kw("sorry"), "`sorry` is not a proof"),
    (_kw("admit"), "`admit` is not a proof"),
    (_kw("axiom"), "new axioms are not allowed"),
    (re.compile(r"#exit" + _IDENT_TAIL), "`#exit` is not allowed"),
)

_NATIVE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (_kw("native_decide"), "`native_decide` trusts the compiler"),
)

_SET_OPTION = re.compile(_IDENT_HEAD + r"set_option\s+(\S+)\s+([^\s)]+)")
_ATTR_OPEN = re.compile(r"@\[|" + _IDENT_HEAD + r"attribute\s*\[")
_ATTR_NAME = re.compile(r"[\w.]+")


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _bracket_end(text: str, open_at: int) -> int:
    """Offset just past the `]` matching the `[` at `open_at` (or the end of the text)."""
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] == "[":
            depth += 1
        elif text[k] == "]":
            depth -= 1
            if depth == 0:
                return k + 1
    return len(text)


def attribute_spans(masked: str) -> list[tuple[int, int]]:
    """(start, end) of the bracketed contents of `@[...]` and `attribute [...]`."""
    spans = []
    for m in _ATTR_OPEN.finditer(masked):
        open_at = m.end() - 1
        spans.append((open_at + 1, _bracket_end(masked, open_at) - 1))
    return spans


def _split_top(text: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _attribute_names(content: str) -> list[str]:
    names = []
    for entry in _split_top(content):
        words = entry.replace("-", " ").split()
        while words and words[0] in ("local", "scoped"):
            words = words[1:]
        if words:
            m = _ATTR_NAME.match(words[0])
            names.append(m.group() if m else words[0])
    return names


def screen_hits(
    text: str,
    *,
    allow_native_decide: bool = False,
    max_rec_depth: int = DEFAULT_MAX_REC_DEPTH,
    max_heartbeats: int = DEFAULT_MAX_HEARTBEATS,
) -> tuple[ScreenHit, ...]:
    """Every rejected construct in `text`, in text order."""
    masked = mask(text)
    starts = _line_starts(masked)
    hits: list[tuple[int, ScreenHit]] = []

    def add(offset: int, reason: str, runs_code: bool) -> None:
        hits.append((offset, ScreenHit(bisect.bisect_right(starts, offset), reason, runs_code)))

    for pattern, reason in _CODE_RULES:
        for m in pattern.finditer(masked):
            add(m.start(), reason, True)
    rules = _SOUNDNESS_RULES if allow_native_decide else _SOUNDNESS_RULES + _NATIVE_RULES
    for pattern, reason in rules:
        for m in pattern.finditer(masked):
            add(m.start(), reason, False)
    for start, end in attribute_spans(masked):
        for name in _attribute_names(masked[start:end]):
            if name not in ALLOWED_ATTRIBUTES:
                add(start, f"attribute `{name}` is not allowed (it may run code)", True)
    for m in _SET_OPTION.finditer(masked):
        reason = _option_problem(m.group(1), m.group(2), max_rec_depth, max_heartbeats)
        if reason is not None:
            add(m.start(), reason, False)
    hits.sort(key=lambda h: h[0])
    return tuple(h for _, h in hits)


def _option_problem(name: str, value: str, max_rec_depth: int, max_heartbeats: int) -> str | None:
    if name.startswith("debug."):
        return f"`set_option {name}` is not allowed"
    bounds = {"maxRecDepth": max_rec_depth, "maxHeartbeats": max_heartbeats}
    if name not in bounds:
        return None
    try:
        number = int(value.replace("_", ""))
    except ValueError:
        return f"`set_option {name} {value}`: expected a number"
    if name == "maxHeartbeats" and number == 0:
        return "`set_option maxHeartbeats 0` (no limit) is not allowed"
    if number > bounds[name]:
        return f"`set_option {name} {number}` is above the bound {bounds[name]}"
    return None


def screen(
    text: str,
    *,
    allow_native_decide: bool = False,
    max_rec_depth: int = DEFAULT_MAX_REC_DEPTH,
    max_heartbeats: int = DEFAULT_MAX_HEARTBEATS,
) -> tuple[str, ...]:
    """Reasons to reject `text` without running it, as `line N: ...` strings (empty: passes)."""
    hits = screen_hits(
        text,
        allow_native_decide=allow_native_decide,
        max_rec_depth=max_rec_depth,
        max_heartbeats=max_heartbeats,
    )
    return tuple(str(h) for h in hits)
