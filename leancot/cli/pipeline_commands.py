"""`leancot run`, `leancot prove`, `leancot iterate`: registrars and handlers.

Flags come from the configs of `leancot.pipeline.config` (`config_args`: one flag per field,
the shared search and budget settings included; `--config FILE.yaml` sets the same fields).
Handlers print; the work is in `leancot.pipeline.run`, `.prove` and `.iterate`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from leancot.cli.common import add_parser, make_console
from leancot.cli.config_args import add_config_arguments, config_from_args

RUN_DESCRIPTION = """\
The whole pipeline in one command, on the embedded defaults (CPU, no premise retrieval;
about 8-10 min on 2 cores, far longer with --retrieval: see the README):
set up the embedded Lean, extract the bundled corpus, translate it to chain-of-thought, train the
dense premise retriever (only with --retrieval; --retriever bm25|DIR: that one), the tiny
tokenizer + policy (SFT on prompts with the retrieved premises) and a PRM (corpus steps as
positives; tactics Lean rejects at training states as negatives), then prove the test split
with the tactic-portfolio baseline, the goal-aware heuristic (portfolio + unfolding tactics, no
model), best-first (model + portfolio + goal tactics + premise tactics) and MCTS with the PRM
as value, all at the same Lean-call budget.

output: RUN_DIR (default runs/default) with one folder per stage, each with a manifest.json
        written last: extract/ cot/ retriever/ policy/ negatives/ prm/
        prove/<method>/results.jsonl and
        report/ (report.md table, pass_vs_budget.png, report.html with each theorem's proof
        and search tree, report.json, run.json with timings).
Rerunning resumes: finished stages are skipped, interrupted ones continue, and a stage whose
settings changed (and every stage after it) runs again.
"""

PROVE_DESCRIPTION = """\
Prove theorems with one search method; every proof is re-checked from scratch by Lean
(`leancot check`'s verifier) before it counts.

input:  the bundled corpus' test split (default); --benchmark NAME (bundled, bundled-grouped,
        minif2f-core, core: statements nobody here wrote, filtered in Lean, what each filter
        dropped written to FILE.suite.json) with --split; --dataset DIR (a LeanDojo Benchmark 4
        folder with statements, e.g. from `leancot extract`); or --minif2f / --proofnet FILE
        (DeepSeek-Prover jsonl; these import Mathlib: --backend native with Mathlib).
        Methods: baseline (portfolio), heuristic (portfolio + goal-aware tactics, no model),
        best_first and mcts_prm (a model's samples mixed in).
        The policy: the tactic portfolio (default), a trained policy folder (--policy DIR),
        --vllm MODEL or --endpoint URL; --prm DIR for mcts_prm (or best_first --priority value).
output: --out FILE, one search-log line per theorem (docs/FORMATS.md#search-logs): proof,
        verified, the search graph, Lean calls and the time split. A rerun skips theorems
        already in FILE.
"""

ITERATE_DESCRIPTION = """\
Self-play rounds on a finished `leancot run`: prove training theorems, turn the verified search
logs into SFT / PRM / DPO rows, fine-tune the policy and the PRM from the current ones, prove
the test split again, with the full search and with the policy alone. With --teacher DIR a
larger policy proves the training theorems and the run's (smaller) policy learns from its
verified proofs. With --train-benchmark core:train each round proves a fresh sample of the core
library's restated statements, leaving out those an earlier round proved.

output: RUN_DIR/iterate/round<N>/{prove_train,policy,prm,[dpo],prove_test,
        prove_test_model_only,eval/<split>/{full,model_only}}/, each resumable;
        RUN_DIR/iterate/proofs.jsonl, every verified proof once per statement;
        RUN_DIR/iterate/report/{rounds.json,rounds.md,round<N>.png}; prints the test pass rate
        per round (round 0: the run's own result) and the evaluation on --eval-splits (core val,
        minif2f-core valid, bundled test: --eval-limit theorems each) with the full search and
        with the policy alone; with --teacher, the teacher on the same splits and budget.
"""


def register_pipeline(sub: Any) -> None:
    """Add `run`, `prove` and `iterate` to the `leancot` subparsers."""
    from leancot.pipeline.config import IterateConfig, ProveConfig, RunConfig

    p = add_parser(sub, "run", "the whole pipeline, resumable, in one run folder", RUN_DESCRIPTION)
    add_config_arguments(p, RunConfig)
    p.set_defaults(handler=_cmd_run)

    p = add_parser(sub, "prove", "prove theorems with one search method", PROVE_DESCRIPTION)
    add_config_arguments(p, ProveConfig)
    p.set_defaults(handler=_cmd_prove)

    p = add_parser(sub, "iterate", "self-play rounds on a finished run", ITERATE_DESCRIPTION)
    add_config_arguments(p, IterateConfig)
    p.set_defaults(handler=_cmd_iterate)


def _notifier(console: Any) -> Any:
    t0 = time.monotonic()

    def notify(message: str) -> None:
        console.print(f"[{time.monotonic() - t0:6.0f}s] {message}", markup=False)

    return notify


def _cmd_run(args: argparse.Namespace) -> int:
    from leancot.pipeline.config import RunConfig
    from leancot.pipeline.run import main

    out = make_console()
    result = main(config_from_args(RunConfig, args), notify=_notifier(out))
    out.print("")
    report_md = Path(result.run_dir) / "report" / "report.md"
    if report_md.is_file():
        out.print(report_md.read_text(encoding="utf-8"), markup=False)
    out.print("stage timings (when they ran):", markup=False)
    for stage in result.stages:
        state = "resumed" if stage.resumed else "ran"
        out.print(f"  {stage.name:<24} {stage.seconds:8.1f} s  {state}", markup=False)
    out.print(f"total {result.summary['run_minutes']:.1f} min of stage time", markup=False)
    return 0


def _cmd_prove(args: argparse.Namespace) -> int:
    from leancot.pipeline.config import ProveConfig
    from leancot.pipeline.prove import main

    out = make_console()
    result = main(config_from_args(ProveConfig, args), notify=_notifier(out))
    c = result.counts
    resumed = c["total"] - result.attempted
    if resumed > 0:
        out.print(f"{resumed} theorems were already in {result.out}: skipped", markup=False)
    out.print(
        f"{c['proved']}/{c['total']} proved (verified), {c['unverified']} rejected by verify, "
        f"{c['lean_calls']} Lean calls; time: Lean {c['time_lean_s']:.0f} s, model "
        f"{c['time_model_s']:.0f} s, search {c['time_search_s']:.0f} s -> {result.out}",
        markup=False,
    )
    return 0


def _cmd_iterate(args: argparse.Namespace) -> int:
    from leancot.pipeline.config import IterateConfig
    from leancot.pipeline.iterate import main, saved_run_config

    out = make_console()
    run_dir = Path(getattr(args, "run_dir", IterateConfig().run_dir))
    try:
        run = saved_run_config(run_dir)
        base = {"search": run.search, "budget": run.budget}
    except ValueError:
        base = None  # `main` says what is missing
    config = config_from_args(IterateConfig, args, base=base)
    rows = main(config, notify=_notifier(out))
    out.print(
        "| round | train proved | new proofs | test proved | pass rate | model only "
        "| SFT rows | PRM rows | DPO |"
    )
    out.print(
        "|------:|-------------:|-----------:|------------:|----------:|-----------:"
        "|---------:|---------:|----:|"
    )
    for r in rows:
        train = "–" if r.train_total is None else f"{r.train_proved}/{r.train_total}"
        rate = f"{100 * r.test_proved / r.test_total:.1f}%" if r.test_total else "–"
        alone = "–" if r.model_only_proved is None else f"{r.model_only_proved}/{r.test_total}"
        out.print(
            f"| {r.round} | {train} | {_dash(r.new_proofs)} | {r.test_proved}/{r.test_total} "
            f"| {rate} | {alone} | {_dash(r.sft_rows)} | {_dash(r.prm_rows)} "
            f"| {_dash(r.dpo_pairs)} |",
            markup=False,
        )
    if any(r.evals for r in rows):
        report = config.iterate_dir / "report"
        saved = json.loads((report / "rounds.json").read_text(encoding="utf-8"))
        out.print(_eval_table(rows, saved.get("teacher")))
        out.print(
            f"report: {report}/rounds.json, rounds.md, round{rows[-1].round}.png", markup=False
        )
    return 0


def _eval_table(rows: Any, teacher: dict[str, Any] | None = None) -> Any:
    """The per-round evaluation as a rich table: per split, full search / model only / total;
    the teacher's row (same splits and budget) last."""
    from rich.table import Table

    keys = list(dict.fromkeys(k for r in rows for k in (r.evals or {})))
    table = Table(title="proved per round (full search / model only, of total)")
    table.add_column("round", justify="right")
    for k in keys:
        table.add_column(k, justify="right")
    for r in rows:
        cells = []
        for k in keys:
            cells.append(_counts_cell((r.evals or {}).get(k)))
        table.add_row(str(r.round), *cells)
    if teacher:
        cells = []
        for k in keys:
            cells.append(_counts_cell(teacher.get(k)))
        table.add_row(f"teacher {teacher.get('policy')}", *cells)
    return table


def _counts_cell(e: dict[str, Any] | None) -> str:
    return "–" if e is None else f"{_dash(e['full'])} / {_dash(e['model_only'])} of {e['total']}"


def _dash(x: int | None) -> str:
    return "–" if x is None else str(x)
