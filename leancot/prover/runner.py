"""Prove a list of theorems, one search each, streaming one search-log line per theorem.

`prove_all` searches each theorem not yet in the log (`search_log`), inline or on worker
threads, each worker with its own environment (`make_env()`, e.g. a `lean_env.LeanEnv`). A
proof counts only after `verify` (e.g. `leancot.lean.verify.verify`) re-checks it from scratch;
the line records `verified`. `attempt`, `check_run` and
`search_arguments` are the steps the distributed executor (`distributed`) shares.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from leancot.prover.best_first import best_first_search
from leancot.prover.budget import DEFAULT_BUDGET, Budget, Env, SearchResult
from leancot.prover.lean_env import LeanEnv
from leancot.prover.mcts import mcts_search
from leancot.prover.policies import ProposeFn, TacticPolicy, ValueCall, ValueFn, bind_theorem
from leancot.prover.search_log import (
    Record,
    RunSummary,
    SearchLogWriter,
    pending,
    read_log,
    search_log_record,
)
from leancot.prover.theorems import bare_statement

__all__ = [  # LeanEnv, RunSummary, read_log, ... re-exported: what a caller of prove_all needs
    "SEARCHES",
    "LeanEnv",
    "Record",
    "RunSummary",
    "SearchLogWriter",
    "attempt",
    "bare_statement",
    "check_run",
    "close_env",
    "format_proof",
    "pending",
    "prove_all",
    "read_log",
    "search_arguments",
]

logger = logging.getLogger(__name__)

Search = Callable[[Mapping[str, Any], Env], "dict[str, Any]"]

SEARCHES: dict[str, Callable[..., SearchResult]] = {
    "best_first": best_first_search,
    "baseline": best_first_search,  # best-first with the PortfolioPolicy
    "heuristic": best_first_search,  # best-first with the goal-aware tactics and the portfolio
    "mcts_prm": mcts_search,
}


def format_proof(tactics: Sequence[str], indent: str = "  ") -> str:
    """`by` and the tactics one per line (continuation lines keep their relative indent)."""
    lines = ["by"]
    for tactic in tactics:
        lines += [indent + line for line in tactic.strip("\n").splitlines()]
    return "\n".join(lines)


def _verdict(v: object) -> tuple[bool, str | None]:
    ok = bool(getattr(v, "ok", v))
    reasons = getattr(v, "reasons", ())
    return ok, (None if ok else "; ".join(map(str, reasons)) or "rejected by verify")


def attempt(
    theorem: Mapping[str, Any],
    env: Env,
    method: str,
    verify: Callable[[str, str], object],
    search_kwargs: Mapping[str, Any],
) -> dict[str, Any]:
    """Search one theorem in `env`, re-check a found proof with `verify`; the search-log record."""
    header = theorem.get("header") or ""
    if hasattr(env, "use_header"):  # also without one: no header of an earlier theorem stays
        env.use_header(header)
    policy = search_kwargs.get("policy")
    bound = bind_theorem(policy, theorem)  # a retrieval-aware policy learns the theorem here
    if bound is not policy:
        search_kwargs = {**search_kwargs, "policy": bound}
    result = SEARCHES[method](env, theorem["statement"], **search_kwargs)
    verified, why = False, None
    if result.proved:
        assert result.proof is not None
        proof = format_proof(result.proof)
        try:
            verdict = (
                verify(theorem["statement"], proof, header)
                if header
                else verify(theorem["statement"], proof)
            )
            verified, why = _verdict(verdict)
        except Exception as e:  # an infrastructure fault while checking: not verified
            logger.exception("verifying %s failed", theorem["full_name"])
            why = f"{type(e).__name__}: {e}"
    return search_log_record(theorem, method, result, verified=verified, verify_error=why)


def check_run(method: str, value: object, workers: int, workers_name: str = "workers") -> None:
    """`ValueError` for an unknown `method`, fewer than one worker, or mcts_prm with no value."""
    if method not in SEARCHES:
        raise ValueError(f"method must be one of {sorted(SEARCHES)}, not {method!r}")
    if workers < 1:
        raise ValueError(f"{workers_name} must be at least 1, got {workers}")
    if method == "mcts_prm" and value is None:
        raise ValueError("method 'mcts_prm' needs a value function (value=...)")


def search_arguments(
    policy: TacticPolicy | ProposeFn,
    budget: Budget,
    value: ValueFn | ValueCall | None,
    search_kwargs: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """The keyword arguments of the search function (the value function only when given)."""
    kwargs: dict[str, Any] = {"policy": policy, "budget": budget, **(search_kwargs or {})}
    if value is not None:
        kwargs["value"] = value
    return kwargs


def prove_all(
    theorems: Iterable[Mapping[str, Any]],
    make_env: Callable[[], Env],
    *,
    method: str,
    policy: TacticPolicy | ProposeFn,
    verify: Callable[[str, str], object],
    out_path: str | Path,
    value: ValueFn | ValueCall | None = None,
    budget: Budget = DEFAULT_BUDGET,
    workers: int = 1,
    search_kwargs: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> RunSummary:
    """Search each theorem (`full_name`, `statement`, optional `split`) not yet in `out_path`.

    `make_env()` is called once per worker (thread) and closed afterwards if it has `close`.
    `verify(statement, proof_text)` returns a bool or a verdict with `ok` (and `reasons`); it
    must be thread-safe when `workers` > 1. `search_kwargs` go to the search function
    (`priority`, `num_candidates`, `c_puct`, ...).
    """
    check_run(method, value, workers)
    t0 = time.perf_counter()
    total, todo = pending(theorems, out_path, method)
    search = partial(
        attempt,
        method=method,
        verify=verify,
        search_kwargs=search_arguments(policy, budget, value, search_kwargs),
    )
    log = SearchLogWriter(out_path, todo=len(todo), desc=f"prove[{method}]", progress=progress)
    with log:
        if workers == 1:
            _run_inline(todo, make_env, search, log.record)
        else:
            _run_threads(todo, make_env, search, log.record, workers)
    return log.summary(total, total - len(todo), t0)


def close_env(env: object) -> None:
    """Call `env.close()` if the environment has one."""
    close = getattr(env, "close", None)
    if callable(close):
        close()


def _outcome(
    search: Search, thm: Mapping[str, Any], env: Env
) -> tuple[dict[str, Any] | None, Exception | None]:
    """(record, None) of one search, or (None, the exception) when it raised."""
    try:
        return search(thm, env), None
    except Exception as e:
        return None, e


def _run_inline(
    todo: list[Mapping[str, Any]], make_env: Callable[[], Env], search: Search, record: Record
) -> None:
    if not todo:
        return
    env = make_env()
    try:
        for thm in todo:
            record(thm, *_outcome(search, thm, env))
    finally:
        close_env(env)


def _run_threads(
    todo: list[Mapping[str, Any]],
    make_env: Callable[[], Env],
    search: Search,
    record: Record,
    workers: int,
) -> None:
    work: queue.Queue[Mapping[str, Any]] = queue.Queue()
    for thm in todo:
        work.put(thm)
    results: queue.Queue[tuple[Any, Any, Any]] = queue.Queue()
    stop = threading.Event()
    done_marker = object()

    def worker() -> None:
        try:
            env = make_env()
        except BaseException as e:  # no environment: this worker does nothing
            results.put((done_marker, None, e))
            return
        try:
            while not stop.is_set():
                try:
                    thm = work.get_nowait()
                except queue.Empty:
                    break
                results.put((thm, *_outcome(search, thm, env)))
        finally:
            close_env(env)
            results.put((done_marker, None, None))

    threads = [
        threading.Thread(target=worker, name=f"prover-{i}", daemon=True)
        for i in range(min(workers, len(todo)))
    ]
    for t in threads:
        t.start()
    running, startup_error = len(threads), None
    try:
        while running:
            thm, rec, exc = results.get()
            if thm is done_marker:
                running -= 1
                startup_error = startup_error or exc
                continue
            record(thm, rec, exc)
    finally:
        stop.set()
    for t in threads:
        t.join()
    if startup_error is not None and not work.empty():
        raise RuntimeError("no worker could make an environment") from startup_error
