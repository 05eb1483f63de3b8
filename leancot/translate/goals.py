"""Parse Lean's pretty-printed goal states into values, and print them back.

The text is what `Lean.Meta.ppGoal` prints (and LeanDojo stores): per goal an optional
`case tag` line, hypotheses `x y : Nat` / `h : p ∧ q` / `x : Nat := 5`, then `⊢ target`;
goals are separated by blank lines and "no goals" means none. A type or value too wide for one
line continues on lines indented two more spaces (`format.indent`), which are stored dedented.

Parsing never raises: a line it does not understand stays in the text of the hypothesis or
target before it, so nothing is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from leancot.formats import NO_GOALS

TURNSTILE = "⊢"
INDENT = "  "

_NAME = r"(?:«[^»]*»|[^\s:()\[\]{}⟨⟩,⊢«»]+)"
_HYP_LINE = re.compile(rf"^({_NAME}(?: {_NAME})*) :(?: (.*))?$")
_CASE_LINE = re.compile(r"^case (\S.*)$")
_GOALS_HEADER = re.compile(r"^\d+ goals?$")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")
# A `:=` after one of these belongs to the type (`h : let x := 1; x = 1`), not a let value.
_BINDING_WORD = re.compile(r"(?<![\w.])(?:let|have|fun|λ|match|show|do)(?![\w'])")


@dataclass(frozen=True)
class Hypothesis:
    """One hypothesis line: names sharing a type, and the value of a `let` binding.

    `broken` records that Lean put the type (the value, for a `let`) on the lines after `h :`
    (`x : T :=`) because it was too wide for one line; it only affects printing, never equality.
    """

    names: tuple[str, ...]
    type: str
    value: str | None = None
    broken: bool = field(default=False, compare=False, repr=False)

    @property
    def is_let(self) -> bool:
        return self.value is not None

    def pp(self) -> str:
        head = " ".join(self.names) + " :"
        if self.value is not None:
            text = f"{head} {self.type} :="
            if self.broken and self.value:
                return text + "\n" + _indent(self.value)
            first, *rest = self.value.split("\n")
            lines = [f"{text} {first}" if first else text]
            lines += [INDENT + line for line in rest]
            return "\n".join(lines)
        first, *rest = self.type.split("\n")
        if self.broken and self.type:
            return head + "\n" + _indent(self.type)
        return "\n".join([f"{head} {first}"] + [INDENT + line for line in rest])


@dataclass(frozen=True)
class Goal:
    """One goal: its case tag (None when untagged), hypotheses in order, and target."""

    case: str | None
    hypotheses: tuple[Hypothesis, ...]
    target: str

    def pp(self) -> str:
        lines = [] if self.case is None else [f"case {self.case}"]
        lines += [h.pp() for h in self.hypotheses]
        lines.append(f"{TURNSTILE} " + _indent(self.target).lstrip(" "))
        return "\n".join(lines)

    @property
    def names(self) -> tuple[str, ...]:
        """Every hypothesis name in order (several per line are split apart)."""
        return tuple(n for h in self.hypotheses for n in h.names)

    def hypothesis(self, name: str) -> Hypothesis | None:
        """The last hypothesis called `name` (later ones shadow earlier), or None."""
        for hyp in reversed(self.hypotheses):
            if name in hyp.names:
                return hyp
        return None

    def type_of(self, name: str) -> str | None:
        hyp = self.hypothesis(name)
        return None if hyp is None else hyp.type


@dataclass(frozen=True)
class GoalState:
    """All open goals, the first being the one tactics act on."""

    goals: tuple[Goal, ...] = ()

    @property
    def finished(self) -> bool:
        return not self.goals

    @property
    def main(self) -> Goal | None:
        return self.goals[0] if self.goals else None

    def __len__(self) -> int:
        return len(self.goals)

    def pp(self) -> str:
        if not self.goals:
            return NO_GOALS
        return "\n\n".join(g.pp() for g in self.goals)

    def __str__(self) -> str:
        return self.pp()


def parse_goal_state(text: str) -> GoalState:
    """Parse pretty-printed goals ("no goals", one goal, or several separated by blank lines)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip() or text.strip() == NO_GOALS:
        return GoalState(())
    blocks = [b.strip("\n") for b in _BLANK_LINES.split(text)]
    blocks = [b for b in blocks if b.strip()]
    if blocks and _GOALS_HEADER.match(blocks[0].split("\n", 1)[0].strip()):
        first = blocks[0].split("\n", 1)
        blocks = ([first[1]] if len(first) > 1 and first[1].strip() else []) + blocks[1:]
    return GoalState(tuple(parse_goal(b) for b in blocks))


def parse_goal(text: str) -> Goal:
    """Parse one goal block; lines it does not understand stay in the text before them."""
    lines = text.replace("\r\n", "\n").strip("\n").split("\n")
    case = None
    if lines and (m := _CASE_LINE.match(lines[0])) and not _HYP_LINE.match(lines[0]):
        case = m.group(1).strip()
        lines = lines[1:]
    # Items: ["hyp", names, first-line rest, continuation lines] or ["target", lines].
    items: list[list] = []
    for line in lines:
        if line.startswith(TURNSTILE):
            items.append(["target", [line[len(TURNSTILE) :].removeprefix(" ")]])
        elif line[:1] in (" ", "\t") or not line:
            _continue(items, line)
        elif (m := _HYP_LINE.match(line)) and not (items and items[-1][0] == "target"):
            items.append(["hyp", tuple(m.group(1).split(" ")), m.group(2), []])
        else:
            _continue(items, line)
    hyps: list[Hypothesis] = []
    targets: list[str] = []
    for item in items:
        if item[0] == "hyp":
            hyps.append(_make_hypothesis(item[1], item[2], item[3]))
        else:
            targets.append(_join(item[1][0], item[1][1:]))
    return Goal(case, tuple(hyps), "\n".join(targets))


def _continue(items: list[list], line: str) -> None:
    if not items:
        items.append(["target", [line]])
    elif items[-1][0] == "target":
        items[-1][1].append(line)
    else:
        items[-1][3].append(line)


def _dedent(line: str) -> str:
    return line[2:] if line.startswith(INDENT) else line.lstrip(" ")


def _indent(text: str) -> str:
    return "\n".join(INDENT + line if line else line for line in text.split("\n"))


def _join(first: str, rest: list[str]) -> str:
    return "\n".join([first] + [_dedent(line) for line in rest])


def _make_hypothesis(names: tuple[str, ...], first: str | None, rest: list[str]) -> Hypothesis:
    raw = "\n".join([first or ""] + rest)
    cut = _find_top_level(raw, " :=")
    if (
        cut is not None
        and (cut + 3 == len(raw) or raw[cut + 3] in " \n")
        and not _BINDING_WORD.search(raw[:cut])
    ):
        # `x : T := v`: the type sits at the hypothesis' own level, the value is nested.
        type_text = raw[:cut]
        value_lines = raw[cut + 3 :].split("\n")
        if not value_lines[0].strip() and len(value_lines) > 1:
            value = "\n".join(_dedent(line) for line in value_lines[1:])
            return Hypothesis(names, type_text, value, broken=True)
        value = _join(value_lines[0].removeprefix(" "), value_lines[1:])
        return Hypothesis(names, type_text, value)
    if not first and rest:
        return Hypothesis(names, "\n".join(_dedent(line) for line in rest), None, broken=True)
    return Hypothesis(names, _join(first or "", rest), None)


OPEN_BRACKETS = "([{⟨⦃"
CLOSE_BRACKETS = ")]}⟩⦄"


def top_level_matches(text: str, needle: str) -> Iterator[int]:
    """Indices of the non-overlapping occurrences of `needle` outside brackets."""
    depth = 0
    i = 0
    while i < len(text):
        c = text[i]
        if c in OPEN_BRACKETS:
            depth += 1
        elif c in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        elif depth == 0 and text.startswith(needle, i):
            yield i
            i += len(needle)
            continue
        i += 1


def split_top_level(text: str, sep: str) -> list[str]:
    """`text` split at `sep` outside brackets, each part stripped."""
    parts, start = [], 0
    for i in top_level_matches(text, sep):
        parts.append(text[start:i])
        start = i + len(sep)
    parts.append(text[start:])
    return [p.strip() for p in parts]


def _find_top_level(text: str, needle: str) -> int | None:
    """Index of the first `needle` outside brackets, or None."""
    return next(top_level_matches(text, needle), None)


# -- The shape of a proposition: its outermost connective --------------------------------------

# Lean 4 precedences of the infix connectives (lower binds looser).
_INFIX = (
    ("↔", "iff", 20),
    ("→", "implies", 25),
    ("∨", "or", 30),
    ("∧", "and", 35),
    ("≠", "ne", 50),
    ("≤", "le", 50),
    ("≥", "ge", 50),
    ("∉", "notmem", 50),
    ("∈", "mem", 50),
    ("⊆", "subset", 50),
    ("∣", "dvd", 50),
    ("==", "eq", 50),
    ("=", "eq", 50),
    ("<", "lt", 50),
    (">", "gt", 50),
)
_BINDERS = ("∀", "∃", "fun ", "λ", "Π")


def head_connective(expr: str) -> str:
    """Name of the outermost connective of a proposition.

    One of forall, exists, fun, not, iff, implies, or, and, eq, ne, le, lt, ge, gt, mem, notmem,
    subset, dvd, ite, match, true, false, other.
    """
    s = " ".join(expr.split())
    while s.startswith("(") and close_of(s, 0) == len(s) - 1:
        s = s[1:-1].strip()
    if s in ("True", "False"):
        return s.lower()
    if s.startswith(("∀", "Π")):
        return "forall"
    if s.startswith("∃"):
        return "exists"
    if s.startswith(("fun ", "λ")):
        return "fun"
    if s.startswith("if "):
        return "ite"
    if s.startswith("match "):
        return "match"
    best: tuple[int, str] | None = None
    depth = 0
    i = 0
    while i < len(s):
        c = s[i]
        if c in OPEN_BRACKETS:
            depth += 1
        elif c in CLOSE_BRACKETS:
            depth = max(0, depth - 1)
        elif depth == 0:
            if i > 0 and s.startswith(_BINDERS, i) and not s[i - 1].isalnum():
                break  # a binder extends to the end: its body's connectives are not ours
            for sym, name, prec in _INFIX:
                if s.startswith(sym, i) and _is_operator(s, i, sym):
                    if best is None or prec < best[0]:
                        best = (prec, name)
                    i += len(sym) - 1
                    break
        i += 1
    if best is not None and best[0] < 40:
        return best[1]
    if s.startswith("¬"):
        return "not"
    return best[1] if best is not None else "other"


def _is_operator(s: str, i: int, sym: str) -> bool:
    """Whether `sym` at `i` is an infix operator: Lean prints those with a space either side
    (which tells `=` from `:=`/`=>`, and `<` from `<;>`/`<$>`)."""
    before = s[i - 1] if i > 0 else ""
    after = s[i + len(sym)] if i + len(sym) < len(s) else ""
    return before == " " and after in (" ", "")


def close_of(text: str, start: int) -> int:
    """Index of the bracket closing the one at `start`, or -1."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c in OPEN_BRACKETS:
            depth += 1
        elif c in CLOSE_BRACKETS:
            depth -= 1
            if depth == 0:
                return i
    return -1
