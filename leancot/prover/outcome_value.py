"""An outcome value (`leancot train value`) as the searches' value function.

The model is a PRM-shaped token classifier, but it was trained on one-step rows whose target is
what the step led to in real searches (`train.value_rows`: `gamma ** steps to the proof found
below it`, or 0), not on whether Lean accepted it. So a node's value is the score of the one
step that reached it, read from the state that step started from: an estimate of "a proof lies
below this state, soon". The searches call it as they call `PRMValue`:
`value_state_paths(root_state, paths)` (best-first's priority, MCTS's leaf value: only each
path's last step is scored) and `value_steps(state, steps)` (MCTS's step values, before Lean
runs the steps). The root, with no step, gets `empty_value`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

METADATA = "leancot_train.json"
VALUE_KIND = "value"


def model_kind(model_dir: str | Path) -> str | None:
    """The `kind` of a `leancot train` folder (`prm`, `value`, ...); None without metadata."""
    path = Path(model_dir) / METADATA
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not readable JSON ({exc})") from exc


def load_value_model(model_dir: str | Path, *, device: str | None = None) -> Any:
    """The searches' scoring model of a `leancot train` folder: an `OutcomeValue` over it when
    its kind is `value` (`leancot train value`), else the `HFPRM` itself (a PRM, which
    `mixture.as_value` wraps in `PRMValue`)."""
    from leancot.models.hf import HFPRM

    model = HFPRM(str(model_dir), device=device)
    return OutcomeValue(model) if model_kind(model_dir) == VALUE_KIND else model


class OutcomeValue:
    """Value of a node = the outcome model's score of the step that reached it.

    `caps_step_values` False: under MCTS's step values a step's score is not capped by its
    node's value (a step nearer the proof is worth more than the state it starts from).
    `steps_score_children` True: a step's score before it runs is the value of the node it
    reaches, so a search that scored a node's steps (a value prior) values the children from
    those scores without a second call."""

    caps_step_values = False
    steps_score_children = True  # value_steps(state, [step]) is the value of the step's child

    def __init__(self, model: Any, *, empty_value: float = 0.5) -> None:
        if not hasattr(model, "score_batch"):
            raise TypeError(f"{type(model).__name__} cannot score steps (it has no score_batch)")
        self.model = model
        self.empty_value = float(empty_value)
        self.calls = 0

    def value_steps(self, state: str, steps: Sequence[tuple[str, str]]) -> list[float]:
        """One value per `(thought, tactic)` step from `state` (the thought is ignored: the
        model reads the step as it was trained, `train.rows.prm_step_text`)."""
        return self._score([(state, tactic) for _, tactic in steps])

    def value_state_paths(
        self, root_state: str, paths: Sequence[Sequence[tuple[str, str, str]]]
    ) -> list[float]:
        """One value per path of `(state before, thought, tactic)` steps: its last step's
        score (`empty_value` for the empty path, the root)."""
        last = [(p[-1][0], p[-1][2]) for p in paths if p]
        scores = iter(self._score(last) if last else [])
        return [next(scores) if p else self.empty_value for p in paths]

    def _score(self, steps: Sequence[tuple[str, str]]) -> list[float]:
        from leancot.translate.templates import render_intent

        items = [(s, [(render_intent(s, tac).thought, tac)]) for s, tac in steps]
        scores = self.model.score_batch(items) if items else []
        self.calls += 1
        out = []
        for probs in scores:
            p = float(probs[-1]) if len(probs) else math.nan
            out.append(self.empty_value if math.isnan(p) else p)
        return out


__all__ = ["OutcomeValue", "VALUE_KIND", "load_value_model", "model_kind"]
