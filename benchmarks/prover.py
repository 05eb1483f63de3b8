"""Prover benchmarks: `--suite run` (default): `leancot run` on the embedded defaults, then its
comparison table; `--suite external`: every method on statements nobody here wrote.

    python benchmarks/prover.py [RUN_DIR] [--run] [--json] [--test-limit N] [--lean-calls N]
    python benchmarks/prover.py [RUN_DIR] --suite external [--quick] [--json] [--out-dir DIR]
        [--value DIR] [--step-values] [--value-prior-weight W] [--c-puct C]
        [--root-breadth K] [--model-dirs DIR...] [--sample-logprob-scale T]

External suite (leancot.pipeline.external): `core` val/test, `minif2f-core` valid/test and
`bundled` test, each with `baseline`, `heuristic` (no model), `best_first` (no value),
`best_first_value` (ranked by the PRM) and `mcts_prm` (the
models of the finished run in RUN_DIR; with `--value DIR`, a `leancot train value` folder is the
value of `best_first_value` and `mcts_prm` instead of the run's PRM: give it its own
`--out-dir`, the logs resume), the learned methods at 3 sampling seeds; `--json` prints
`{"suite", "lean_calls_budget", "benchmarks": {"NAME:SPLIT": {METHOD: {"proved" (mean over
seeds), "spread" ([min, max]), "total", "curve" ({budget: mean proved})}}}, "filters"}`.
`--model-dirs D0 D1 ..` (one per `--seeds` entry, e.g. each self-play replicate's last round,
`RUN_DIR/iterate/roundN`): the learned methods at the i-th seed use the i-th folder's policy/ and
prm/ instead of RUN_DIR's, so the seeds' spread covers the training runs too.
`--quick`: 4 theorems of `minif2f-core` valid and `bundled` test, one seed, budgets 8/16/32.

Reads RUN_DIR (default runs/default): report/report.json and report/run.json, and each prove
stage's manifest. With --run, or when the run is missing or unfinished, it runs (or resumes)
`leancot run` first (CPU, OMP_NUM_THREADS=1 recommended). Prints the table of methods at equal
Lean-call budget (proved / total, Lean calls, time split into Lean, model and search overhead)
and the stage timings; `--json` prints one object instead:
  total              test theorems attempted by every method
  lean_calls_budget  Lean calls allowed per theorem (the same for every method)
  proved             {baseline, best_first, mcts_prm}: verified proofs within that budget
  overhead_frac      share of the provers' wall time spent in the search itself
  run_minutes        stage time of the run, summed over stages (as they ran, not resumed)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

METHODS = ("baseline", "best_first", "mcts_prm")


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run(run_dir: Path, **overrides: Any) -> None:
    """Run or resume `leancot run` in `run_dir` (progress lines on stderr)."""
    from leancot.options import config_from_mapping
    from leancot.pipeline.config import RunConfig
    from leancot.pipeline.run import main

    config = config_from_mapping(RunConfig, {"run_dir": run_dir, "progress": False, **overrides})
    main(config, notify=lambda m: print(m, file=sys.stderr, flush=True))


def collect(run_dir: Path) -> dict[str, Any]:
    """The benchmark numbers of a finished run (ValueError if it is not finished)."""
    report = _read(run_dir / "report" / "report.json")
    summary = _read(run_dir / "report" / "run.json")
    if report is None or summary is None:
        raise ValueError(f"{run_dir} has no finished report: run `leancot run --run-dir {run_dir}`")
    rows = {r["method"]: r for r in report["rows"]}
    wall = search = 0.0
    for method in rows:
        manifest = _read(run_dir / "prove" / method / "manifest.json") or {}
        out = manifest.get("outputs", {})
        wall += float(out.get("wall_s") or 0.0)
        search += float(out.get("time_search_s") or 0.0)
    return {
        "total": report["num_theorems"],
        "lean_calls_budget": summary.get("lean_calls_budget", report.get("budget")),
        "proved": {m: rows[m]["proved"] for m in METHODS if m in rows},
        "overhead_frac": round(search / wall, 4) if wall else None,
        "run_minutes": summary.get("run_minutes"),
        "rows": report["rows"],
        "stage_seconds": summary.get("stage_seconds", {}),
    }


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def print_table(result: dict[str, Any]) -> None:
    print(
        f"test theorems: {result['total']}, budget: {result['lean_calls_budget']} Lean calls "
        "per theorem (every method)"
    )
    print("| method | proved | Lean calls (mean) | wall s | Lean | model | overhead |")
    print("|:--|--:|--:|--:|--:|--:|--:|")
    for r in result["rows"]:
        print(
            f"| {r['method']} | {r['proved']}/{r['total']} | {r['lean_calls_mean']:.1f} | "
            f"{r['wall_s_sum']:.1f} | {_pct(r['lean_frac'])} | {_pct(r['model_frac'])} | "
            f"{_pct(r['overhead_frac'])} |"
        )
    print()
    print("| stage | seconds |")
    print("|:--|--:|")
    for name, seconds in result["stage_seconds"].items():
        print(f"| {name} | {seconds:.1f} |")
    print(f"| total | {60 * (result['run_minutes'] or 0):.1f} |")


def external(args: argparse.Namespace) -> dict[str, Any]:
    """Run (or resume) the external suite and shape its summary for printing."""
    from leancot.pipeline.external import ExternalConfig
    from leancot.pipeline.external import main as run_external
    from leancot.prover.config import SearchConfig

    quick = {
        "splits": ("minif2f-core:valid", "bundled:test"),
        "limit": 4,
        "seeds": (0,),
        "budgets": (8, 16, 32),
        "report_budget": 32,
    }
    given = {
        "splits": tuple(args.splits) if args.splits else None,
        "methods": tuple(args.methods) if args.methods else None,
        "limit": args.limit,
        "seeds": tuple(args.seeds) if args.seeds else None,
        "budgets": tuple(args.budgets) if args.budgets else None,
        "report_budget": args.report_budget,
        "core_limit": args.core_limit,
        "workers": args.workers,
        "value": args.value,
        "model_dirs": tuple(args.model_dirs) if args.model_dirs else None,
    }
    knobs = {
        "retriever": args.retriever,
        "premise_roots": tuple(args.premise_roots) if args.premise_roots else None,
        "retriever_k": args.retriever_k,
        "premise_n": args.premise_n,
        "step_values": args.step_values or None,
        "value_prior_weight": args.value_prior_weight,
        "c_puct": args.c_puct,
        "root_breadth": args.root_breadth,
        "sample_logprob_scale": args.sample_logprob_scale,
    }
    search = SearchConfig(**{k: v for k, v in knobs.items() if v is not None})
    config = ExternalConfig(
        run_dir=args.run_dir,
        out_dir=args.out_dir or args.run_dir / ("external-quick" if args.quick else "external"),
        search=search,
        **{**(quick if args.quick else {}), **{k: v for k, v in given.items() if v is not None}},
    )
    summary = run_external(config, notify=lambda m: print(m, file=sys.stderr, flush=True))
    benchmarks = {
        pair: {
            method: {
                "proved": row["proved"]["mean"],
                "spread": [row["proved"]["min"], row["proved"]["max"]],
                "total": row["total"],
                "curve": row["curve"],
            }
            for method, row in entry["methods"].items()
        }
        for pair, entry in summary["benchmarks"].items()
    }
    filters = {pair: entry["filters"] for pair, entry in summary["benchmarks"].items()}
    differ = {pair: entry["disagreements"] for pair, entry in summary["benchmarks"].items()}
    return {
        "suite": "external",
        "lean_calls_budget": summary["lean_calls_budget"],
        "benchmarks": benchmarks,
        "disagreements": differ,
        "filters": filters,
    }


def print_external(result: dict[str, Any]) -> None:
    budget = result["lean_calls_budget"]
    print(f"proved within {budget} Lean calls (mean over seeds, [min, max])")
    print("| benchmark | method | proved | total | curve |")
    print("|:--|:--|--:|--:|:--|")
    for pair, methods in result["benchmarks"].items():
        for method, row in methods.items():
            curve = " ".join(f"{b}:{n:g}" for b, n in row["curve"].items())
            lo, hi = row["spread"]
            print(
                f"| {pair} | {method} | {row['proved']:g} [{lo}, {hi}] | {row['total']} | {curve} |"
            )
    differ = {pair: rows for pair, rows in result["disagreements"].items() if rows}
    if differ:
        print()
        print(f"theorems the runs disagree on within {budget} calls: Lean calls to proof per seed")
        print("(beyond the budget too, up to the largest; -: no proof)")
        print("| benchmark | theorem | method | calls |")
        print("|:--|:--|:--|:--|")
        for pair, rows in differ.items():
            for name, methods in rows.items():
                for method, calls in methods.items():
                    cells = " ".join("-" if c is None else str(c) for c in calls)
                    print(f"| {pair} | {name} | {method} | {cells} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", nargs="?", type=Path, default=Path("runs/default"))
    parser.add_argument("--run", action="store_true", help="run or resume `leancot run` first")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--test-limit", type=int, default=None, help="for --run")
    parser.add_argument("--lean-calls", type=int, default=None, help="for --run")
    parser.add_argument("--suite", choices=("run", "external"), default="run")
    parser.add_argument("--quick", action="store_true", help="external: a small CI subset")
    parser.add_argument("--out-dir", type=Path, default=None, help="external: its logs")
    parser.add_argument("--splits", nargs="+", help="external: NAME:SPLIT pairs")
    parser.add_argument(
        "--methods", nargs="+", help="external: methods (best_first_value: ranked by the PRM)"
    )
    parser.add_argument("--limit", type=int, help="external: theorems per split")
    parser.add_argument("--seeds", nargs="+", type=int, help="external: sampling seeds")
    parser.add_argument("--budgets", nargs="+", type=int, help="external: curve budgets")
    parser.add_argument("--report-budget", type=int, help="external: the counted budget")
    parser.add_argument("--core-limit", type=int, help="external: statements per core split")
    parser.add_argument("--workers", type=int, help="external: Lean processes")
    parser.add_argument(
        "--retriever",
        help="external: premise retriever of heuristic and the learned methods (bm25 or DIR)",
    )
    parser.add_argument(
        "--premise-roots",
        nargs="+",
        help="external: library roots of the premise index (default Init Std; Init: without Std)",
    )
    parser.add_argument(
        "--retriever-k", type=int, help="external: premises retrieved per goal state (default 8)"
    )
    parser.add_argument(
        "--premise-n", type=int, help="external: premise tactics per expansion (default 4)"
    )
    parser.add_argument(
        "--value",
        type=Path,
        help="external: value model of mcts_prm / best_first_value (`leancot train value` DIR)",
    )
    parser.add_argument(
        "--step-values",
        action="store_true",
        help="external: mcts_prm scores each candidate step with the value before it runs",
    )
    parser.add_argument(
        "--value-prior-weight",
        type=float,
        help="external: the value's share of the order a node's untried steps run in "
        "(mcts_prm, best_first_value; default 0)",
    )
    parser.add_argument(
        "--c-puct", type=float, help="external: mcts_prm's PUCT exploration constant (default 1)"
    )
    parser.add_argument(
        "--root-breadth",
        type=int,
        help="external: mcts_prm tries this many root steps in prior order before PUCT (default 0)",
    )
    parser.add_argument(
        "--model-dirs",
        nargs="+",
        type=Path,
        help="external: one folder with policy/ and prm/ per seed (default: RUN_DIR's for all)",
    )
    parser.add_argument(
        "--sample-logprob-scale",
        type=float,
        help="external: the learned methods divide their samples' log-probabilities by this "
        "before renormalising them per state (default 1; inf: equal shares)",
    )
    args = parser.parse_args(argv)
    if args.suite == "external":
        result = external(args)
        if args.json:
            print(json.dumps(result))
        else:
            print_external(result)
        return 0
    if args.run or _read(args.run_dir / "report" / "run.json") is None:
        overrides = {"test_limit": args.test_limit}
        if args.lean_calls is not None:
            overrides["lean_calls"] = args.lean_calls
        run(args.run_dir, **overrides)
    result = collect(args.run_dir)
    if args.json:
        keep = ("total", "lean_calls_budget", "proved", "overhead_frac", "run_minutes")
        print(json.dumps({k: result[k] for k in keep}))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
