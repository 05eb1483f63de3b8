"""Theorem lists to prove: miniF2F, ProofNet, a LeanDojo Benchmark 4 split and the bundled
corpus, each read from its own format into `Theorem` values (`theorems`).

miniF2F and ProofNet import Mathlib: they need a native Lean with Mathlib (`require_mathlib`).
The bundled corpus is `lean_project/LeanCot/Corpus/*.lean`. Lemmas of Lean's core library
restated as a benchmark are in `core_lemmas`; statements and headers of theorems in Lean files
come from `lean_source`.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from leancot.extract.dataset import DatasetError, read_benchmark, read_corpus, split_of
from leancot.files import read_jsonl, sha256_hex
from leancot.lean.screen import mask
from leancot.lean.verify import THEOREM_KINDS, find_declarations
from leancot.prover.lean_source import file_context, parse_theorems
from leancot.prover.theorems import (
    MATHLIB_ERROR,
    BenchmarkError,
    Theorem,
    bare_statement,
    normalize_split,
    require_mathlib,
)

__all__ = [  # Theorem, BenchmarkError, ... re-exported: what a caller of the loaders needs
    "MATHLIB_ERROR",
    "BenchmarkError",
    "Theorem",
    "bundled_corpus_dir",
    "file_context",
    "load_bundled",
    "load_leandojo_split",
    "load_minif2f",
    "load_proofnet",
    "normalize_split",
    "require_mathlib",
]

logger = logging.getLogger(__name__)


# --- miniF2F and ProofNet (DeepSeek-Prover jsonl) ---------------------------------------------


def _informal(prefix: str | None) -> str | None:
    """The text of a `/-- ... -/` doc comment (None if empty)."""
    if not prefix:
        return None
    text = prefix.strip().removeprefix("/--").removeprefix("/-").removesuffix("-/").strip()
    return text or None


def _load_statement_rows(
    path: str | os.PathLike[str],
    split: str | None,
    source: str,
    backend: str | Any | None,
    theorems_only: bool,
) -> list[Theorem]:
    if backend is not None:
        require_mathlib(backend)
    path = Path(path)
    rows = read_jsonl(path, error=BenchmarkError)
    wanted = normalize_split(split)
    keys = ("name", "split", "formal_statement", "header")
    counts = Counter(str(row.get("name")) for row in rows)
    out, skipped = [], 0
    for lineno, row in enumerate(rows, 1):
        missing = [k for k in keys if k not in row]
        if missing:
            raise BenchmarkError(f"{path}: row {lineno} lacks {missing}")
        row_split = normalize_split(row["split"]) or row["split"]
        if wanted is not None and row_split != wanted:
            continue
        statement = bare_statement(row["formal_statement"])
        decls = find_declarations(mask(statement), statement)
        if theorems_only and (not decls or decls[0].kind not in THEOREM_KINDS):
            skipped += 1
            continue
        name = row["name"]
        if counts[name] > 1:  # ProofNet repeats exercise names across textbooks
            digest = sha256_hex(row["header"] + statement, 8)
            name = f"{name}@{digest}"
        informal = _informal(row.get("informal_prefix"))
        out.append(Theorem(name, statement, row["header"], row_split, source, informal))
    if skipped:
        logger.info("%s: skipped %d statements that are not theorems (defs)", path, skipped)
    return out


def load_minif2f(
    path: str | os.PathLike[str],
    split: str | None = "test",
    *,
    backend: str | Any | None = None,
) -> list[Theorem]:
    """miniF2F rows (`name, split, informal_prefix, formal_statement, goal, header`).

    `split`: "test", "valid"/"val", or None/"all". Given `backend`, refuse the WASM Lean first.
    """
    return _load_statement_rows(path, split, "minif2f", backend, theorems_only=True)


def load_proofnet(
    path: str | os.PathLike[str],
    split: str | None = "test",
    *,
    backend: str | Any | None = None,
    theorems_only: bool = True,
) -> list[Theorem]:
    """ProofNet rows, as `load_minif2f`. A name used twice in the file gets `@<hash>` appended;
    the few `def` statements (constructions, not propositions) are skipped unless
    `theorems_only=False`."""
    return _load_statement_rows(path, split, "proofnet", backend, theorems_only)


# --- LeanDojo Benchmark 4 and the bundled corpus ------------------------------------------------


def _module_name(imported: str) -> str:
    """A module name from a corpus.jsonl import (LeanDojo writes file paths there)."""
    if not imported.endswith(".lean"):
        return imported
    path = re.sub(r"^.*?(?:^|/)packages/[^/]+/", "", imported.removeprefix("./"))
    return path.removesuffix(".lean").replace("/", ".")


def _source_root(entry: Mapping[str, Any], source_root: Path | None) -> Path | None:
    if source_root is not None:
        return source_root
    url = str(entry.get("url", ""))
    if url.startswith("/"):  # a local checkout without a remote (leancot extract, LeanDojo)
        return Path(url)
    if url.startswith("file://"):  # older leancot extractions
        from urllib.parse import unquote, urlparse

        return Path(unquote(urlparse(url).path))
    return Path(url.removeprefix("local:")) if url.startswith("local:") else None


def load_leandojo_split(
    dataset_dir: str | os.PathLike[str],
    split: str = "test",
    strategy: str = "random",
    *,
    source_root: str | os.PathLike[str] | None = None,
    source: str = "leandojo",
) -> list[Theorem]:
    """One split of a LeanDojo Benchmark 4 folder (`leancot extract` output or LeanDojo's).

    The statement is the entry's `statement` field (LeanDojo records only positions: a theorem
    without one raises `BenchmarkError`). The header is the source file's text before the theorem
    when the file is found (under `source_root`, or the local path that is the entry's url), else
    the file's imports from corpus.jsonl.
    """
    wanted = normalize_split(split)
    if wanted is None:
        raise BenchmarkError("load_leandojo_split needs one split: train, val or test")
    entries = read_benchmark(dataset_dir, strategy)[wanted]
    try:
        imports = {c["path"]: c.get("imports", []) for c in read_corpus(dataset_dir)}
    except DatasetError:
        imports = {}
    root = Path(source_root) if source_root is not None else None
    texts: dict[Path, str | None] = {}
    out = []
    for entry in entries:
        name = entry["full_name"]
        statement = entry.get("statement")
        if not statement:
            raise BenchmarkError(
                f"theorem {name!r} ({entry['file_path']}) has no 'statement' field: LeanDojo "
                "records positions only and the statement cannot be rebuilt from them; extract "
                "the repository with `leancot extract` (which records statements)"
            )
        header = None
        base = _source_root(entry, root)
        if base is not None:
            file = base / entry["file_path"]
            if file not in texts:
                texts[file] = file.read_text(encoding="utf-8") if file.is_file() else None
            if texts[file] is not None:
                header = file_context(texts[file], entry["start"][0])
        if header is None:
            mods = [_module_name(i) for i in imports.get(entry["file_path"], [])]
            header = "".join(f"import {m}\n" for m in mods)
        out.append(Theorem(name, bare_statement(statement), header, wanted, source))
    return out


def bundled_corpus_dir() -> Path:
    """`lean_project/LeanCot/Corpus`, the corpus shipped with leancot."""
    from leancot.lean.paths import project_dir

    return project_dir() / "LeanCot" / "Corpus"


def load_bundled(
    split: str | None = "test",
    *,
    dataset_dir: str | os.PathLike[str] | None = None,
    corpus_dir: str | os.PathLike[str] | None = None,
) -> list[Theorem]:
    """The bundled corpus' theorems of `split` (None: all), split by `split_of(full_name)`.

    With `dataset_dir` (its `leancot extract` output) the entries come from there; otherwise the
    statements are parsed from `corpus_dir` (default `bundled_corpus_dir()`), each with the text of
    its file before it as header.
    """
    wanted = normalize_split(split)
    if dataset_dir is not None:
        if wanted is None:
            return [
                thm
                for s in ("train", "val", "test")
                for thm in load_leandojo_split(dataset_dir, s, source="bundled")
            ]
        return load_leandojo_split(dataset_dir, wanted, source="bundled")
    root = Path(corpus_dir) if corpus_dir is not None else bundled_corpus_dir()
    files = sorted(root.glob("*.lean"))
    if not files:
        raise BenchmarkError(f"{root}: no .lean files (is this the corpus folder?)")
    out = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        for thm in parse_theorems(text):
            thm_split = split_of(thm.full_name)
            if wanted is None or thm_split == wanted:
                header = file_context(text, thm.line)
                out.append(Theorem(thm.full_name, thm.statement, header, thm_split, "bundled"))
    return out
