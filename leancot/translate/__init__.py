"""Turn Lean-checked tactic steps into natural-language chain-of-thought.

goals.py parses pretty-printed goal states, diff.py says what a tactic changed, tactic_text.py
and tactic_args.py read a tactic's text, templates.py renders a thought per step from the Jinja
templates in templates/, and corpora.py builds the
step, Lean-STaR and whole-proof corpora from traced theorems.
"""

from leancot.files import write_jsonl
from leancot.translate.corpora import (
    proof_docs,
    split_of,
    star_rows,
    step_record,
    step_records,
)
from leancot.translate.diff import GoalDiff, HypChange, StateDiff, diff_goals, diff_states
from leancot.translate.goals import Goal, GoalState, Hypothesis, parse_goal, parse_goal_state
from leancot.translate.templates import FAMILIES, RenderedStep, classify_tactic, render_step

__all__ = [
    "FAMILIES",
    "Goal",
    "GoalDiff",
    "GoalState",
    "HypChange",
    "Hypothesis",
    "RenderedStep",
    "StateDiff",
    "classify_tactic",
    "diff_goals",
    "diff_states",
    "parse_goal",
    "parse_goal_state",
    "proof_docs",
    "render_step",
    "split_of",
    "star_rows",
    "step_record",
    "step_records",
    "write_jsonl",
]
