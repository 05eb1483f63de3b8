"""Prove a list of theorems, one search each, streaming one search-log line per theorem.

The log (docs/FORMATS.md#search-logs) is appended one JSON line at a time, flushed and fsynced
(`leancot.files.append_jsonl`), so a killed run loses only the theorems in flight; a rerun skips
every (full_name, method) already in the file and drops a truncated last line first. A proof
counts only after `verify` re-checks it from scratch (the lead wires `leancot.lean.verify.verify`);
the line records `verified`.

`LeanEnv` puts the search's `Env` protocol on a `LeanServer` (which runs
`lean_project/LeanCot/Repl.lean`), replaying a state's tactic path when a restart of the Lean
process made its handle stale.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from tqdm.auto import tqdm

from leancot.files import append_jsonl, drop_partial_tail, open_jsonl_log
from leancot.files import read_jsonl_log as read_log
from leancot.lean.results import (
    CommandResult,
    LeanError,
    StaleHandleError,
    TacticResult,
    TacticState,
)
from leancot.lean.server import LeanServer
from leancot.prover.best_first import best_first_search
from leancot.prover.budget import DEFAULT_BUDGET, Budget, Env, SearchResult
from leancot.prover.mcts import mcts_search
from leancot.prover.policies import ProposeFn, TacticPolicy, ValueCall, ValueFn
from leancot.prover.theorems import bare_statement

logger = logging.getLogger(__name__)

Record = Callable[[Mapping[str, Any], "dict[str, Any] | None", "Exception | None"], None]
Search = Callable[[Mapping[str, Any], Env], "dict[str, Any]"]

SEARCHES: dict[str, Callable[..., SearchResult]] = {
    "best_first": best_first_search,
    "baseline": best_first_search,  # best-first with the PortfolioPolicy
    "mcts_prm": mcts_search,
}


class LeanEnv:
    """The `Env` protocol on a `LeanServer`, in the environment of `header` (imports, opens).

    Handles die with the Lean process (a timeout or crash restarts it); a step on a stale state
    replays the tactics that first reached it from a fresh start. `replays` counts those.
    """

    def __init__(self, server: LeanServer, header: str = "") -> None:
        self.server = server
        self.header = header
        self.replays = 0
        self._statement: str | None = None
        self._paths: dict[str, tuple[str, ...]] = {}
        self._fresh: dict[str, TacticState] = {}

    def use_header(self, header: str) -> None:
        """Prove the next theorems in the environment of `header` (cached per header by the
        server); a theorem from a file carries the file's text before it as its header."""
        self.header = header

    def _start(self, statement: str, timeout: float | None) -> TacticResult:
        env = None
        if self.header.strip():
            hdr = self.server.header_env(self.header, timeout)
            if not isinstance(hdr, CommandResult):
                return hdr
            if not hdr.ok:
                return LeanError("the header does not elaborate", hdr.messages)
            env = hdr
        return self.server.start_proof(statement, env, timeout)

    def start(self, statement: str, timeout: float | None = None) -> TacticResult:
        self.server.maybe_recycle()  # a safe point: no handle of the last theorem is needed
        self._statement = statement = bare_statement(statement)
        self._paths.clear()
        self._fresh.clear()
        result = self._start(statement, timeout)
        if isinstance(result, TacticState):
            self._paths[result.pp] = ()
            self._fresh[result.pp] = result
        return result

    def step(self, state: TacticState, tactic: str, timeout: float | None = None) -> TacticResult:
        for attempt in range(2):
            handle = self._current(state, timeout)
            if not isinstance(handle, TacticState):
                return handle
            try:
                result = self.server.run_tac(handle, tactic, timeout)
            except StaleHandleError:
                if attempt:
                    raise
                continue
            if isinstance(result, TacticState):
                path = self._paths.get(state.pp, ()) + (tactic,)
                self._paths.setdefault(result.pp, path)
                self._fresh[result.pp] = result
            return result
        raise AssertionError("unreachable")

    def _current(self, state: TacticState, timeout: float | None) -> TacticResult:
        """A handle for `state` valid in the current Lean process (replaying if needed)."""
        generation = self.server.generation
        if state.generation == generation:
            return state
        cached = self._fresh.get(state.pp)
        if cached is not None and cached.generation == generation:
            return cached
        path = self._paths.get(state.pp)
        if path is None or self._statement is None:
            return LeanError(f"stale state with no known path to replay:\n{state.pp}")
        self.replays += 1
        current = self._start(self._statement, timeout)
        tactics = iter(path)
        while isinstance(current, TacticState):
            self._fresh[current.pp] = current  # every state on the way is fresh now
            tac = next(tactics, None)
            if tac is None:
                break
            current = self.server.run_tac(current, tac, timeout)
        if not isinstance(current, TacticState) or current.pp != state.pp:
            return LeanError(
                f"replaying {len(path)} tactics after a restart did not reach the state"
            )
        self._fresh[state.pp] = current
        return current


def format_proof(tactics: Sequence[str], indent: str = "  ") -> str:
    """`by` and the tactics one per line (continuation lines keep their relative indent)."""
    lines = ["by"]
    for tactic in tactics:
        lines += [indent + line for line in tactic.strip("\n").splitlines()]
    return "\n".join(lines)


def search_log_record(
    theorem: Mapping[str, Any],
    method: str,
    result: SearchResult,
    *,
    verified: bool,
    verify_error: str | None = None,
) -> dict[str, Any]:
    """One line of the search log (docs/FORMATS.md#search-logs), leancot extras included."""
    return {
        "full_name": theorem["full_name"],
        "statement": theorem["statement"],
        "split": theorem.get("split"),
        "method": method,
        "proved": result.proved,
        "verified": verified,
        "proof": result.proof,
        **result.graph.to_json(),
        "lean_calls": result.lean_calls,
        "expansions": result.expansions,
        "wall_s": round(result.wall_s, 4),
        "time_lean_s": round(result.time_lean_s, 4),
        "time_model_s": round(result.time_model_s, 4),
        "stop_reason": str(result.stop_reason),
        "error": result.error,
        "verify_error": verify_error,
    }


@dataclass(frozen=True)
class RunSummary:
    """Counts of one `prove_all` call. `proved` counts verified proofs only."""

    total: int
    skipped: int  # already in the log
    attempted: int
    proved: int
    unverified: int  # the search claimed a proof that `verify` rejected
    errors: int  # searches that raised (not written: a rerun retries them)
    wall_s: float
    out_path: str


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
    if header and hasattr(env, "use_header"):
        env.use_header(header)
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


def pending(
    theorems: Iterable[Mapping[str, Any]], out_path: str | Path, method: str
) -> tuple[int, list[Mapping[str, Any]]]:
    """(number of theorems, those still to search): each theorem not yet in the log `out_path`
    for `method`, once per `full_name`. Readies the log for appending first (its folder made, a
    truncated last line cut); `ValueError` for a theorem without `full_name` or `statement`."""
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    drop_partial_tail(out)
    done = {(r.get("full_name"), r.get("method")) for r in read_log(out)}
    theorems = list(theorems)
    todo, seen = [], set()
    for thm in theorems:
        if "full_name" not in thm or "statement" not in thm:
            raise ValueError("each theorem needs 'full_name' and 'statement' keys")
        if (thm["full_name"], method) not in done and thm["full_name"] not in seen:
            seen.add(thm["full_name"])
            todo.append(thm)
    return len(theorems), todo


class SearchLogWriter:
    """Appends finished searches to the search log `out_path` and counts them for `summary`.

    Inside `with writer:` (the log open for appending, a progress bar of `todo` theorems),
    `record(theorem, record_or_None, exception_or_None)` is the callback the executors call once
    per theorem: a record is written as one line, flushed and fsynced; a failed search is only
    counted and logged (a rerun retries it).
    """

    def __init__(
        self, out_path: str | Path, *, todo: int, desc: str, progress: bool = True
    ) -> None:
        self.out = Path(out_path)
        self.counts = {"attempted": 0, "proved": 0, "unverified": 0, "errors": 0}
        self._todo, self._desc, self._progress = todo, desc, progress
        self._file: IO[str] | None = None
        self._bar: Any = None

    def __enter__(self) -> SearchLogWriter:
        self._bar = tqdm(total=self._todo, desc=self._desc, unit="thm", disable=not self._progress)
        self._file = open_jsonl_log(self.out)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._file is not None
        try:
            self._bar.close()
        finally:
            self._file.close()

    def record(
        self, thm: Mapping[str, Any], rec: dict[str, Any] | None, exc: Exception | None
    ) -> None:
        assert self._file is not None, "record() outside `with writer:`"
        counts = self.counts
        counts["attempted"] += 1
        if rec is None:
            counts["errors"] += 1
            logger.error("searching %s failed: %r", thm["full_name"], exc)
        else:
            append_jsonl(self._file, rec)
            if rec["verified"]:
                counts["proved"] += 1
            elif rec["proved"]:
                counts["unverified"] += 1
        self._bar.update(1)
        self._bar.set_postfix(
            proved=counts["proved"], unverified=counts["unverified"], errors=counts["errors"]
        )

    def summary(self, total: int, skipped: int, started: float) -> RunSummary:
        """The run's counts; `started` is its `time.perf_counter()` at the start."""
        return RunSummary(
            total=total,
            skipped=skipped,
            wall_s=time.perf_counter() - started,
            out_path=str(self.out),
            **self.counts,
        )


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
