"""Learning benchmark: train the tiny policy and PRM briefly, report speed and held-out quality.

    python benchmarks/learning.py [DATASET_DIR] [--json] [--sft-steps N] [--prm-steps N]

DATASET_DIR holds CoT step rows / Lean-STaR rows and (for the PRM) search logs, as JSONL; without
it a small synthetic-but-structured corpus is generated (the test fixture
tests/synthetic_corpus.py). Training uses the "train" split, the metrics the held-out "val" +
"test" rows. `--json` prints one object with
sft_steps_per_s, prm_steps_per_s, prm_auroc, prm_baseline_auroc (best of the constant and length
baselines), policy_exact_match and policy_lean_valid_frac (null unless `run(check=...)` is given
a Lean checker `check(state, tactic) -> bool`). Run with OMP_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any

HELD_OUT = ("val", "test")


def _held_out(build: Callable[[str], list[dict[str, Any]]], limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for split in HELD_OUT:
        rows += build(split)
    return rows[:limit]


def run(
    data_dir: str | None,
    work_dir: str,
    *,
    sft_steps: int = 300,
    prm_steps: int = 200,
    num_theorems: int = 400,
    eval_rows: int = 64,
    check: Callable[[str, str], bool] | None = None,
) -> dict[str, Any]:
    from leancot.files import write_jsonl
    from leancot.models.hf import HFPRM, HFPolicy
    from leancot.train import policy, prm
    from leancot.train.data import load_inputs
    from leancot.train.evaluate import evaluate_policy, evaluate_prm
    from leancot.train.rows import prm_rows_from_search_logs, prm_rows_from_steps

    work = Path(work_dir)
    if data_dir is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from synthetic_corpus import synthetic_corpus

        records, logs = synthetic_corpus(num_theorems, seed=0)
        data_dir = str(work / "data")
        write_jsonl(Path(data_dir) / "steps.jsonl", records)
        write_jsonl(Path(data_dir) / "search_logs.jsonl", logs)
    inputs = load_inputs([data_dir])
    common = {"data": [data_dir], "eval_split": None, "progress": False, "resume": False}
    common |= {"logging_steps": 50, "save_total_limit": 1}

    start = time.monotonic()
    sft = policy.main(
        policy.PolicyConfig(
            output_dir=str(work / "sft"), max_steps=sft_steps, save_steps=sft_steps, **common
        )
    )
    sft_wall = time.monotonic() - start
    start = time.monotonic()
    has_prm_data = bool(prm_rows_from_search_logs(inputs.search_logs, split="train"))
    prm_result = None
    if has_prm_data:
        prm_result = prm.main(
            prm.PRMTrainConfig(
                output_dir=str(work / "prm"), max_steps=prm_steps, save_steps=prm_steps, **common
            )
        )
    prm_wall = time.monotonic() - start

    policy_rows = _held_out(lambda s: policy.build_rows(inputs, s), eval_rows)
    policy_eval = evaluate_policy(
        HFPolicy(str(sft.model_dir)), policy_rows, check=check, max_tokens=64
    )
    prm_eval = None
    if prm_result is not None:
        prm_rows = _held_out(
            lambda s: (
                prm_rows_from_search_logs(inputs.search_logs, split=s)
                + prm_rows_from_steps(inputs.steps, split=s)
            ),
            eval_rows,
        )
        prm_eval = evaluate_prm(HFPRM(str(prm_result.model_dir)), prm_rows)
    return {
        "sft_steps_per_s": sft.metrics["train_steps_per_second"],
        "prm_steps_per_s": prm_result.metrics["train_steps_per_second"] if prm_result else None,
        "prm_auroc": prm_eval.auroc if prm_eval else None,
        "prm_baseline_auroc": prm_eval.best_baseline_auroc if prm_eval else None,
        "policy_exact_match": policy_eval.exact_match,
        "policy_lean_valid_frac": policy_eval.lean_valid_frac,
        "details": {
            "data": data_dir,
            "sft_steps": sft_steps,
            "prm_steps": prm_steps,
            "sft_final_loss": sft.metrics.get("last_logged_loss"),
            "prm_final_loss": prm_result.metrics.get("last_logged_loss") if prm_result else None,
            "sft_wall_s": round(sft_wall, 2),
            "prm_wall_s": round(prm_wall, 2),
            "policy_eval": policy_eval.to_dict(),
            "held_out_states": [r["prompt"].rstrip("\n") for r in policy_rows],
            "prm_eval": prm_eval.to_dict() if prm_eval else None,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        },
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "n/a"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table(result: dict[str, Any]) -> str:
    d = result["details"]
    prm = d["prm_eval"] or {}
    rows = [
        ("SFT steps/s", result["sft_steps_per_s"], f"{d['sft_steps']} steps, {d['sft_wall_s']} s"),
        ("PRM steps/s", result["prm_steps_per_s"], f"{d['prm_steps']} steps, {d['prm_wall_s']} s"),
        ("SFT final loss", d["sft_final_loss"], ""),
        ("PRM final loss", d["prm_final_loss"], ""),
        (
            "policy exact match",
            result["policy_exact_match"],
            f"{d['policy_eval']['num_rows']} held-out states",
        ),
        ("policy Lean-valid", result["policy_lean_valid_frac"], "needs a Lean checker"),
        (
            "PRM AUROC",
            result["prm_auroc"],
            f"{prm.get('num_steps', 0)} steps, {prm.get('num_bad_steps', 0)} bad",
        ),
        ("PRM best baseline AUROC", result["prm_baseline_auroc"], "constant / length / position"),
        ("PRM first-error acc", prm.get("first_error_acc"), ""),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"{name:<{width}}  {_fmt(value):>8}  {note}" for name, value, note in rows)


@contextmanager
def _lean_checker(dataset: str | None) -> Iterator[Callable[[str, str], bool | None] | None]:
    """A Lean-backed `check(state, tactic)` over the dataset's proofs, or None without one."""
    if dataset is None:
        yield None
        return
    from leancot.extract.dataset import read_benchmark
    from leancot.extract.replay import LeanStateChecker
    from leancot.lean import LeanServer, wasm_backend

    theorems = [t for split in read_benchmark(dataset).values() for t in split]
    with LeanServer(wasm_backend()) as server:
        yield LeanStateChecker(server, theorems)


def _portfolio_first_try(
    check: Callable[[str, str], bool | None], states: list[str]
) -> float | None:
    """Share of held-out states where the portfolio baseline's first tactic is valid."""
    from leancot.prover.policies import PortfolioPolicy

    verdicts = [
        check(state, PortfolioPolicy().propose([state], 1)[0][0].tactic) for state in states
    ]
    counted = [v for v in verdicts if v is not None]
    return sum(counted) / len(counted) if counted else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", nargs="?", help="folder of CoT rows / search logs (JSONL)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--sft-steps", type=int, default=300)
    parser.add_argument("--prm-steps", type=int, default=200)
    parser.add_argument("--num-theorems", type=int, default=400, help="synthetic corpus size")
    parser.add_argument("--eval-rows", type=int, default=64, help="held-out rows per metric")
    parser.add_argument("--work-dir", help="keep the runs here (default: a temporary folder)")
    parser.add_argument(
        "--lean-dataset",
        help="extracted dataset (LeanDojo layout) of DATASET's theorems: check proposed tactics "
        "with the embedded Lean (policy_lean_valid_frac) and compare with the tactic portfolio",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    # training logs go to stderr so that stdout holds only the table / the JSON object
    with (
        tempfile.TemporaryDirectory(prefix="leancot-learning-") as tmp,
        redirect_stdout(sys.stderr),
        _lean_checker(args.lean_dataset) as check,
    ):
        result = run(
            args.dataset,
            args.work_dir or tmp,
            sft_steps=args.sft_steps,
            prm_steps=args.prm_steps,
            num_theorems=args.num_theorems,
            eval_rows=args.eval_rows,
            check=check,
        )
        if check is not None:
            result["portfolio_first_try_valid_frac"] = _portfolio_first_try(
                check, result["details"]["held_out_states"]
            )
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "details"}))
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
