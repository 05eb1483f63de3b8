"""Held-out evaluation of a policy and a PRM, through the backend-agnostic scoring API.

Policy:

* `evaluate_policy`: tactic exact match of the best proposal against the reference step
  (whitespace normalised), match anywhere in the top n, and `lean_valid_frac`, the share of
  proposed tactics a `check(state, tactic) -> bool` callable does not reject (wire it to a Lean
  server; None skips it).
* `evaluate_topk`: one criterion for every proposer (the policy, the tactic portfolio, the best
  fixed tactics on train): at each held-out state, do the first k distinct proposals include a
  tactic Lean accepts that changes the state (`accept`), and one that closes the goal it is
  applied to (`close`), for k in `TOPK`. Lean's verdicts come from `outcome(state, tactic)`
  (`extract.replay.LeanStateChecker.outcome`). `rank_tactics` orders fixed tactics by how often
  they make progress at train states: its first is the best single tactic chosen on train.

PRM: `prm_eval` (`evaluate_prm`, `SurfaceBaseline`, `auroc`, `bootstrap_intervals`).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from leancot.extract.replay import CLOSED, progress
from leancot.models.prompts import normalize_tactic, parse_step, prompt_state
from leancot.options import option
from leancot.train.prm_eval import (
    PRMEval,
    evaluate_prm,
)

Check = Callable[[str, str], bool | None]
Outcome = Callable[[str, str], str | None]
TOPK = (1, 4, 8)


@dataclass(frozen=True)
class PolicyEval:
    num_rows: int
    n: int
    exact_match: float
    top_n_match: float
    num_proposals: int
    lean_valid_frac: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_policy(
    policy: Any,
    rows: Sequence[Mapping[str, str]],
    *,
    n: int = 1,
    check: Check | None = None,
    max_tokens: int = 128,
    temperature: float = 0.0,
) -> PolicyEval:
    """Greedy (beam search for n > 1 on HF) proposals for each held-out SFT row (its prompt as
    given, retrieved premises included; `check` gets the goal state alone)."""
    if not rows:
        return PolicyEval(0, n, 0.0, 0.0, 0, None)
    states = [r["prompt"].rstrip("\n") for r in rows]
    proposals = policy.propose(states, n, temperature=temperature, max_tokens=max_tokens)
    exact = top_n = total = valid = checked = 0
    for row, state, props in zip(rows, states, proposals, strict=True):
        reference = normalize_tactic(parse_step(row["completion"])[1])
        tactics = [normalize_tactic(p.tactic) for p in props]
        exact += bool(tactics) and tactics[0] == reference
        top_n += reference in tactics
        total += len(props)
        if check is not None:
            goal = prompt_state(state)
            verdicts = [check(goal, p.tactic) for p in props]
            checked += sum(v is not None for v in verdicts)  # None: Lean cannot reach the state
            valid += sum(v is True for v in verdicts)
    return PolicyEval(
        num_rows=len(rows),
        n=n,
        exact_match=exact / len(rows),
        top_n_match=top_n / len(rows),
        num_proposals=total,
        lean_valid_frac=(valid / checked if checked else None) if check is not None else None,
    )


# --- top-k on one criterion ----------------------------------------------------------------------


@dataclass(frozen=True)
class TopKEval:
    """Shares of held-out states (`num_states`, all reached by Lean) whose first k distinct
    proposals include one that makes progress (`accept`) / closes the goal (`close`); keys are
    k as text ("1", "4", "8"). `mean_proposals`: distinct proposals per state (at most max k)."""

    num_states: int
    accept: dict[str, float | None]
    close: dict[str, float | None]
    mean_proposals: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def distinct_tactics(tactics: Sequence[str], limit: int | None = None) -> list[str]:
    """Tactics in order, whitespace-normalised, without repeats or empty ones."""
    out = list(dict.fromkeys(t for t in (normalize_tactic(x) for x in tactics) if t))
    return out if limit is None else out[:limit]


def evaluate_topk(
    states: Sequence[str],
    proposals: Sequence[Sequence[str]],
    outcome: Outcome,
    *,
    ks: Sequence[int] = TOPK,
) -> TopKEval:
    """Top-k progress and closing at `states` (pass only states Lean reaches: a proposer that
    offers nothing at a state counts as a miss there; a None verdict counts as no progress)."""
    top = max(ks)
    hits = {k: [0, 0] for k in ks}  # k: [accept, close]
    total = 0
    for state, tactics in zip(states, proposals, strict=True):
        tactics = distinct_tactics(tactics, top)
        total += len(tactics)
        verdicts = [outcome(state, t) for t in tactics]
        for k in ks:
            first = verdicts[:k]
            hits[k][0] += any(progress(v) for v in first)
            hits[k][1] += any(v == CLOSED for v in first)
    n = len(states)

    def share(x: int) -> float | None:
        return x / n if n else None

    return TopKEval(
        num_states=n,
        accept={str(k): share(hits[k][0]) for k in ks},
        close={str(k): share(hits[k][1]) for k in ks},
        mean_proposals=total / n if n else 0.0,
    )


def rank_tactics(
    states: Sequence[str], tactics: Sequence[str], outcome: Outcome
) -> list[tuple[str, float]]:
    """`tactics` with the share of `states` where each makes progress, best first (ties keep the
    given order); states a tactic gets no verdict at are left out of its share."""
    ranked = []
    for i, tactic in enumerate(distinct_tactics(tactics)):
        verdicts = [v for v in (outcome(s, tactic) for s in states) if v is not None]
        rate = sum(progress(v) for v in verdicts) / len(verdicts) if verdicts else 0.0
        ranked.append((i, tactic, rate))
    ranked.sort(key=lambda x: (-x[2], x[0]))
    return [(tactic, rate) for _, tactic, rate in ranked]


def sample(items: Sequence[Any], limit: int, seed: int = 0) -> list[Any]:
    """At most `limit` items, a seeded sample in the original order."""
    if len(items) <= limit:
        return list(items)
    keep = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in keep]


# --- stage entry point ---------------------------------------------------------------------------


@dataclass
class EvalConfig:
    """`leancot evaluate`: held-out metrics of a trained policy and/or PRM."""

    data: list[str] = option([], "input files or folders (CoT rows, search logs)")
    policy: str | None = option(None, "policy: local path or hub id (hf), model name (vllm/http)")
    prm: str | None = option(None, "PRM: local path or hub id")
    backend: str = option("hf", "policy backend: hf, vllm or http", choices=("hf", "vllm", "http"))
    url: str | None = option(None, "base URL of the OpenAI-compatible server (backend http)")
    split: str = option("test", "held-out split to evaluate")
    max_rows: int = option(200, "at most this many rows (policy) / candidate steps (PRM)")
    seed: int = option(0, "seed of the PRM candidate sample and of the bootstrap")
    n: int = option(1, "proposals per state (top-n match)")
    max_tokens: int = option(128, "generation budget per proposal")
    output: str | None = option(None, "write the report JSON here")
    extra: dict[str, Any] = option({}, "backend options")
    retriever: str | None = option(
        None,
        "premise retriever to evaluate (a `leancot train retriever` folder, or bm25): recall@1/10 "
        "on the split's tactics against BM25; DATA is then the `leancot extract` dataset folder",
    )
    library: str | None = option(
        None, "with --retriever: the library premise cache (unset: read from the embedded Lean)"
    )

    def __post_init__(self) -> None:
        if isinstance(self.data, str):
            self.data = [self.data]
        if not self.data:
            raise ValueError("no evaluation data: pass at least one file or folder in `data`")
        if self.policy is None and self.prm is None and self.retriever is None:
            raise ValueError("nothing to evaluate: pass a policy, a PRM and/or a retriever")
        if self.backend == "http" and not self.url:
            raise ValueError("backend http needs `url`")
        if self.n < 1 or self.max_rows < 1:
            raise ValueError("n and max_rows must be positive")


@dataclass(frozen=True)
class EvalReport:
    split: str
    policy: PolicyEval | None
    prm: PRMEval | None
    retrieval: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "policy": self.policy.to_dict() if self.policy else None,
            "prm": self.prm.to_dict() if self.prm else None,
            "retrieval": self.retrieval,
        }


def load_policy(config: EvalConfig) -> Any:
    from leancot.models import hf, scoring

    if config.backend == "http":
        return scoring.HTTPPolicy(config.url, config.policy, **config.extra)
    if config.backend == "vllm":
        return scoring.VLLMPolicy(config.policy, **config.extra)
    return hf.HFPolicy(config.policy, **config.extra)


def main(
    config: EvalConfig, *, check: Check | None = None, library: Sequence[Any] | None = None
) -> EvalReport:
    """Evaluate on the held-out split; write the JSON report if `config.output` is set.

    PRM candidates are the edges of the split's search logs whose path from the root Lean
    accepted (give logs of one method, so the candidates share a source); step records, all
    accepted gold steps, are not candidates. The baseline is fitted on the train split's PRM
    rows (search logs and step records), the rows `leancot train prm` trains on. With a
    retriever, `library` holds the library premises (`leancot.prover.premises.read_library`)
    and `data[0]` is the extracted dataset (`train.retriever_eval.retrieval_recalls`).
    """
    from leancot.train.data import load_inputs
    from leancot.train.rows import (
        prm_candidates,
        prm_rows_from_search_logs,
        prm_rows_from_steps,
        sft_rows,
        sft_rows_from_search_logs,
    )

    retrieval = None
    if config.retriever is not None:
        from leancot.train.retriever_eval import retrieval_recalls

        dense = None if config.retriever == "bm25" else config.retriever
        retrieval = retrieval_recalls(config.data[0], library or [], dense, split=config.split)
    policy_eval = prm_eval = None
    needs_rows = config.policy is not None or config.prm is not None
    inputs = load_inputs(config.data) if needs_rows else None
    if config.policy is not None:
        assert inputs is not None
        rows = sft_rows(inputs.steps, split=config.split)
        rows = rows or sft_rows_from_search_logs(inputs.search_logs, split=config.split)
        policy_eval = evaluate_policy(
            load_policy(config),
            rows[: config.max_rows],
            n=config.n,
            check=check,
            max_tokens=config.max_tokens,
        )
    if config.prm is not None:
        from leancot.models.hf import HFPRM

        assert inputs is not None
        held_out = prm_candidates(
            prm_rows_from_search_logs(inputs.search_logs, split=config.split, include_accepted=True)
        )
        train = prm_candidates(
            prm_rows_from_search_logs(inputs.search_logs, split="train", include_accepted=True)
            + prm_rows_from_steps(inputs.steps, split="train")
        )
        prm_eval = evaluate_prm(
            HFPRM(config.prm),
            sample(held_out, config.max_rows, config.seed),
            train=train,
            seed=config.seed,
        )
    report = EvalReport(config.split, policy_eval, prm_eval, retrieval)
    if config.output:
        from leancot.train.data import atomic_write_text

        atomic_write_text(Path(config.output), json.dumps(report.to_dict(), indent=2) + "\n")
    return report


def format_report(report: EvalReport) -> str:
    """A small plain-text table of the report."""
    lines = [f"split: {report.split}"]
    if report.retrieval:
        r = report.retrieval
        lines.append(
            f"retrieval  tactics={r['tactics']}  bm25 recall@1={r['bm25_recall1']:.3f} "
            f"recall@10={r['bm25_recall10']:.3f}"
        )
        if "retriever_recall1" in r:
            lines.append(
                f"  retriever recall@1={r['retriever_recall1']:.3f} "
                f"recall@10={r['retriever_recall10']:.3f}"
            )
    if report.policy:
        p = report.policy
        valid = "n/a" if p.lean_valid_frac is None else f"{p.lean_valid_frac:.3f}"
        lines += [
            f"policy  rows={p.num_rows}  exact_match={p.exact_match:.3f}  "
            f"top{p.n}_match={p.top_n_match:.3f}  lean_valid_frac={valid}"
        ]
    if report.prm:
        r = report.prm

        def fmt(x: float | None) -> str:
            return "n/a" if x is None else f"{x:.3f}"

        def ci(x: list[float] | None) -> str:
            return "" if x is None else f" [{x[0]:.3f}, {x[1]:.3f}]"

        lines.append(
            f"prm     candidates={r.num_candidates} (accepted {r.num_positive}, rejected "
            f"{r.num_negative}, at {r.num_states} states)  auroc={fmt(r.auroc)}{ci(r.auroc_ci)}"
        )
        lines.append(
            f"  fitted surface baseline  auroc={fmt(r.fitted_baseline_auroc)}"
            f"{ci(r.fitted_baseline_auroc_ci)}  (fitted on {r.num_train_candidates} train steps)"
        )
    return "\n".join(lines)
