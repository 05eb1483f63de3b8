"""Flags from config dataclasses, and configs from flags plus an optional YAML file.

The one generator every command uses: a `--field-name` flag per field of the config (the
fields of a nested config, such as `search` in `RunConfig`, become flags of their own beside
the others), help from the field's `help` metadata, `choices` where the field lists them.
Defaults are argparse's SUPPRESS, so `config_from_args` knows which flags were given: a config
is the dataclass defaults, then `base` (e.g. the settings a run used), then `--config FILE.yaml`
(flat keys or nested mappings), then the flags given on the command line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import typing
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from leancot.options import config_from_mapping, field_default, field_types, nested_configs

CONFIG_FLAG_HELP = "YAML file with config fields, flat or nested (flags override it)"


def _leaf_fields(cls: type) -> Iterator[tuple[dataclasses.Field, Any, Any]]:
    """(field, type, shown default) of every flag-bearing field, nested configs flattened."""
    types_ = field_types(cls)
    nested = nested_configs(cls)
    for f in dataclasses.fields(cls):
        if f.name not in nested:
            yield f, types_[f.name], field_default(f)
            continue
        sub_cls = nested[f.name]
        parent = field_default(f)
        sub_types = field_types(sub_cls)
        for sub in dataclasses.fields(sub_cls):
            shown = "inherited" if parent is None else getattr(parent, sub.name)
            yield sub, sub_types[sub.name], shown


def _shown(default: Any) -> str:
    if default is None:
        return "none"
    if isinstance(default, tuple | list):
        return " ".join(map(str, default)) or "none"
    return str(default)


def add_config_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    *,
    positional: tuple[str, ...] = (),
    yaml: bool = True,
) -> None:
    """Add one flag per (flattened) field of `cls`; `positional` fields take `nargs="*"`;
    with `yaml`, `--config FILE.yaml` too."""
    if yaml:
        parser.add_argument("--config", metavar="FILE.yaml", help=CONFIG_FLAG_HELP)
    for f, tp, default in _leaf_fields(cls):
        help_text = f.metadata.get("help", "")
        if "default" not in help_text:  # a help text may say what its default means itself
            help_text = f"{help_text} (default: {_shown(default)})"
        kw: dict[str, Any] = {"default": argparse.SUPPRESS, "help": help_text}
        if "choices" in f.metadata:
            kw["choices"] = f.metadata["choices"]
        if f.name in positional:
            parser.add_argument(f.name, nargs="*", **kw)
            continue
        flag = "--" + f.name.replace("_", "-")
        origin = typing.get_origin(tp)
        if tp is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        elif origin in (list, tuple):
            item = typing.get_args(tp)[0]
            parser.add_argument(flag, nargs="+", type=item, metavar="VALUE", **kw)
        elif origin is dict or tp is dict:
            parser.add_argument(flag, type=json.loads, metavar="JSON", **kw)
        elif tp in (int, float, str, Path):
            parser.add_argument(flag, type=tp, **kw)
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: no flag for type {tp!r}")


def config_from_args(
    cls: type,
    args: argparse.Namespace,
    *,
    base: Mapping[str, Any] | None = None,
    positional: tuple[str, ...] = (),
) -> Any:
    """The config of `cls`: defaults, `base`, `--config` YAML values, then the given flags.
    A positional field given empty (`nargs="*"`) does not override the YAML file's value."""
    values: dict[str, Any] = {}
    config_file = getattr(args, "config", None)
    if config_file:
        import yaml

        loaded = yaml.safe_load(Path(config_file).read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict):
            raise ValueError(f"{config_file}: expected a mapping of config fields")
        values.update(loaded)
    names = {f.name for f, _, _ in _leaf_fields(cls)}
    given = {k: v for k, v in vars(args).items() if k in names}
    for name in positional:
        if given.get(name) == [] and name in values:
            given.pop(name)
    values.update(given)
    try:
        return config_from_mapping(cls, values, base=base)
    except ValueError as exc:
        where = f"{config_file}: " if config_file else ""
        raise ValueError(f"{where}{exc}") from exc
