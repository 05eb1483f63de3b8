"""Formats shared by training and inference: the state prompt, one proof step, the PRM encoding.

A policy sees `format_state_prompt(state)` (with a retriever, the retrieved premises' lines
first) and answers `format_step(thought, tactic)`, i.e. one
line of thought, a newline, then the tactic (which may span several lines). The PRM sees the
initial state as its prompt and the steps of a proof attempt, each followed by `STEP_SEPARATOR`;
its label for a step sits on the last token of that separator (TRL's stepwise PRM layout).
`encode_prm` tokenizes that layout, for PRM training (leancot/train/prm.py) and `HFPRM` alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

STEP_SEPARATOR = "\n\n"
"""Ends every step in a PRM input; the step's label is predicted on its last token."""


PREMISE_LINE = "-- premise: "
"""Starts each retrieved premise's line above the state in a retrieval prompt."""


def format_state_prompt(state: str, premises: Sequence[str] = ()) -> str:
    """The prompt for a goal state: the pretty-printed goals followed by one newline.

    With retrieved `premises` (each `name : type` or a statement), one `-- premise: ...` line
    each comes first; without, the prompt is the state alone (what older checkpoints learned).
    """
    head = "".join(f"{PREMISE_LINE}{_one_line(p)}\n" for p in premises)
    return head + state.strip("\n") + "\n"


def prompt_state(prompt: str) -> str:
    """The goal state of a `format_state_prompt` prompt: its `-- premise:` lines dropped."""
    lines = prompt.strip("\n").split("\n")
    while lines and lines[0].startswith(PREMISE_LINE):
        lines.pop(0)
    return "\n".join(lines)


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


def encode_prm(
    tokenizer: Any, prompt: str, steps: Sequence[str], max_length: int | None = None
) -> tuple[list[int], list[int]]:
    """Token ids of `prompt` + each step + `STEP_SEPARATOR`, and the index of each step's label
    token (the separator's last token). Steps cut off by `max_length` get no position."""
    ids = list(tokenizer(prompt, add_special_tokens=False)["input_ids"])
    if tokenizer.bos_token_id is not None:
        ids = [tokenizer.bos_token_id, *ids]
    separator = tokenizer(STEP_SEPARATOR, add_special_tokens=False)["input_ids"]
    positions = []
    for step in steps:
        ids.extend(tokenizer(step, add_special_tokens=False)["input_ids"])
        ids.extend(separator)
        positions.append(len(ids) - 1)
    if max_length is not None and len(ids) > max_length:
        ids = ids[:max_length]
        positions = [p for p in positions if p < max_length]
    return ids, positions
