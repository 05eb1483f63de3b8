"""Helpers shared by the `leancot` subcommands: consoles, parsers, messages, small file writes."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def _add_parser(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """A subcommand parser whose description (inputs, outputs) keeps its line breaks."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _error(message: str) -> None:
    _console(stderr=True).print(f"error: {message}", style="red", markup=False)


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_json_atomic(path: Path, value: Any) -> None:
    import json
    import tempfile

    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(value, f, ensure_ascii=False, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _print_fields(console: Any, rows: Sequence[tuple[str, object]]) -> None:
    for key, value in rows:
        console.print(f"  {key:<22} {value}", markup=False)


def _tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def _describe(sub: Any, name: str, description: str) -> None:
    """Give a parser made by another module's registrar our inputs/outputs description."""
    parser = sub.choices[name]
    if not parser.description:
        parser.description = description
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
