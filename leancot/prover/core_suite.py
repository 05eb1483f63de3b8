"""The `core` benchmark: every theorem of Lean's core library (`Init`, `Std`), enumerated from the
environment, restated under a new name.

1. The REPL lists the constants the imported modules declare (the `constants` request of
   `lean_project/LeanCot/Repl.lean`; this build ships the library without proofs, so its
   theorems arrive as axioms).
2. Filters, each counted in the `SuiteReport`: Lean's real axioms, private and generated names
   (`_private`, `match_`, `eq_1`, `_proof_`, `_simp_`, `_sunfold`, `brecOn`, instances, ...),
   names that would need `«»` quoting.
3. Splits by a hash of the name: 70% train, 10% val, 20% test.
4. Each chosen lemma is restated from `#check @NAME` as
   `theorem leancot_core_<name>.{u_1, ...} : TYPE` (the universe levels it prints, declared) and
   kept only if the lemma itself proves the restatement (`:= @NAME`): statements that do not
   print back faithfully, or are not propositions, drop.
   Results are cached per Lean version (`<cache>/benchmarks/core-<version>.jsonl`, one line per
   lemma, appended), so a split is restated once.

A proof must not use the lemma it restates: `core_lemmas.forbid_source_lemmas`, applied by
`prover.workers.prove_theorems` on every prove path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from leancot.files import KeyedJsonl, sha256_hex
from leancot.prover.core_lemmas import CORE_SOURCE, core_theorem_name, parse_check_type
from leancot.prover.theorems import BenchmarkError, Theorem, normalize_split

ROOTS = ("Init", "Std")
KINDS = ("axiom", "theorem")  # stripped theorems are axioms in this build
LEAN_AXIOMS = frozenset(
    "propext Quot.sound Classical.choice sorryAx lcErased lcProof lcCast lcUnreachable lcAny "
    "Lean.ofReduceBool Lean.ofReduceNat Lean.trustCompiler".split()
)
GENERATED = re.compile(
    r"(?:^|\.)(?:_|match_\d|eq_\d+$|eq_def$|proof_\d|brecOn$|below$|ibelow$|binductionOn$|"
    r"casesOn$|recOn$|rec$|noConfusion|injEq$|inj$|sizeOf_spec$|induct$|mutual_induct$|"
    r"fun_cases$|ctorIdx$|toCtorIdx$|congr_simp$|inst[A-Z])"
)
IDENT = re.compile(r"[A-Za-z_\u0370-\u03ff\u1f00-\u1fff\u2100-\u214f][\w'!?\u2080-\u209c₀-₉]*")
SPLIT_FRACTIONS = (("train", 0.7), ("val", 0.1), ("test", 0.2))


class ConstantsServer(Protocol):
    """What the `core` suite needs of a `LeanServer`."""

    def run_cmd(self, cmd: str, env: Any = None, timeout: float | None = None) -> Any: ...

    def header_env(self, header: str, timeout: float | None = None) -> Any: ...

    def library_constants(
        self, roots: Sequence[str], kinds: Sequence[str], env: Any = None
    ) -> list[dict[str, Any]]: ...


def drop_reason(constant: Mapping[str, Any]) -> str | None:
    """Why a listed constant is no benchmark statement (None: it is a candidate)."""
    name = str(constant.get("name", ""))
    if constant.get("kind") not in KINDS:
        return "not a theorem"
    if name in LEAN_AXIOMS:
        return "one of Lean's axioms"
    if name.startswith("_private.") or GENERATED.search(name):
        return "private or generated"
    if not all(IDENT.fullmatch(part) for part in name.split(".")):
        return "needs «» quoting"
    return None


def core_split(name: str) -> str:
    """The split of a core lemma: a hash of its name, 70% train, 10% val, 20% test."""
    x = int(sha256_hex("core:" + name, 16), 16) / 16**16
    for split, fraction in SPLIT_FRACTIONS:
        if x < fraction:
            return split
        x -= fraction
    return "test"


def printed_levels(type_text: str) -> list[str]:
    """The universe names `#check @NAME` printed (`u_1`, `u_2`, ...: Lean names the level
    variables of the elaborated `@NAME` so, whatever the declaration called them), in order."""
    found = {int(m) for m in re.findall(r"(?<![\w.])u_(\d+)(?![\w'])", type_text)}
    return [f"u_{i}" for i in sorted(found)]


def restatement(name: str, type_text: str) -> str:
    """`theorem leancot_core_<name>.{u_1, ...} : TYPE`, its universe levels declared (the REPL
    binds no universe automatically)."""
    levels = printed_levels(type_text)
    params = f".{{{', '.join(levels)}}}" if levels else ""
    return f"theorem {core_theorem_name(name)}{params} : {type_text}"


def _errors(result: Any) -> list[str]:
    msgs = getattr(result, "messages", None)
    if msgs is None:
        return [str(result)]
    return [m.text.strip().split("\n", 1)[0] for m in msgs if m.severity == "error"]


def restate(server: ConstantsServer, constant: Mapping[str, Any], env: Any) -> dict[str, Any]:
    """`{"name", "statement"}` for a faithful restatement, else `{"name", "dropped": reason}`."""
    name = str(constant["name"])
    shown = server.run_cmd(f"#check @{name}", env)
    infos = [m.text for m in getattr(shown, "messages", ()) if m.severity == "info"]
    types = [t for t in (parse_check_type(name, text) for text in infos) if t]
    if _errors(shown) or not types:
        return {"name": name, "dropped": "its type does not print"}
    statement = restatement(name, types[0])
    check = statement.replace(core_theorem_name(name), "leancot_core_check", 1)
    errors = _errors(server.run_cmd(f"{check} := @{name}", env))
    if any("is not a proposition" in e for e in errors):
        return {"name": name, "dropped": "not a proposition"}
    if errors:
        return {"name": name, "dropped": "does not restate faithfully"}
    return {"name": name, "statement": statement}


class RestatementCache(KeyedJsonl):
    """Restatements by lemma name, one JSON line each in `path`, appended as they are made."""

    def add(self, entry: dict[str, Any]) -> None:
        self.add_all([entry])


def default_cache(version: str) -> RestatementCache:
    from leancot.lean.paths import cache_dir

    tag = sha256_hex(version, 12)
    return RestatementCache(cache_dir() / "benchmarks" / f"core-{tag}.jsonl")


def core_suite(
    server: ConstantsServer,
    split: str | None,
    *,
    limit: int | None = None,
    seed: int = 0,
    report: Any = None,
    cache: RestatementCache | None = None,
    keep: Callable[[str], bool] | None = None,
) -> list[Theorem]:
    """The `core` benchmark's theorems of `split` (None: all): candidates in a seeded hash
    order, restated until `limit` are kept (None: every candidate of the split). `keep`: only
    the lemmas whose name it accepts are candidates (the others count as "left out")."""
    header = "import Std"
    env = server.header_env(header)  # cached per process: the searches reuse it
    if _errors(env):
        raise BenchmarkError(f"the core benchmark needs `{header}`: {'; '.join(_errors(env))}")
    constants = server.library_constants(ROOTS, KINDS, env)
    if cache is None:
        cache = default_cache(str(getattr(server, "version", "") or "unknown"))
    wanted = normalize_split(split)
    candidates = _candidates(constants, wanted, report, keep)
    order = sorted(candidates, key=lambda c: sha256_hex(f"{seed}:{c['name']}", 16))
    out = []
    for constant in order:
        if limit is not None and len(out) >= limit:
            break
        entry = cache.entries.get(constant["name"])
        if entry is None:
            entry = restate(server, constant, env)
            cache.add(entry)
        if "statement" not in entry:
            if report is not None:
                report.dropped[entry["dropped"]] += 1
            continue
        lemma = constant["name"]
        out.append(
            Theorem(core_theorem_name(lemma), entry["statement"], header,
                    core_split(lemma), CORE_SOURCE + lemma)
        )  # fmt: skip
    if report is not None:
        report.kept += len(out)
    return out


def _candidates(
    constants: Iterable[Mapping[str, Any]],
    wanted: str | None,
    report: Any,
    keep: Callable[[str], bool] | None = None,
) -> list[Mapping[str, Any]]:
    out = []
    seen: set[str] = set()
    for constant in constants:
        name = str(constant.get("name", ""))
        if name in seen:
            continue
        seen.add(name)
        if report is not None:
            report.candidates += 1
        why = drop_reason(constant)
        if why is None and wanted is not None and core_split(name) != wanted:
            why = "other split"
        if why is None and keep is not None and not keep(name):
            why = "left out"
        if why is not None:
            if report is not None:
                report.dropped[why] += 1
            continue
        out.append(constant)
    return out
