"""Whether an LLM rewrite of a template thought is faithful to its step: `check_faithful`.

A rewrite is kept only if every name the template mentions survives (hypotheses and variables of
either goal state, identifiers of the tactic: `required_names`), it quotes no tactic other than
the step's own (`code_spans` in backticks or fences), and its length stays in bounds relative to
the template thought.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from leancot.translate.goals import parse_goal_state

_PART = r"[^\W\d][\w'!?]*"
_IDENT = re.compile(rf"(?<![\w'.!?]){_PART}(?:\.{_PART})*")
_FENCE = re.compile(r"```[^\n]*\n?(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
# Words of tactic syntax that are not names a rewrite must keep.
LEAN_KEYWORDS = frozenset(
    "at by with only using fun λ in if then else do let have show from match return generalizing "
    "says case next to as where Type Prop Sort forall exists".split()
)
# Leading words that make a backticked span a tactic.
TACTIC_WORDS = frozenset(
    """rw rwa rewrite erw rw_mod_cast simp simp_all dsimp simpa simp_arith norm_num field_simp
    push_cast norm_cast exact_mod_cast push_neg exact apply refine refine' intro intros rintro
    induction induction' cases cases' rcases obtain constructor use exists existsi omega linarith
    nlinarith positivity ring ring_nf decide native_decide rfl trivial contradiction exfalso absurd
    by_cases by_contra unfold unfold_let delta funext ext specialize calc conv split left right
    assumption aesop tauto subst symm congr gcongr change generalize revert clear injection
    first try repeat all_goals any_goals focus skip done sorry admit exact? apply? simp? simp_all?
    rename_i set show have suffices wlog nofun nomatch trans apply_assumption infer_instance
    fun_induction match_target interval_cases fin_cases""".split()
)


class Verdict(NamedTuple):
    """Outcome of `check_faithful`; unpacks as `(ok, reason)` (reason None when ok)."""

    ok: bool
    reason: str | None


def mentions(text: str, name: str) -> bool:
    """Whether `name` occurs in `text` as a whole identifier (`h` in `h.symm`, not in `hx`)."""
    return re.search(rf"(?<![\w'.]){re.escape(name)}(?![\w'✝!?])", text) is not None


def tactic_identifiers(tactic: str) -> list[str]:
    """Names in a tactic (lemmas, hypotheses, variables), in order, keywords dropped."""
    names = []
    for m in _IDENT.finditer(tactic):
        name = m.group()
        if name.strip("_") and name not in LEAN_KEYWORDS | TACTIC_WORDS and name not in names:
            names.append(name)
    return names


def hypothesis_names(state: str) -> list[str]:
    """Hypothesis and variable names of a pretty-printed goal state (empty if unparsable)."""
    try:
        goals = parse_goal_state(state or "").goals
    except ValueError:
        return []
    names: list[str] = []
    for goal in goals:
        for hyp in goal.hypotheses:
            names += [n for n in hyp.names if n not in names]
    return names


def required_names(template_thought: str, record: dict[str, Any]) -> list[str]:
    """The names a rewrite must keep: hypotheses/variables of either goal state and identifiers
    of the tactic, as far as the template thought mentions them."""
    candidates = hypothesis_names(record.get("state_before", ""))
    candidates += hypothesis_names(record.get("state_after", ""))
    candidates += tactic_identifiers(record.get("tactic", ""))
    seen: list[str] = []
    for name in candidates:
        if name not in seen and name not in LEAN_KEYWORDS and mentions(template_thought, name):
            seen.append(name)
    return seen


def code_spans(text: str) -> list[str]:
    """Backticked spans and fenced blocks of `text`, whitespace collapsed."""
    fenced = [m.group(1) for m in _FENCE.finditer(text)]
    inline = _SPAN.findall(_FENCE.sub(" ", text))
    return [" ".join(s.split()) for s in fenced + inline if s.strip()]


def _is_tactic(span: str) -> bool:
    m = _IDENT.match(span.lstrip("·. "))
    return m is not None and m.group() in TACTIC_WORDS


def check_faithful(
    template_thought: str,
    rewrite: str,
    record: dict[str, Any],
    *,
    min_ratio: float = 0.5,
    max_ratio: float = 4.0,
    max_chars: int = 2000,
) -> Verdict:
    """Accept `rewrite` of `template_thought` for step `record` or say why not."""
    size, base = len(rewrite), max(len(template_thought), 1)
    if not rewrite.strip():
        return Verdict(False, "empty rewrite")
    if size > max_chars:
        return Verdict(False, f"too long: {size} chars, over max_chars {max_chars}")
    template = f"the template's {base}"
    if size > max_ratio * base:
        return Verdict(False, f"too long: {size} chars, over {max_ratio:g}x {template}")
    if size < min_ratio * base:
        return Verdict(False, f"too short: {size} chars, under {min_ratio:g}x {template}")
    dropped = [n for n in required_names(template_thought, record) if not mentions(rewrite, n)]
    if dropped:
        return Verdict(False, "dropped names: " + ", ".join(dropped))
    tactic = " ".join(str(record.get("tactic", "")).split())
    allowed = set(code_spans(template_thought))
    for span in code_spans(rewrite):
        if _is_tactic(span) and span not in tactic and span not in allowed:
            return Verdict(False, f"quotes a different tactic: `{span}`")
    return Verdict(True, None)
