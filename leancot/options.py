"""Config dataclasses: fields with help texts, and configs built from nested or flat mappings.

Every stage's settings are a dataclass whose fields carry a `help` text (`option`); the CLI turns
the fields into flags (`leancot.cli.config_args`) and YAML files, saved manifests and flags are
turned back into configs by `config_from_mapping`. A field whose type is itself a config
dataclass (a `SearchConfig` inside `RunConfig`) is *nested*: its fields may be given under its
name (`{"search": {"num_samples": 4}}`) or flat beside the others (`{"num_samples": 4}`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def option(default: Any, help: str, **metadata: Any) -> Any:
    """A dataclass field with a help text (list, dict and dataclass defaults copied per
    instance); extra `metadata` (e.g. `choices`) reaches the CLI."""
    meta = {"help": help, **metadata}
    if isinstance(default, list | dict) or dataclasses.is_dataclass(default):
        factory = (
            (lambda d=default: dataclasses.replace(d))
            if dataclasses.is_dataclass(default)
            else (lambda d=default: type(d)(d))
        )
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def field_types(cls: type) -> dict[str, Any]:
    """Each field's type with `| None` removed (annotations resolved)."""
    hints = typing.get_type_hints(cls)
    return {f.name: unwrap_optional(hints[f.name]) for f in dataclasses.fields(cls)}


def unwrap_optional(tp: Any) -> Any:
    """`X | None` -> `X`; any other type unchanged."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def nested_configs(cls: type) -> dict[str, type]:
    """The fields of `cls` whose type is a config dataclass: name -> that dataclass."""
    return {
        name: tp
        for name, tp in field_types(cls).items()
        if isinstance(tp, type) and dataclasses.is_dataclass(tp)
    }


def field_default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _coerce(tp: Any, value: Any) -> Any:
    """YAML/JSON values into the field's type where they differ (paths, tuples)."""
    if value is None:
        return None
    if tp is Path and isinstance(value, str):
        return Path(value)
    if typing.get_origin(tp) is tuple and isinstance(value, list | tuple):
        return tuple(value)
    if typing.get_origin(tp) is list and isinstance(value, tuple):
        return list(value)
    return value


def config_from_mapping(
    cls: type, data: Mapping[str, Any], *, base: Mapping[str, Any] | None = None
) -> Any:
    """`cls(**data)`, nested configs built from their own mappings or from flat keys.

    `base` gives starting values of nested configs (an instance each, e.g. the settings a
    previous run used): keys of `data` that belong to a nested config override its fields there;
    a nested config with no key in `data` is taken from `base` as it is. Unknown keys raise
    ValueError naming them.
    """
    types_ = field_types(cls)
    nested = nested_configs(cls)
    owner = {sub.name: name for name, c in nested.items() for sub in dataclasses.fields(c)}
    clash = set(owner) & set(types_)
    if clash:
        raise ValueError(f"{cls.__name__}: fields {sorted(clash)} are also nested fields")
    top: dict[str, Any] = {}
    parts: dict[str, dict[str, Any]] = {name: {} for name in nested}
    unknown = []
    for key, value in data.items():
        if key in nested and isinstance(value, Mapping):
            parts[key].update(value)
        elif key in types_:
            top[key] = _coerce(types_[key], value)
        elif key in owner:
            parts[owner[key]][key] = value
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    defaults = {f.name: f for f in dataclasses.fields(cls)}
    for name, sub_cls in nested.items():
        start = top.get(name)
        if start is None and base is not None:
            start = base.get(name)
        if parts[name]:
            if start is None:
                start = field_default(defaults[name]) or sub_cls()
            sub_types = field_types(sub_cls)
            given = {k: _coerce(sub_types[k], v) for k, v in parts[name].items()}
            top[name] = dataclasses.replace(start, **given)
        elif start is not None:
            top[name] = start
    return cls(**top)


def config_to_mapping(config: Any) -> dict[str, Any]:
    """The config as nested plain values (`dataclasses.asdict`)."""
    return dataclasses.asdict(config)
