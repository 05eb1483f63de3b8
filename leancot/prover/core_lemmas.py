"""Lemmas of Lean's own core library (`Init`/`Std`) restated under new names, as a benchmark,
and the check that a proof of one does not simply cite the lemma it restates.

`core_library_theorems` reads each lemma's type with `#check @NAME` through a `LeanServer` (the
REPL in `lean_project/LeanCot/Repl.lean`), so it runs on the embedded WASM Lean too; the lemma
`Nat.add_comm` becomes `theorem leancot_core_Nat_add_comm : <its type>` with `source`
"core:Nat.add_comm". `forbid_source_lemmas` wraps a runner's `verify` so such a proof is
rejected when it names the lemma or (where `#print axioms` lists it) depends on it.
"""

from __future__ import annotations

import logging
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from leancot.lean.screen import mask
from leancot.lean.verify import Verdict
from leancot.prover.theorems import Theorem

logger = logging.getLogger(__name__)

CORE_PREFIX = "leancot_core_"  # core lemma Nat.add_comm is restated as leancot_core_Nat_add_comm
CORE_SOURCE = "core:"  # Theorem.source of a restated core lemma: "core:Nat.add_comm"

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
