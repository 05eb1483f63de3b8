"""The proposal mixtures of the learned searches and `search_setup`, which picks a method's
policy, value and search arguments.

- `SampledPolicy`: a model's samples (the scoring API's `propose`) as a proposal distribution
  over each state's distinct tactics.
- `WeightedPolicy`, `normalized`: renormalised log-probabilities shifted by a mixture weight.
- `mixture`: the model's samples, the goal-aware unfolding tactics and the tactic portfolio.
- `search_setup`: (policy, value, search kwargs) of `baseline`, `best_first` or `mcts_prm`.
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from leancot.prover.config import METHODS, SearchConfig
from leancot.prover.policies import (
    Candidate,
    MixedPolicy,
    PortfolioPolicy,
    bind_theorem,
    plausible_tactic,
)
from leancot.prover.prm_value import PRMValue
from leancot.prover.unfolding import UnfoldingPolicy


class SampledPolicy:
    """A scoring-API policy (`propose(states, n, max_tokens=..., temperature=...)`) as a search
    policy whose log-probabilities form a distribution over each state's distinct tactics.

    The searches add log-probabilities along a path and compare them with the portfolio's, so the
    raw sequence log-probabilities (tens of nats for a long thought) are renormalised per state:
    `log softmax(logprob / length_norm)`, plus `log(weight)` for a mixture. Samples whose tactic
    cannot parse (`policies.plausible_tactic`: prose, unbalanced brackets) are dropped first.
    """

    def __init__(
        self,
        model: Any,
        *,
        max_tokens: int = 128,
        temperature: float = 0.7,
        weight: float = 1.0,
        length_norm: float = 1.0,
        seed: int | None = None,
        premises: Any = None,
    ) -> None:
        if not 0 < weight <= 1:
            raise ValueError(f"weight must be in (0, 1], got {weight}")
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.log_weight = math.log(weight)
        self.length_norm = length_norm
        self.seed = seed
        self.premises = premises  # a PremiseSource, or (bound) one theorem's TheoremPremises
        self._expansions: Counter[str] = Counter()
        self._lock = threading.Lock()  # one generate at a time (torch on a shared device)

    def for_theorem(self, theorem: Mapping[str, Any]) -> SampledPolicy:
        """The same model (lock and seed stream shared) whose prompts show the premises
        retrieved for `theorem`; itself when there is no retriever."""
        if self.premises is None or not hasattr(self.premises, "for_theorem"):
            return self
        bound = copy.copy(self)
        bound.premises = self.premises.for_theorem(theorem)
        return bound

    def propose(self, states: list[str], n: int) -> list[list[Candidate]]:
        with self._lock:
            sampling: dict[str, Any] = {
                "max_tokens": self.max_tokens,
                "temperature": self.temperature,
            }
            if self.seed is not None:
                sampling["seed"] = self._call_seed(states)
            if self.premises is not None and hasattr(self.premises, "texts"):
                sampling["premises"] = [self.premises.texts(s) for s in states]
            out = self.model.propose(states, n, **sampling)
        screened = [[c for c in cands if plausible_tactic(c[1])] for cands in out]
        return [normalized(cands, self.log_weight, self.length_norm) for cands in screened]

    def _call_seed(self, states: list[str]) -> int:
        """A seed from (seed, the states, how often they were expanded): the same search at the
        same seed samples the same steps whatever the order threads reach the states in."""
        key = "\x00".join(states)
        count = self._expansions[key]
        self._expansions[key] += 1
        text = f"{self.seed}\x00{count}\x00{key}"
        return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


class WeightedPolicy:
    """Any search policy with its log-probabilities renormalised and shifted by `log(weight)`."""

    def __init__(self, policy: Any, weight: float) -> None:
        self.policy = policy
        self.log_weight = math.log(weight)

    def propose(self, states: list[str], n: int) -> list[list[Candidate]]:
        return [normalized(c, self.log_weight) for c in self.policy.propose(states, n)]

    def for_theorem(self, theorem: Mapping[str, Any]) -> WeightedPolicy:
        bound = copy.copy(self)
        bound.policy = bind_theorem(self.policy, theorem)
        return bound


def normalized(
    cands: Iterable[Sequence[Any]], log_weight: float = 0.0, scale: float = 1.0
) -> list[Candidate]:
    """Candidates with `log softmax(logprob / scale) + log_weight` (order kept)."""
    items = [Candidate(str(t), str(c), float(lp)) for t, c, lp in cands]
    if not items:
        return []
    top = max(c.logprob / scale for c in items)
    log_z = top + math.log(sum(math.exp(c.logprob / scale - top) for c in items))
    return [c._replace(logprob=c.logprob / scale - log_z + log_weight) for c in items]


def goal_aware(weight: float = 1.0, portfolio_n: int = 16) -> MixedPolicy:
    """The tactics that unfold the goal's definitions (`UnfoldingPolicy`), then the portfolio's,
    sharing `weight` equally: the `heuristic` method's policy and the fixed half of `mixture`."""
    return MixedPolicy(
        WeightedPolicy(UnfoldingPolicy(), weight / 2),
        WeightedPolicy(PortfolioPolicy(), weight / 2),
        portfolio_n=portfolio_n,
    )


def mixture(
    model: Any,
    *,
    model_weight: float = 0.5,
    portfolio_n: int = 16,
    goal_tactics: bool = True,
    premises: Any = None,
    premise_n: int = 4,
    **sampling: Any,
) -> MixedPolicy:
    """The model's samples (weight `model_weight`), then with `goal_tactics` the goal-aware
    tactics and the portfolio's (`goal_aware`), else the portfolio's alone.

    With `premises` (a `retrieval.PremiseSource`) the model's prompts show each state's
    retrieved premises, and up to `premise_n` tactics using them (`PremiseTactics`) come after
    the fixed ones with a fifth of their weight (`with_premise_tactics`): on core val they
    rarely closed a goal, so they must not go before the portfolio's closers."""
    sampled = SampledPolicy(model, weight=model_weight, premises=premises, **sampling)
    rest = 1.0 - model_weight
    fixed: Any
    if goal_tactics:
        fixed = goal_aware(rest, portfolio_n)
    else:
        fixed = WeightedPolicy(PortfolioPolicy(), rest)
    if premises is not None:
        fixed = with_premise_tactics(fixed, premises, premise_n, rest, share=0.2)
    return MixedPolicy(sampled, fixed, portfolio_n=portfolio_n)


def with_premise_tactics(
    fixed: Any, premises: Any, premise_n: int, weight: float = 1.0, share: float = 0.5
) -> MixedPolicy:
    """`fixed` (a policy without a model, weight `weight`), then up to `premise_n` tactics that
    use the premises retrieved for each state (`retrieval.PremiseTactics`); the premise tactics
    get `share` of `weight`, the rest stays with `fixed`: `heuristic` with a retriever (a
    model-free baseline that retrieves; best-first tries a node's tactics in this order, the
    share only ranks the children) and the fixed part of `mixture` (share 0.2)."""
    from leancot.prover.retrieval import PremiseTactics

    return MixedPolicy(
        WeightedPolicy(fixed, weight * (1 - share)),
        WeightedPolicy(PremiseTactics(premises), weight * share),
        portfolio_n=premise_n,
    )


def as_value(model: Any) -> Any:
    """The searches' value of a scoring model: a PRM wrapped in `PRMValue`; a model that is
    already a value (it has `value_state_paths` and `value_steps`, e.g.
    `outcome_value.OutcomeValue`) as it is."""
    if hasattr(model, "value_state_paths") and hasattr(model, "value_steps"):
        return model
    return PRMValue(model)


def mcts_kwargs(s: SearchConfig, num_candidates: int) -> dict[str, Any]:
    """`mcts_search`'s settings from the search config (`num_candidates` per expansion)."""
    return {
        "num_candidates": num_candidates,
        "step_values": s.step_values,
        "alpha_dedup": s.alpha_dedup,
        "value_prior_weight": s.value_prior_weight,
        "c_puct": s.c_puct,
        "root_breadth": s.root_breadth,
    }


def sampling_kwargs(s: SearchConfig) -> dict[str, Any]:
    """`SampledPolicy`'s settings from the search config: the same for the learned searches'
    mixture and for the policy searching alone."""
    return {
        "max_tokens": s.max_tokens,
        "temperature": s.temperature,
        "length_norm": s.sample_logprob_scale,
        "seed": s.sampling_seed,
    }


def search_setup(
    method: str,
    search: SearchConfig | None = None,
    *,
    model: Any = None,
    prm: Any = None,
    premises: Any = None,
) -> tuple[Any, Any, dict[str, Any]]:
    """(policy, value, search kwargs) of a method.

    baseline: best-first over the tactic portfolio alone; heuristic: best-first over the
    goal-aware unfolding tactics and the portfolio (no model, the baseline learned methods are
    judged against); best_first: the model's samples mixed
    with the portfolio, cumulative log-probability priority (or `search.priority` "value"/"mix"
    with a PRM); mcts_prm: the same mixture under MCTS with the PRM as value (and, with
    `search.step_values`, as the score of each step before it runs). With a value, both take
    `search.value_prior_weight`: the value's share of the order a node's steps run in.
    `goal_tactics` adds the goal-aware unfolding tactics to the searches' mixture (never to
    the baseline). Without a model, best_first is the baseline. `premises` (a
    `retrieval.PremiseSource`, from `search.retriever`) adds retrieved premises to the learned
    searches' prompts and tactics, and their tactics to `heuristic`'s (after its own,
    `with_premise_tactics`).
    """
    s = search or SearchConfig()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    if method == "mcts_prm" and prm is None:
        raise ValueError("method mcts_prm needs a PRM (a trained PRM folder: --prm DIR)")
    policy: Any
    if method == "heuristic":
        policy = goal_aware(1.0, s.baseline_n)
        if premises is not None:
            policy = with_premise_tactics(policy, premises, s.premise_n)
        return policy, None, {"num_candidates": s.baseline_n}
    if method == "baseline" or model is None:
        if method == "mcts_prm":
            policy = WeightedPolicy(PortfolioPolicy(), 1.0)
            return policy, as_value(prm), mcts_kwargs(s, s.baseline_n)
        return PortfolioPolicy(), None, {"num_candidates": s.baseline_n}
    policy = mixture(
        model,
        portfolio_n=s.portfolio_n,
        goal_tactics=s.goal_tactics,
        premises=premises,
        premise_n=s.premise_n,
        **sampling_kwargs(s),
    )
    if method == "mcts_prm":
        return policy, as_value(prm), mcts_kwargs(s, s.num_samples)
    value = as_value(prm) if prm is not None and s.priority != "logprob" else None
    if s.priority != "logprob" and value is None:
        raise ValueError(f"best_first with priority {s.priority!r} needs a PRM (--prm DIR)")
    kwargs = {"num_candidates": s.num_samples, "priority": s.priority}
    if value is not None:
        kwargs["value_prior_weight"] = s.value_prior_weight
    return policy, value, kwargs
