"""Reading training inputs (JSONL / JSON files or folders of them) and writing row files.

Inputs are whatever the earlier stages wrote: CoT step records, Lean-STaR rows and search logs
(FORMATS.md). Each object is classified by its keys (`rows.record_kind`), so a folder may mix them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
                    if p.suffix in DATA_SUFFIXES and p.is_file() and p.name != "metadata.json"
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


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write to a temporary file beside `path`, then rename over it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: str | os.PathLike[str], rows: Iterable[Mapping[str, Any]]) -> None:
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def read_jsonl(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    return list(iter_objects(Path(path)))
