"""Tune `leancot iterate --new-rows-weight` on the core:train tuning slice, never on a split the
rounds report (core val, minif2f-core valid, bundled test).

    python benchmarks/iterate_tune.py RUN_DIR --out-dir DIR [--weights 1 4 16] [--seed 0]
        [--train-limit 60] [--heldout 40] [--lean-calls 16] [--harvest-lean-calls N]
        [--harvest-method heuristic|best_first|mcts_prm] [--json]
    python benchmarks/iterate_tune.py RUN_DIR --out-dir DIR --harvest-only --seed S
    python benchmarks/iterate_tune.py RUN_DIR --out-dir DIR --step sft --weights 4   # one SFT

1. Harvest: round 1's training statements of `--seed` (`iterate.round_theorems`: core:train
   outside the tuning slice, the same sample `leancot iterate --seed S` proves in round 1),
   proved by the run's models with the full search at the harvest budget, into
   DIR/harvest-s<S>/train.jsonl (a search log: copied into a round's prove_train folder, the
   round resumes from it); `--harvest-only` stops here. With `--harvest-method M` (iterate's:
   `heuristic` proves them with no model) the harvest goes to DIR/harvest-s<S>-M-n<N> and the
   weights' runs to DIR/tune-M-n<N> (N: `--train-limit`).
2. Held out: the first `--heldout` statements of the tuning slice (`proof_cache.in_tune_slice`,
   core:train in seed-0 order), which no round samples. Their full search at the harvest budget
   gives held-out verified proof rows.
3. For each weight k: the round's SFT (`iterate.round_sft_config`: the run's step rows once,
   the harvest's verified rows k times, from the run's policy), then the policy alone searches
   the held-out statements at `--lean-calls` (as the rounds' model-only evaluation), and its
   greedy tactic is compared with the held-out proof rows (exact match). k = 0 is the
   reference: the run's policy as it is, before any round.
The chosen weight proves the most held-out statements alone; ties go to the higher exact match,
then to the smaller k. `--json` prints {"weights": [{k, proved, total, exact_match, rows}],
"chosen", "harvest": {...}, "heldout": {...}}. Every step resumes from what exists in DIR, and
`--step harvest|heldout|sft` runs one of them alone (`sft` needs no Lean: the weights' SFT runs
can go in parallel processes before the sweep, which then finds them done).
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import nullcontext, redirect_stdout
from dataclasses import replace
from pathlib import Path
from typing import Any


def harvest(config: Any, run_cfg: Any, lean: Any, out: Path) -> dict[str, Any]:
    """Round 1's statements of `config.seed` proved by the run's models at the harvest budget:
    `out/train.jsonl` and its verified records `out/train_verified.jsonl`."""
    from leancot.files import write_jsonl
    from leancot.pipeline import steps as st
    from leancot.pipeline.iterate import round_theorems, verified_only
    from leancot.pipeline.round_eval import prove_with
    from leancot.prover.search_log import read_log

    theorems = round_theorems(config, 1, set(), lean, run_cfg, st)
    run_dir = Path(config.run_dir)
    hconfig = replace(config, budget=config.harvest_budget())
    log = out / "train.jsonl"
    counts = prove_with(
        log, theorems, str(run_dir / "policy"), run_dir / "prm", hconfig, run_cfg, lean, st,
        method=config.harvest_method,
    )  # fmt: skip
    write_jsonl(out / "train_verified.jsonl", verified_only(read_log(log)))
    method = config.harvest_method or config.method
    return {**counts, "lean_calls": hconfig.budget.lean_calls, "method": method}


def held_out(config: Any, run_cfg: Any, lean: Any, n: int, out: Path) -> tuple[list[Any], Any]:
    """The first `n` tuning-slice statements and their full search at the harvest budget
    (`out/heldout_full.jsonl`): (theorems, held-out SFT rows of the verified proofs)."""
    from leancot.pipeline import steps as st
    from leancot.pipeline.iterate import verified_only
    from leancot.pipeline.proof_cache import in_tune_slice
    from leancot.pipeline.round_eval import prove_with
    from leancot.prover.search_log import read_log
    from leancot.prover.suites import load_suite
    from leancot.train.rows import sft_rows_from_search_logs

    theorems, _ = load_suite("core", "train", server=lean.get(), limit=n, keep=in_tune_slice)
    run_dir = Path(config.run_dir)
    hconfig = replace(config, budget=config.harvest_budget())
    log = out / "heldout_full.jsonl"
    prove_with(log, theorems, str(run_dir / "policy"), run_dir / "prm", hconfig, run_cfg, lean, st)
    rows = sft_rows_from_search_logs(verified_only(read_log(log)), split=None)
    return theorems, rows


def sft_data(config: Any, run_cfg: Any, train_log: Path) -> list[str]:
    """The round's SFT inputs: the run's step records and the harvest's verified log."""
    from leancot.pipeline import steps as st
    from leancot.pipeline.iterate import run_retriever

    run_dir = Path(config.run_dir)
    retriever = run_retriever(run_dir, run_cfg)
    steps = str(retriever["steps_file"]) if retriever else str(run_dir / "cot" / st.STEPS_FILE)
    return [steps, str(train_log)]


def train_weight(config: Any, run_cfg: Any, k: int, data: list[str], out: Path) -> Any:
    """The round's SFT from the run's policy with weight `k` (stage `out/k<k>/policy`)."""
    from leancot.pipeline import steps as st
    from leancot.pipeline.iterate import round_sft_config
    from leancot.pipeline.stages import fingerprint, run_stage
    from leancot.train import policy

    run_dir = Path(config.run_dir)
    cfg = replace(config, new_rows_weight=k)

    def train(sd: Path) -> dict[str, Any]:
        sft = round_sft_config(cfg, run_cfg, data, run_dir / "policy", sd)
        return {"metrics": st.metric_summary(policy.main(sft).metrics)}

    key = fingerprint([str(run_dir), data, k, config.sft_steps, config.learning_rate])
    return run_stage(f"tune: SFT k={k}", out / f"k{k}" / "policy", key, train)


def sweep(
    config: Any, run_cfg: Any, lean: Any, weights: list[int], train_log: Path,
    theorems: list[Any], rows: list[dict[str, Any]], out: Path,
) -> list[dict[str, Any]]:  # fmt: skip
    """Per weight: the round's SFT, then the policy alone on the held-out statements."""
    from leancot.models.hf import HFPolicy
    from leancot.pipeline import steps as st
    from leancot.pipeline.iterate import sft_row_counts
    from leancot.pipeline.round_eval import prove_with
    from leancot.pipeline.stages import fingerprint, run_stage
    from leancot.train.evaluate import evaluate_policy

    data = sft_data(config, run_cfg, train_log)
    results = []
    for k in weights:
        cfg = replace(config, new_rows_weight=max(k, 1))
        if k == 0:  # the reference: the run's policy before any round
            model_path, model_key = Path(config.run_dir) / "policy", "the run's policy"
        else:
            sft = train_weight(config, run_cfg, k, data, out)
            model_path, model_key = sft.path, sft.key

        def alone(sd: Path, model: Path = model_path, cfg: Any = cfg) -> dict[str, Any]:
            return prove_with(sd / "log.jsonl", theorems, str(model), None, cfg, run_cfg, lean, st)

        key = fingerprint([model_key, [t["full_name"] for t in theorems], str(config.budget)])
        name = f"tune: held out, model only, k={k}"
        done = run_stage(name, out / f"k{k}" / "heldout", key, alone)
        exact = None
        if rows:
            model = HFPolicy(str(model_path), device=run_cfg.device)
            exact = evaluate_policy(model, rows).exact_match
        results.append(
            {
                "k": k,
                "proved": int(done.outputs["proved"]),
                "total": int(done.outputs["total"]),
                "exact_match": exact,
                "rows": sft_row_counts(data, k) if k else None,
            }
        )
    return results


def choose(results: list[dict[str, Any]]) -> int:
    """The weight that proves the most held-out statements alone; ties: higher exact match,
    then smaller k (k = 0, the reference, is no candidate)."""
    candidates = [r for r in results if r["k"] > 0] or results
    best = max(candidates, key=lambda r: (r["proved"], r["exact_match"] or 0.0, -r["k"]))
    return int(best["k"])


def main(argv: list[str] | None = None) -> int:
    from leancot.pipeline.config import HARVEST_METHODS, IterateConfig

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--weights", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-limit", type=int, default=60)
    ap.add_argument("--heldout", type=int, default=40, help="tuning-slice statements")
    ap.add_argument("--lean-calls", type=int, default=16, help="of the model-only searches")
    ap.add_argument("--harvest-lean-calls", type=int, default=None, help="(max(64, --lean-calls))")
    ap.add_argument("--sft-steps", type=int, default=None, help="(iterate's default)")
    ap.add_argument(
        "--harvest-method", choices=HARVEST_METHODS, default=None,
        help="search of the harvest (iterate's --harvest-method; default: best_first)",
    )  # fmt: skip
    ap.add_argument("--harvest-only", action="store_true", help="round 1's harvest, then stop")
    ap.add_argument(
        "--step", choices=("all", "harvest", "heldout", "sft"), default="all", help="one step alone"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from leancot.pipeline.iterate import saved_run_config
    from leancot.pipeline.prove import make_backend
    from leancot.pipeline.stages import LazyLean

    run_cfg = saved_run_config(args.run_dir)
    extra = {} if args.sft_steps is None else {"sft_steps": args.sft_steps}
    config = IterateConfig(
        run_dir=args.run_dir, out_dir=args.out_dir, train_benchmark="core:train",
        train_limit=args.train_limit, seed=args.seed, search=run_cfg.search,
        budget=replace(run_cfg.budget, lean_calls=args.lean_calls),
        harvest_lean_calls=args.harvest_lean_calls, harvest_method=args.harvest_method,
        progress=not args.json, **extra,
    )  # fmt: skip
    lean = LazyLean(lambda: make_backend("wasm"), request_timeout=600.0)
    out: dict[str, Any] = {}
    step = "harvest" if args.harvest_only else args.step
    tag = "" if args.harvest_method is None else f"-{args.harvest_method}-n{args.train_limit}"
    hdir = args.out_dir / f"harvest-s{args.seed}{tag}"
    held, tdir = args.out_dir / "tune", args.out_dir / f"tune{tag}"  # one held-out search
    try:
        with redirect_stdout(sys.stderr) if args.json else nullcontext():
            if step == "sft":  # no Lean: the harvest must be done
                data = sft_data(config, run_cfg, hdir / "train_verified.jsonl")
                for k in args.weights:
                    out[f"k{k}"] = str(train_weight(config, run_cfg, k, data, tdir).path)
            if step in ("all", "harvest"):
                out["harvest"] = harvest(config, run_cfg, lean, hdir)
            if step == "heldout":
                theorems, rows = held_out(config, run_cfg, lean, args.heldout, held)
                out["heldout"] = {"statements": len(theorems), "proof_rows": len(rows)}
            if step == "all":
                theorems, rows = held_out(config, run_cfg, lean, args.heldout, held)
                out["heldout"] = {"statements": len(theorems), "proof_rows": len(rows)}
                log = hdir / "train_verified.jsonl"
                out["weights"] = sweep(
                    config, run_cfg, lean, args.weights, log, theorems, rows, tdir
                )
                out["chosen"] = choose(out["weights"])
    finally:
        lean.close()
    if args.json:
        print(json.dumps(out))
        return 0
    if "harvest" in out:
        got = out["harvest"]
        print(f"harvest (seed {args.seed}): {got['proved']} of {got['total']}")
    for r in out.get("weights", []):
        print(f"k={r['k']}: held out, model only {r['proved']} of {r['total']}, "
              f"exact match {r['exact_match']}, rows {r['rows']}")  # fmt: skip
    if "chosen" in out:
        print(f"chosen: k={out['chosen']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
