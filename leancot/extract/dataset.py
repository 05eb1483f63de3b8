"""LeanDojo Benchmark 4 folders: deterministic splits, an atomic writer and a validating reader.

A benchmark folder holds `random/{train,val,test}.json` and `novel_premises/{train,val,test}.json`
(JSON lists of theorem objects with LeanDojo's field names), `corpus.jsonl` (one line per source
file with its premises) and `metadata.json`. The writer builds the folder under a temporary name
beside the target, writes `metadata.json` last as the completion marker and renames it into
place, so a reader never sees half a benchmark. Theorems stay plain dicts; `validate_theorem`
checks the keys every stage relies on and names the file and theorem when one is missing.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from leancot.files import atomic_dir, iter_jsonl, sha256_hex, write_jsonl
from leancot.formats import BENCHMARK_CORPUS, BENCHMARK_METADATA

SPLITS = ("train", "val", "test")
STRATEGIES = ("random", "novel_premises")
TRAIN_FRACTION = 0.9
VAL_FRACTION = 0.05
TEST_FRACTION = 0.05  # the rest: hash fraction in [0.95, 1)
HASH_HEX_DIGITS = 16  # sha256 prefix read as an integer, scaled to [0, 1)

THEOREM_KEYS = ("url", "commit", "file_path", "full_name", "start", "end", "traced_tactics")
TACTIC_KEYS = ("tactic", "annotated_tactic", "state_before", "state_after")

Theorem = dict[str, Any]


class DatasetError(ValueError):
    """A benchmark folder or theorem object is malformed; the message names the file and theorem."""


def hash_fraction(full_name: str) -> float:
    """A stable number in [0, 1) for a name: the first hex digits of its sha256."""
    return int(sha256_hex(full_name, HASH_HEX_DIGITS), 16) / 16**HASH_HEX_DIGITS


def split_of(full_name: str) -> str:
    """The random split of a theorem: sha256 prefix < 0.9 train, < 0.95 val, else test."""
    x = hash_fraction(full_name)
    if x < TRAIN_FRACTION:
        return "train"
    if x < TRAIN_FRACTION + VAL_FRACTION:
        return "val"
    return "test"


def theorem_premises(theorem: Mapping[str, Any]) -> set[str]:
    """Full names of the premises annotated in a theorem's tactics."""
    names: set[str] = set()
    for tactic in theorem.get("traced_tactics", ()):
        annotated = tactic.get("annotated_tactic")
        if not annotated or len(annotated) < 2:
            continue
        for premise in annotated[1]:
            name = premise.get("full_name") if isinstance(premise, Mapping) else None
            if name:
                names.add(name)
    return names


def novel_premises_split(
    theorems: Iterable[Mapping[str, Any]],
    *,
    val_fraction: float = VAL_FRACTION,
    test_fraction: float = TEST_FRACTION,
) -> dict[str, str]:
    """Map full names to splits so that each val/test theorem uses a premise no train one uses.

    LeanDojo's `split_by_premise`: premises are taken rarest first (ties by name) and all theorems
    using one move to val/test together, until val/test hold `val_fraction + test_fraction` of the
    theorems (the last group may overshoot, to at most twice that; a group that would go further
    is skipped, so a premise used nearly everywhere never empties train). Val/test are then
    divided by name hash. Theorems
    sharing a full name are treated as one. Deterministic: no random state is involved.
    """
    if val_fraction < 0 or test_fraction < 0 or not 0 < val_fraction + test_fraction < 1:
        raise ValueError("val_fraction and test_fraction must be >= 0 with a sum in (0, 1)")
    premises_by_name: dict[str, set[str]] = defaultdict(set)
    for thm in theorems:
        premises_by_name[thm["full_name"]] |= theorem_premises(thm)
    names = sorted(premises_by_name)
    target = round((val_fraction + test_fraction) * len(names))

    users: dict[str, set[str]] = defaultdict(set)
    for name, premises in premises_by_name.items():
        for premise in premises:
            users[premise].add(name)

    held_out: set[str] = set()
    for _premise, group in sorted(users.items(), key=lambda kv: (len(kv[1]), kv[0])):
        if len(held_out) >= target:
            break
        if len(held_out | group) <= 2 * target:  # a premise nearly all theorems use is skipped
            held_out |= group

    ordered = sorted(held_out, key=lambda n: (hash_fraction(n), n))
    share = val_fraction / (val_fraction + test_fraction)
    num_val = math.floor(len(ordered) * share + 0.5)
    split = dict.fromkeys(names, "train")
    split.update(dict.fromkeys(ordered[:num_val], "val"))
    split.update(dict.fromkeys(ordered[num_val:], "test"))
    return split


def _check_pos(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    )


def validate_theorem(theorem: Any, where: str) -> None:
    """Raise `DatasetError` naming `where` and the theorem when a required key is missing or bad."""
    if not isinstance(theorem, Mapping):
        raise DatasetError(f"{where}: expected a theorem object, got {type(theorem).__name__}")
    label = theorem.get("full_name", "<no full_name>")
    missing = [key for key in THEOREM_KEYS if key not in theorem]
    if missing:
        raise DatasetError(f"{where}: theorem {label!r} lacks required key(s) {missing}")
    if not isinstance(theorem["full_name"], str) or not theorem["full_name"]:
        raise DatasetError(f"{where}: theorem {label!r} has an empty or non-string full_name")
    for key in ("start", "end"):
        if not _check_pos(theorem[key]):
            raise DatasetError(
                f"{where}: theorem {label!r}: {key!r} must be [line, column], got {theorem[key]!r}"
            )
    tactics = theorem["traced_tactics"]
    if not isinstance(tactics, list):
        raise DatasetError(f"{where}: theorem {label!r}: 'traced_tactics' must be a list")
    for i, tactic in enumerate(tactics):
        if not isinstance(tactic, Mapping):
            raise DatasetError(f"{where}: theorem {label!r}: traced_tactics[{i}] is not an object")
        missing = [key for key in TACTIC_KEYS if key not in tactic]
        if missing:
            raise DatasetError(
                f"{where}: theorem {label!r}: traced_tactics[{i}] lacks required key(s) {missing}"
            )
        annotated = tactic["annotated_tactic"]
        if (
            not isinstance(annotated, (list, tuple))
            or len(annotated) != 2
            or not isinstance(annotated[0], str)
            or not isinstance(annotated[1], (list, tuple))
        ):
            raise DatasetError(
                f"{where}: theorem {label!r}: traced_tactics[{i}].annotated_tactic must be "
                "[tactic text, [premise, ...]]"
            )


def _num_tactics(theorems: Iterable[Mapping[str, Any]]) -> int:
    return sum(len(t["traced_tactics"]) for t in theorems)


def _write_json(path: Path, value: Any) -> None:
    with path.open("w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False)


def _leancot_version() -> str:
    from leancot import __version__

    return __version__


def is_complete(out_dir: str | os.PathLike[str]) -> bool:
    """Whether `out_dir` holds a finished benchmark (its completion marker exists)."""
    return (Path(out_dir) / BENCHMARK_METADATA).is_file()


def write_benchmark(
    out_dir: str | os.PathLike[str],
    theorems: Iterable[Mapping[str, Any]],
    corpus_files: Iterable[Mapping[str, Any]],
    metadata: Mapping[str, Any],
) -> Path:
    """Write a LeanDojo Benchmark 4 folder at `out_dir` atomically and return its path.

    `metadata` gives at least `from_repo` and `lean_version`; the counts, splits, leancot
    version and creation time are filled in (counts always recomputed). An existing finished
    benchmark at `out_dir` is replaced; a non-empty folder that is not one is left alone and
    raises `DatasetError`.
    """
    out = Path(out_dir)
    thms = [dict(t) for t in theorems]
    for i, thm in enumerate(thms):
        validate_theorem(thm, f"theorems[{i}]")
    corpus = [dict(c) for c in corpus_files]
    for i, entry in enumerate(corpus):
        if "path" not in entry:
            raise DatasetError(f"corpus_files[{i}]: lacks required key 'path'")
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is not a directory")
    if out.exists() and not is_complete(out) and any(out.iterdir()):
        raise DatasetError(
            f"{out} exists and is not a leancot benchmark (no {BENCHMARK_METADATA}); "
            "choose a new or empty directory"
        )

    assignments = {
        "random": {t["full_name"]: split_of(t["full_name"]) for t in thms},
        "novel_premises": novel_premises_split(thms),
    }
    meta: dict[str, Any] = dict(metadata)
    meta.setdefault("leancot_version", _leancot_version())
    meta.setdefault("created", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    meta["num_theorems"] = len(thms)
    meta["num_tactics"] = _num_tactics(thms)
    meta["splits"] = {}

    with atomic_dir(out) as tmp:
        for strategy, assignment in assignments.items():
            (tmp / strategy).mkdir()
            meta["splits"][strategy] = {}
            for split in SPLITS:
                part = [t for t in thms if assignment[t["full_name"]] == split]
                _write_json(tmp / strategy / f"{split}.json", part)
                meta["splits"][strategy][split] = {
                    "num_theorems": len(part),
                    "num_tactics": _num_tactics(part),
                }
        write_jsonl(tmp / BENCHMARK_CORPUS, corpus)
        _write_json(tmp / BENCHMARK_METADATA, meta)  # last: the completion marker
    return out


def _read_json(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing; the benchmark is incomplete") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON ({exc})") from exc


def read_metadata(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The benchmark's metadata; `DatasetError` if the folder is not a finished benchmark."""
    out = Path(out_dir)
    if not is_complete(out):
        raise DatasetError(
            f"{out}: no {BENCHMARK_METADATA}, so this is not a finished benchmark; "
            "run `leancot extract` again"
        )
    return _read_json(out / BENCHMARK_METADATA)


def read_benchmark(
    out_dir: str | os.PathLike[str], split_strategy: str = "random"
) -> dict[str, list[Theorem]]:
    """Load `{split: [theorem, ...]}` for one strategy, validating every theorem."""
    if split_strategy not in STRATEGIES:
        raise ValueError(f"split_strategy must be one of {STRATEGIES}, got {split_strategy!r}")
    out = Path(out_dir)
    read_metadata(out)
    result: dict[str, list[Theorem]] = {}
    for split in SPLITS:
        path = out / split_strategy / f"{split}.json"
        data = _read_json(path)
        if not isinstance(data, list):
            raise DatasetError(f"{path}: expected a JSON list of theorems")
        for thm in data:
            validate_theorem(thm, str(path))
        result[split] = data
    return result


def read_corpus(out_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The `corpus.jsonl` entries: `{"path", "imports", "premises"}` per source file."""
    path = Path(out_dir) / BENCHMARK_CORPUS
    try:
        return list(iter_jsonl(path, error=DatasetError))
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing; the benchmark is incomplete") from None
