"""Theorem lists to prove: miniF2F, ProofNet, a LeanDojo Benchmark 4 split, the bundled corpus,
and lemmas of Lean's own core library (`Init`/`Std`) restated under new names.

Every loader returns `Theorem` values: the statement up to (not including) `:=`/`:= by`, and a
`header` holding everything Lean must elaborate first (imports, `open`s, and for theorems taken
from a file, the file's text before the theorem: its `universe`/`variable` lines, namespaces and
the definitions the statement mentions). A `Theorem` is also a read-only mapping with its field
names as keys, so `runner.prove_all` takes it as it is.

miniF2F and ProofNet import Mathlib: they need a native Lean with Mathlib (`require_mathlib`).
The bundled corpus is `lean_project/LeanCot/Corpus/*.lean`; the core-library benchmark reads each
lemma's type with `#check @NAME` through a `LeanServer` (the REPL in
`lean_project/LeanCot/Repl.lean`), so it runs on the embedded WASM Lean too.
"""

from __future__ import annotations

import logging
import os
import random
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Protocol

from leancot.extract.dataset import DatasetError, read_benchmark, read_corpus, split_of
from leancot.files import read_jsonl, sha256_hex
from leancot.lean.screen import mask
from leancot.lean.verify import THEOREM_KINDS, Verdict, find_declarations
from leancot.prover.runner import bare_statement

logger = logging.getLogger(__name__)

CORE_PREFIX = "leancot_core_"  # core lemma Nat.add_comm is restated as leancot_core_Nat_add_comm
CORE_SOURCE = "core:"  # Theorem.source of a restated core lemma: "core:Nat.add_comm"
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
        decls = find_declarations(mask(statement))
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


# --- theorems taken from Lean files -----------------------------------------------------------

_TRAILING_MODIFIER = re.compile(
    r"(?:@\[[^\]]*\]|\b(?:private|protected|noncomputable|nonrec|partial|unsafe))\s*$"
)
_OPENERS, _CLOSERS = "([{⦃⟨", ")]}⦄⟩"


def file_context(text: str, line: int) -> str:
    """The text of a file before its 1-based `line` (where a declaration starts): the context a
    statement on that line is elaborated in, without a dangling doc comment or attribute."""
    offset = 0
    for _ in range(line - 1):
        nxt = text.find("\n", offset)
        if nxt < 0:
            return text
        offset = nxt + 1
    masked = mask(text[:offset])
    end = len(masked.rstrip())
    while True:
        m = _TRAILING_MODIFIER.search(masked, 0, end)
        if m is None:
            break
        end = len(masked[: m.start()].rstrip())
    prefix = text[:end]
    return prefix + "\n" if prefix else ""


def _statement_end(masked: str, start: int, stop: int) -> int | None:
    """Offset of the first `:=` outside brackets in masked[start:stop] (None: none there)."""
    depth = 0
    for i in range(start, stop):
        c = masked[i]
        if c in _OPENERS:
            depth += 1
        elif c in _CLOSERS:
            depth = max(0, depth - 1)
        elif c == ":" and depth == 0 and masked.startswith(":=", i):
            return i
    return None


@dataclass(frozen=True)
class FileTheorem:
    """A theorem found in a Lean file: qualified name, statement text, 1-based line."""

    full_name: str
    statement: str
    line: int


def parse_theorems(text: str) -> list[FileTheorem]:
    """The `theorem`/`lemma` declarations of a Lean file with a `:=` proof, in order."""
    masked = mask(text)
    starts = [0]
    for ln in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(ln))
    decls = find_declarations(masked)
    found = []
    for i, decl in enumerate(decls):
        if decl.kind not in THEOREM_KINDS or not decl.name:
            continue
        start = starts[decl.line - 1]
        stop = starts[decls[i + 1].line - 1] if i + 1 < len(decls) else len(text)
        end = _statement_end(masked, start, stop)
        if end is None:  # defined by pattern matching, or not parsable: not a benchmark item
            continue
        found.append(FileTheorem(decl.name, text[start:end].strip(), decl.line))
    return found


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
    when the file is found (under `source_root`, or the `local:` url of the entry), else the
    file's imports from corpus.jsonl.
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


# --- lemmas of the core library, restated -----------------------------------------------------

DEFAULT_CORE_LEMMAS: tuple[str, ...] = tuple(
    """
    Nat.add_comm Nat.add_assoc Nat.add_zero Nat.zero_add Nat.mul_comm Nat.mul_assoc Nat.mul_one
    Nat.one_mul Nat.mul_zero Nat.zero_mul Nat.left_distrib Nat.right_distrib Nat.succ_ne_zero
    Nat.add_left_cancel Nat.add_right_cancel Nat.le_refl Nat.le_trans Nat.le_antisymm
    Nat.lt_irrefl Nat.le_add_right Nat.le_add_left Nat.lt_succ_self Nat.succ_le_succ Nat.zero_le
    Nat.pow_succ Nat.pow_zero Nat.add_sub_cancel Nat.sub_self Nat.sub_zero Nat.min_comm
    Nat.max_comm Nat.two_mul Nat.add_right_comm Nat.add_left_comm Nat.mul_left_comm Nat.le_of_lt
    Nat.lt_of_lt_of_le Nat.pred_succ Nat.succ_pred Nat.mod_self Nat.mod_one Nat.zero_mod
    List.append_nil List.nil_append List.append_assoc List.length_append List.length_reverse
    List.reverse_reverse List.reverse_append List.map_map List.map_id List.length_map
    List.map_append List.mem_append List.length_cons List.mem_cons List.mem_singleton
    List.length_replicate List.foldl_nil
    Bool.not_not Bool.and_comm Bool.or_comm Bool.and_assoc Bool.or_assoc Bool.and_self
    Bool.or_self Bool.and_true Bool.true_and Bool.or_false Bool.false_or Bool.not_and
    Bool.not_or Bool.and_or_distrib_left Bool.or_and_distrib_left
    Option.some_ne_none Option.map_none Option.map_some Option.bind_none Option.bind_some
    Option.getD_none Option.getD_some Option.some_inj Option.isSome_some Option.get_some
    Option.map_map
    """.split()
)


class CommandServer(Protocol):
    """What `core_library_theorems` needs of a `LeanServer`."""

    def run_cmd(self, cmd: str, env: Any = None, timeout: float | None = None) -> Any: ...


def core_theorem_name(lemma: str) -> str:
    """`Nat.add_comm` -> `leancot_core_Nat_add_comm` (a fresh name in the root namespace)."""
    return CORE_PREFIX + lemma.replace(".", "_")


def parse_check_type(lemma: str, text: str) -> str | None:
    """The type in a `#check @LEMMA` message (`[@]LEMMA : TYPE`), None if it is not one."""
    m = re.match(rf"@?{re.escape(lemma)}\s*:\s*(.+)", text.strip(), re.S)
    return m.group(1).strip() if m else None


def _infos(result: Any) -> list[str]:
    return [m.text for m in getattr(result, "messages", ()) if m.severity == "info"]


def _errors(result: Any) -> list[str]:
    """First lines of the error messages of a command result."""
    msgs = getattr(result, "messages", ())
    return [m.text.strip().split("\n", 1)[0] for m in msgs if m.severity == "error"]


def core_library_theorems(
    server: CommandServer,
    names: Sequence[str] | None = None,
    *,
    limit: int | None = None,
    seed: int = 0,
    check: bool = True,
    timeout: float | None = None,
) -> list[Theorem]:
    """Core lemmas restated as `theorem leancot_core_<name> : <type>`, types read by `#check @`.

    The `∀` type printed by `#check @NAME` keeps every binder (implicit and instance ones too);
    universe names such as `u_1` are bound automatically. With `check`, a restatement is kept
    only if the lemma itself proves it (`example : TYPE := @NAME`), which catches types that do
    not print back faithfully. Lemmas that are unknown or fail the check are skipped (logged).
    `limit` keeps that many, chosen by a `seed`ed shuffle; the output keeps the order of `names`.
    """
    pool = list(dict.fromkeys(DEFAULT_CORE_LEMMAS if names is None else names))
    order = list(range(len(pool)))
    if limit is not None:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        random.Random(seed).shuffle(order)
    kept: list[int] = []
    theorems: dict[int, Theorem] = {}
    for i in order:
        if limit is not None and len(kept) >= limit:
            break
        lemma = pool[i]
        result = server.run_cmd(f"#check @{lemma}", None, timeout)
        types = [t for t in map(lambda x: parse_check_type(lemma, x), _infos(result)) if t]
        if _errors(result) or not types:
            logger.warning("skipping %s: %s", lemma, "; ".join(_errors(result)) or result)
            continue
        if check:
            proof = server.run_cmd(f"example : {types[0]} := @{lemma}", None, timeout)
            if not hasattr(proof, "messages") or _errors(proof):
                why = "; ".join(_errors(proof)) or str(proof)
                logger.warning("skipping %s: its printed type does not elaborate: %s", lemma, why)
                continue
        statement = f"theorem {core_theorem_name(lemma)} : {types[0]}"
        theorems[i] = Theorem(core_theorem_name(lemma), statement, "", "test", CORE_SOURCE + lemma)
        kept.append(i)
    return [theorems[i] for i in sorted(kept)]


def banned_constant(theorem: Mapping[str, Any]) -> str | None:
    """The lemma a proof of `theorem` must not use: its source for a restated core lemma."""
    source = str(theorem.get("source") or "")
    return source.removeprefix(CORE_SOURCE) if source.startswith(CORE_SOURCE) else None


def _ident(word: str) -> str:
    # A Lean identifier component: preceded by anything but an identifier character (a dot is
    # allowed: `Nat.add_comm`, `n.add_comm`), followed by anything but one.
    return rf"(?<![\w'!?]){re.escape(word)}(?![\w'!?])"


def uses_constant(proof_text: str, name: str) -> bool:
    """Whether the proof mentions `name` or its last component as an identifier (comments and
    strings ignored). Textual, so approximate: `simp` may still use the lemma unnamed."""
    masked = mask(proof_text)
    last = name.rsplit(".", 1)[-1]
    return any(re.search(_ident(w), masked) for w in {name, last})


def core_proof_problem(
    theorem: Mapping[str, Any], proof_text: str, axioms: Iterable[str] = ()
) -> str | None:
    """Why a proof of a restated core lemma is not allowed (None: it is, as far as we can tell).

    Besides the text, `axioms` (as `#print axioms` listed them) are checked: the embedded WASM
    Lean ships the library without proofs, so there the lemmas a proof depends on are listed and
    an indirect use (through `simp`) is caught; a native Lean lists real axioms only.
    """
    banned = banned_constant(theorem)
    if banned is None:
        return None
    if uses_constant(proof_text, banned):
        return f"the proof names the lemma it restates ({banned})"
    if banned in set(axioms):
        return f"the proof depends on the lemma it restates ({banned})"
    return None


def forbid_source_lemmas(
    verify: Callable[[str, str], object], theorems: Iterable[Mapping[str, Any]]
) -> Callable[[str, str], object]:
    """Wrap a runner `verify(statement, proof, ...)` so a restated core lemma's proof is rejected
    when it uses the lemma itself (see `core_proof_problem`); other statements pass through."""
    by_statement = {t["statement"]: t for t in theorems if banned_constant(t)}

    def checked(statement: str, proof: str, *rest: Any) -> object:
        theorem = by_statement.get(statement)
        if theorem is None:
            return verify(statement, proof, *rest)
        why = core_proof_problem(theorem, proof)
        if why is not None:
            return Verdict(False, (why,))
        verdict = verify(statement, proof, *rest)
        why = core_proof_problem(theorem, proof, getattr(verdict, "axioms", ()))
        return verdict if why is None else Verdict(False, (why,), getattr(verdict, "axioms", ()))

    return checked
