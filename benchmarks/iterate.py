"""Expert-iteration benchmark: `leancot iterate` rounds on a finished run, per-round test counts.

    python benchmarks/iterate.py [RUN_DIR] [--json] [--quick] [--rounds N]
                                 [--train-benchmark NAME:SPLIT] [--train-limit N]
                                 [--test-limit N] [--eval-limit N] [--eval-splits S..]
                                 [--lean-calls N] [--harvest-lean-calls N] [--new-rows-weight K]
                                 [--harvest-method heuristic|best_first|mcts_prm]
                                 [--teacher DIR] [--out-dir DIR]
                                 [--retrieval-seeds S..] [--retrieval-steps N] [--no-retrieval]

RUN_DIR (default runs/default) is a finished `leancot run` folder. The rounds run, or resume from
what exists, in RUN_DIR/iterate (`--quick`: RUN_DIR/iterate-quick, so a quick check never
replaces real rounds). Each round proves `--train-limit` statements of `--train-benchmark`
(default core:train: a fresh seeded sample per round, leaving out those already proved), trains
from the verified search logs and evaluates on `core` val, `minif2f-core` valid and `bundled`
test (the first `--eval-limit` theorems of each, default 30) with the full search and with the
policy alone (`leancot.pipeline.round_eval`). The run's own test set is proved only with
`--test-limit N` (default 0 here: the named splits are the evaluation).

`--json` prints one object:
  rounds   a list, round 0 (the run's models, before any round) first; each with
           core_val, minif2f_valid, bundled_test
                       {"full": proved, "model_only": proved, "total": n}
           new_proofs  statements the round proved first (the proof cache; null in round 0)
           sft_rows, prm_rows  rows trained on (accumulated over rounds; null in round 0)
           sft_rows_trained  the round's SFT rows in all: the run's step rows once (the
                       replay) and each verified-proof row --new-rows-weight times
  retriever_recall10, bm25_recall10
           recall@10 of the premise retrievers on the held-out (test split) tactics' premises
           of RUN_DIR/extract/dataset (`train.retriever_eval.measure_retrievers`: the dense
           retriever trained on the train split, mean over --retrieval-seeds, default 0 1 2;
           runs kept in the iterate folder's `retrieval/`); null with --no-retrieval, and
           `retrieval` holds the whole report (recall@1 too, the popularity baseline, per seed)
  minutes  stage time of the rounds, summed over their stages (as they ran, not resumed)
  teacher  (with --teacher) the teacher's counts on the same splits and budget
  settings the iterate settings used
`--quick`: 1 round, train_limit 4, 2 SFT and 2 PRM steps, 4 theorems per split, 8 Lean calls,
one retriever seed of 20 steps.
Run with OMP_NUM_THREADS=1 on CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext, redirect_stdout
from dataclasses import replace
from pathlib import Path
from typing import Any

QUICK = {"rounds": 1, "train_limit": 4, "sft_steps": 2, "prm_steps": 2, "eval_limit": 4}
QUICK_LEAN_CALLS = 8


def _minutes(iterate_dir: Path, rounds: int) -> float:
    """Stage seconds of rounds 0..`rounds`, from their manifests, in minutes."""
    from leancot.pipeline.stages import read_manifest

    seconds = 0.0
    for r in range(rounds + 1):
        d = iterate_dir / f"round{r}"
        if not d.is_dir():
            continue
        for manifest in sorted(d.rglob("manifest.json")):
            stage = manifest.parent
            if any(p.name.startswith("checkpoint-") for p in stage.parents):
                continue
            seconds += float((read_manifest(stage) or {}).get("seconds", 0.0))
    return round(seconds / 60, 2)


def retrieval_report(run_dir: Path, work_dir: Path, seeds: list[int], steps: int) -> dict[str, Any]:
    """BM25 against the dense retriever on the run's extracted dataset (test split)."""
    from leancot.prover.premises import load_library
    from leancot.train.retriever_eval import measure_retrievers

    dataset = run_dir / "extract" / "dataset"
    return measure_retrievers(dataset, load_library(None), work_dir, seeds=seeds, max_steps=steps)


def summary(
    rows: list[Any], config: Any, retrieval: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The benchmark's object from `leancot.pipeline.iterate.main`'s rows (and the retrieval
    report, None when it was not measured)."""
    from leancot.pipeline.round_eval import REPORT_DIR, ROUNDS_JSON, report_rows

    rounds = report_rows(rows)
    for row, r in zip(rounds, rows, strict=True):
        if config.test_limit != 0:
            row["test"] = {
                "full": r.test_proved,
                "model_only": r.model_only_proved,
                "total": r.test_total,
            }
    harvest = None if config.harvest_schedule else config.harvest_method or config.method
    settings = {
        "train_benchmark": config.train_benchmark,
        "rounds": config.rounds,
        "train_limit": config.train_limit,
        "sft_steps": config.sft_steps,
        "prm_steps": config.prm_steps,
        "test_limit": config.test_limit,
        "eval_splits": list(config.eval_splits),
        "eval_limit": config.eval_limit,
        "teacher": config.teacher,
        "lean_calls": config.budget.lean_calls if config.budget else None,
        "harvest_lean_calls": config.harvest_budget().lean_calls if config.budget else None,
        "new_rows_weight": config.new_rows_weight,
        "method": config.method,
        "harvest_method": harvest,
        "harvest_schedule": list(config.harvest_schedule),  # per round: METHOD[:N]
        "value": config.value,
        "value_prior_weight": config.search.value_prior_weight if config.search else None,
        "seed": config.seed,
    }
    saved = _read_json(config.iterate_dir / REPORT_DIR / ROUNDS_JSON)
    out: dict[str, Any] = {
        "rounds": rounds,
        "retriever_recall10": retrieval["retriever_recall10"] if retrieval else None,
        "bm25_recall10": retrieval["bm25_recall10"] if retrieval else None,
        "minutes": _minutes(config.iterate_dir, config.rounds),
    }
    if retrieval:
        out["retrieval"] = retrieval
    if saved.get("teacher"):
        out["teacher"] = saved["teacher"]
    out["settings"] = settings
    return out


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def main(argv: list[str] | None = None) -> int:
    from leancot.pipeline.config import HARVEST_METHODS, IterateConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("run_dir", nargs="?", type=Path, default=Path("runs/default"))
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="1 round, 4 statements, tiny steps")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--train-benchmark", default="core:train", help="NAME:SPLIT, or 'corpus'")
    ap.add_argument("--train-limit", type=int, default=None)
    ap.add_argument("--test-limit", type=int, default=0, help="the run's test set (0: skip)")
    ap.add_argument("--eval-limit", type=int, default=None, help="theorems per split (30)")
    ap.add_argument(
        "--eval-splits", nargs="+", default=None, help="NAME:SPLIT[:N] (N: its own limit)"
    )
    ap.add_argument("--teacher", default=None, help="policy folder / hub id of a teacher")
    ap.add_argument("--lean-calls", type=int, default=None)
    ap.add_argument(
        "--harvest-lean-calls", type=int, default=None, help="per training statement (max(64, N))"
    )
    ap.add_argument(
        "--new-rows-weight", type=int, default=None, help="oversampling of the rounds' SFT rows"
    )
    ap.add_argument(
        "--harvest-method", choices=HARVEST_METHODS, default=None,
        help="the search that proves the training statements (default: --method)",
    )  # fmt: skip
    ap.add_argument(
        "--harvest-schedule", nargs="+", default=None,
        help="METHOD[:N] per round, the last repeating (overrides --harvest-method)",
    )  # fmt: skip
    ap.add_argument("--method", default=None, help="best_first (default) | mcts_prm")
    ap.add_argument("--value", default=None, help="prm | outcome: the value the rounds train")
    ap.add_argument(
        "--value-prior-weight", type=float, default=None, help="the value's share of the prior"
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out-dir", type=Path, default=None)
    ap.add_argument("--retrieval-seeds", type=int, nargs="+", default=None, help="(0 1 2)")
    ap.add_argument("--retrieval-steps", type=int, default=None, help="per seed (-1: epochs)")
    ap.add_argument("--no-retrieval", action="store_true", help="skip the retriever recall")
    args = ap.parse_args(argv)

    from leancot.pipeline.iterate import main as iterate
    from leancot.pipeline.iterate import saved_run_config

    try:
        run = saved_run_config(args.run_dir)
    except ValueError as exc:
        print(f"{exc}", file=sys.stderr)
        return 2
    fields: dict[str, Any] = dict(QUICK) if args.quick else {}
    names = ("rounds", "train_limit", "test_limit", "eval_limit", "teacher")
    tuned = ("harvest_lean_calls", "harvest_method", "new_rows_weight", "method", "value")
    for name in (*names, *tuned):
        if getattr(args, name) is not None:
            fields[name] = getattr(args, name)
    if args.eval_splits:
        fields["eval_splits"] = tuple(args.eval_splits)
    if args.harvest_schedule:
        fields["harvest_schedule"] = tuple(args.harvest_schedule)
    if args.quick:  # the quick round harvests at its own small budget too
        fields.setdefault("harvest_lean_calls", args.lean_calls or QUICK_LEAN_CALLS)
    lean_calls = args.lean_calls or (QUICK_LEAN_CALLS if args.quick else None)
    budget = run.budget if lean_calls is None else replace(run.budget, lean_calls=lean_calls)
    search = run.search
    if args.value_prior_weight is not None:
        search = replace(search, value_prior_weight=args.value_prior_weight)
    out_dir = args.out_dir or (args.run_dir / "iterate-quick" if args.quick else None)
    config = IterateConfig(
        run_dir=args.run_dir,
        out_dir=out_dir,
        train_benchmark=None if args.train_benchmark == "corpus" else args.train_benchmark,
        search=search,
        budget=budget,
        seed=args.seed,
        progress=not args.json,
        **fields,
    )
    notify = (lambda msg: None) if args.json else (lambda msg: print(msg, file=sys.stderr))
    with redirect_stdout(sys.stderr) if args.json else nullcontext():  # trainers print metrics
        rows = iterate(config, notify=notify)
        retrieval = None
        if not args.no_retrieval:
            seeds = args.retrieval_seeds or ([0] if args.quick else [0, 1, 2])
            steps = args.retrieval_steps or (20 if args.quick else -1)
            notify(f"retrieval: BM25 and the dense retriever, seeds {seeds}")
            work = config.iterate_dir / "retrieval"
            retrieval = retrieval_report(args.run_dir, work, seeds, steps)
    result = summary(rows, config, retrieval)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"train: {config.train_benchmark or 'corpus train split'}, {result['minutes']} min")
    from leancot.pipeline.round_eval import markdown_table

    print(markdown_table(rows), end="")
    if retrieval:
        print(f"recall@10 on held-out premises: dense {result['retriever_recall10']:.3f}, "
              f"BM25 {result['bm25_recall10']:.3f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
