"""Read a tactic's text: its family, its parts and the names and arguments it mentions.

`classify_tactic` names the tactic's family by its leading keyword (one of FAMILIES, each with a
template in `templates/<family>.j2`). The other functions are plain string readers used by the
step templates: focusing wrappers, `t1; t2` and `<;>` sequences, bracketed lists, `at` clauses,
`with` alternatives, and one-line summaries of nested blocks.
"""

from __future__ import annotations

import re
from typing import Any

from leancot.translate.goals import (
    CLOSE_BRACKETS,
    OPEN_BRACKETS,
    GoalState,
    close_of,
    split_top_level,
)

GENERIC = "generic"
FAMILIES = (
    "intro",
    "simp",
    "induction",
    "cases",
    "rw",
    "exact",
    "arith",
    "constructor",
    "have",
    "unfold",
    "contradiction",
    "funext",
    "specialize",
    "by_cases",
    "combinator",
    "rfl",
    GENERIC,
)

_KEYWORD_FAMILY = {
    **dict.fromkeys(["intro", "intros", "rintro", "introv", "rintros", "rename_i"], "intro"),
    **dict.fromkeys(
        ["simp", "simp_all", "dsimp", "simpa", "simp?", "simp_all?", "dsimp?", "simpa?"], "simp"
    ),
    **dict.fromkeys(["field_simp", "push_cast", "norm_cast", "push_neg"], "simp"),
    **dict.fromkeys(["induction", "induction'", "fun_induction"], "induction"),
    **dict.fromkeys(
        ["cases", "cases'", "rcases", "obtain", "match", "injection", "injections"], "cases"
    ),
    **dict.fromkeys(
        ["rw", "rewrite", "rwa", "erw", "nth_rewrite", "nth_rw", "simp_rw", "rw_mod_cast"], "rw"
    ),
    **dict.fromkeys(
        [
            "exact",
            "apply",
            "refine",
            "refine'",
            "exact_mod_cast",
            "apply_mod_cast",
            "exacts",
            "assumption",
            "apply_assumption",
            "exact?",
            "apply?",
        ],
        "exact",
    ),
    **dict.fromkeys(
        [
            "omega",
            "decide",
            "native_decide",
            "linarith",
            "nlinarith",
            "norm_num",
            "positivity",
            "ring",
            "ring_nf",
            "simp_arith",
            "bv_omega",
            "polyrith",
            "linear_combination",
        ],
        "arith",
    ),
    **dict.fromkeys(
        ["constructor", "fconstructor", "econstructor", "exists", "existsi", "use", "left"],
        "constructor",
    ),
    **dict.fromkeys(["right", "split_ands", "and_intros", "refine_lift"], "constructor"),
    **dict.fromkeys(
        ["have", "haveI", "show", "calc", "suffices", "let", "set", "change", "replace"], "have"
    ),
    **dict.fromkeys(["unfold", "delta", "unfold_let", "dunfold"], "unfold"),
    **dict.fromkeys(
        ["contradiction", "absurd", "exfalso", "nomatch", "nofun", "by_contra", "by_contra'"],
        "contradiction",
    ),
    **dict.fromkeys(["funext", "ext", "ext1"], "funext"),
    "specialize": "specialize",
    **dict.fromkeys(["by_cases", "split", "split_ifs", "if"], "by_cases"),
    **dict.fromkeys(
        ["first", "repeat", "repeat'", "all_goals", "any_goals", "try", "iterate", "focus"],
        "combinator",
    ),
    **dict.fromkeys(["solve", "solve_by_elim"], "combinator"),
    **dict.fromkeys(["rfl", "trivial", "ac_rfl", "eq_refl", "exact_rfl"], "rfl"),
}

KEYWORD = re.compile(r"[A-Za-z_][\w'?!]*")
_WRAPPER = re.compile(r"^(?:case|next|case')\b(?P<head>[^\n]*?)=>\s*(?P<body>.*)$", re.S)
_FOCUS = re.compile(r"^[·.]\s+(?P<body>.*)$", re.S)
_HYP_NAME = re.compile(r"^(?:h|ih|hyp|H|this)[\w'₀-₉✝]*$")
_RFL_TERMS = re.compile(r"^(?:rfl|Eq\.refl\b.*|Iff\.rfl|HEq\.rfl|le_rfl|le_refl\b.*|trivial)$")
_ABSURD_TERMS = re.compile(r"^(?:absurd\b|False\.elim\b|\(.*\)\.elim$|nomatch\b|nofun\b)")
_BLOCK_END = ("by", "with", "=>", ":=", "from", ",", "<;>", "then", "else", "do", "(", "[", "|")


# -- Classification ----------------------------------------------------------------------------


def classify_tactic(tactic: str, state: GoalState | None = None) -> str:
    """Family of a tactic (one of FAMILIES) by its leading keyword.

    `state` (the goals before) only sharpens `simp only [f]`: names that are hypotheses there
    make it a simp step, definitions an unfold step.
    """
    return classify(unwrap(tactic)[0], state)


def classify(tac: str, state: GoalState | None) -> str:
    """`classify_tactic` for a tactic already stripped of its focusing wrappers (`unwrap`)."""
    if not tac:
        return GENERIC
    if len(split_top_level(head_part(tac), "<;>")) > 1 or len(sequence(tac)) > 1:
        return "combinator"
    m = KEYWORD.match(tac)
    if m is None:
        return "combinator" if tac.startswith("(") else GENERIC
    keyword = m.group(0)
    rest = tac[m.end() :].strip()
    if keyword in ("exact", "apply", "refine", "refine'", "exacts"):
        if _RFL_TERMS.match(rest):
            return "rfl"
        if _ABSURD_TERMS.match(rest):
            return "contradiction"
        if rest.startswith("⟨") or rest in ("And.intro", "Iff.intro"):
            return "constructor"
        if rest.split(" ", 1)[0] == "funext":
            return "funext"
    if keyword in ("simp", "dsimp") and _is_unfold(rest, state):
        return "unfold"
    return _KEYWORD_FAMILY.get(keyword, GENERIC)


def unwrap(tactic: str) -> tuple[str, str | None]:
    """Strip focusing (`· tac`, `case tag x => tac`, `next => tac`, `(tac)`); keep the tag."""
    tac = tactic.strip()
    case = None
    for _ in range(8):
        if m := _FOCUS.match(tac):
            tac = m.group("body").strip()
        elif m := _WRAPPER.match(tac):
            head = m.group("head").split()
            if tac.startswith("case") and head:
                case = head[0]
            tac = m.group("body").strip()
        elif tac.startswith("(") and close_of(tac, 0) == len(tac) - 1:
            tac = tac[1:-1].strip()
        else:
            break
    return tac, case


def _is_unfold(rest: str, state: GoalState | None) -> bool:
    """`simp only [f, g]` where every item looks like a definition, not a lemma or hypothesis."""
    if not rest.startswith("only"):
        return False
    items = bracket_items(rest)
    if not items:
        return False
    hyps = set(state.main.names) if state is not None and state.main is not None else None
    for item in items:
        if item.startswith(("←", "<-", "-", "*")) or " " in item:
            return False
        last = item.rsplit(".", 1)[-1]
        if last.startswith("eq_") or last == "eq_def":
            continue
        if "_" in last or (hyps is not None and item in hyps):
            return False
        if hyps is None and _HYP_NAME.match(item):
            return False
    return True


# -- Reading tactic text -----------------------------------------------------------------------


def head_part(tac: str) -> str:
    """The tactic up to its first nested block (`=>`, `:=`, ` by `): where `<;>` is ours."""
    cut = len(tac)
    for marker in ("=>", ":=", " by ", " from "):
        i = tac.find(marker)
        if i != -1:
            cut = min(cut, i)
    return tac[:cut]


def sequence(tac: str) -> list[str]:
    """Top-level tactics of a block: `t1; t2`, or one per line at the block's indentation.

    A first line that opens a block (`... := by`, `... with`) owns the lines below it.
    """
    head = head_part(tac)
    parts = [p for p in _split_semicolons(head) if p]
    if len(parts) > 1:
        parts[-1] += tac[len(head) :]
        return parts
    lines = tac.split("\n")
    rest = [line for line in lines[1:] if line.strip()]
    if not rest or lines[0].rstrip().endswith(_BLOCK_END):
        return [tac]
    base = min(len(line) - len(line.lstrip()) for line in rest)
    chunks = [lines[0]]
    for line in lines[1:]:
        indent = len(line) - len(line.lstrip())
        prev = chunks[-1].rstrip()
        starts_new = (
            line.strip()
            and indent == base
            and not line.lstrip().startswith(("|", "_", "<;>", ")", "]", "⟩"))
            and not prev.endswith(_BLOCK_END)
            and _balanced(chunks[-1])
        )
        if starts_new:
            chunks.append(line)
        else:
            chunks[-1] += "\n" + line
    return [c.strip() for c in chunks] if len(chunks) > 1 else [tac]


def _split_semicolons(text: str) -> list[str]:
    """Split at `;` outside brackets, leaving `<;>` alone."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in OPEN_BRACKETS:
            depth += 1
        elif c in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        elif c == ";" and depth == 0 and text[i - 1 : i] != "<" and text[i + 1 : i + 2] != ">":
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _balanced(text: str) -> bool:
    """Whether no bracket opened in `text` is still open at its end."""
    depth = 0
    for c in text:
        if c in OPEN_BRACKETS:
            depth += 1
        elif c in CLOSE_BRACKETS:
            depth -= 1
    return depth <= 0


def bracket_items(text: str) -> list[str]:
    """Items of the first top-level `[...]` list in `text`."""
    i = text.find("[")
    if i == -1:
        return []
    j = close_of(text, i)
    inner = text[i + 1 : j if j != -1 else len(text)]
    return [p for p in split_top_level(inner, ",") if p]


def locations(text: str) -> list[str]:
    """Names after a top-level ` at ` (`⊢` for the goal, `*` for everywhere)."""
    head = head_part(text)
    m = re.search(r"(?:^|\s)at\s+(.+)$", strip_brackets(head), re.S)
    if not m:
        return []
    words = m.group(1).split()
    out = []
    for w in words:
        if w in ("with", "using", "generalizing", "=>", "<;>"):
            break
        out.append(w)
    return out


def strip_brackets(text: str) -> str:
    """`text` with bracketed spans blanked out, so keywords inside them are not seen."""
    out, depth = [], 0
    for c in text:
        if c in OPEN_BRACKETS:
            depth += 1
        elif c in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
            out.append(" ")
            continue
        out.append(c if depth == 0 else " ")
    return "".join(out)


def one_line(text: str) -> str:
    """`text` with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


_ALT = re.compile(r"(?:^|(?<=\s))\|\s+(@?[^\s=|⟨(]+(?:[ \t]+[^\s=|]+)*)\s*=>")


def alternatives(tac: str) -> list[dict[str, Any]]:
    """`| tag x y ih => tac` alternatives of `induction ... with` / `cases ... with` / `match`.

    On several lines only the outermost alternatives count (the least indented ones).
    """
    found = list(_ALT.finditer(tac))
    if "\n" in tac and found:

        def indent(m: re.Match) -> int:
            start = tac.rfind("\n", 0, m.start()) + 1
            prefix = tac[start : m.start()]
            return len(prefix) if not prefix.strip() else 10**6

        outer = min(indent(m) for m in found)
        found = [m for m in found if indent(m) == outer]
    out = []
    for k, m in enumerate(found):
        words = m.group(1).split()
        end = found[k + 1].start() if k + 1 < len(found) else len(tac)
        out.append(
            {"case": words[0].lstrip("@."), "binders": words[1:], "body": flat(tac[m.end() : end])}
        )
    return out


def flat(text: str) -> str:
    """A tactic block on one line: `by\n  simp\n  omega` becomes `by simp; omega`."""
    out = ""
    for line in (ln.strip() for ln in text.split("\n")):
        if not line:
            continue
        if not out:
            out = line
        elif out.endswith(_BLOCK_END) or line.startswith(("|", "<;>", "_ ", ")", "]", "⟩")):
            out += " " + line
        else:
            out += "; " + line
    return " ".join(out.split())


_WITH = re.compile(r"\swith\b")


def scrutinee(rest: str) -> tuple[str, str | None]:
    """`cases h with ...` / `cases h1 : f x` -> (`h`, eq name) ; also `obtain pat := h`."""
    head = head_part(rest + " ")
    head = _WITH.split(head, 1)[0].strip()
    head = re.split(r"\s(?:generalizing|using)\s", head + " ", maxsplit=1)[0].strip()
    eq_name = None
    m = re.match(r"^([^\s:]+)\s*:\s*(.+)$", head, re.S)
    if m:
        eq_name, head = m.group(1), m.group(2)
    return head.strip(), eq_name


def find_outside(text: str, needle: str) -> int | None:
    """Index of the first `needle` outside brackets, or None."""
    depth = 0
    for i, c in enumerate(text):
        if c in OPEN_BRACKETS:
            depth += 1
        elif c in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(needle, i):
            return i
    return None
