"""`leancot train policy|prm|dpo|value|retriever` and `leancot evaluate`: registrars and handlers.

Flags come from the trainers' config dataclasses (`config_args`, help texts included);
`--config FILE.yaml` fills the same fields, flags given on the command line win. `evaluate
--lean-check` checks proposed tactics with one embedded-Lean server. Heavy imports (torch,
transformers, TRL) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from leancot.cli.common import add_parser, make_console
from leancot.cli.config_args import add_config_arguments, config_from_args

TRAIN_DESCRIPTION = """\
Train a model on the CoT corpora and search logs; `leancot train KIND --help` lists the flags.

  policy  supervised fine-tuning of the tactic policy on (state -> thought, tactic) rows
  prm     the process reward model on stepwise rows {prompt, completions, labels}
  dpo     DPO of the policy on chosen/rejected sibling tactics from search logs
  value   the outcome value on search logs: each tried step labelled gamma^k when the search
          found a verified proof k steps below it, else 0 (`leancot prove --prm DIR` reads it)
  grpo    GRPO of the policy: answers to a benchmark's train statements, rewarded 1 when Lean
          verifies the answer's tactic as the whole proof (--benchmark, or DATA = folders of
          .lean files); writes grpo_log.jsonl, reward_curve.png and verify_cache.jsonl too
  retriever  the dense premise retriever, contrastive on the premises the tactics of a
          `leancot extract` dataset name (DATA: that dataset folder; the library premises
          come from the embedded Lean, cached, or --library FILE)

input:  DATA..., files or folders of step_records.jsonl / lean_star.jsonl (`leancot translate`)
        and search logs (JSONL); rows are picked by their "split" field (--split, --eval-split).
output: --output-dir DIR: checkpoint-N/ (resumable), rows/ (the rows trained on), the final
        model and tokenizer at the top level, and leancot_train.json (config, data digests,
        metrics), written last. --config FILE.yaml sets the same fields as the flags.
Needs the train extra: pip install 'leancot[train]'.
"""

EVALUATE_DESCRIPTION = """\
Held-out metrics of a trained policy, PRM and/or premise retriever.

input:  DATA..., files or folders of CoT step rows / search logs (rows of --split, default
        test); --policy and/or --prm, trained model folders (`leancot train`) or hub ids.
output: the report on stdout (policy: exact match, top-n match; PRM: AUROC and first-error
        accuracy, against constant and length baselines; --retriever DIR|bm25: recall@1 and
        @10 of the split's tactics' premises, against BM25, DATA being the extracted dataset
        folder), and as JSON at --output if given.
"""


TRAINERS = {
    "policy": ("leancot.train.policy", "PolicyConfig", "supervised fine-tuning of the policy"),
    "prm": ("leancot.train.prm", "PRMTrainConfig", "train the process reward model"),
    "dpo": ("leancot.train.dpo", "DPOTrainConfig", "DPO of the policy on search siblings"),
    "value": (
        "leancot.train.value",
        "ValueTrainConfig",
        "the outcome value: what each searched step led to (a proof k steps on: gamma^k)",
    ),
    "grpo": (
        "leancot.pipeline.grpo",
        "GRPORunConfig",
        "GRPO of the policy, rewarded by Lean's verdict on its proofs of benchmark statements",
    ),
    "retriever": (
        "leancot.train.retriever",
        "RetrieverConfig",
        "the dense premise retriever on an extracted dataset's premise annotations",
    ),
}


def _import_config(name: str) -> tuple[Any, type]:
    import importlib

    module_name, class_name, _ = TRAINERS[name]
    module = importlib.import_module(module_name)
    return module, getattr(module, class_name)


def register_train(sub: Any) -> None:
    """`leancot train {policy,prm,dpo} DATA... --output-dir DIR [flags]`."""
    p = add_parser(
        sub,
        "train",
        "train the policy, the PRM or DPO on CoT rows / search logs",
        TRAIN_DESCRIPTION,
    )
    kinds = p.add_subparsers(dest="trainer", required=True)
    for name, (_, _, help_text) in TRAINERS.items():
        q = kinds.add_parser(name, help=help_text)
        _, cls = _import_config(name)
        add_config_arguments(q, cls, positional=("data",))
        q.set_defaults(handler=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    module, cls = _import_config(args.trainer)
    config = config_from_args(cls, args, positional=("data",))
    out = make_console()
    if args.trainer == "grpo":  # starts Lean and states the theorems first: say so
        from leancot.cli.pipeline_commands import _notifier

        result = module.main(config, notify=_notifier(out))
    elif args.trainer == "retriever":
        result = module.main(config, library=_library(config.library, out))
    else:
        result = module.main(config)
    m = result.metrics
    out.print(f"{result.kind} model saved in {result.model_dir}", markup=False)
    out.print(
        f"  steps {m.get('global_step')}  loss {m.get('last_logged_loss', float('nan')):.4f}  "
        f"steps/s {m.get('train_steps_per_second', float('nan')):.2f}  "
        f"resumed from {result.resumed_from or '-'}",
        markup=False,
    )
    if "reward_last_steps" in m:
        out.print(
            f"  reward first steps {m['reward_first_steps']:.3f}  last steps "
            f"{m['reward_last_steps']:.3f}  Lean checks {m['lean_checks']}  "
            f"cache hits {m['cache_hits']}",
            markup=False,
        )
    if m.get("eval"):
        out.print("  eval " + json.dumps(m["eval"]), markup=False)
    out.print(f"  metadata {result.metadata_path}", markup=False)
    return 0


def register_evaluate(sub: Any) -> None:
    """`leancot evaluate DATA... --policy P --prm R [--output report.json] [--lean-check]`."""
    from leancot.train.evaluate import EvalConfig

    p = add_parser(
        sub, "evaluate", "held-out metrics of a trained policy and/or PRM", EVALUATE_DESCRIPTION
    )
    add_config_arguments(p, EvalConfig, positional=("data",))
    p.add_argument(
        "--lean-check",
        action="store_true",
        help="check every proposed tactic with Lean (policy_lean_valid_frac)",
    )
    p.add_argument(
        "--lean-dataset",
        type=Path,
        default=None,
        help="with --lean-check: the extracted dataset (LeanDojo layout) whose proofs are replayed "
        "in the embedded Lean to reach each held-out state",
    )
    p.set_defaults(handler=_cmd_evaluate)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from leancot.train import evaluate

    config = config_from_args(evaluate.EvalConfig, args, positional=("data",))
    context = lean_checker(args) if getattr(args, "lean_check", False) else nullcontext(None)
    library = _library(config.library, make_console()) if config.retriever else None
    with context as check:
        report = evaluate.main(config, check=check, library=library)
    out = make_console()
    out.print(evaluate.format_report(report), markup=False)
    if config.output:
        out.print(f"report written to {config.output}", markup=False)
    return 0


def _library(path: str | None, out: Any) -> list[Any]:
    """The library premises: a premise cache file, or read from the embedded Lean (cached)."""
    from leancot.prover.premises import load_library

    if path is None:
        out.print("reading the core library's premises from the embedded Lean (cached)")
    return load_library(path)


@contextlib.contextmanager
def lean_checker(args: argparse.Namespace) -> Iterator[Callable[[str, str], bool | None]]:
    """`check(state, tactic)` backed by one embedded-Lean server (see extract/replay.py)."""
    from leancot.extract.dataset import read_benchmark
    from leancot.extract.replay import LeanStateChecker
    from leancot.lean import LeanServer, wasm_backend

    if args.lean_dataset is None:
        raise ValueError("--lean-check needs --lean-dataset DIR (the output of extract)")
    theorems = [t for split in read_benchmark(args.lean_dataset).values() for t in split]
    with LeanServer(wasm_backend()) as server:
        yield LeanStateChecker(server, theorems)
