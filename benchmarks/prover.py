"""Prover benchmark: `leancot run` on the embedded defaults, then its comparison table.

    python benchmarks/prover.py [RUN_DIR] [--run] [--json] [--test-limit N] [--lean-calls N]

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_dir", nargs="?", type=Path, default=Path("runs/default"))
    parser.add_argument("--run", action="store_true", help="run or resume `leancot run` first")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--test-limit", type=int, default=None, help="for --run")
    parser.add_argument("--lean-calls", type=int, default=None, help="for --run")
    args = parser.parse_args(argv)
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
