"""The `leancot` command line. Only this package prints and chooses exit codes.

Each subcommand is a registrar in `COMMANDS`: a function that adds its parser to the subparsers
and sets `handler` (a function `args -> int`). A stage adds itself with one entry (train and
evaluate come from `leancot.cli.train_commands`); heavy imports stay inside the handlers.
Every stage's work is its module's `main(config)`; the handlers only fill configs and print.

The registrars live beside this module: lean_commands (setup, doctor, check), extract_commands
(extract), data_commands (translate, export), train_commands (train, evaluate),
pipeline_commands (run, prove,
iterate; the train and evaluate parsers come from train_commands); common holds the helpers
they share.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from leancot import __version__
from leancot.cli.common import print_error
from leancot.cli.data_commands import (
    CORPUS_FILES,
    PROOFS_FILE,
    REWRITE_BACKENDS,
    REWRITE_CACHE,
    STAR_FILE,
    STEPS_FILE,
    TRANSLATE_MANIFEST,
    register_export,
    register_translate,
    repo_label,
)
from leancot.cli.extract_commands import EXTRACT_BACKENDS, register_extract
from leancot.cli.lean_commands import (
    OPTIONAL_PACKAGES,
    REPL_BINARY_ENV,
    make_backend,
    register_check,
    register_doctor,
    register_setup,
)
from leancot.cli.pipeline_commands import register_pipeline
from leancot.cli.train_commands import register_evaluate, register_train

__all__ = [
    "COMMANDS",
    "CORPUS_FILES",
    "EXTRACT_BACKENDS",
    "OPTIONAL_PACKAGES",
    "PROOFS_FILE",
    "REPL_BINARY_ENV",
    "REWRITE_BACKENDS",
    "REWRITE_CACHE",
    "STAR_FILE",
    "STEPS_FILE",
    "TOP_DESCRIPTION",
    "TRANSLATE_MANIFEST",
    "Handler",
    "Registrar",
    "repo_label",
    "build_parser",
    "main",
    "make_backend",
]

Handler = Callable[[argparse.Namespace], int]
Registrar = Callable[[Any], None]  # receives argparse's subparsers object


# --- registry and entry point --------------------------------------------------------------------

COMMANDS: dict[str, Registrar] = {
    "setup": register_setup,
    "doctor": register_doctor,
    "check": register_check,
    "extract": register_extract,
    "translate": register_translate,
    "export": register_export,
    "train": register_train,
    "evaluate": register_evaluate,
    "pipeline": register_pipeline,
}


TOP_DESCRIPTION = """\
Lean 4 proofs to chain-of-thought data, a tactic policy and a process reward model (PRM),
with Lean as the verifier.

pipeline (each step's output folder is the next one's input):
  leancot setup                                  install the embedded (WebAssembly) Lean
  leancot extract [SOURCE] -o traced/            Lean sources -> LeanDojo-format dataset
  leancot translate traced/ -o cot/              dataset -> chain-of-thought JSONL corpora
  leancot export cot/ -o hub/ [--push USER/NAME] corpus -> Parquet dataset for the HF hub
  leancot train policy cot/step_records.jsonl --output-dir policy/
  leancot train prm cot/step_records.jsonl logs/ --output-dir prm/
  leancot evaluate cot/step_records.jsonl --policy policy/ --prm prm/
  leancot prove --method mcts_prm --policy policy/ --prm prm/ --out results.jsonl
  leancot run                                    all of the above on the embedded defaults
  leancot iterate                                self-play: prove -> search logs -> retrain

`leancot COMMAND --help` describes each command's inputs and outputs; `leancot doctor` shows
which Lean backends and optional packages this machine has.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leancot",
        description=TOP_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"leancot {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for register in COMMANDS.values():
        register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from leancot.lean.install import InstallError
    from leancot.lean.results import LeanInfraError

    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except (InstallError, LeanInfraError, ValueError, FileNotFoundError) as exc:
        print_error(str(exc))
        return 1
    except ImportError as exc:  # an optional package a command needs is absent
        print_error(f"{exc}; `leancot doctor` lists the optional packages and how to install them")
        return 1
