"""The proof cache of `leancot iterate`: every verified proof, one per statement, across rounds.

`RUN/iterate/proofs.jsonl` is an append-only JSON-lines log (`leancot.files.append_jsonl`), one
line per newly verified statement: `{"statement", "full_name", "header", "proof", "round"}`.
A statement is its text with whitespace collapsed, so a restatement that only reflows is the same
statement. A line cut off by a killed run is ignored on reading and dropped before the next append.
Rounds sample training statements among those not proved in an earlier round
(`sample_unproved`, `first_unproved`), and never from the tuning slice (`in_tune_slice`): a
fixed tenth of a benchmark's train split, by a hash of the theorem's name, kept apart for tuning
the rounds' settings (`benchmarks/iterate_tune.py`), so nothing reported is tuned on.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from leancot.files import append_jsonl, open_jsonl_log, read_jsonl_log, sha256_hex

PROOFS_FILE = "proofs.jsonl"
TUNE_FRACTION = 0.1  # share of a train split no round samples from: the tuning slice


def statement_key(statement: str) -> str:
    """The cache key of a statement: its text with runs of whitespace collapsed."""
    return " ".join(statement.split())


def in_tune_slice(full_name: str) -> bool:
    """Whether a training theorem is in the tuning slice (`TUNE_FRACTION` of the names, by a
    hash of `tune:<full_name>`, so the slice is the same in every round, seed and run)."""
    return int(sha256_hex("tune:" + full_name, 12), 16) < TUNE_FRACTION * 16**12


def _key_of(theorem: Mapping[str, Any]) -> str:
    return statement_key(str(theorem["statement"]))


class ProofCache:
    """Verified proofs keyed by statement, loaded from and appended to a JSONL file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.entries: dict[str, dict[str, Any]] = {}
        for row in read_jsonl_log(self.path):
            if isinstance(row.get("statement"), str):
                self.entries.setdefault(statement_key(row["statement"]), row)

    def __contains__(self, statement: object) -> bool:
        return isinstance(statement, str) and statement_key(statement) in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def proved_before(self, round_: int) -> set[str]:
        """Keys of the statements proved in a round earlier than `round_`."""
        return {k for k, row in self.entries.items() if int(row.get("round", 0)) < round_}

    def count(self, round_: int) -> int:
        """How many statements round `round_` proved first."""
        return sum(int(row.get("round", 0)) == round_ for row in self.entries.values())

    def add(
        self,
        records: Iterable[Mapping[str, Any]],
        round_: int,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> int:
        """Append the verified proofs of search-log `records` whose statement is new (`headers`:
        full_name → the theorem's header, which the logs do not keep); returns how many lines
        were appended (a rerun of the same round appends nothing)."""
        new = []
        for r in records:
            if not (r.get("verified") and r.get("proof") and isinstance(r.get("statement"), str)):
                continue
            key = statement_key(r["statement"])
            if key in self.entries:
                continue
            row = {
                "statement": r["statement"],
                "full_name": r.get("full_name"),
                "header": (headers or {}).get(str(r.get("full_name")), r.get("header")),
                "proof": r["proof"],
                "round": round_,
            }
            self.entries[key] = row
            new.append(row)
        if new:
            with open_jsonl_log(self.path) as f:
                for row in new:
                    append_jsonl(f, row)
        return len(new)


def sample_unproved(
    pool: Sequence[Mapping[str, Any]], proved: set[str], limit: int, rng: random.Random
) -> list[Any]:
    """`limit` theorems drawn by `rng` among those of `pool` whose statement is not `proved`."""
    rest = [t for t in pool if _key_of(t) not in proved]
    return rng.sample(rest, min(limit, len(rest)))


def first_unproved(pool: Sequence[Mapping[str, Any]], proved: set[str], limit: int) -> list[Any]:
    """The first `limit` theorems of an already shuffled `pool` whose statement is not `proved`."""
    return [t for t in pool if _key_of(t) not in proved][:limit]
