"""A theorem to prove (`Theorem`), the split names benchmarks use, and a statement's bare text.

Every benchmark loader (`benchmarks`, `core_lemmas`) returns `Theorem` values: the statement up
to (not including) `:=`/`:= by`, and a `header` holding everything Lean must elaborate first
(imports, `open`s, and for theorems taken from a file, the file's text before the theorem). A
`Theorem` is also a read-only mapping with its field names as keys, so `runner.prove_all` takes
it as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any

MATHLIB_ERROR = (
    "miniF2F/ProofNet statements import Mathlib: use the native backend with Mathlib (see "
    "README) — the embedded WASM Lean has only the core library"
)
_SPLIT_ALIASES = {"valid": "val", "validation": "val", "dev": "val"}


class BenchmarkError(ValueError):
    """A benchmark file or theorem cannot be used as asked; the message says which and why."""


@dataclass(frozen=True)
class Theorem(Mapping[str, Any]):
    """One theorem to prove. Also a mapping (keys: the field names) for `runner.prove_all`.

    `statement` ends before `:=`; `header` is elaborated first (imports, opens, file context);
    `split` is "train", "val" or "test"; `source` names the benchmark ("minif2f", "proofnet",
    "leandojo", "bundled", or "core:<lemma>" for a restated core lemma).
    """

    full_name: str
    statement: str
    header: str
    split: str
    source: str
    informal: str | None = None

    def __getitem__(self, key: str) -> Any:
        if key not in _THEOREM_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(_THEOREM_KEYS)

    def __len__(self) -> int:
        return len(_THEOREM_KEYS)


_THEOREM_KEYS = tuple(f.name for f in fields(Theorem))


def bare_statement(statement: str) -> str:
    """The statement without a trailing `:=` or `:= by` (LeanServer appends `:= by sorry`)."""
    return re.sub(r"\s*:=\s*(by\s*)?$", "", statement.rstrip())


def goal_command(statement: str) -> str:
    """The command that states `statement`'s goal: its bare statement with ` := by sorry`.

    Always appended, never guessed from the text: a type may itself contain `:=` (a structure
    instance `{ toBitVec := n }`, a `have x := e;` in the type), and such a statement sent
    without a proof ends in "unexpected end of input" (`LeanServer.start_proof` appends
    ` := by sorry` only when the text has no `:=`)."""
    return bare_statement(statement) + " := by sorry"


def normalize_split(split: str | None) -> str | None:
    """The split name we use: "valid" (miniF2F, ProofNet) is "val"; None or "all" is every split."""
    if split is None or split == "all":
        return None
    return _SPLIT_ALIASES.get(split, split)


def require_mathlib(backend: str | Any) -> None:
    """Raise `BenchmarkError` if `backend` (a name, or anything with `.name`) is the WASM Lean."""
    name = backend if isinstance(backend, str) else getattr(backend, "name", "")
    if name == "wasm":
        raise BenchmarkError(MATHLIB_ERROR)
