"""Outcome-value rows: what each step of a real search led to, not whether Lean accepted it.

A PRM trained on first-error labels learns "does this step succeed" (`intro` always does). The
value the searches need is "does this step lead to a proof soon". From a search log
(docs/FORMATS.md, "Search logs") every tried edge gets the target

    gamma ** remaining    if a verified proof was found below the edge (`remaining`: the fewest
                          further tactic steps from the edge's target to the proof the search
                          found; 0 for the step that closed the goal)
    0                     otherwise: a step Lean rejected, a step into a dead end, a step of a
                          search that proved nothing, or one off every proof the search found

(a search that claimed a proof `verify` rejected gives no rows: its outcome is unknown). A row
is `{"prompt": the state before the step (`format_state_prompt`), "completions": [step text],
"labels": [target]}`, the one-step layout of PRM rows, so the PRM trainer and `HFPRM` read it
unchanged. The step text is
`rows.prm_step_text(state, tactic)`: made from the state and the tactic alone, so nothing of the
outcome (the edge's result, its error, the node's status or visits) reaches the model's input.
Each row also carries `full_name`, `split`, `method` and `remaining` (null off every proof) for
selection and inspection; the trainer reads only the three fields above.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from leancot.train.search_tree import BAD_RESULTS

DEFAULT_GAMMA = 0.8

Row = dict[str, Any]


def remaining_steps(log: Mapping[str, Any]) -> dict[int, int]:
    """Node id -> fewest tactic steps from that node to a closed goal, over the log's edges
    (only nodes from which the search found a proof). A step whose result is `proved` counts
    one; an accepted step into a node `d` steps from the proof counts `1 + d`."""
    edges = [e for e in log.get("edges") or () if e.get("result") not in BAD_RESULTS]
    dist: dict[int, int] = {}
    for edge in edges:
        if edge.get("result") == "proved":
            src = int(edge["src"])
            dist[src] = 1
    changed = True
    while changed:  # Bellman-Ford on unit weights: at most one round per node
        changed = False
        for edge in edges:
            dst = edge.get("dst")
            if dst is None or int(dst) not in dist:
                continue
            src, through = int(edge["src"]), 1 + dist[int(dst)]
            if through < dist.get(src, through + 1):
                dist[src] = through
                changed = True
    return dist


def edge_remaining(edge: Mapping[str, Any], dist: Mapping[int, int]) -> int | None:
    """Further steps to the proof after `edge` (0: it closed the goal), None: no proof below."""
    result = edge.get("result")
    if result in BAD_RESULTS:
        return None
    if result == "proved":
        return 0
    dst = edge.get("dst")
    return None if dst is None else dist.get(int(dst))


def outcome_target(remaining: int | None, gamma: float) -> float:
    """`gamma ** remaining`, or 0 when no proof lies below the step."""
    return 0.0 if remaining is None else float(gamma**remaining)


def value_rows_from_log(log: Mapping[str, Any], *, gamma: float = DEFAULT_GAMMA) -> list[Row]:
    """One outcome row per tried edge of one search log (none for an unverified claim)."""
    from leancot.models.prompts import format_state_prompt
    from leancot.train.rows import prm_step_text

    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")
    if log.get("proved") and not log.get("verified"):
        return []
    states = {int(n["id"]): n["state"] for n in log.get("nodes") or ()}
    dist = remaining_steps(log) if log.get("verified") else {}
    rows = []
    for edge in log.get("edges") or ():
        src = int(edge["src"])
        if src not in states:
            raise ValueError(
                f"search log of {log.get('full_name')!r}: edge from unknown node {src}"
            )
        remaining = edge_remaining(edge, dist)
        state = states[src]
        rows.append(
            {
                "prompt": format_state_prompt(state),
                "completions": [prm_step_text(state, edge["tactic"])],
                "labels": [outcome_target(remaining, gamma)],
                "remaining": remaining,
                "full_name": log.get("full_name"),
                "split": log.get("split"),
                "method": log.get("method"),
            }
        )
    return rows


def value_rows(
    logs: Iterable[Mapping[str, Any]],
    *,
    gamma: float = DEFAULT_GAMMA,
    split: str | None = "train",
    dedupe: bool = True,
) -> list[Row]:
    """Outcome rows of every search log of `split` (None: all). With `dedupe`, a (state,
    step) tried in several searches keeps one row whose target is the best outcome seen: a
    step that led to a proof once is worth trying."""
    rows: list[Row] = []
    index: dict[tuple[str, str], int] = {}
    for log in logs:
        if split is not None and log.get("split") != split:
            continue
        for row in value_rows_from_log(log, gamma=gamma):
            key = (row["prompt"], row["completions"][0])
            if not dedupe:
                rows.append(row)
            elif key not in index:
                index[key] = len(rows)
                rows.append(row)
            elif row["labels"][0] > rows[index[key]]["labels"][0]:
                rows[index[key]] = row
    return rows


def held_out(full_name: str, fraction: float) -> bool:
    """Whether a statement is held out for evaluation: its name's sha256 read as a fraction
    below `fraction` (whole statements are held out, not single rows)."""
    digest = hashlib.sha256(full_name.encode("utf-8")).hexdigest()[:16]
    return int(digest, 16) / 16**16 < fraction


__all__ = [
    "DEFAULT_GAMMA",
    "edge_remaining",
    "held_out",
    "outcome_target",
    "remaining_steps",
    "value_rows",
    "value_rows_from_log",
]
