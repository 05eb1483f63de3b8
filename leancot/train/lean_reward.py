"""Rewards from Lean for reinforcement learning of the policy (`leancot train grpo`).

A completion is the policy's usual answer to a state prompt, `<thought>\\n<tactic>`
(models/prompts.py); its tactic, run from the theorem's initial state, is the whole proof
(`by` + the tactic, which may span several lines). `VerifiedReward` gives 1.0 when
`leancot.lean.verify` accepts that proof on a fresh check (the sound check: Lean's allow-list,
the reference statement, axioms, kernel replay) and 0.0 otherwise; `FormatReward` gives 1.0 to a
completion that has the step's shape. Both follow TRL's reward-function protocol
(`prompts`, `completions`, the dataset's other columns as keyword lists) and return one float
per completion.

Verification runs on every server of a `LeanPool` at once (`LeanPool.map`); verdicts are
cached on disk by a hash of (header, statement, proof) in an append-only JSONL file
(`VerdictCache`, docs/FORMATS.md#grpo-runs), so a repeated proof, a resumed run or a second run
on the same statements asks Lean once.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from leancot.files import append_jsonl, open_jsonl_log, read_jsonl_log, sha256_hex
from leancot.lean.results import LeanInfraError
from leancot.models.prompts import STEP_SEPARATOR, parse_step

logger = logging.getLogger(__name__)

Check = Callable[[Any, str, str, str], Any]
"""`check(server, statement, proof, header)` -> a verdict (`.ok`, `.reasons`) or a bool."""


def whole_proof(completion: str) -> str | None:
    """The proof a completion stands for: `by` and its tactic, indented; None without a tactic."""
    _, tactic = parse_step(completion)
    if not tactic:
        return None
    return "\n".join(["by", *("  " + line for line in tactic.splitlines())])


def has_step_format(completion: str) -> bool:
    """A one-line thought, a newline, a tactic, and nothing after the step."""
    text = completion.strip("\n")
    if STEP_SEPARATOR in text:
        return False
    thought, newline, tactic = text.partition("\n")
    return bool(newline and thought.strip() and tactic.strip())


def verdict_key(header: str, statement: str, proof: str) -> str:
    """The cache key of one check: sha256 of the JSON list [header, statement, proof]."""
    return sha256_hex(json.dumps([header, statement, proof], ensure_ascii=False))


@dataclass(frozen=True)
class CachedVerdict:
    ok: bool
    reasons: tuple[str, ...]


class VerdictCache:
    """Verdicts by `verdict_key`, read from and appended to a JSONL file (one line per check:
    key, theorem name, proof, ok, reasons). A line cut off by a crash is dropped on open."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._verdicts = {
            row["key"]: CachedVerdict(bool(row["ok"]), tuple(row.get("reasons") or ()))
            for row in read_jsonl_log(self.path)
            if "key" in row and "ok" in row
        }
        self._lock = threading.Lock()
        self._file: IO[str] | None = None

    def __len__(self) -> int:
        return len(self._verdicts)

    def get(self, key: str) -> CachedVerdict | None:
        return self._verdicts.get(key)

    def put(self, key: str, verdict: CachedVerdict, *, full_name: str, proof: str) -> None:
        with self._lock:
            if key in self._verdicts:
                return
            self._verdicts[key] = verdict
            if self._file is None:
                self._file = open_jsonl_log(self.path)
            row = {"key": key, "full_name": full_name, "proof": proof, "ok": verdict.ok}
            append_jsonl(self._file, {**row, "reasons": list(verdict.reasons)})

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def lean_check(timeout: float | None) -> Check:
    """The default check: `leancot.lean.verify` from scratch with a per-proof `timeout`."""

    def check(server: Any, statement: str, proof: str, header: str) -> Any:
        from leancot.lean.verify import verify

        return verify(statement, proof, header, server=server, timeout=timeout)

    return check


def _column(kwargs: Mapping[str, Any], name: str, n: int) -> list[Any]:
    values = kwargs.get(name)
    if values is None or len(values) != n:
        raise ValueError(f"the GRPO dataset needs a {name!r} column (one value per completion)")
    return list(values)


class VerifiedReward:
    """1.0 for a completion whose whole proof Lean verifies, else 0.0 (TRL reward function).

    `pool` has `map(fn(server, item), items)` (a `LeanPool`); `check` decides one proof (default
    `lean_check`); the dataset's `statement`, `header` and `full_name` columns say what to prove.
    `calls` counts the checks sent to Lean, `hits` the proofs answered without one (from the cache
    or a repeat within the batch).
    """

    __name__ = "verified"

    def __init__(self, pool: Any, cache: VerdictCache, check: Check) -> None:
        self.pool = pool
        self.cache = cache
        self.check = check
        self.calls = 0
        self.hits = 0

    def verdicts(
        self, items: Sequence[tuple[str, str, str, str | None]]
    ) -> list[CachedVerdict | None]:
        """Verdicts of (full_name, header, statement, proof) items, None where there is no proof;
        each distinct proof not in the cache is checked once, on the pool's servers in
        parallel. A check Lean could not finish (the process failed to restart) is None too,
        logged and not cached, so one infrastructure fault costs a reward, not the run."""
        keys = [None if p is None else verdict_key(h, s, p) for _, h, s, p in items]
        todo: dict[str, tuple[str, str, str, str]] = {}
        for key, (name, header, statement, proof) in zip(keys, items, strict=True):
            if key is None:
                continue
            if self.cache.get(key) is not None or key in todo:
                self.hits += 1
            else:
                todo[key] = (name, header, statement, proof or "")

        def run(server: Any, item: tuple[str, tuple[str, str, str, str]]) -> CachedVerdict | None:
            _, (name, header, statement, proof) = item
            try:
                verdict = self.check(server, statement, proof, header)
            except LeanInfraError as e:
                logger.warning("%s: no verdict (Lean failed: %s); reward 0, not cached", name, e)
                return None
            ok = bool(getattr(verdict, "ok", verdict))
            return CachedVerdict(ok, tuple(map(str, getattr(verdict, "reasons", ()) or ())))

        pending = list(todo.items())
        for (key, (name, _, _, proof)), verdict in zip(
            pending, self.pool.map(run, pending), strict=True
        ):
            if verdict is not None:
                self.cache.put(key, verdict, full_name=name, proof=proof)
        self.calls += len(pending)
        return [None if k is None else self.cache.get(k) for k in keys]

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[str], **kwargs: Any
    ) -> list[float]:
        n = len(completions)
        items = [
            (name, header, statement, whole_proof(text))
            for name, header, statement, text in zip(
                _column(kwargs, "full_name", n),
                _column(kwargs, "header", n),
                _column(kwargs, "statement", n),
                completions,
                strict=True,
            )
        ]
        return [1.0 if v is not None and v.ok else 0.0 for v in self.verdicts(items)]


class FormatReward:
    """1.0 for a completion with the step's shape (`has_step_format`), else 0.0."""

    __name__ = "format"

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[str], **kwargs: Any
    ) -> list[float]:
        return [1.0 if has_step_format(text) else 0.0 for text in completions]


__all__ = [
    "CachedVerdict",
    "FormatReward",
    "VerdictCache",
    "VerifiedReward",
    "has_step_format",
    "lean_check",
    "verdict_key",
    "whole_proof",
]
