"""`leancot train`, `evaluate` and the pipeline commands (`prove`, `run`, `iterate`).

Their parsers come from leancot.cli.train_commands and leancot.pipeline_cli; this module adds
our inputs/outputs descriptions and the Lean checker for `evaluate --lean-check`.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from leancot.cli.common import _describe

# --- train, evaluate (leancot.cli.train_commands) -----------------------------------------------

TRAIN_DESCRIPTION = """\
Train a model on the CoT corpora and search logs; `leancot train KIND --help` lists the flags.

  policy  supervised fine-tuning of the tactic policy on (state -> thought, tactic) rows
  prm     the process reward model on stepwise rows {prompt, completions, labels}
  dpo     DPO of the policy on chosen/rejected sibling tactics from search logs

input:  DATA..., files or folders of step_records.jsonl / lean_star.jsonl (`leancot translate`)
        and search logs (JSONL); rows are picked by their "split" field (--split, --eval-split).
output: --output-dir DIR: checkpoint-N/ (resumable), rows/ (the rows trained on), the final
        model and tokenizer at the top level, and leancot_train.json (config, data digests,
        metrics), written last. --config FILE.yaml sets the same fields as the flags.
Needs the train extra: pip install 'leancot[train]'.
"""

EVALUATE_DESCRIPTION = """\
Held-out metrics of a trained policy and/or PRM.

input:  DATA..., files or folders of CoT step rows / search logs (rows of --split, default
        test); --policy and/or --prm, trained model folders (`leancot train`) or hub ids.
output: the report on stdout (policy: exact match, top-n match; PRM: AUROC and first-error
        accuracy, against constant and length baselines), and as JSON at --output if given.
"""


def _register_train(sub: Any) -> None:
    from leancot.cli.train_commands import register_train

    register_train(sub)
    _describe(sub, "train", TRAIN_DESCRIPTION)


def _register_evaluate(sub: Any) -> None:
    from leancot.cli.train_commands import register_evaluate

    register_evaluate(sub, make_check=_lean_checker)
    sub.choices["evaluate"].add_argument(
        "--lean-dataset",
        type=Path,
        default=None,
        help="with --lean-check: the extracted dataset (LeanDojo layout) whose proofs are replayed "
        "in the embedded Lean to reach each held-out state",
    )
    _describe(sub, "evaluate", EVALUATE_DESCRIPTION)


@contextlib.contextmanager
def _lean_checker(args: argparse.Namespace) -> Iterator[Callable[[str, str], bool | None]]:
    """`check(state, tactic)` backed by one embedded-Lean server (see train/lean_check.py)."""
    from leancot.extract.dataset import read_benchmark
    from leancot.lean import LeanServer, wasm_backend
    from leancot.train.lean_check import LeanStateChecker

    if args.lean_dataset is None:
        raise SystemExit("error: --lean-check needs --lean-dataset DIR (the output of extract)")
    theorems = [t for split in read_benchmark(args.lean_dataset).values() for t in split]
    with LeanServer(wasm_backend()) as server:
        yield LeanStateChecker(server, theorems)


def _register_pipeline(sub: Any) -> None:
    """`prove`, `run` and `iterate` (leancot/pipeline_cli.py)."""
    from leancot.pipeline_cli import register_pipeline

    register_pipeline(sub)
