"""A process reward model as the searches' value function.

A PRM (`leancot.models.scoring.PRM`) scores the steps of an attempt given its initial state:
`score(root_state, [(thought, tactic), ...])` is one probability per step that the step is good.
The searches score nodes; `PRMValue.value_state_paths(root_state, paths)` turns the path of steps
from the root to each node into one number (best_first.value_call passes the paths). The PRM reads
each step as it was trained to (`train.rows.prm_step_text`): a thought made from the state before
the step and the tactic alone (`translate.templates.render_intent`), never the edge's own thought,
which for the portfolio's tactics is empty and for the policy's is its own text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

Aggregate = Literal["min", "last", "prod"]
AGGREGATES = ("min", "last", "prod")


class PRMValue:
    """Value of a node = the PRM's step probabilities along its path, aggregated.

    `aggregate`: "min" (the weakest step, as Math-Shepherd ranks solutions), "last" (the last
    step's probability) or "prod" (all steps good). The root, with no steps, and any step the PRM
    could not score (NaN: cut off by its length limit) get `empty_value`. `root_state` is only
    used by `value(states, paths=...)`; the searches pass the root state themselves.
    """

    def __init__(
        self,
        prm: Any,
        root_state: str | None = None,
        *,
        aggregate: Aggregate = "min",
        empty_value: float = 0.5,
    ) -> None:
        if aggregate not in AGGREGATES:
            raise ValueError(f"aggregate must be one of {AGGREGATES}, not {aggregate!r}")
        if not hasattr(prm, "score_batch"):
            raise TypeError(f"{type(prm).__name__} is not a PRM (it has no score_batch)")
        self.prm = prm
        self.root_state = root_state
        self.aggregate = aggregate
        self.empty_value = float(empty_value)
        self.calls = 0

    def value_paths(
        self, root_state: str, paths: Sequence[Sequence[tuple[str, str]]]
    ) -> list[float]:
        """One value per path of `(thought, tactic)` steps from `root_state`."""
        items = [(root_state, list(p)) for p in paths if p]
        scores = iter(self.prm.score_batch(items) if items else [])
        self.calls += 1
        return [self._combine(next(scores)) if p else self.empty_value for p in paths]

    def value_state_paths(
        self, root_state: str, paths: Sequence[Sequence[tuple[str, str, str]]]
    ) -> list[float]:
        """One value per path of `(state before, thought, tactic)` steps: each step is given to
        the PRM with the intent thought of its state and tactic, as in training."""
        from leancot.translate.templates import render_intent

        steps = [[(render_intent(s, tac).thought, tac) for s, _, tac in p] for p in paths]
        return self.value_paths(root_state, steps)

    def value_steps(self, state: str, steps: Sequence[tuple[str, str]]) -> list[float]:
        """One value per `(thought, tactic)` step, each scored as a one-step attempt from
        `state` (the form of most PRM training rows), with the intent thought of the state and
        tactic as in training: what MCTS's step values ask before Lean runs the steps."""
        from leancot.translate.templates import render_intent

        items = [(state, [(render_intent(state, tac).thought, tac)]) for _, tac in steps]
        scores = self.prm.score_batch(items) if items else []
        self.calls += 1
        return [self._combine(s) for s in scores]

    def value(
        self, states: Sequence[str], paths: Sequence[Sequence[tuple[str, str]]] | None = None
    ) -> list[float]:
        """With `paths`: as `value_paths` from `self.root_state`. Without: every state is taken
        as its own root with no steps, so each gets `empty_value` (no information)."""
        if paths is None:
            return [self.empty_value] * len(states)
        if len(paths) != len(states):
            raise ValueError(f"{len(paths)} paths for {len(states)} states")
        if self.root_state is None:
            raise ValueError("PRMValue.value(paths=...) needs root_state (the initial state)")
        return self.value_paths(self.root_state, paths)

    def _combine(self, probs: Sequence[float]) -> float:
        probs = [float(p) for p in probs]
        if not probs or any(math.isnan(p) for p in probs):
            known = [p for p in probs if not math.isnan(p)]
            if not known:
                return self.empty_value
            probs = known
        if self.aggregate == "last":
            return probs[-1]
        if self.aggregate == "prod":
            return math.prod(probs)
        return min(probs)
