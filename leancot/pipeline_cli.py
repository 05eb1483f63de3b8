"""CLI of the pipeline commands: `leancot run`, `leancot prove`, `leancot iterate`.

`register_pipeline(sub)` adds the three subcommands to the `leancot` subparsers. Flags are made
from the config dataclasses (pipeline.RunConfig, pipeline_prove.ProveConfig / IterateConfig):
one `--flag-name` per field, with the field's help text. Handlers print; the work is in the
modules' `main` functions.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any

RUN_DESCRIPTION = """\
The whole pipeline in one command, on the embedded defaults (CPU, about 8-10 min on 2 cores):
set up the embedded Lean, extract the bundled corpus, translate it to chain-of-thought, train the
tiny tokenizer + policy (SFT) and a PRM (corpus steps as positives; tactics Lean rejects at
training states as negatives), then prove the test split with the tactic-portfolio baseline,
best-first (model + portfolio) and MCTS with the PRM as value, at the same Lean-call budget.

output: RUN_DIR (default runs/default) with one folder per stage, each with a manifest.json
        written last: extract/ cot/ policy/ negatives/ prm/ prove/<method>/results.jsonl and
        report/ (report.md table, pass_vs_budget.png, report.json, run.json with timings).
Rerunning resumes: finished stages are skipped, interrupted ones continue, and a stage whose
settings changed (and every stage after it) runs again.
"""

PROVE_DESCRIPTION = """\
Prove theorems with one search method; every proof is re-checked from scratch by Lean
(`leancot check`'s verifier) before it counts.

input:  the bundled corpus' test split (default), --dataset DIR (a LeanDojo Benchmark 4 folder
        with statements, e.g. from `leancot extract`), or --minif2f / --proofnet FILE
        (DeepSeek-Prover jsonl; these import Mathlib: --backend native with Mathlib).
        The policy: the tactic portfolio (default), a trained policy folder (--policy DIR),
        --vllm MODEL or --endpoint URL; --prm DIR for mcts_prm (or best_first --priority value).
output: --out FILE, one search-log line per theorem (docs/FORMATS.md#search-logs): proof,
        verified, the search graph, Lean calls and the time split. A rerun skips theorems
        already in FILE.
"""

ITERATE_DESCRIPTION = """\
Self-play rounds on a finished `leancot run`: prove training theorems, turn the verified search
logs into SFT / PRM / DPO rows, fine-tune the policy and the PRM from the current ones, prove
the test split again. With --teacher DIR a larger policy proves the training theorems and the
run's (smaller) policy learns from its verified proofs.

output: RUN_DIR/iterate/round<N>/{prove_train,policy,prm,[dpo],prove_test}/, each resumable;
        prints the test pass rate per round (round 0: the run's own result).
"""


def _field_type(f: dataclasses.Field) -> Any:
    """The argparse type of a config field (annotations are strings: postponed evaluation)."""
    base = str(f.type).replace(" ", "").removesuffix("|None")
    if base.startswith("tuple[str"):
        return "tuple"
    return {"int": int, "float": float, "str": str, "Path": Path, "bool": bool}.get(base, str)


def add_config_args(
    parser: argparse.ArgumentParser, cls: type, *, skip: tuple[str, ...] = ()
) -> None:
    """One `--field-name` flag per dataclass field of `cls` (defaults: the config's)."""
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = _field_type(f)
        default = f.default
        help_text = f.metadata.get("help", "")
        if kind is bool:
            action = argparse.BooleanOptionalAction
            parser.add_argument(flag, action=action, default=default, help=help_text)
        elif kind == "tuple":
            shown = " ".join(default)
            parser.add_argument(
                flag,
                nargs="+",
                default=default,
                metavar="NAME",
                help=f"{help_text} (default: {shown})",
            )
        else:
            shown = "none" if default is None else default
            parser.add_argument(
                flag, type=kind, default=default, help=f"{help_text} (default: {shown})"
            )


def config_from_args(cls: type, args: argparse.Namespace, **extra: Any) -> Any:
    values = {
        f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if hasattr(args, f.name)
    }
    values.update(extra)
    return cls(**values)


def _parser(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    return sub.add_parser(name, help=help, description=description, formatter_class=formatter)


def register_pipeline(sub: Any) -> None:
    """Add `run`, `prove` and `iterate` to the `leancot` subparsers."""
    from leancot.pipeline import RunConfig
    from leancot.pipeline_prove import IterateConfig, ProveConfig

    p = _parser(sub, "run", "the whole pipeline, resumable, in one run folder", RUN_DESCRIPTION)
    add_config_args(p, RunConfig)
    p.set_defaults(handler=_cmd_run)

    p = _parser(sub, "prove", "prove theorems with one search method", PROVE_DESCRIPTION)
    add_config_args(p, ProveConfig)
    p.set_defaults(handler=_cmd_prove)

    p = _parser(sub, "iterate", "self-play rounds on a finished run", ITERATE_DESCRIPTION)
    add_config_args(p, IterateConfig)
    p.set_defaults(handler=_cmd_iterate)


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


def _notifier(console: Any) -> Any:
    t0 = time.monotonic()

    def notify(message: str) -> None:
        console.print(f"[{time.monotonic() - t0:6.0f}s] {message}", markup=False)

    return notify


def _cmd_run(args: argparse.Namespace) -> int:
    from leancot.pipeline import RunConfig, main

    out = _console()
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
    from leancot.pipeline_prove import ProveConfig, prove_main

    out = _console()
    result = prove_main(config_from_args(ProveConfig, args), notify=_notifier(out))
    c = result.counts
    out.print(
        f"{c['proved']}/{c['total']} proved (verified), {c['unverified']} rejected by verify, "
        f"{c['lean_calls']} Lean calls; time: Lean {c['time_lean_s']:.0f} s, model "
        f"{c['time_model_s']:.0f} s, search {c['time_search_s']:.0f} s -> {result.out}",
        markup=False,
    )
    return 0


def _cmd_iterate(args: argparse.Namespace) -> int:
    from leancot.pipeline_prove import IterateConfig, iterate_main

    out = _console()
    rows = iterate_main(config_from_args(IterateConfig, args), notify=_notifier(out))
    out.print("| round | train proved | test proved | pass rate | SFT rows | PRM rows | DPO |")
    out.print("|------:|-------------:|------------:|----------:|---------:|---------:|----:|")
    for r in rows:
        train = "–" if r.train_total is None else f"{r.train_proved}/{r.train_total}"
        rate = f"{100 * r.test_proved / r.test_total:.1f}%" if r.test_total else "–"
        out.print(
            f"| {r.round} | {train} | {r.test_proved}/{r.test_total} | {rate} | "
            f"{_dash(r.sft_rows)} | {_dash(r.prm_rows)} | {_dash(r.dpo_pairs)} |",
            markup=False,
        )
    return 0


def _dash(x: int | None) -> str:
    return "–" if x is None else str(x)
