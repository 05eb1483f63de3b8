"""File I/O shared by every stage: atomic writes, JSON lines, folder replacement, digests.

Writes go to a temporary name in the target's own folder (so the rename stays on one file
system), are flushed and fsynced, and `os.replace` puts them in place: a reader sees the old
file or the new one, never half of one, and a failed write leaves no temporary behind. New files
and folders get the usual umask-filtered modes, as `open` and `mkdir` would give them. A folder
is built the same way (`atomic_dir`): under a temporary name beside it, then swapped in by
`replace_dir`, so the stage that writes a marker file last can rely on the folder being whole.

Append-only logs (search logs, the rewrite cache) are JSON lines written one at a time
(`append_jsonl`); `read_jsonl_log` reads what a killed writer left, skipping the cut-off last
line, and `open_jsonl_log` cuts that line off before appending. File layouts: docs/FORMATS.md.

This module imports no other leancot module, so every layer may use it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]


# --- atomic writes -------------------------------------------------------------------------------


def _temp_name(path: Path, suffix: str = ".tmp") -> Path:
    """A fresh hidden name beside `path`: `.NAME.<pid>-<random>.tmp`."""
    return path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{suffix}")


@contextmanager
def atomic_path(path: PathLike, *, suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside `path` for a writer that wants a file name (a plot's `savefig`);
    renamed over `path` when the block ends, removed if it raises. `suffix` ends the temporary
    name, for writers that pick the format from it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def _atomic_open(path: PathLike, mode: str) -> Iterator[IO[Any]]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write `data` to `path` atomically (temporary file beside it, fsync, rename)."""
    with _atomic_open(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: PathLike, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically (temporary file beside it, fsync, rename)."""
    with _atomic_open(path, "w") as f:
        f.write(text)


def ensure_text(path: PathLike, text: str) -> None:
    """Write `text` to `path` atomically unless the file already holds exactly that text."""
    try:
        if Path(path).read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)


def write_json(
    path: PathLike,
    value: Any,
    *,
    indent: int | None = 2,
    default: Callable[[Any], Any] | None = None,
) -> None:
    """Write `value` as JSON (UTF-8, not \\u-escaped, a final newline) to `path` atomically;
    `default` converts what JSON cannot hold (the pipeline passes `str`)."""
    text = json.dumps(value, indent=indent, ensure_ascii=False, default=default)
    atomic_write_text(path, text + "\n")


def write_jsonl(path: PathLike, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write `rows` as JSON lines to `path` atomically, streaming them; return how many.

    If `rows` raises midway, the old file (if any) stays as it was and no temporary is left.
    """
    count = 0
    with _atomic_open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


# --- reading JSON lines --------------------------------------------------------------------------


def iter_jsonl(path: PathLike, *, error: type[Exception] = ValueError) -> Iterator[Any]:
    """The values of a JSON-lines file, streamed; blank lines are skipped.

    A line that is not JSON raises `error("PATH:LINE: not valid JSON (...)")`; pass a stage's
    own error type (a `ValueError` subclass) to keep its messages uniform.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise error(f"{path}:{lineno}: not valid JSON ({exc})") from exc


def read_jsonl(path: PathLike, *, error: type[Exception] = ValueError) -> list[Any]:
    """All values of a JSON-lines file (see `iter_jsonl`)."""
    return list(iter_jsonl(path, error=error))


# --- append-only JSON-lines logs -----------------------------------------------------------------


def read_jsonl_log(path: PathLike) -> list[dict[str, Any]]:
    """The complete, well-formed object lines of an append-only log.

    A missing file reads as empty; a last line without its newline (a write killed midway) is
    ignored; a line that is not a JSON object is logged and skipped.
    """
    path = Path(path)
    if not path.exists():
        return []
    records = []
    with path.open("rb") as f:
        for number, raw in enumerate(f, 1):
            if not raw.endswith(b"\n"):
                logger.info("%s: ignoring a truncated last line", path)
                break
            try:
                obj = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                logger.warning("%s:%d: ignoring a line that is not JSON", path, number)
                continue
            if isinstance(obj, dict):
                records.append(obj)
    return records


def drop_partial_tail(path: PathLike) -> None:
    """Cut a last line without its newline (a write killed midway) so appends start clean."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        data = f.read()
        f.truncate(data.rfind(b"\n") + 1)


def open_jsonl_log(path: PathLike) -> IO[str]:
    """`path` opened for appending JSON lines: its folder created, a cut-off last line dropped."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    drop_partial_tail(path)
    return path.open("a", encoding="utf-8")


def append_jsonl(file: IO[str], row: Mapping[str, Any]) -> None:
    """Append `row` as one JSON line to an open log, flushed and fsynced: a killed run loses at
    most the line being written, which `read_jsonl_log` then skips."""
    file.write(json.dumps(row, ensure_ascii=False) + "\n")
    file.flush()
    os.fsync(file.fileno())


# --- folders -------------------------------------------------------------------------------------


def replace_dir(src: PathLike, dst: PathLike) -> None:
    """Move the finished folder `src` to `dst`, replacing what is there (an old version or an
    empty dir); the old one is renamed aside first and restored if the move fails."""
    src, dst = Path(src), Path(dst)
    if not dst.exists():
        src.rename(dst)
        return
    old = dst.with_name(f".{dst.name}.old-{os.getpid()}-{secrets.token_hex(4)}")
    dst.rename(old)
    try:
        src.rename(dst)
    except BaseException:
        old.rename(dst)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_dir(path: PathLike) -> Iterator[Path]:
    """A fresh folder beside `path` to build in; when the block ends it replaces `path`
    (`replace_dir`), and if the block raises it is removed and `path` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    tmp.mkdir()
    try:
        yield tmp
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --- digests -------------------------------------------------------------------------------------


def sha256_hex(data: str | bytes, length: int | None = None) -> str:
    """The sha256 hex digest of `data` (text is UTF-8 encoded), cut to `length` digits if given.

    Stable across processes and machines, unlike `hash()`: use it for ids, keys and splits.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()[:length]


def sha256_file(path: PathLike) -> str:
    """The sha256 hex digest of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class KeyedJsonl:
    """The rows of a JSONL file by their `key` field (the last row of a key wins), appended as
    they come; a line cut short by an interrupted run is skipped when the file is read."""

    def __init__(self, path: PathLike, key: str = "name") -> None:
        self.path = Path(path)
        self.key = key
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict) and key in entry:
                    self.entries[entry[key]] = entry

    def add_all(self, rows: Iterable[dict[str, Any]]) -> None:
        """Keep `rows` and append them to the file."""
        rows = list(rows)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            for entry in rows:
                self.entries[entry[self.key]] = entry
                f.write(json.dumps(entry, ensure_ascii=False) + "\n")
