"""Learning benchmark: train the tiny policy and PRM briefly, report speed and held-out quality.

    python benchmarks/learning.py [DATA ...] [--lean-dataset DIR] [--json]
                                  [--sft-steps N] [--prm-steps N]

DATA are files or folders of CoT step rows / Lean-STaR rows and search logs (JSONL), e.g. a
`leancot run` folder's cot/ and negatives/; without them a small synthetic-but-structured corpus
is generated (the test fixture tests/synthetic_corpus.py). Training uses the "train" split; the
PRM is warm-started from the SFT policy, as `leancot run` does. Held out: the "val" and "test"
theorems (nothing below is chosen on them).

With `--lean-dataset` (the run's extract/dataset, LeanDojo layout) every held-out top-level state
is replayed in the embedded Lean, in its theorem's file context, and proposals are judged by what
Lean does with them (extract/replay.py):

* `policy_topk_accept` / `portfolio_topk_accept` / `best_train_topk_accept` ("1", "4", "8"): the
  share of held-out states where the first k distinct proposals include a tactic Lean accepts
  that changes the state; `*_topk_close`: one that closes the goal. Proposers: the policy (the
  first 8 distinct tactics of a 32-beam search), the tactic portfolio (`PortfolioPolicy`'s
  order) and the fixed tactics ranked by how often they make progress at a seeded sample of
  train states (the first is the best single tactic chosen on train).
* PRM: held-out candidates from one source, the portfolio's first 8 tactics at each held-out
  state, labelled by Lean (accepted and the state changed, or not); each is read as the gold
  path to the state plus the candidate, in the text `train.rows.prm_step_text` gives every step
  (made from the state before and the tactic, never from Lean's reply). `prm_auroc` with a 95%
  bootstrap interval over states (`prm_auroc_ci`), the counts, and `prm_fitted_baseline_auroc`:
  a logistic regression on surface features fitted on the PRM's train rows
  (`train.prm_eval.SurfaceBaseline`).

Without a Lean dataset the PRM candidates are the held-out search logs' steps and the top-k
metrics are null. `--json` prints one object (the keys of `SUMMARY_KEYS`). Run with
OMP_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HELD_OUT = ("val", "test")
TOP = 8
BEAMS = 4 * TOP
SUMMARY_KEYS = (
    "sft_steps_per_s",
    "prm_steps_per_s",
    "prm_auroc",
    "prm_auroc_ci",
    "prm_fitted_baseline_auroc",
    "prm_fitted_baseline_auroc_ci",
    "prm_margin_ci",
    "prm_num_positive",
    "prm_num_negative",
    "policy_exact_match",
    "policy_topk_accept",
    "policy_topk_close",
    "portfolio_topk_accept",
    "portfolio_topk_close",
    "best_train_topk_accept",
    "best_train_topk_close",
    "best_train_tactic",
    "held_out_states",
)


@dataclass(frozen=True)
class HeldOutState:
    """A top-level state of a theorem: its root state and the gold steps that lead to it."""

    full_name: str
    root: str
    prefix: tuple[tuple[str, str], ...]  # (state before, tactic) of the gold steps before it
    state: str


def top_level_states(theorems: Sequence[dict[str, Any]]) -> list[HeldOutState]:
    """Every top-level state of `theorems`, in file order (headers then extend each other)."""
    out: dict[str, HeldOutState] = {}  # the first route to each state
    for thm in sorted(theorems, key=lambda t: (t["file_path"], tuple(t["start"]))):
        steps = [s for s in thm["traced_tactics"] if s.get("depth", 0) == 0]
        for i, step in enumerate(steps):
            prefix = tuple((s["state_before"], s["tactic"]) for s in steps[:i])
            root = steps[0]["state_before"]
            out.setdefault(
                step["state_before"],
                HeldOutState(thm["full_name"], root, prefix, step["state_before"]),
            )
    return list(out.values())


class LeanJudge:
    """Lean's verdicts at the states of an extracted dataset (one embedded-Lean server)."""

    def __init__(self, dataset: str, server: Any) -> None:
        from leancot.extract.dataset import read_benchmark
        from leancot.extract.replay import LeanStateChecker
        from leancot.prover.benchmarks import load_leandojo_split

        self.splits = read_benchmark(dataset)
        headers = {
            t.full_name: t.header
            for split in self.splits
            for t in load_leandojo_split(dataset, split)
        }
        theorems = [t for split in self.splits.values() for t in split]
        self.checker = LeanStateChecker(server, theorems, headers=headers)

    def states(self, splits: Sequence[str]) -> list[HeldOutState]:
        return top_level_states([t for s in splits for t in self.splits[s]])

    def reached(self, states: Sequence[HeldOutState]) -> list[HeldOutState]:
        return [s for s in states if self.checker.reach(s.state) is not None]

    def outcome(self, state: str, tactic: str) -> str | None:
        return self.checker.outcome(state, tactic)


def _train_tactic_pool(judge: LeanJudge, extra: int = 12) -> list[str]:
    """The portfolio's fixed tactics and the most frequent top-level gold tactics of train."""
    from leancot.prover.policies import DEFAULT_PORTFOLIO

    counts = Counter(
        " ".join(s["tactic"].split())
        for t in judge.splits["train"]
        for s in t["traced_tactics"]
        if s.get("depth", 0) == 0
    )
    frequent = [t for t, _ in counts.most_common() if t not in DEFAULT_PORTFOLIO][:extra]
    return [*DEFAULT_PORTFOLIO, *frequent]


def lean_metrics(
    judge: LeanJudge,
    policy: Any,
    *,
    max_states: int,
    train_states: int,
    max_tokens: int,
    seed: int,
) -> tuple[dict[str, Any], list[HeldOutState], dict[str, list[dict[str, Any]]]]:
    """Top-k metrics of the policy, the portfolio and the best train tactics at held-out states,
    and the PRM candidates of each source there (portfolio, policy)."""
    from leancot.prover.policies import PortfolioPolicy
    from leancot.train.evaluate import distinct_tactics, evaluate_topk, rank_tactics, sample

    asked = judge.states(HELD_OUT)
    reached = judge.reached(asked)
    held_out = sample(reached, max_states, seed)
    states = [s.state for s in held_out]
    # beams repeat a tactic under different thoughts: 4 x 8 beams give the policy 8 distinct ones
    proposals = policy.propose(states, BEAMS, temperature=0.0, max_tokens=max_tokens)
    sources = {
        "policy": [distinct_tactics([p.tactic for p in props], TOP) for props in proposals],
        "portfolio": [PortfolioPolicy().tactics_for(s)[:TOP] for s in states],
    }
    train = judge.reached(sample(judge.states(["train"]), train_states, seed))
    ranked = rank_tactics([s.state for s in train], _train_tactic_pool(judge), judge.outcome)
    best = [t for t, _ in ranked[:TOP]]
    sources["best_train"] = [best] * len(states)
    topk = {name: evaluate_topk(states, props, judge.outcome) for name, props in sources.items()}
    candidates = {
        name: prm_candidates_at(held_out, sources[name], judge.outcome)
        for name in ("portfolio", "policy")
    }
    details = {
        "held_out_states_asked": len(asked),
        "held_out_states_reached": len(reached),
        "train_states_ranked": len(train),
        "best_train_ranking": [[t, round(r, 4)] for t, r in ranked],
        "topk": {name: t.to_dict() for name, t in topk.items()},
    }
    return details, held_out, candidates


def prm_candidates_at(
    held_out: Sequence[HeldOutState], proposals: Sequence[Sequence[str]], outcome: Any
) -> list[dict[str, Any]]:
    """A PRM candidate per proposed tactic: the gold path to the state, then the tactic; good
    when Lean accepts it and the state changes. Every step is `prm_step_text`."""
    from leancot.extract.replay import progress
    from leancot.models.prompts import format_state_prompt
    from leancot.train.rows import prm_step_text

    out = []
    for s, tactics in zip(held_out, proposals, strict=True):
        path = [prm_step_text(state, tactic) for state, tactic in s.prefix]
        for tactic in tactics:
            verdict = outcome(s.state, tactic)
            if verdict is None:
                continue
            out.append(
                {
                    "prompt": format_state_prompt(s.root),
                    "completions": [*path, prm_step_text(s.state, tactic)],
                    "label": progress(verdict),
                }
            )
    return out


def run(
    data: Sequence[str],
    work_dir: str,
    *,
    sft_steps: int = 300,
    prm_steps: int = 200,
    num_theorems: int = 400,
    eval_rows: int = 64,
    judge: LeanJudge | None = None,
    max_states: int = 200,
    train_states: int = 150,
    seed: int = 0,
) -> dict[str, Any]:
    from leancot.files import write_jsonl
    from leancot.models.hf import HFPRM, HFPolicy
    from leancot.train import policy, prm
    from leancot.train.data import load_inputs
    from leancot.train.evaluate import evaluate_policy, sample
    from leancot.train.prm_eval import evaluate_prm
    from leancot.train.rows import prm_candidates

    work = Path(work_dir)
    if not data:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from synthetic_corpus import synthetic_corpus

        records, logs = synthetic_corpus(num_theorems, seed=0)
        data = [str(work / "data")]
        write_jsonl(Path(data[0]) / "steps.jsonl", records)
        write_jsonl(Path(data[0]) / "search_logs.jsonl", logs)
    inputs = load_inputs(list(data))
    common = {"data": list(data), "eval_split": None, "progress": False, "resume": False}
    common |= {"logging_steps": 50, "save_total_limit": 1, "seed": seed}

    start = time.monotonic()
    sft = policy.main(
        policy.PolicyConfig(
            output_dir=str(work / "sft"), max_steps=sft_steps, save_steps=sft_steps, **common
        )
    )
    sft_wall = time.monotonic() - start
    prm_config = prm.PRMTrainConfig(
        output_dir=str(work / "prm"),
        model=str(sft.model_dir),  # warm-started from the policy, as `leancot run` trains it
        learning_rate=1e-3,
        max_steps=prm_steps,
        save_steps=prm_steps,
        **common,
    )
    train_rows = prm.build_rows(prm_config, inputs, "train")
    start = time.monotonic()
    prm_result = prm.main(prm_config) if any(False in r["labels"] for r in train_rows) else None
    prm_wall = time.monotonic() - start

    sft_policy = HFPolicy(str(sft.model_dir))
    policy_rows = [r for split in HELD_OUT for r in policy.build_rows(inputs, split)][:eval_rows]
    policy_eval = evaluate_policy(sft_policy, policy_rows, max_tokens=64)
    lean: dict[str, Any] = {}
    candidates: dict[str, list[dict[str, Any]]] = {}
    if judge is not None:
        lean, _, candidates = lean_metrics(
            judge,
            sft_policy,
            max_states=max_states,
            train_states=train_states,
            max_tokens=64,
            seed=seed,
        )
    else:
        rows = [
            r
            for split in HELD_OUT
            for r in prm.build_rows(prm_config, inputs, split, held_out=True)
        ]
        candidates = {"search_logs": sample(prm_candidates(rows), 2000, seed)}
    prm_evals = {}
    if prm_result is not None:
        scorer = HFPRM(str(prm_result.model_dir))
        train = prm_candidates(train_rows)
        prm_evals = {
            name: evaluate_prm(scorer, cands, train=train, seed=seed).to_dict()
            for name, cands in candidates.items()
        }
    headline = prm_evals.get("portfolio") or prm_evals.get("search_logs") or {}
    topk = lean.get("topk", {})

    def k(name: str, field: str) -> dict[str, float | None] | None:
        return topk[name][field] if name in topk else None

    return {
        "sft_steps_per_s": sft.metrics["train_steps_per_second"],
        "prm_steps_per_s": prm_result.metrics["train_steps_per_second"] if prm_result else None,
        "prm_auroc": headline.get("auroc"),
        "prm_auroc_ci": headline.get("auroc_ci"),
        "prm_fitted_baseline_auroc": headline.get("fitted_baseline_auroc"),
        "prm_fitted_baseline_auroc_ci": headline.get("fitted_baseline_auroc_ci"),
        "prm_margin_ci": headline.get("margin_ci"),
        "prm_num_positive": headline.get("num_positive"),
        "prm_num_negative": headline.get("num_negative"),
        "policy_exact_match": policy_eval.exact_match,
        "policy_topk_accept": k("policy", "accept"),
        "policy_topk_close": k("policy", "close"),
        "portfolio_topk_accept": k("portfolio", "accept"),
        "portfolio_topk_close": k("portfolio", "close"),
        "best_train_topk_accept": k("best_train", "accept"),
        "best_train_topk_close": k("best_train", "close"),
        "best_train_tactic": lean["best_train_ranking"][0][0] if lean else None,
        "held_out_states": topk["policy"]["num_states"] if topk else None,
        "details": {
            "data": list(data),
            "sft_steps": sft_steps,
            "prm_steps": prm_steps,
            "sft_final_loss": sft.metrics.get("last_logged_loss"),
            "prm_final_loss": prm_result.metrics.get("last_logged_loss") if prm_result else None,
            "sft_wall_s": round(sft_wall, 2),
            "prm_wall_s": round(prm_wall, 2),
            "prm_train_rows": len(train_rows),
            "policy_eval": policy_eval.to_dict(),
            "prm_eval": prm_evals,
            "lean": lean,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        },
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, dict):
        return " / ".join(_fmt(v) for v in value.values())
    return str(value)


def table(result: dict[str, Any]) -> str:
    d = result["details"]
    rows = [
        ("SFT steps/s", result["sft_steps_per_s"], f"{d['sft_steps']} steps, {d['sft_wall_s']} s"),
        ("PRM steps/s", result["prm_steps_per_s"], f"{d['prm_steps']} steps, {d['prm_wall_s']} s"),
        ("policy exact match", result["policy_exact_match"], "held-out SFT rows"),
        ("PRM AUROC", result["prm_auroc"], _fmt(result["prm_auroc_ci"])),
        (
            "PRM fitted baseline AUROC",
            result["prm_fitted_baseline_auroc"],
            _fmt(result["prm_fitted_baseline_auroc_ci"]),
        ),
        ("PRM minus baseline (95%)", None, _fmt(result["prm_margin_ci"])),
        (
            "PRM candidates",
            None,
            f"{result['prm_num_positive']} accepted, {result['prm_num_negative']} rejected",
        ),
    ]
    for name in ("policy", "portfolio", "best_train"):
        for field in ("accept", "close"):
            value = result[f"{name}_topk_{field}"]
            rows.append((f"{name} top-1/4/8 {field}", None, _fmt(value)))
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {_fmt(value):>8}  {note}" for name, value, note in rows)


@contextmanager
def _judge(dataset: str | None) -> Iterator[LeanJudge | None]:
    if dataset is None:
        yield None
        return
    from leancot.lean import LeanServer, wasm_backend

    with LeanServer(wasm_backend()) as server:
        yield LeanJudge(dataset, server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", nargs="*", help="files or folders of CoT rows / search logs")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sft-steps", type=int, default=300)
    parser.add_argument("--prm-steps", type=int, default=200)
    parser.add_argument("--num-theorems", type=int, default=400, help="synthetic corpus size")
    parser.add_argument("--eval-rows", type=int, default=64, help="held-out SFT rows (exact match)")
    parser.add_argument("--max-states", type=int, default=200, help="held-out states (Lean)")
    parser.add_argument(
        "--train-states", type=int, default=150, help="train states ranking tactics"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work-dir", help="keep the runs here (default: a temporary folder)")
    parser.add_argument(
        "--lean-dataset",
        help="extracted dataset (LeanDojo layout) of DATA's theorems: replay held-out states in "
        "the embedded Lean and judge the policy, the portfolio and the PRM there",
    )
    parser.add_argument("--output", help="also write the full result (with details) here")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    # training logs go to stderr so that stdout holds only the table / the JSON object
    with (
        tempfile.TemporaryDirectory(prefix="leancot-learning-") as tmp,
        redirect_stdout(sys.stderr),
        _judge(args.lean_dataset) as judge,
    ):
        result = run(
            args.data,
            args.work_dir or tmp,
            sft_steps=args.sft_steps,
            prm_steps=args.prm_steps,
            num_theorems=args.num_theorems,
            eval_rows=args.eval_rows,
            judge=judge,
            max_states=args.max_states,
            train_states=args.train_states,
            seed=args.seed,
        )
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps({k: result[k] for k in SUMMARY_KEYS}))
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
