"""The completion cache of the rewrite stage (docs/FORMATS.md: `rewrite_cache.jsonl`).

`RewriteCache` keeps completions by key in memory and appends each to a JSONL file (one fsynced
line each), so an interrupted run resumes where it stopped. `cache_key` is the sha256 of the
backend id, model, generation settings and prompt: the cache stores the raw completion, so
changing the faithfulness bounds never calls the model again.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from leancot.files import (
    append_jsonl,
    drop_partial_tail,
    open_jsonl_log,
    read_jsonl_log,
    sha256_hex,
)
from leancot.translate.rewrite_config import RewriteConfig

log = logging.getLogger(__name__)


class RewriteCache:
    """Completions by key, in memory and appended to a JSONL file (one fsynced line each).

    A partly written last line (a run killed mid-write) is ignored and cut off before appending.
    One writer at a time.
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self.entries: dict[str, str] = {}
        self._file: Any = None
        if self.path is not None and self.path.exists():
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        for entry in read_jsonl_log(self.path):  # skips lines that are not JSON objects
            if isinstance(entry.get("key"), str) and "text" in entry:
                self.entries[entry["key"]] = entry["text"]
            else:
                log.warning("%s: skipping a cache line without key and text", self.path)
        drop_partial_tail(self.path)  # a truncated tail: so the next append starts a fresh line

    def get(self, key: str) -> str | None:
        return self.entries.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def put(self, key: str, text: str, **meta: Any) -> None:
        self.entries[key] = text
        if self.path is None:
            return
        if self._file is None:
            self._file = open_jsonl_log(self.path)
        append_jsonl(self._file, {"key": key, **meta, "text": text})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RewriteCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cache_key(backend: str, model: str, prompt: str, config: RewriteConfig) -> str:
    """sha256 of the backend id, model, generation settings and prompt."""
    settings = [config.max_new_tokens, config.temperature, list(config.stop)]
    payload = json.dumps([backend, model, settings, prompt], ensure_ascii=False)
    return sha256_hex(payload)
