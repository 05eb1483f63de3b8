"""Reading training inputs: JSONL / JSON files or folders of them.

Inputs are whatever the earlier stages wrote: CoT step records, Lean-STaR rows and search logs
(docs/FORMATS.md#cot-corpora, #search-logs). Each object is classified by its keys
(`rows.record_kind`), so a folder may mix them. Row files are written with `leancot.files`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leancot.files import atomic_write_text as atomic_write_text  # re-exported for train/evaluate
from leancot.files import sha256_file
from leancot.formats import BENCHMARK_METADATA
from leancot.train.rows import record_kind

DATA_SUFFIXES = (".jsonl", ".json")


def data_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The data files named by `paths`: files as given, folders searched recursively, sorted."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.suffix in DATA_SUFFIXES and p.is_file() and p.name != BENCHMARK_METADATA
                )
            )
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(f"no such data file or folder: {path}")
    return out


def iter_objects(path: Path) -> Iterator[dict[str, Any]]:
    """JSON objects in a file: one per line (JSONL), or a JSON list / single object."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if path.suffix == ".json" or stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None
        if data is not None:
            yield from (data if isinstance(data, list) else [data])
            return
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not JSON: {exc}") from exc


@dataclass(frozen=True)
class Inputs:
    """Objects read from the input files, by kind, with the files' sha256 digests."""

    steps: list[dict[str, Any]]
    search_logs: list[dict[str, Any]]
    digests: dict[str, str]


def load_inputs(paths: Sequence[str | os.PathLike[str]]) -> Inputs:
    """Read and classify every object under `paths` (step/Lean-STaR records and search logs)."""
    steps, logs, digests = [], [], {}
    for path in data_files(paths):
        digests[str(path)] = sha256_file(path)
        for obj in iter_objects(path):
            kind = record_kind(obj)
            if kind in ("step", "leanstar"):
                steps.append(obj)
            elif kind == "search_log":
                logs.append(obj)
    return Inputs(steps=steps, search_logs=logs, digests=digests)
