"""`leancot train policy|prm|dpo` and `leancot evaluate`: registrars (learn_commands adds them).

Each registrar adds its parser to argparse's subparsers and sets `handler` (`args -> int`), as
the CLI's `COMMANDS` expects. Flags are generated from the config dataclasses (their help texts
included); `--config FILE.yaml` fills the same fields, flags given on the command line win.
Heavy imports (torch, transformers, TRL) happen inside the handlers.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import types
import typing
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

Check = Callable[[str, str], bool]
CheckFactory = Callable[[argparse.Namespace], "AbstractContextManager[Check | None] | None"]

TRAINERS = {
    "policy": ("leancot.train.policy", "PolicyConfig", "supervised fine-tuning of the policy"),
    "prm": ("leancot.train.prm", "PRMTrainConfig", "train the process reward model"),
    "dpo": ("leancot.train.dpo", "DPOTrainConfig", "DPO of the policy on search siblings"),
}


def _unwrap_optional(tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def add_dataclass_arguments(
    parser: argparse.ArgumentParser, cls: type, *, positional: tuple[str, ...] = ()
) -> None:
    """One flag per field (`--field-name`), help from the field metadata; defaults are
    suppressed so that `config_from_args` knows which flags were given."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = _unwrap_optional(hints[f.name])
        help_text = f.metadata.get("help", "")
        default = f.default if f.default is not dataclasses.MISSING else None
        if f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        kw: dict[str, Any] = {"default": argparse.SUPPRESS, "help": f"{help_text} ({default!r})"}
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
        if f.name in positional:
            parser.add_argument(f.name, nargs="*", **kw)
            continue
        flag = "--" + f.name.replace("_", "-")
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        elif typing.get_origin(tp) is list:
            parser.add_argument(flag, nargs="+", type=typing.get_args(tp)[0], **kw)
        elif typing.get_origin(tp) is dict or tp is dict:
            parser.add_argument(flag, type=json.loads, metavar="JSON", **kw)
        else:
            parser.add_argument(flag, type=tp, **kw)


def config_from_args(cls: type, args: argparse.Namespace) -> Any:
    """The config: dataclass defaults, then `--config` YAML values, then the given flags."""
    names = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    if getattr(args, "config", None):
        import yaml

        loaded = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
        unknown = set(loaded) - names
        if unknown:
            raise ValueError(f"{args.config}: unknown fields {sorted(unknown)}")
        values.update(loaded)
    given = {k: v for k, v in vars(args).items() if k in names}
    if given.get("data") == [] and "data" in values:
        given.pop("data")
    values.update(given)
    return cls(**values)


def _import_config(name: str) -> tuple[Any, type]:
    import importlib

    module_name, class_name, _ = TRAINERS[name]
    module = importlib.import_module(module_name)
    return module, getattr(module, class_name)


def register_train(sub: Any) -> None:
    """`leancot train {policy,prm,dpo} DATA... --output-dir DIR [flags]`."""
    p = sub.add_parser("train", help="train the policy, the PRM or DPO on CoT rows / search logs")
    kinds = p.add_subparsers(dest="trainer", required=True)
    for name, (_, _, help_text) in TRAINERS.items():
        q = kinds.add_parser(name, help=help_text)
        q.add_argument("--config", help="YAML file with config fields (flags override it)")
        _, cls = _import_config(name)
        add_dataclass_arguments(q, cls, positional=("data",))
        q.set_defaults(handler=_cmd_train)


def _cmd_train(args: argparse.Namespace) -> int:
    from rich.console import Console

    module, cls = _import_config(args.trainer)
    config = config_from_args(cls, args)
    result = module.main(config)
    out = Console(highlight=False, soft_wrap=True)
    m = result.metrics
    out.print(f"{result.kind} model saved in {result.model_dir}", markup=False)
    out.print(
        f"  steps {m.get('global_step')}  loss {m.get('last_logged_loss', float('nan')):.4f}  "
        f"steps/s {m.get('train_steps_per_second', float('nan')):.2f}  "
        f"resumed from {result.resumed_from or '-'}",
        markup=False,
    )
    if m.get("eval"):
        out.print("  eval " + json.dumps(m["eval"]), markup=False)
    out.print(f"  metadata {result.metadata_path}", markup=False)
    return 0


def register_evaluate(sub: Any, *, make_check: CheckFactory | None = None) -> None:
    """`leancot evaluate DATA... --policy P --prm R [--output report.json]`.

    `make_check(args)` (optional) returns a context manager yielding `check(state, tactic)`,
    e.g. backed by a Lean server; it adds `--lean-check` to turn it on.
    """
    from leancot.train.evaluate import EvalConfig

    p = sub.add_parser("evaluate", help="held-out metrics of a trained policy and/or PRM")
    p.add_argument("--config", help="YAML file with config fields (flags override it)")
    add_dataclass_arguments(p, EvalConfig, positional=("data",))
    if make_check is not None:
        p.add_argument(
            "--lean-check",
            action="store_true",
            help="check every proposed tactic with Lean (policy_lean_valid_frac)",
        )
    p.set_defaults(handler=_cmd_evaluate, make_check=make_check)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from leancot.train import evaluate

    config = config_from_args(evaluate.EvalConfig, args)
    factory = args.make_check if getattr(args, "lean_check", False) else None
    context = (factory(args) if factory else None) or nullcontext(None)
    with context as check:
        report = evaluate.main(config, check=check)
    out = Console(highlight=False, soft_wrap=True)
    out.print(evaluate.format_report(report), markup=False)
    if config.output:
        out.print(f"report written to {config.output}", markup=False)
    return 0


__all__ = ["add_dataclass_arguments", "config_from_args", "register_evaluate", "register_train"]
