"""Held-out evaluation of a policy and a PRM, through the backend-agnostic scoring API.

Policy: tactic exact match of the best proposal against the reference step (whitespace
normalised), match anywhere in the top n, and `lean_valid_frac`, the share of proposed tactics a
`check(state, tactic) -> bool` callable accepts (wire it to a Lean server; None skips it).

PRM: AUROC of P(good) over every labelled step, and first-error accuracy (the first step scored
below 0.5 is the row's first error, or none: does it match the labels?). Baselines: a constant
score, and two length scores (-cumulative characters of the steps so far, -step index). Their
first-error accuracy uses the threshold that is best on the evaluated rows themselves, which
flatters them; the model gets the fixed 0.5.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from leancot.models.prompts import normalize_tactic, parse_step
from leancot.options import option
from leancot.train.rows import first_error_index

Check = Callable[[str, str], bool]


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


@dataclass(frozen=True)
class PRMEval:
    num_rows: int
    num_steps: int
    num_bad_steps: int
    auroc: float | None
    first_error_acc: float
    baselines: dict[str, dict[str, float | None]]

    @property
    def best_baseline_auroc(self) -> float | None:
        values = [b["auroc"] for b in self.baselines.values() if b["auroc"] is not None]
        return max(values) if values else None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "best_baseline_auroc": self.best_baseline_auroc}


def evaluate_policy(
    policy: Any,
    rows: Sequence[Mapping[str, str]],
    *,
    n: int = 1,
    check: Check | None = None,
    max_tokens: int = 128,
    temperature: float = 0.0,
) -> PolicyEval:
    """Greedy (beam search for n > 1 on HF) proposals for each held-out SFT row."""
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
            verdicts = [check(state, p.tactic) for p in props]
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


def _auroc(labels: Sequence[int], scores: Sequence[float]) -> float | None:
    if len(set(labels)) < 2:
        return None
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def _first_error_acc(
    labels: Sequence[Sequence[float]], scores: Sequence[Sequence[float]], threshold: float
) -> float:
    hits = sum(
        first_error_index(s, threshold) == first_error_index(y)
        for y, s in zip(labels, scores, strict=True)
    )
    return hits / len(labels) if labels else 0.0


def _best_threshold_acc(labels, scores) -> float:
    values = sorted({v for row in scores for v in row})
    candidates = [values[0] - 1.0] + [v + 1e-9 for v in values]
    return max(_first_error_acc(labels, scores, t) for t in candidates) if values else 0.0


def _baseline_scores(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[list[float]]]:
    out: dict[str, list[list[float]]] = {"constant": [], "length": [], "position": []}
    for row in rows:
        steps = row["completions"]
        out["constant"].append([0.5] * len(steps))
        cumulative, total = [], 0
        for step in steps:
            total += len(step)
            cumulative.append(-float(total))
        out["length"].append(cumulative)
        out["position"].append([-float(i) for i in range(len(steps))])
    return out


def evaluate_prm(prm: Any, rows: Sequence[Mapping[str, Any]]) -> PRMEval:
    """Score every prefix of each held-out stepwise row; soft labels count as good from 0.5."""
    rows = [r for r in rows if r["completions"]]
    labels = [[1.0 if float(v) >= 0.5 else 0.0 for v in r["labels"]] for r in rows]
    scores = prm.score_batch([(r["prompt"], list(r["completions"])) for r in rows]) if rows else []
    scores = [[0.0 if math.isnan(x) else x for x in row] for row in scores]
    flat_labels = [int(v) for row in labels for v in row]

    def flat(values: list[list[float]]) -> list[float]:
        return [v for row in values for v in row]

    baselines = {
        name: {
            "auroc": _auroc(flat_labels, flat(values)),
            "first_error_acc": _best_threshold_acc(labels, values),
        }
        for name, values in _baseline_scores(rows).items()
    }
    return PRMEval(
        num_rows=len(rows),
        num_steps=len(flat_labels),
        num_bad_steps=flat_labels.count(0),
        auroc=_auroc(flat_labels, flat(scores)),
        first_error_acc=_first_error_acc(labels, scores, 0.5),
        baselines=baselines,
    )


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
    max_rows: int = option(200, "at most this many rows per metric")
    n: int = option(1, "proposals per state (top-n match)")
    max_tokens: int = option(128, "generation budget per proposal")
    output: str | None = option(None, "write the report JSON here")
    extra: dict[str, Any] = option({}, "backend options")

    def __post_init__(self) -> None:
        if isinstance(self.data, str):
            self.data = [self.data]
        if not self.data:
            raise ValueError("no evaluation data: pass at least one file or folder in `data`")
        if self.policy is None and self.prm is None:
            raise ValueError("nothing to evaluate: pass a policy and/or a PRM")
        if self.backend == "http" and not self.url:
            raise ValueError("backend http needs `url`")
        if self.n < 1 or self.max_rows < 1:
            raise ValueError("n and max_rows must be positive")


@dataclass(frozen=True)
class EvalReport:
    split: str
    policy: PolicyEval | None
    prm: PRMEval | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "policy": self.policy.to_dict() if self.policy else None,
            "prm": self.prm.to_dict() if self.prm else None,
        }


def load_policy(config: EvalConfig) -> Any:
    from leancot.models import hf, scoring

    if config.backend == "http":
        return scoring.HTTPPolicy(config.url, config.policy, **config.extra)
    if config.backend == "vllm":
        return scoring.VLLMPolicy(config.policy, **config.extra)
    return hf.HFPolicy(config.policy, **config.extra)


def main(config: EvalConfig, *, check: Check | None = None) -> EvalReport:
    """Evaluate on the held-out split; write the JSON report if `config.output` is set."""
    from leancot.train.data import load_inputs
    from leancot.train.rows import (
        prm_rows_from_search_logs,
        prm_rows_from_steps,
        sft_rows,
        sft_rows_from_search_logs,
    )

    inputs = load_inputs(config.data)
    policy_eval = prm_eval = None
    if config.policy is not None:
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

        rows = prm_rows_from_search_logs(inputs.search_logs, split=config.split)
        rows += prm_rows_from_steps(inputs.steps, split=config.split)
        prm_eval = evaluate_prm(HFPRM(config.prm), rows[: config.max_rows])
    report = EvalReport(config.split, policy_eval, prm_eval)
    if config.output:
        from leancot.train.data import atomic_write_text

        atomic_write_text(Path(config.output), json.dumps(report.to_dict(), indent=2) + "\n")
    return report


def format_report(report: EvalReport) -> str:
    """A small plain-text table of the report."""
    lines = [f"split: {report.split}"]
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

        lines.append(
            f"prm     rows={r.num_rows}  steps={r.num_steps} (bad {r.num_bad_steps})  "
            f"auroc={fmt(r.auroc)}  first_error_acc={r.first_error_acc:.3f}"
        )
        for name, b in r.baselines.items():
            lines.append(
                f"  baseline {name:<9} auroc={fmt(b['auroc'])}  "
                f"first_error_acc={fmt(b['first_error_acc'])}"
            )
    return "\n".join(lines)
