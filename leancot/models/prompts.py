"""Text formats shared by training and inference: the state prompt and one proof step.

A policy sees `format_state_prompt(state)` and answers `format_step(thought, tactic)`, i.e. one
line of thought, a newline, then the tactic (which may span several lines). The PRM sees the
initial state as its prompt and the steps of a proof attempt, each followed by `STEP_SEPARATOR`;
its label for a step sits on the last token of that separator (TRL's stepwise PRM layout).
"""

from __future__ import annotations

STEP_SEPARATOR = "\n\n"
"""Ends every step in a PRM input; the step's label is predicted on its last token."""

NO_GOALS = "no goals"


def format_state_prompt(state: str) -> str:
    """The prompt for a goal state: the pretty-printed goals followed by one newline."""
    return state.strip("\n") + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def format_step(thought: str, tactic: str) -> str:
    """`<thought>\\n<tactic>`: the thought is flattened to one line so `parse_step` can split it."""
    return f"{_one_line(thought)}\n{tactic.strip()}"


def parse_step(text: str) -> tuple[str, str]:
    """Split generated text into (thought, tactic); text without a newline is a bare tactic.

    Generation may run on past the step (another step, a blank-line separator): everything from
    the first blank line on is dropped.
    """
    cut = text.find(STEP_SEPARATOR)
    if cut >= 0:
        text = text[:cut]
    thought, newline, tactic = text.partition("\n")
    if not newline:
        return "", thought.strip()
    return thought.strip(), tactic.strip()


def normalize_tactic(tactic: str) -> str:
    """Whitespace-insensitive form of a tactic, for exact-match comparisons."""
    return " ".join(tactic.split())
