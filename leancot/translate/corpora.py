"""The three chain-of-thought corpora, built from traced theorems (docs/FORMATS.md#cot-corpora).

- step records: one per traced tactic, with its rendered thought (`step_records`);
- Lean-STaR rows: state, thought, tactic (`star_rows`, from step records);
- whole-proof documents: statement, numbered reasoning steps, final Lean proof (`proof_docs`).

Builders take iterables and yield dicts, so corpora stream; `leancot.files.write_jsonl` writes
them atomically.
Splits come from `leancot.extract.dataset.split_of` (the deterministic hash rule), re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from leancot.extract.dataset import split_of
from leancot.files import sha256_hex
from leancot.formats import NO_GOALS
from leancot.translate.templates import _flat, environment, render_step

PROOF_DOC_TEMPLATE = "proof_doc.j2"


def step_id(full_name: str, step: int) -> str:
    """Stable id of a step: sha256("full_name:step") prefix."""
    return sha256_hex(f"{full_name}:{step}", 16)


def step_record(
    full_name: str,
    step: int,
    state_before: str,
    tactic: str,
    state_after: str,
    *,
    depth: int = 0,
    split: str | None = None,
    source: str = "extract",
) -> dict[str, Any]:
    """One step record with its thought rendered from the templates."""
    rendered = render_step(state_before, tactic, state_after, depth=depth)
    return {
        "id": step_id(full_name, step),
        "full_name": full_name,
        "split": split or split_of(full_name),
        "step": step,
        "depth": depth,
        "state_before": state_before,
        "tactic": tactic,
        "state_after": state_after,
        "thought": rendered.thought,
        "template": rendered.template,
        "verified": True,
        "source": source,
    }


def step_records(
    theorems: Iterable[dict[str, Any]],
    *,
    max_depth: int | None = None,
    split_fn: Callable[[str], str] = split_of,
) -> Iterator[dict[str, Any]]:
    """Step records for every traced tactic (optionally only those nested at most `max_depth`).

    `step` is the tactic's index in `traced_tactics`, so ids stay stable under filtering. A
    theorem's own "split" key wins over `split_fn`.
    """
    for thm in theorems:
        name = thm["full_name"]
        split = thm.get("split") or split_fn(name)
        for i, t in enumerate(thm.get("traced_tactics", [])):
            depth = int(t.get("depth", 0))
            if max_depth is not None and depth > max_depth:
                continue
            yield step_record(
                name,
                i,
                t.get("state_before", ""),
                t["tactic"],
                t.get("state_after", NO_GOALS),
                depth=depth,
                split=split,
            )


def star_rows(records: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Lean-STaR rows (state, thought, tactic) from step records."""
    for r in records:
        yield {
            "full_name": r["full_name"],
            "split": r["split"],
            "state": r["state_before"],
            "thought": r["thought"],
            "tactic": r["tactic"],
        }


def search_records(logs: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Step records (source "search") along the proof of every proved search log."""
    for log in logs:
        if not log.get("proved") or not log.get("proof"):
            continue
        states = {n["id"]: n["state"] for n in log.get("nodes", [])}
        node = log.get("root", 0)
        for i, tactic in enumerate(log["proof"]):
            edge = next(
                (
                    e
                    for e in log.get("edges", [])
                    if e["src"] == node
                    and e["tactic"] == tactic
                    and e.get("result") in ("ok", "proved")
                ),
                None,
            )
            if edge is None:
                break
            dst = edge.get("dst")
            after = states.get(dst, NO_GOALS) if dst is not None else NO_GOALS
            yield step_record(
                log["full_name"],
                i,
                states.get(node, ""),
                tactic,
                after,
                split=log.get("split"),
                source="search",
            )
            if dst is None:
                break
            node = dst


def proof_docs(
    theorems: Iterable[dict[str, Any]],
    *,
    max_depth: int | None = None,
    split_fn: Callable[[str], str] = split_of,
) -> Iterator[dict[str, Any]]:
    """Whole-proof CoT documents: statement, one reasoning step per tactic, final proof."""
    for thm in theorems:
        name = thm["full_name"]
        records = list(step_records([thm], max_depth=max_depth, split_fn=split_fn))
        if not records:
            continue
        statement = thm.get("statement") or ""
        proof = thm.get("proof") or _proof_from_tactics(thm.get("traced_tactics", []))
        steps = [
            {"thought": r["thought"], "tactic": _flat(r["tactic"]), "depth": r["depth"]}
            for r in records
        ]
        text = render_document(
            PROOF_DOC_TEMPLATE,
            statement=statement,
            initial_state=records[0]["state_before"],
            steps=steps,
            lean=_lean_proof(statement, proof),
        )
        yield {
            "full_name": name,
            "split": records[0]["split"],
            "statement": statement,
            "steps": [s["thought"] for s in steps],
            "proof": proof,
            "text": text,
        }


def render_document(template: str, **context: Any) -> str:
    """Render a multi-line document template (layout kept; trailing spaces dropped)."""
    text = environment().get_template(template).render(**context)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n")) + "\n"


def _proof_from_tactics(tactics: list[dict[str, Any]]) -> str:
    """`by` and the top-level tactics, when the theorem does not carry its proof text."""
    top = [t["tactic"] for t in tactics if int(t.get("depth", 0)) == 0]
    body = "\n".join("  " + line for tac in top for line in tac.split("\n"))
    return "by\n" + body


def _lean_proof(statement: str, proof: str) -> str:
    if not statement:
        return proof
    if proof.lstrip().startswith(":="):
        return f"{statement} {proof.lstrip()}"
    return f"{statement} := {proof}"
