"""The search log a run appends to (docs/FORMATS.md#search-logs): one JSON line per theorem.

`search_log_record` builds a line from a search's result; `pending` reads the log back and says
which theorems are still to search (a rerun skips every (full_name, method) already there, after
cutting a truncated last line); `SearchLogWriter` appends finished searches one flushed and
fsynced line at a time (`leancot.files.append_jsonl`), so a killed run loses only the theorems
in flight, and counts them into a `RunSummary`. `read_log` reads a log, skipping bad lines.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from tqdm.auto import tqdm

from leancot.files import append_jsonl, drop_partial_tail, open_jsonl_log
from leancot.files import read_jsonl_log as read_log
from leancot.prover.budget import SearchResult

__all__ = [
    "Record",
    "RunSummary",
    "SearchLogWriter",
    "pending",
    "read_log",
    "search_log_record",
]

logger = logging.getLogger(__name__)

# What an executor calls once per theorem: (theorem, its log record or None, the exception).
Record = Callable[[Mapping[str, Any], "dict[str, Any] | None", "Exception | None"], None]


def search_log_record(
    theorem: Mapping[str, Any],
    method: str,
    result: SearchResult,
    *,
    verified: bool,
    verify_error: str | None = None,
) -> dict[str, Any]:
    """One line of the search log (docs/FORMATS.md#search-logs), leancot extras included."""
    return {
        "full_name": theorem["full_name"],
        "statement": theorem["statement"],
        "split": theorem.get("split"),
        "method": method,
        "proved": result.proved,
        "verified": verified,
        "proof": result.proof,
        **result.graph.to_json(),
        "lean_calls": result.lean_calls,
        "expansions": result.expansions,
        "wall_s": round(result.wall_s, 4),
        "time_lean_s": round(result.time_lean_s, 4),
        "time_model_s": round(result.time_model_s, 4),
        "stop_reason": str(result.stop_reason),
        "error": result.error,
        "verify_error": verify_error,
    }


@dataclass(frozen=True)
class RunSummary:
    """Counts of one `prove_all` call. `proved` counts verified proofs only."""

    total: int
    skipped: int  # already in the log
    attempted: int
    proved: int
    unverified: int  # the search claimed a proof that `verify` rejected
    errors: int  # searches that raised (not written: a rerun retries them)
    wall_s: float
    out_path: str


def pending(
    theorems: Iterable[Mapping[str, Any]], out_path: str | Path, method: str
) -> tuple[int, list[Mapping[str, Any]]]:
    """(number of theorems, those still to search): each theorem not yet in the log `out_path`
    for `method`, once per `full_name`. Readies the log for appending first (its folder made, a
    truncated last line cut); `ValueError` for a theorem without `full_name` or `statement`."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    drop_partial_tail(out)
    done = {(r.get("full_name"), r.get("method")) for r in read_log(out)}
    theorems = list(theorems)
    todo, seen = [], set()
    for thm in theorems:
        if "full_name" not in thm or "statement" not in thm:
            raise ValueError("each theorem needs 'full_name' and 'statement' keys")
        if (thm["full_name"], method) not in done and thm["full_name"] not in seen:
            seen.add(thm["full_name"])
            todo.append(thm)
    return len(theorems), todo


class SearchLogWriter:
    """Appends finished searches to the search log `out_path` and counts them for `summary`.

    Inside `with writer:` (the log open for appending, a progress bar of `todo` theorems),
    `record(theorem, record_or_None, exception_or_None)` is the callback the executors call once
    per theorem: a record is written as one line, flushed and fsynced; a failed search is only
    counted and logged (a rerun retries it).
    """

    def __init__(
        self, out_path: str | Path, *, todo: int, desc: str, progress: bool = True
    ) -> None:
        self.out = Path(out_path)
        self.counts = {"attempted": 0, "proved": 0, "unverified": 0, "errors": 0}
        self._todo, self._desc, self._progress = todo, desc, progress
        self._file: IO[str] | None = None
        self._bar: Any = None

    def __enter__(self) -> SearchLogWriter:
        self._bar = tqdm(total=self._todo, desc=self._desc, unit="thm", disable=not self._progress)
        self._file = open_jsonl_log(self.out)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._file is not None
        try:
            self._bar.close()
        finally:
            self._file.close()

    def record(
        self, thm: Mapping[str, Any], rec: dict[str, Any] | None, exc: Exception | None
    ) -> None:
        assert self._file is not None, "record() outside `with writer:`"
        counts = self.counts
        counts["attempted"] += 1
        if rec is None:
            counts["errors"] += 1
            logger.error("searching %s failed: %r", thm["full_name"], exc)
        else:
            append_jsonl(self._file, rec)
            if rec["verified"]:
                counts["proved"] += 1
            elif rec["proved"]:
                counts["unverified"] += 1
        self._bar.update(1)
        self._bar.set_postfix(
            proved=counts["proved"], unverified=counts["unverified"], errors=counts["errors"]
        )

    def summary(self, total: int, skipped: int, started: float) -> RunSummary:
        """The run's counts; `started` is its `time.perf_counter()` at the start."""
        return RunSummary(
            total=total,
            skipped=skipped,
            wall_s=time.perf_counter() - started,
            out_path=str(self.out),
            **self.counts,
        )
