"""Named benchmarks for `leancot prove --benchmark NAME`, each with train/val/test splits.

- `bundled`: the bundled corpus, split by a hash of the theorem name (in-distribution: many
  test theorems have a train sibling with the same proof skeleton).
- `bundled-grouped`: the same theorems split by a hash of their proof skeleton (the sequence of
  tactic names), so siblings fall on the same side.
- `minif2f-core`: the miniF2F rows (DeepSeek-Prover's Lean 4 file) that elaborate in core Lean
  once `ℕ`/`ℤ` are written `Nat`/`Int` and the Mathlib header is dropped; miniF2F's own `valid`
  and `test` splits. Statements nobody here wrote: choose settings on `valid`, report `test`.
- `core`: every theorem of Lean's core library (`Init`, `Std`) restated under a new name
  (`core_suite`); a proof may not use the lemma it restates.

`load_suite` returns the theorems of a split and a `SuiteReport` saying how many candidates
each filter dropped.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from leancot.files import sha256_hex
from leancot.lean.screen import mask
from leancot.prover.benchmarks import bundled_corpus_dir, load_bundled, load_minif2f
from leancot.prover.lean_source import file_context, parse_theorems
from leancot.prover.theorems import BenchmarkError, Theorem, normalize_split

SUITES = ("bundled", "bundled-grouped", "minif2f-core", "core")
BENCHMARKS_DIR_ENV = "LEANCOT_BENCHMARKS_DIR"  # a folder holding minif2f.jsonl (and proofnet.jsonl)
CORE_SYMBOLS = {"ℕ": "Nat", "ℤ": "Int"}
MATHLIB_WORDS = re.compile(
    r"\b(?:Real|Complex|Finset|Set\.|Polynomial|Nat\.Prime|Int\.floor|Int\.ceil|deriv|"
    r"Real\.sqrt|ZMod|Matrix)\b|[ℝℂℚ√π∑∏]"
)
_COMMAND_WORDS = frozenset(
    "end namespace section open variable universe set_option attribute @[ -- /-".split()
)


class CommandServer(Protocol):
    """What the elaboration filter needs of a `LeanServer`."""

    def run_cmd(self, cmd: str, env: Any = None, timeout: float | None = None) -> Any: ...


@dataclass
class SuiteReport:
    """How a suite's theorems were chosen: candidates, and how many each filter dropped."""

    suite: str
    split: str | None
    candidates: int = 0
    kept: int = 0
    dropped: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "split": self.split,
            "candidates": self.candidates,
            "kept": self.kept,
            "dropped": dict(self.dropped),
        }


# --- bundled, grouped by proof skeleton -----------------------------------------------------------


def proof_skeleton(proof: str) -> str:
    """The tactic names of a proof in order (first word of each step), identifiers dropped:
    `by\\n  intro h\\n  exact h.1` -> `by intro exact`; a term proof gives its first word."""
    words = []
    for segment in re.split(r"\n|;|<;>", mask(proof)):
        segment = segment.strip()
        if segment.startswith("|"):  # a match alternative: the step after `=>`
            segment = segment.partition("=>")[2]
        token = segment.lstrip("·").strip().split(maxsplit=1)
        if not token or token[0] in _COMMAND_WORDS or token[0].startswith("--"):
            continue
        first = token[0]
        if first.startswith("by"):
            words.append("by")
            rest = first[2:] or (token[1].split(maxsplit=1)[0] if len(token) > 1 else "")
            if rest:
                words.append(re.sub(r"[^\w?!_.]", "", rest))
            continue
        words.append(re.sub(r"[^\w?!_.]", "", first) or first)
    return " ".join(w for w in words if w)


def group_splits(
    groups: Mapping[str, int], *, val_fraction: float = 0.05, test_fraction: float = 0.05
) -> dict[str, str]:
    """Split names for groups of the given sizes, whole groups only: in the order of a hash of
    each group's key, groups fill `test` up to `test_fraction` of all members, then `val`, then
    the rest is `train`; a group that would overflow a split's target is left for the next one."""
    total = sum(groups.values())
    targets = [("test", test_fraction * total), ("val", val_fraction * total)]
    filled = {"test": 0, "val": 0}
    out = {}
    for key in sorted(groups, key=lambda k: sha256_hex("group:" + k, 16)):
        size = groups[key]
        out[key] = "train"
        for name, target in targets:
            if filled[name] + size <= max(target, 1):
                filled[name] += size
                out[key] = name
                break
    return out


def load_bundled_grouped(
    split: str | None = "test", *, corpus_dir: str | os.PathLike[str] | None = None
) -> list[Theorem]:
    """The bundled corpus with whole proof-skeleton groups on one side (`group_splits`)."""
    wanted = normalize_split(split)
    root = Path(corpus_dir) if corpus_dir is not None else bundled_corpus_dir()
    found = []
    for file in sorted(root.glob("*.lean")):
        text = file.read_text(encoding="utf-8")
        for thm in parse_theorems(text):
            found.append((proof_skeleton(thm.proof), thm, file_context(text, thm.line)))
    splits = group_splits(Counter(skeleton for skeleton, _, _ in found))
    return [
        Theorem(thm.full_name, thm.statement, header, splits[skeleton], "bundled-grouped")
        for skeleton, thm, header in found
        if wanted is None or splits[skeleton] == wanted
    ]


# --- miniF2F in core Lean -------------------------------------------------------------------------


def core_statement(statement: str) -> str:
    """A miniF2F statement in core Lean's notation (`ℕ` -> `Nat`, `ℤ` -> `Int`)."""
    for symbol, name in CORE_SYMBOLS.items():
        statement = statement.replace(symbol, name)
    return statement


def default_benchmark_file(name: str) -> Path:
    """`name` (e.g. "minif2f.jsonl") in `$LEANCOT_BENCHMARKS_DIR`, else in `shared/benchmarks`
    beside the checkout; BenchmarkError saying where to put it if neither has it."""
    candidates = []
    if os.environ.get(BENCHMARKS_DIR_ENV):
        candidates.append(Path(os.environ[BENCHMARKS_DIR_ENV]) / name)
    from leancot.lean.paths import project_dir

    checkout = project_dir().parent
    candidates.append(checkout.parent / "shared" / "benchmarks" / name)
    for path in candidates:
        if path.is_file():
            return path
    raise BenchmarkError(
        f"{name} not found (looked in {', '.join(map(str, candidates))}): download DeepSeek-"
        f"Prover's Lean 4 miniF2F jsonl and pass --minif2f FILE or set {BENCHMARKS_DIR_ENV}"
    )


def load_minif2f_core(
    server: CommandServer,
    path: str | os.PathLike[str] | None = None,
    split: str | None = "test",
    *,
    timeout: float | None = 60.0,
    report: SuiteReport | None = None,
) -> list[Theorem]:
    """miniF2F rows of `split` whose statement, in core notation and without the Mathlib header,
    elaborates in core Lean (`theorem … := sorry` with no error); the header becomes empty."""
    report = report if report is not None else SuiteReport("minif2f-core", split)
    rows = load_minif2f(path or default_benchmark_file("minif2f.jsonl"), split)
    report.candidates += len(rows)
    out = []
    for thm in rows:
        statement = core_statement(thm.statement)
        if MATHLIB_WORDS.search(mask(statement)):
            report.dropped["mathlib notation"] += 1
            continue
        result = server.run_cmd(f"{statement} := sorry", None, timeout)
        if not getattr(result, "ok", False):
            report.dropped["does not elaborate in core Lean"] += 1
            continue
        out.append(replace(thm, statement=statement, header="", source="minif2f-core"))
    report.kept += len(out)
    return out


# --- dispatch -------------------------------------------------------------------------------------


def load_suite(
    name: str,
    split: str | None,
    *,
    server: CommandServer | None = None,
    path: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    seed: int = 0,
    keep: Callable[[str], bool] | None = None,
) -> tuple[list[Theorem], SuiteReport]:
    """The theorems of suite `name` and split `split` (`limit`: the first that many), with the
    report of what the filters dropped. `minif2f-core` and `core` need a Lean `server`.
    `keep(full_name)`: only the theorems it accepts (for `core`, before restating)."""
    if name not in SUITES:
        raise BenchmarkError(f"unknown benchmark {name!r}: choose one of {', '.join(SUITES)}")
    report = SuiteReport(name, split)
    if name in ("minif2f-core", "core") and server is None:
        raise BenchmarkError(f"benchmark {name} needs a Lean server to filter its statements")
    if name == "bundled":
        theorems: Sequence[Theorem] = load_bundled(split)
    elif name == "bundled-grouped":
        theorems = load_bundled_grouped(split)
    elif name == "minif2f-core":
        assert server is not None
        theorems = load_minif2f_core(server, path, split, report=report)
    else:
        from leancot.prover.core_lemmas import core_theorem_name
        from leancot.prover.core_suite import core_suite

        assert server is not None
        named = None if keep is None else (lambda lemma: keep(core_theorem_name(lemma)))
        theorems = core_suite(server, split, limit=limit, seed=seed, report=report, keep=named)
    if name in ("bundled", "bundled-grouped"):
        report.candidates = report.kept = len(theorems)
    if keep is not None and name != "core":
        theorems = [t for t in theorems if keep(t.full_name)]
    out = list(theorems[:limit] if limit is not None else theorems)
    return out, report
