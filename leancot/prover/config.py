"""The search settings shared by `leancot run`, `prove` and `iterate`: one config per concern.

`SearchConfig`: how a method proposes tactics (model samples, portfolio sizes, sampling,
priority, goal-aware tactics). `BudgetConfig`: what a search may spend per theorem (Lean calls,
expansions, timeouts); `BudgetConfig.budget()` is the prover's `Budget`. The pipeline's configs
hold one of each, so the three commands use the same names, defaults and help texts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from leancot.options import option
from leancot.prover.budget import Budget

METHODS = ("baseline", "heuristic", "best_first", "mcts_prm")
FIXED_METHODS = ("baseline", "heuristic")  # no model: the baselines learned methods must beat
PRIORITIES = ("logprob", "value", "mix")


# Knobs added after finished runs' stage keys were written, with the value that changes nothing:
# at that value a knob is left out of the keys, so those runs' stages stay valid.
KEY_NEUTRAL = {"sample_logprob_scale": 1.0}


@dataclass(frozen=True)
class SearchConfig:
    """How the searches propose and rank tactics."""

    num_samples: int = option(8, "model samples per expansion (best_first, mcts_prm)")
    portfolio_n: int = option(16, "portfolio tactics added to the model's per expansion")
    baseline_n: int = option(32, "portfolio tactics per expansion when there is no model")
    max_tokens: int = option(128, "tokens per sampled step (thought + tactic)")
    temperature: float = option(0.7, "sampling temperature of the policy")
    sample_logprob_scale: float = option(
        1.0,
        "the model's sampled steps' log-probabilities are divided by this before they are "
        "renormalised over a state's distinct samples (SampledPolicy's length_norm): 1 lets "
        "the thoughts' likelihood decide the samples' shares of the prior; larger evens them "
        "out (inf: equal shares); the order MCTS tries a node's samples in",
    )
    priority: str = option(
        "logprob", "best_first priority: logprob | value | mix (value: the PRM's)"
    )
    goal_tactics: bool = option(
        True, "learned searches also try the goal-aware unfolding tactics (as `heuristic` does)"
    )
    step_values: bool = option(
        False,
        "mcts_prm: the PRM scores every candidate step before Lean runs it, and untried steps "
        "are tried in the order of that score (Q-initialisation, prover/mcts.py); off by "
        "default: on core val it spent more Lean calls, not fewer (README, external suite)",
    )
    value_prior_weight: float = option(
        0.0,
        "mcts_prm and best_first with a value: the value's share w of the order a node's "
        "untried steps run in; every candidate is scored in one batched call when its node is "
        "expanded, and the prior is (1-w) * policy + w * value scores (prover/mcts.py); 0: the "
        "policy's order alone; 0.5 was tuned on core val for an outcome value (README)",
    )
    c_puct: float = option(
        1.0,
        "mcts_prm: the PUCT exploration constant c_puct (prover/mcts.py): larger spreads the "
        "Lean calls over a node's untried steps, smaller follows the best child's value deeper",
    )
    root_breadth: int = option(
        0,
        "mcts_prm: the first k simulations try k different root steps in the order of the "
        "priors before PUCT chooses (prover/mcts.py); 0: PUCT from the first simulation",
    )
    alpha_dedup: bool = option(
        True,
        "mcts_prm: a new state equal to a known one up to the names of its variables (`intro x` "
        "and `intro` on one goal) is not searched again (prover/renaming.py)",
    )
    retriever: str | None = option(
        None,
        "premise retriever of the searches (best_first, mcts_prm, and heuristic, which adds "
        "the premise tactics after its own): a `leancot train retriever` folder or bm25; "
        "retrieved premises go into the policy's prompt and into candidate tactics "
        "(`simp only [p1, ..]`, `simp [p1, ..]`, `rw [p]`, `exact p`, ...); none: no retrieval",
    )
    retriever_k: int = option(8, "premises retrieved per goal state (with a retriever)")
    premise_roots: tuple[str, ...] = option(
        ("Init", "Std"),
        "library roots the premise index holds (with a retriever; typed by Lean once, cached); "
        "a theorem is offered only those its header imports (`Init` always, `Std` under "
        "`import Std`)",
    )
    premise_n: int = option(
        4,
        "tactics using the retrieved premises per expansion (with a retriever): the first are "
        "`simp only`/`simp` with all of them, then `rw [p]`, `exact p`, ... per premise",
    )
    sampling_seed: int | None = option(
        None,
        "sampling seed of the policy (none: the model's own random stream); each state's "
        "samples then depend on the seed, the state and how often it was expanded",
    )

    def __post_init__(self) -> None:
        positive = ("num_samples", "portfolio_n", "baseline_n", "max_tokens", "retriever_k")
        for name in (*positive, "premise_n"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {self.temperature}")
        if not self.sample_logprob_scale > 0:
            raise ValueError(
                f"sample_logprob_scale must be positive, got {self.sample_logprob_scale}"
            )
        if self.c_puct < 0:
            raise ValueError(f"c_puct must be non-negative, got {self.c_puct}")
        if self.root_breadth < 0:
            raise ValueError(f"root_breadth must be non-negative, got {self.root_breadth}")
        if not 0.0 <= self.value_prior_weight <= 1.0:
            raise ValueError(f"value_prior_weight must be in [0, 1], got {self.value_prior_weight}")
        if not self.premise_roots:
            raise ValueError("premise_roots needs at least one library root (Init, Std)")
        if self.priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, not {self.priority!r}")

    def key_fields(self) -> dict[str, Any]:
        """The settings a stage key is made of: every field but a `KEY_NEUTRAL` knob at its
        neutral value."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in KEY_NEUTRAL or getattr(self, f.name) != KEY_NEUTRAL[f.name]
        }

    def key_text(self) -> str:
        """`key_fields` written as the dataclass' repr (the form older stage keys hashed)."""
        body = ", ".join(f"{name}={value!r}" for name, value in self.key_fields().items())
        return f"{type(self).__name__}({body})"


@dataclass(frozen=True)
class BudgetConfig:
    """What one search may spend on one theorem; the same for every method compared."""

    lean_calls: int = option(64, "Lean calls per theorem, the same for every method")
    expansions: int | None = option(None, "policy expansions per theorem (default: no limit)")
    tactic_timeout: float = option(5.0, "seconds per tactic")
    theorem_timeout: float = option(60.0, "wall-clock seconds per theorem and method")

    def __post_init__(self) -> None:
        if self.lean_calls < 1:
            raise ValueError(f"lean_calls must be positive, got {self.lean_calls}")
        if self.expansions is not None and self.expansions < 1:
            raise ValueError(f"expansions must be positive, got {self.expansions}")
        if self.tactic_timeout <= 0 or self.theorem_timeout <= 0:
            raise ValueError("timeouts must be positive")

    def budget(self) -> Budget:
        """The prover's `Budget` with these limits."""
        return Budget(
            max_expansions=self.expansions,
            max_lean_calls=self.lean_calls,
            tactic_timeout_s=self.tactic_timeout,
            theorem_wall_s=self.theorem_timeout,
        )
