"""Helpers shared by the `leancot` subcommands: consoles, parsers, messages, sizes."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def make_console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def add_parser(sub: Any, name: str, help: str, description: str) -> argparse.ArgumentParser:
    """A subcommand parser whose description (inputs, outputs) keeps its line breaks."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def print_error(message: str) -> None:
    make_console(stderr=True).print(f"error: {message}", style="red", markup=False)


def now_iso() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def print_fields(console: Any, rows: Sequence[tuple[str, object]]) -> None:
    for key, value in rows:
        console.print(f"  {key:<22} {value}", markup=False)


def tree_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def human_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
