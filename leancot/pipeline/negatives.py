"""Real Lean labels for the PRM: tactics Lean rejects at the states of training proofs.

Each corpus file is elaborated once, one theorem-to-theorem chunk per REPL command
(`lean_project/LeanCot/Repl.lean` keeps the scopes of an env handle), and at every top-level
state of a training proof a few portfolio tactics and tactics of other theorems are run: those
Lean rejects are the negatives. The result is written as search logs (docs/FORMATS.md, "Search
logs"), so `train.rows.prm_rows_from_search_logs` labels them first-error style and DPO pairs
come out too.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leancot.lean.results import CommandResult, StaleHandleError, TacticState
from leancot.lean.server import LeanServer
from leancot.pipeline.stages import Notify, quiet
from leancot.prover.graph import ProofGraph
from leancot.prover.lean_source import file_context
from leancot.prover.policies import PortfolioPolicy, tactic_key
from leancot.prover.theorems import bare_statement, goal_command
from leancot.translate.templates import render_intent

logger = logging.getLogger(__name__)

NEGATIVES_METHOD = "lean_negatives"


def _top_level(tactics: Sequence[Mapping[str, Any]]) -> list[tuple[int, Mapping[str, Any]]]:
    if not tactics:
        return []
    top = min(int(t.get("depth", 0) or 0) for t in tactics)
    return [(i, t) for i, t in enumerate(tactics) if int(t.get("depth", 0) or 0) == top]


def _chunk_bounds(text: str, lines: Sequence[int]) -> list[int]:
    """Offsets where the context of a declaration starting on each 1-based line ends."""
    out = []
    for line in lines:
        ctx = file_context(text, line)
        out.append(len(ctx) - 1 if ctx else 0)
    return out


def lean_negatives(
    server: LeanServer,
    entries: Sequence[Mapping[str, Any]],
    source_root: Path,
    *,
    train_names: set[str],
    thoughts: Mapping[tuple[str, int], str],
    per_state: int = 4,
    tries_per_state: int = 8,
    tactic_timeout: float = 10.0,
    seconds: float = 120.0,
    max_theorems: int | None = 200,
    seed: int = 0,
    notify: Notify = quiet,
) -> list[dict[str, Any]]:
    """Search logs with the gold top-level steps of training theorems plus rejected alternatives.

    `entries` are LeanDojo entries (all splits: every theorem's chunk must be elaborated so later
    ones see it); negatives are collected for at most `max_theorems` of those in `train_names`
    (a seeded sample) until `seconds` run out. `thoughts[(full_name, step)]` is the CoT thought
    of each gold step. A tactic that times out restarts Lean: the rest of that file is skipped.
    """
    rng = random.Random(seed)
    if max_theorems is not None and len(train_names) > max_theorems:
        train_names = set(rng.sample(sorted(train_names), max_theorems))
    portfolio = PortfolioPolicy()
    pool = sorted(
        {
            t["tactic"]
            for e in entries
            if e["full_name"] in train_names
            for _, t in _top_level(e.get("traced_tactics", []))
        }
    )
    by_file: dict[str, list[Mapping[str, Any]]] = {}
    for e in entries:
        by_file.setdefault(e["file_path"], []).append(e)
    deadline = time.monotonic() + seconds
    logs: list[dict[str, Any]] = []
    files = sorted(by_file)
    rng.shuffle(files)
    for file_path in files:
        if time.monotonic() >= deadline:
            break
        path = source_root / file_path
        if not path.is_file():
            logger.warning("negatives: %s not found under %s", file_path, source_root)
            continue
        text = path.read_text(encoding="utf-8")
        thms = sorted(by_file[file_path], key=lambda e: tuple(e["start"]))
        bounds = _chunk_bounds(text, [e["start"][0] for e in thms])
        env: CommandResult | None = None
        done = 0
        for k, entry in enumerate(thms):
            if time.monotonic() >= deadline:
                break
            chunk = text[(bounds[k - 1] if k else 0) : bounds[k]]
            if chunk.strip() or env is None:
                result = server.run_cmd(chunk, env)
                if not isinstance(result, CommandResult):
                    logger.warning(
                        "negatives: %s stopped at %s: %s", file_path, entry["full_name"], result
                    )
                    break
                env = result
            if entry["full_name"] not in train_names:
                continue
            try:
                log = _theorem_negatives(
                    server,
                    env,
                    entry,
                    thoughts,
                    portfolio,
                    pool,
                    rng,
                    per_state=per_state,
                    tries=tries_per_state,
                    timeout=tactic_timeout,
                )
            except StaleHandleError:
                logger.warning("negatives: Lean restarted in %s; skipping the rest", file_path)
                break
            if log is not None:
                logs.append(log)
                done += 1
        notify(f"negatives: {file_path}: {done} theorems, {len(logs)} so far")
    return logs


def _theorem_negatives(
    server: LeanServer,
    env: CommandResult,
    entry: Mapping[str, Any],
    thoughts: Mapping[tuple[str, int], str],
    portfolio: PortfolioPolicy,
    pool: Sequence[str],
    rng: random.Random,
    *,
    per_state: int,
    tries: int,
    timeout: float,
) -> dict[str, Any] | None:
    name, statement = entry["full_name"], bare_statement(entry.get("statement") or "")
    if not statement:
        return None
    t0 = time.perf_counter()
    start = server.start_proof(goal_command(statement), env, timeout)
    calls = 1
    if not isinstance(start, TacticState):
        return None
    graph = ProofGraph()
    graph.add_root(start.pp, start)
    node, state = 0, start
    gold = [t["tactic"] for _, t in _top_level(entry.get("traced_tactics", []))]
    proved = False
    for step, t in _top_level(entry.get("traced_tactics", [])):
        gold_key = tactic_key(t["tactic"])
        wrong = [c for c in portfolio.tactics_for(state.pp) if tactic_key(c) != gold_key]
        others = [c for c in rng.sample(pool, min(len(pool), tries)) if tactic_key(c) != gold_key]
        picked = rng.sample(wrong, min(len(wrong), tries // 2)) + others
        candidates = list(dict.fromkeys(picked))[:tries]
        rejected = 0
        for cand in candidates:
            if rejected >= per_state:
                break
            result = server.run_tac(state, cand, timeout)
            calls += 1
            thought = _thought(state.pp, cand)
            edge, _ = graph.add_edge(node, cand, result, thought=thought)
            rejected += edge.result.value in ("error", "timeout")
        result = server.run_tac(state, t["tactic"], timeout)
        calls += 1
        thought = thoughts.get((name, step), "")
        edge, _ = graph.add_edge(node, t["tactic"], result, thought=thought)
        if edge.result.value == "proved":
            proved = True
            break
        if edge.result.value != "ok" or not isinstance(result, TacticState):
            break
        node, state = edge.dst, result
    return {
        "full_name": name,
        "statement": statement,
        "split": "train",
        "method": NEGATIVES_METHOD,
        "proved": proved,
        "verified": proved,
        "proof": gold if proved else None,
        **graph.to_json(),
        "lean_calls": calls,
        "wall_s": round(time.perf_counter() - t0, 4),
    }


def _thought(state: str, tactic: str) -> str:
    """The thought of a tried tactic, made from the state and the tactic alone
    (`render_intent`): it claims no outcome, and reads the same whether Lean accepts it or not.
    (PRM rows re-render every step this way, train/rows.prm_step_text; this is the search
    log's own record.)"""
    return render_intent(state, tactic).thought
