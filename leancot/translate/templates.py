"""Render one Lean-checked tactic step as a natural-language thought.

`classify_tactic` names the tactic's family by its leading keyword; `render_step` parses both goal
states, diffs them, reads the tactic's arguments (lemmas, names, cases) and renders the family's
Jinja template from `leancot/translate/templates/<family>.j2`. Rendering is deterministic.
`render_intent` renders the same templates from the state before the step alone (what the step
sets out to do, nothing of what Lean replied), for text that must not encode the outcome.
Reading the tactic text lives in tactic_text.py, the per-family arguments in tactic_args.py;
this module is the entry point and re-exports FAMILIES, GENERIC and `classify_tactic`.

Layout inside the templates is free: the output is collapsed into one paragraph (see `_tidy`),
and a line break always separates words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext

from leancot.translate.diff import GoalDiff, StateDiff, diff_states
from leancot.translate.goals import Hypothesis, head_connective, parse_goal_state
from leancot.translate.tactic_args import family_args, split_ih
from leancot.translate.tactic_text import (
    FAMILIES,
    GENERIC,
    KEYWORD,
    classify,
    classify_tactic,
    flat,
    one_line,
    unwrap,
)

# `_flat` keeps its old name here: corpora.py imports it from this module.
_flat = flat

__all__ = [
    "FAMILIES",
    "GENERIC",
    "MAX_CODE",
    "TEMPLATE_DIR",
    "RenderedStep",
    "classify_tactic",
    "environment",
    "render_intent",
    "render_step",
    "render_template",
    "step_context",
]

TEMPLATE_DIR = Path(__file__).with_name("templates")
MAX_CODE = 160  # longest expression quoted in full; longer ones are cut with "…"


@dataclass(frozen=True)
class RenderedStep:
    """A rendered thought and the name of the template that produced it."""

    thought: str
    template: str


# -- Rendering ----------------------------------------------------------------------------------


def _code(text: Any, limit: int = MAX_CODE) -> str:
    s = one_line(str(text)).replace("`", "'")
    if len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return f"`{s}`"


def _hyp(h: Hypothesis) -> str:
    text = f"{' '.join(h.names)} : {one_line(h.type)}"
    if h.value is not None:
        text += f" := {one_line(h.value)}"
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
        oneline=one_line,
        split_ih=split_ih,
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
    parts = one_line(text).split("`")
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
    tac, wrapper_case = unwrap(tactic)
    family = classify(tac, before)
    m = KEYWORD.match(tac)
    keyword = m.group(0) if m else ""
    rest = tac[m.end() :].strip() if m else tac
    goal = before.main
    return {
        "tactic": flat(tactic),
        "family": family,
        "keyword": keyword,
        "a": family_args(family, keyword, rest, tac, goal),
        "d": diff,
        "goal": goal,
        "target": one_line(goal.target) if goal is not None else "",
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


@dataclass(frozen=True)
class _UnknownOutcome(StateDiff):
    """The diff of a step whose outcome is not read: the state before on both sides, and no
    claim that the step changed nothing (generic.j2 says so for a real no-op)."""

    @property
    def no_effect(self) -> bool:
        return False


def _render(ctx: dict[str, Any]) -> RenderedStep:
    family = ctx["family"]
    try:
        thought, name = render_template(family, **ctx), family
    except (jinja2.UndefinedError, AttributeError, TypeError, ValueError, IndexError, KeyError):
        thought, name = render_template(GENERIC, **ctx), GENERIC
    if not thought:
        thought, name = render_template(GENERIC, **ctx), GENERIC
    return RenderedStep(thought, name)


def render_step(
    state_before: str, tactic: str, state_after: str, *, depth: int = 0
) -> RenderedStep:
    """The thought explaining `tactic` on `state_before`, grounded in what it changed.

    `depth` > 0 marks a tactic nested in a block (`· tac`, `| succ => tac`): there "no goals"
    after it ends that block, not the whole proof.
    """
    return _render(step_context(state_before, tactic, state_after, depth=depth))


@lru_cache(maxsize=4096)
def render_intent(state_before: str, tactic: str, *, depth: int = 0) -> RenderedStep:
    """The thought for `tactic` on `state_before`, made from those two alone.

    The family's template is rendered with the state before on both sides of the diff and no
    "it does not change the goal": the text says where the step starts and what it sets out to
    do, never what Lean replied, so an accepted and a rejected tactic at the same state read the
    same (the PRM's step text, leancot/train/rows.py; rejected tactics in pipeline/negatives.py).
    A state or tactic the templates cannot read gives "We use `tactic`.".
    """
    try:
        ctx = step_context(state_before, tactic, state_before, depth=depth)
        diff = ctx["d"]
        ctx["d"] = _UnknownOutcome(**{f.name: getattr(diff, f.name) for f in fields(diff)})
        return _render(ctx)
    except Exception:  # a state the goal parser cannot read: the fixed fallback below
        return RenderedStep(f"We use {_code(tactic, 100)}.", GENERIC)
