"""Render one Lean-checked tactic step as a natural-language thought.

`classify_tactic` names the tactic's family by its leading keyword; `render_step` parses both goal
states, diffs them, reads the tactic's arguments (lemmas, names, cases) and renders the family's
Jinja template from `leancot/translate/templates/<family>.j2`. Rendering is deterministic.

Layout inside the templates is free: the output is collapsed into one paragraph (see `_tidy`),
and a line break always separates words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext

from leancot.translate.diff import GoalDiff, StateDiff, diff_states
from leancot.translate.goals import (
    Goal,
    GoalState,
    Hypothesis,
    head_connective,
    parse_goal_state,
    split_top_level,
)

TEMPLATE_DIR = Path(__file__).with_name("templates")
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
MAX_CODE = 160  # longest expression quoted in full; longer ones are cut with "…"

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

_KEYWORD = re.compile(r"[A-Za-z_][\w'?!]*")
_WRAPPER = re.compile(r"^(?:case|next|case')\b(?P<head>[^\n]*?)=>\s*(?P<body>.*)$", re.S)
_FOCUS = re.compile(r"^[·.]\s+(?P<body>.*)$", re.S)
_HYP_NAME = re.compile(r"^(?:h|ih|hyp|H|this)[\w'₀-₉✝]*$")
_RFL_TERMS = re.compile(r"^(?:rfl|Eq\.refl\b.*|Iff\.rfl|HEq\.rfl|le_rfl|le_refl\b.*|trivial)$")
_ABSURD_TERMS = re.compile(r"^(?:absurd\b|False\.elim\b|\(.*\)\.elim$|nomatch\b|nofun\b)")
_OPEN = "([{⟨⦃"
_CLOSE = ")]}⟩⦄"
_BLOCK_END = ("by", "with", "=>", ":=", "from", ",", "<;>", "then", "else", "do", "(", "[", "|")


@dataclass(frozen=True)
class RenderedStep:
    """A rendered thought and the name of the template that produced it."""

    thought: str
    template: str


# -- Classification ----------------------------------------------------------------------------


def classify_tactic(tactic: str, state: GoalState | None = None) -> str:
    """Family of a tactic (one of FAMILIES) by its leading keyword.

    `state` (the goals before) only sharpens `simp only [f]`: names that are hypotheses there
    make it a simp step, definitions an unfold step.
    """
    return _classify(_unwrap(tactic)[0], state)


def _classify(tac: str, state: GoalState | None) -> str:
    if not tac:
        return GENERIC
    if len(split_top_level(_head_part(tac), "<;>")) > 1 or len(_sequence(tac)) > 1:
        return "combinator"
    m = _KEYWORD.match(tac)
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


def _unwrap(tactic: str) -> tuple[str, str | None]:
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
        elif tac.startswith("(") and _close_of(tac, 0) == len(tac) - 1:
            tac = tac[1:-1].strip()
        else:
            break
    return tac, case


def _is_unfold(rest: str, state: GoalState | None) -> bool:
    """`simp only [f, g]` where every item looks like a definition, not a lemma or hypothesis."""
    if not rest.startswith("only"):
        return False
    items = _bracket_items(rest)
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


def _close_of(text: str, start: int) -> int:
    """Index of the bracket closing the one at `start`, or -1."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
            if depth == 0:
                return i
    return -1


def _head_part(tac: str) -> str:
    """The tactic up to its first nested block (`=>`, `:=`, ` by `): where `<;>` is ours."""
    cut = len(tac)
    for marker in ("=>", ":=", " by ", " from "):
        i = tac.find(marker)
        if i != -1:
            cut = min(cut, i)
    return tac[:cut]


def _sequence(tac: str) -> list[str]:
    """Top-level tactics of a block: `t1; t2`, or one per line at the block's indentation.

    A first line that opens a block (`... := by`, `... with`) owns the lines below it.
    """
    head = _head_part(tac)
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
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
        elif c == ";" and depth == 0 and text[i - 1 : i] != "<" and text[i + 1 : i + 2] != ">":
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return parts


def _balanced(text: str) -> bool:
    depth = 0
    for c in text:
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth -= 1
    return depth <= 0


def _bracket_items(text: str) -> list[str]:
    """Items of the first top-level `[...]` list in `text`."""
    i = text.find("[")
    if i == -1:
        return []
    j = _close_of(text, i)
    inner = text[i + 1 : j if j != -1 else len(text)]
    return [p for p in split_top_level(inner, ",") if p]


def _locations(text: str) -> list[str]:
    """Names after a top-level ` at ` (`⊢` for the goal, `*` for everywhere)."""
    head = _head_part(text)
    m = re.search(r"(?:^|\s)at\s+(.+)$", _strip_brackets(head), re.S)
    if not m:
        return []
    words = m.group(1).split()
    out = []
    for w in words:
        if w in ("with", "using", "generalizing", "=>", "<;>"):
            break
        out.append(w)
    return out


def _strip_brackets(text: str) -> str:
    """`text` with bracketed spans blanked out, so keywords inside them are not seen."""
    out, depth = [], 0
    for c in text:
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
            out.append(" ")
            continue
        out.append(c if depth == 0 else " ")
    return "".join(out)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _rule(item: str, goal: Goal | None) -> dict[str, Any]:
    """A rewrite/simp rule: its name, direction, and the statement when it is a hypothesis.

    `hyp` is the hypothesis the rule comes from (`h` for `h x`), `lhs`/`rhs` the sides it
    rewrites between when it is used as stated.
    """
    reverse = item.startswith(("←", "<-"))
    name = item.lstrip("←<-").strip() if reverse else item
    head = name.split(" ", 1)[0]
    hyp_type = goal.type_of(head) if goal is not None and head else None
    lhs = rhs = ""
    if hyp_type is not None and head == name and head_connective(hyp_type) in ("eq", "iff"):
        for op in (" = ", " ↔ "):
            sides = split_top_level(_one_line(hyp_type), op)
            if len(sides) == 2:
                lhs, rhs = (sides[1], sides[0]) if reverse else (sides[0], sides[1])
                break
    return {
        "name": name,
        "hyp": head if hyp_type is not None else "",
        "reverse": reverse,
        "hyp_type": hyp_type,
        "lhs": lhs,
        "rhs": rhs,
    }


_ALT = re.compile(r"(?:^|(?<=\s))\|\s+(@?[^\s=|⟨(]+(?:[ \t]+[^\s=|]+)*)\s*=>")


def _alternatives(tac: str) -> list[dict[str, Any]]:
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
            {"case": words[0].lstrip("@."), "binders": words[1:], "body": _flat(tac[m.end() : end])}
        )
    return out


def _flat(text: str) -> str:
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


def _scrutinee(rest: str) -> tuple[str, str | None]:
    """`cases h with ...` / `cases h1 : f x` -> (`h`, eq name) ; also `obtain pat := h`."""
    head = _head_part(rest + " ")
    head = _WITH.split(head, 1)[0].strip()
    head = re.split(r"\s(?:generalizing|using)\s", head + " ", maxsplit=1)[0].strip()
    eq_name = None
    m = re.match(r"^([^\s:]+)\s*:\s*(.+)$", head, re.S)
    if m:
        eq_name, head = m.group(1), m.group(2)
    return head.strip(), eq_name


# -- Arguments per family -----------------------------------------------------------------------


def _args(family: str, keyword: str, rest: str, tac: str, goal: Goal | None) -> dict[str, Any]:
    a: dict[str, Any] = {
        "names": [],
        "rules": [],
        "locations": _locations(rest),
        "only": rest.startswith("only"),
        "var": "",
        "var_type": None,
        "alts": [],
        "term": "",
        "head": "",
        "head_type": None,
        "name": "",
        "prop": "",
        "parts": [],
        "using": "",
        "steps": [],
        "witnesses": [],
        "arith_hyps": [],
        "arg_hyps": [],
        "star": False,
    }
    if family in ("simp", "unfold", "rw", "arith"):
        items = _bracket_items(_head_part(rest + " ")) if family != "unfold" else []
        if family == "unfold":
            if keyword in ("simp", "dsimp"):
                items = _bracket_items(rest)
            else:
                items = [w for w in _strip_brackets(rest).split() if w not in ("at", "⊢")]
                items = items[: len(items) - len(a["locations"])] if a["locations"] else items
        if family == "rw" and not items and rest and not rest.startswith("["):
            items = [w for w in re.split(r"\s+", _head_part(rest)) if w][:1]
        a["rules"] = [_rule(i, goal) for i in items if i != "*"]
        a["star"] = "*" in items
        if " using " in rest:
            a["using"] = _one_line(rest.split(" using ", 1)[1])
    if family == "arith" and goal is not None:
        a["arith_hyps"] = [h for h in goal.hypotheses if head_connective(h.type) in _ARITH_SHAPES]
    if family == "intro":
        a["names"] = [w for w in split_top_level(rest.replace(" ", ","), ",") if w]
    elif family in ("induction", "cases"):
        if keyword == "obtain":
            pat, _, src = rest.partition(":=")
            a["var"] = _one_line(src)
            a["term"] = _one_line(pat)
        else:
            var, eq_name = _scrutinee(rest)
            a["var"] = _one_line(var)
            a["name"] = eq_name or ""
            if keyword == "rcases" and " with " in rest:
                a["term"] = _one_line(rest.split(" with ", 1)[1])
        if goal is not None and a["var"]:
            a["var_type"] = goal.type_of(a["var"])
        a["alts"] = _alternatives(tac)
        if family == "induction":
            for alt in a["alts"]:
                alt["ih"], alt["rec"] = _ih_binders(alt["binders"], alt["case"])
                alt["ih_type"] = (
                    _substitute(goal.target, a["var"], alt["rec"])
                    if goal is not None and alt["ih"] and alt["rec"] and a["var"]
                    else None
                )
    elif family in ("exact", "contradiction", "funext", "specialize", "constructor", GENERIC):
        term = _one_line(rest)
        a["term"] = term
        head = term.lstrip("@(").split(" ", 1)[0] if term else ""
        head_type = goal.type_of(head) if goal is not None and head else None
        if head_type is None and goal is not None and "." in head:
            # `h.1`, `h.mp`: a projection of a hypothesis.
            owner_type = goal.type_of(head.split(".", 1)[0])
            if owner_type is not None:
                head, head_type = head.split(".", 1)[0], owner_type
        a["head"] = head
        a["head_type"] = head_type
        if goal is not None:
            words = re.findall(r"[^\s()⟨⟩,]+", term)
            a["arg_hyps"] = [
                Hypothesis((w,), t) for w in dict.fromkeys(words) if (t := goal.type_of(w))
            ]
        if family == "funext":
            a["names"] = [w for w in term.split() if w not in (":", "funext")]
        if family == "constructor" and keyword in ("exists", "existsi", "use"):
            a["witnesses"] = [w for w in split_top_level(term, ",") if w]
        if family == "constructor" and term.startswith("⟨"):
            j = _close_of(term, 0)
            a["witnesses"] = [w for w in split_top_level(term[1:j], ",") if w]
    elif family == "have":
        _have_args(keyword, rest, a)
    elif family == "by_cases":
        m = re.match(r"^(?:([^\s:]+)\s*:\s*)?(.+?)(?:\s+then\b.*)?$", _one_line(rest))
        if m:
            a["name"] = m.group(1) or ""
            a["prop"] = m.group(2) if keyword in ("by_cases", "if") else ""
        if keyword == "split_ifs" and " with " in rest:
            a["names"] = rest.split(" with ", 1)[1].split()
    elif family == "combinator":
        _combinator_args(tac, keyword, rest, a)
    return a


_ARITH_SHAPES = frozenset({"eq", "ne", "le", "lt", "ge", "gt", "dvd"})


def _have_args(keyword: str, rest: str, a: dict[str, Any]) -> None:
    if keyword == "calc":
        steps = []
        for line in rest.split("\n"):
            rel = _head_part(line.strip() + " ").strip()
            if rel:
                steps.append(_one_line(rel))
        a["steps"] = steps
        return
    body = rest
    proof = ""
    for marker in (":=", " from ", " by "):
        i = _find_outside(body, marker)
        if i is not None:
            body, proof = body[:i], body[i + len(marker) :]
            if marker == " by ":
                proof = "by " + proof
            break
    if keyword in ("show", "change"):
        a["prop"] = _one_line(body.split(" at ", 1)[0])
        a["locations"] = _locations(body)
    else:
        m = re.match(r"^([^\s:()⟨]+)?\s*(?::\s*(.+))?$", _one_line(body), re.S)
        if m:
            a["name"] = m.group(1) or ""
            a["prop"] = m.group(2) or ""
    proof = _flat(proof)
    a["term"] = proof[3:] if proof.startswith("by ") else proof


def _find_outside(text: str, needle: str) -> int | None:
    depth = 0
    for i, c in enumerate(text):
        if c in _OPEN:
            depth += 1
        elif c in _CLOSE:
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(needle, i):
            return i
    return None


def _combinator_args(tac: str, keyword: str, rest: str, a: dict[str, Any]) -> None:
    chain = split_top_level(_head_part(tac), "<;>")
    if len(chain) > 1:
        # Re-attach whatever followed the head part to the last link of the chain.
        tail = tac[len(_head_part(tac)) :]
        chain[-1] = chain[-1] + tail
        a["term"] = "chain"
        parts = chain
    elif len(seq := _sequence(tac)) > 1:
        a["term"] = "sequence"
        parts = seq
    elif keyword == "first":
        a["term"] = "first"
        parts = [p for p in split_top_level(rest, "|") if p]
    else:
        a["term"] = keyword or "group"
        parts = [rest] if rest else []
        if keyword == "iterate":
            count, _, body = rest.partition(" ")
            a["name"] = count
            parts = [body] if body else []
    a["parts"] = [{"tactic": _flat(p), "family": _classify(_unwrap(p)[0], None)} for p in parts]


def _ih_binders(binders: list[str], case: str) -> tuple[str, str]:
    """The induction hypothesis and the variable it is about, from an alternative's binders."""
    if not binders:
        return "", ""
    names = [b for b in binders if b != "_"]
    ihs = [b for b in names if b.lower().startswith("ih") or b.lower().endswith("ih")]
    if ihs:
        i = binders.index(ihs[0])
        return ihs[0], binders[i - 1] if i > 0 else ""
    if case in ("succ", "cons", "node") and len(binders) >= 2:
        return binders[-1], binders[-2]
    return "", ""


def _split_ih(g: GoalDiff, var: str) -> dict[str, list[Hypothesis]]:
    """New hypotheses of an induction case: variables vs induction hypotheses.

    An induction hypothesis is the old goal with the variable replaced by a new one, is named
    like one (`ih`, `a_ih`), or is a proposition rather than a type.
    """
    news = [n for h in g.introduced for n in h.names]
    goal = _one_line(g.before.target)
    variables, ihs = [], []
    for h in g.introduced:
        text = _one_line(h.type)
        is_ih = (
            any(_substitute(goal, var, n) == text for n in news if var)
            or any(n.lower().startswith("ih") or n.endswith("_ih") for n in h.names)
            or head_connective(text) not in ("other", "fun")
        )
        (ihs if is_ih else variables).append(h)
    return {"vars": variables, "ihs": ihs}


def _substitute(text: str, var: str, new: str) -> str:
    pattern = rf"(?<![\w.'✝]){re.escape(var)}(?![\w'✝])"
    return _one_line(re.sub(pattern, lambda _: new, text))


# -- Rendering ----------------------------------------------------------------------------------


def _code(text: Any, limit: int = MAX_CODE) -> str:
    s = _one_line(str(text)).replace("`", "'")
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return f"`{s}`"


def _hyp(h: Hypothesis) -> str:
    text = f"{' '.join(h.names)} : {_one_line(h.type)}"
    if h.value is not None:
        text += f" := {_one_line(h.value)}"
    return _code(text, MAX_CODE + 20)


def _join_and(items: Any) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


_SHAPE_NAMES = {
    "forall": "a universal statement",
    "exists": "an existential statement",
    "implies": "an implication",
    "not": "a negation",
    "iff": "an equivalence",
    "and": "a conjunction",
    "or": "a disjunction",
    "eq": "an equation",
    "ne": "a disequality",
    "le": "an inequality",
    "lt": "a strict inequality",
    "ge": "an inequality",
    "gt": "a strict inequality",
    "mem": "a membership statement",
    "notmem": "a non-membership statement",
    "subset": "an inclusion",
    "dvd": "a divisibility statement",
    "ite": "an if-then-else",
    "match": "a match expression",
    "true": "`True`",
    "false": "`False`",
    "fun": "a function",
    "other": "a proposition",
}


def _shape_name(text: str) -> str:
    return _SHAPE_NAMES.get(head_connective(text), "a proposition")


_TAG_ONLY_LINE = re.compile(r"^\s*(?:\{%(?:(?!%\}).)*%\}\s*)+$|^\s*\{#.*#\}\s*$")


class _LineBreakIsSpace(jinja2.ext.Extension):
    """Let a line break after text and a block tag still separate words.

    `trim_blocks` removes the newline after every block tag, which would glue `...{% endif %}`
    to the next line's first word. Lines holding only tags keep disappearing.
    """

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        lines = source.split("\n")
        for i, line in enumerate(lines):
            if line.rstrip().endswith("%}") and not _TAG_ONLY_LINE.match(line):
                lines[i] = line.rstrip() + " "
        return "\n".join(lines)


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The shared Jinja environment (templates are compiled once and cached)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
        keep_trailing_newline=False,
        auto_reload=False,
        cache_size=-1,
        extensions=[_LineBreakIsSpace],
    )
    env.filters.update(
        code=_code,
        hyp=_hyp,
        join_and=_join_and,
        shape=head_connective,
        shape_name=_shape_name,
        oneline=_one_line,
        split_ih=_split_ih,
    )
    env.globals.update(plural=_plural)
    env.tests.update(negation=lambda text: str(text).lstrip().startswith("¬"))
    return env


@lru_cache(maxsize=64)
def _template(name: str) -> jinja2.Template:
    return environment().get_template(f"{name}.j2")


def render_template(name: str, **context: Any) -> str:
    """Render `templates/<name>.j2` as one tidy paragraph."""
    return _tidy(_template(name).render(**context))


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)])")
_REPEATED_PUNCT = re.compile(r"([.;,:])(?:\s*[.;,])+")


def _tidy(text: str) -> str:
    """Collapse whitespace; outside `code` spans drop spaces before punctuation and doubled
    punctuation, and start sentences with a capital."""
    parts = _one_line(text).split("`")
    for i in range(0, len(parts), 2):
        part = _SPACE_BEFORE_PUNCT.sub(r"\1", parts[i])
        parts[i] = _REPEATED_PUNCT.sub(r"\1", part)
    out = "`".join(parts).strip()
    return out[:1].upper() + out[1:]


def step_context(
    state_before: str, tactic: str, state_after: str, *, depth: int = 0
) -> dict[str, Any]:
    """Everything a family template sees for one step."""
    before = parse_goal_state(state_before)
    after = parse_goal_state(state_after)
    diff = diff_states(before, after)
    tac, wrapper_case = _unwrap(tactic)
    family = _classify(tac, before)
    m = _KEYWORD.match(tac)
    keyword = m.group(0) if m else ""
    rest = tac[m.end() :].strip() if m else tac
    goal = before.main
    return {
        "tactic": _flat(tactic),
        "family": family,
        "keyword": keyword,
        "a": _args(family, keyword, rest, tac, goal),
        "d": diff,
        "goal": goal,
        "target": _one_line(goal.target) if goal is not None else "",
        "shape": head_connective(goal.target) if goal is not None else "other",
        "case": wrapper_case or (goal.case if goal is not None else None),
        "main_after": _main_after(diff),
        "nested": depth > 0,
    }


def _main_after(diff: StateDiff) -> GoalDiff | None:
    """The main goal's successor, or its only replacement."""
    if diff.main is not None:
        return diff.main
    if len(diff.created) == 1:
        return diff.created[0]
    return None


def render_step(
    state_before: str, tactic: str, state_after: str, *, depth: int = 0
) -> RenderedStep:
    """The thought explaining `tactic` on `state_before`, grounded in what it changed.

    `depth` > 0 marks a tactic nested in a block (`· tac`, `| succ => tac`): there "no goals"
    after it ends that block, not the whole proof.
    """
    ctx = step_context(state_before, tactic, state_after, depth=depth)
    family = ctx["family"]
    try:
        thought = render_template(family, **ctx)
        name = family
    except (jinja2.UndefinedError, AttributeError, TypeError, ValueError, IndexError, KeyError):
        thought = render_template(GENERIC, **ctx)
        name = GENERIC
    if not thought:
        thought, name = render_template(GENERIC, **ctx), GENERIC
    return RenderedStep(thought, name)
