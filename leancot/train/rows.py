"""Training rows from CoT step records, Lean-STaR rows and prover search logs.

Inputs and rows are laid out in docs/FORMATS.md (#cot-corpora, #search-logs, #training-rows).

Pure functions over plain dicts, no torch. Three row kinds come out:

* SFT `{"prompt", "completion"}`: prompt = `format_state_prompt(state, premises)`, completion =
  `format_step(thought, tactic)`; `premises` are the record's or search node's
  `retrieved_premises` (what the prover's retriever gives at that state,
  `pipeline.premise_rows`), none when it has none. From a search log (expert iteration) the
  rows follow the verified proof path, and a step's thought is the one the policy wrote from
  the state before the step, or for a step with none (the portfolio's, the goal-aware
  tactics') one rendered from `state_before` and the tactic (`render_intent`): never text
  that depends on Lean's answer.
* PRM, TRL's stepwise layout `{"prompt", "completions", "labels"}`: the prompt is the initial
  state (never with premises: the PRM scorer's prompt has none), the completions are the
  steps of one attempt. First-error labelling: a step is bad when Lean rejects it
  (`error`/`timeout`) or it leads to a FAILED node (a dead end); the first bad step ends the
  row. Steps before it were accepted by Lean and are labelled good. With
  `soft=True` a label is the Monte-Carlo value of the step instead (`SearchTree.soft_value`:
  from the visit counts, the visit-weighted share of the step's subtree that is not a dead
  end), 1.0 on the proof path and 0.0 for a bad step.
  A PRM step's text is `prm_step_text(state_before, tactic)`: a thought rendered from the state
  before the step and the tactic alone (`translate.templates.render_intent`), never the record's
  own thought, which for gold steps was rendered from Lean's reply ("... closes it. This
  completes the proof.") and for rejected ones was not: the outcome must not be in the text.
  `prm_candidates` flattens rows into one labelled step each, for evaluation.
* DPO `{"prompt", "chosen", "rejected"}`: at each state on a proof path, the proof's edge against
  a sibling edge from the same state that Lean rejected or that led to a FAILED node (prompt and
  thoughts as for SFT rows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from leancot.formats import RETRIEVED_PREMISES
from leancot.models.prompts import (
    STEP_SEPARATOR,
    format_state_prompt,
    format_step,
    normalize_tactic,
    parse_step,
)
from leancot.train.search_tree import SearchTree
from leancot.translate.templates import render_intent

__all__ = [
    "STEP_SEPARATOR",
    "SearchTree",
    "dedupe",
    "dpo_pairs_from_search_logs",
    "first_error_index",
    "format_state_prompt",
    "format_step",
    "parse_step",
    "prm_candidates",
    "prm_rows_from_search_logs",
    "prm_rows_from_steps",
    "prm_step_text",
    "record_kind",
    "sft_rows",
    "sft_rows_from_search_logs",
]

Row = dict[str, Any]


def record_kind(obj: Mapping[str, Any]) -> str:
    """Classify one JSON object: "step", "leanstar", "search_log", "cot_doc" or "unknown"."""
    if "nodes" in obj and "edges" in obj:
        return "search_log"
    if "state_before" in obj and "tactic" in obj:
        return "step"
    if "state" in obj and "tactic" in obj:
        return "leanstar"
    if "steps" in obj and "proof" in obj:
        return "cot_doc"
    return "unknown"


def _in_split(obj: Mapping[str, Any], split: str | None) -> bool:
    return split is None or obj.get("split") == split


def _state_of(rec: Mapping[str, Any]) -> str:
    return rec["state_before"] if "state_before" in rec else rec["state"]


def _record_prompt(rec: Mapping[str, Any]) -> str:
    """The policy's prompt of a step record: its state with its retrieved premises, if any."""
    return format_state_prompt(_state_of(rec), rec.get(RETRIEVED_PREMISES) or ())


def _node_prompt(tree: SearchTree, node: int) -> str:
    """The policy's prompt at a search node: its state with its retrieved premises, if any."""
    return format_state_prompt(tree.state(node), tree.premises(node))


def _step_text(step: Mapping[str, Any]) -> str:
    """The completion text of a step record or search-log edge: its thought and tactic."""
    return format_step(step.get("thought") or "", step["tactic"])


def _search_step_text(tree: SearchTree, edge: Mapping[str, Any]) -> str:
    """A search edge's completion: the policy's thought (written from the state before the
    step), or for an edge with none one rendered from that state and the tactic."""
    thought = (
        edge.get("thought") or render_intent(tree.state(int(edge["src"])), edge["tactic"]).thought
    )
    return format_step(thought, edge["tactic"])


def prm_step_text(state_before: str, tactic: str) -> str:
    """The text a PRM reads for one step: a thought made from `state_before` and `tactic` alone,
    then the tactic. Whether Lean accepted the tactic cannot change it."""
    return format_step(render_intent(state_before, tactic).thought, tactic)


def dedupe(rows: Iterable[Row], keys: Sequence[str]) -> list[Row]:
    seen: set[tuple] = set()
    out = []
    for row in rows:
        key = tuple(tuple(v) if isinstance(v, list) else v for v in (row[k] for k in keys))
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


# --- SFT -----------------------------------------------------------------------------------------


def sft_rows(records: Iterable[Mapping[str, Any]], *, split: str | None = "train") -> list[Row]:
    """SFT rows from step records and Lean-STaR rows (others are skipped); unverified steps and
    duplicates are dropped."""
    rows = []
    for rec in records:
        if record_kind(rec) not in ("step", "leanstar") or not _in_split(rec, split):
            continue
        if rec.get("verified", True) is False:
            continue
        rows.append(
            {
                "prompt": _record_prompt(rec),
                "completion": _step_text(rec),
            }
        )
    return dedupe(rows, ("prompt", "completion"))


def sft_rows_from_search_logs(
    logs: Iterable[Mapping[str, Any]], *, split: str | None = "train"
) -> list[Row]:
    """SFT rows from the proof paths of proved search attempts (expert iteration)."""
    rows = []
    for tree in _trees(logs, split):
        for edge in tree.proof_path():
            rows.append(
                {
                    "prompt": _node_prompt(tree, int(edge["src"])),
                    "completion": _search_step_text(tree, edge),
                }
            )
    return dedupe(rows, ("prompt", "completion"))


# --- PRM from step records -----------------------------------------------------------------------


def prm_rows_from_steps(
    records: Iterable[Mapping[str, Any]], *, split: str | None = "train"
) -> list[Row]:
    """One PRM row per theorem from its CoT step records, top-level steps in order.

    Extracted steps are verified, so these rows are all-good unless a record says
    `"verified": false`, which becomes the first error. Nested steps (depth above the theorem's
    smallest depth) are skipped: their text is already part of the enclosing tactic.
    """
    by_theorem: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for rec in records:
        if record_kind(rec) == "step" and _in_split(rec, split):
            by_theorem[rec["full_name"]].append(rec)
    rows = []
    for name in sorted(by_theorem):
        steps = by_theorem[name]
        top = min(int(s.get("depth", 0) or 0) for s in steps)
        by_step = {}  # the same record may come from several files (e.g. two split layouts)
        for s in steps:
            if int(s.get("depth", 0) or 0) == top:
                by_step.setdefault(s["step"], s)
        steps = [by_step[i] for i in sorted(by_step)]
        completions, labels = [], []
        for s in steps:
            completions.append(prm_step_text(s["state_before"], s["tactic"]))
            good = s.get("verified", True) is not False
            labels.append(good)
            if not good:
                break
        rows.append(
            {
                "prompt": format_state_prompt(steps[0]["state_before"]),
                "completions": completions,
                "labels": labels,
            }
        )
    return rows


# --- search logs ---------------------------------------------------------------------------------


def _trees(logs: Iterable[Mapping[str, Any]], split: str | None) -> Iterator[SearchTree]:
    """A `SearchTree` per search log of `split` (every log when `split` is None)."""
    for log in logs:
        if _in_split(log, split):
            yield SearchTree(log)


def prm_rows_from_search_logs(
    logs: Iterable[Mapping[str, Any]],
    *,
    split: str | None = "train",
    soft: bool = False,
    include_open_leaves: bool = False,
    include_accepted: bool = False,
) -> list[Row]:
    """PRM rows from search logs with first-error labels.

    Per attempt: the proof path (all good), and for every bad edge whose tree path from the root
    is all good, that path plus the bad edge (labelled bad, the row ends there). With
    `include_open_leaves`, also the paths to unexpanded OPEN leaves (all good; with `soft` their
    Monte-Carlo values are what makes them informative). With `include_accepted`, every edge
    Lean accepted whose path is good, as that path plus the edge: a tactic that proved or
    reached a new state off the proof path is a good step too, so the tactics tried at a state
    (the portfolio's, another proof's) appear on both sides and not only as negatives.
    """
    rows = []
    for tree in _trees(logs, split):
        prompt = format_state_prompt(tree.state(tree.root))

        def label(edge, tree=tree):
            return tree.soft_value(edge) if soft else not tree.is_bad(edge)

        def row(path, prompt=prompt, label=label, tree=tree):
            return {
                "prompt": prompt,
                "completions": [
                    prm_step_text(tree.state(int(e["src"])), e["tactic"]) for e in path
                ],
                "labels": [label(e) for e in path],
            }

        proof = tree.proof_path()
        if proof:
            good = row(proof)
            good["labels"] = [1.0 if soft else True] * len(proof)
            rows.append(good)
        for edge in tree.log["edges"]:
            bad = tree.is_bad(edge)
            leaf = (
                include_open_leaves
                and not bad
                and tree.status(edge.get("dst")) == "OPEN"
                and not tree.children.get(edge.get("dst"))
            )
            if not (bad or leaf or (include_accepted and not bad)):
                continue
            path = tree.path_to(int(edge["src"]))
            if path is None or any(tree.is_bad(e) for e in path):
                continue
            rows.append(row([*path, edge]))
    return dedupe(rows, ("prompt", "completions"))


def prm_candidates(rows: Iterable[Mapping[str, Any]]) -> list[Row]:
    """One labelled step per row step: `{"prompt", "completions", "label"}` where `completions`
    is the path to the step with the step last and `label` the step's (good from 0.5 on).
    A step shared by several rows (a common prefix) comes out once."""
    out, seen = [], set()
    for row in rows:
        for i, value in enumerate(row["labels"]):
            steps = list(row["completions"][: i + 1])
            key = (row["prompt"], tuple(steps))
            if key in seen:
                continue
            seen.add(key)
            out.append(
                {"prompt": row["prompt"], "completions": steps, "label": float(value) >= 0.5}
            )
    return out


def dpo_pairs_from_search_logs(
    logs: Iterable[Mapping[str, Any]],
    *,
    split: str | None = "train",
    max_rejected_per_state: int | None = None,
) -> list[Row]:
    """DPO pairs: at each state on a proof path, the proof's step vs. each bad sibling step."""
    rows = []
    for tree in _trees(logs, split):
        for chosen in tree.proof_path():
            src = int(chosen["src"])
            siblings = [
                e
                for e in tree.children[src]
                if tree.is_bad(e)
                and normalize_tactic(e["tactic"]) != normalize_tactic(chosen["tactic"])
            ]
            if max_rejected_per_state is not None:
                siblings = siblings[:max_rejected_per_state]
            for rejected in siblings:
                rows.append(
                    {
                        "prompt": _node_prompt(tree, src),
                        "chosen": _search_step_text(tree, chosen),
                        "rejected": _search_step_text(tree, rejected),
                    }
                )
    return dedupe(rows, ("prompt", "chosen", "rejected"))


def first_error_index(labels: Sequence[bool | float], threshold: float = 0.5) -> int | None:
    """Index of the first bad step (label below `threshold`), None if every step is good."""
    for i, value in enumerate(labels):
        if float(value) < threshold:
            return i
    return None
