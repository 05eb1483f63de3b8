"""Search-side pieces of `leancot run`, `prove` and `iterate`.

- `lean_negatives`: real Lean labels for the PRM. Each corpus file is elaborated once, one
  theorem-to-theorem chunk per REPL command (`lean_project/LeanCot/Repl.lean` keeps the scopes
  of an env handle), and at every top-level state of a training proof a few portfolio tactics
  and tactics of other theorems are run: those Lean rejects are the negatives. The result is
  written as search logs (docs/FORMATS.md#search-logs), so `rows.prm_rows_from_search_logs`
  labels them first-error style and DPO pairs come out too.
- `SampledPolicy`, `mixture`: a model's samples as a proposal distribution over distinct
  tactics, mixed with the tactic portfolio.
- `ProbingEnv`, `prove_theorems`: `runner.prove_all` over theorems that each carry their own
  header (file context), every claimed proof re-checked by `leancot.lean.verify`.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from leancot.lean.results import CommandResult, LeanError, StaleHandleError, TacticState
from leancot.lean.server import LeanServer
from leancot.prover.benchmarks import Theorem, file_context
from leancot.prover.budget import Budget
from leancot.prover.graph import ProofGraph
from leancot.prover.policies import Candidate, MixedPolicy, PortfolioPolicy, tactic_key
from leancot.prover.runner import LeanEnv, RunSummary, prove_all
from leancot.prover.unfolding import UnfoldingPolicy

logger = logging.getLogger(__name__)
Notify = Callable[[str], None]

NEGATIVES_METHOD = "lean_negatives"
HEARTBEATS_SYMPTOM = "maximum number of heartbeats"
PROBE_STATEMENT = "theorem leancot_probe (b : Bool) : (b && true) = b"


def refresh_if_exhausted(server: LeanServer) -> bool:
    """Restart the Lean process if a trivial tactic hits the heartbeat limit; True if it did.

    Workaround: the REPL's tactic mode runs with `Core.Context.initHeartbeats = 0` while the
    process' heartbeat counter only grows, so after enough elaboration (a few corpus files with
    `allTactics`) every tactic fails with "maximum number of heartbeats". Checked at safe points
    (before a theorem), where no handle is needed afterwards.
    """
    state = server.start_proof(PROBE_STATEMENT)
    if not isinstance(state, TacticState):
        return False
    result = server.run_tac(state, "simp")
    if not (isinstance(result, LeanError) and HEARTBEATS_SYMPTOM in result.error):
        return False
    logger.warning("the Lean REPL ran out of heartbeats for tactics; restarting it")
    limit = server.max_requests
    server.max_requests = 1  # maybe_recycle restarts a process that served >= max_requests
    try:
        server.maybe_recycle()
    finally:
        server.max_requests = limit
    return True


# --- negatives: Lean-rejected tactics at training states ---------------------------------------


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
    notify: Notify = lambda _m: None,
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
        refresh_if_exhausted(server)
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
                if refresh_if_exhausted(server):
                    break  # the restart dropped this file's environments
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
    from leancot.prover.runner import bare_statement

    name, statement = entry["full_name"], bare_statement(entry.get("statement") or "")
    if not statement:
        return None
    t0 = time.perf_counter()
    start = server.start_proof(statement, env, timeout)
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
    if any(HEARTBEATS_SYMPTOM in (e.error or "") for e in graph.edges):
        return None  # possibly the REPL's heartbeat exhaustion, not the tactics: no labels
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
    """A templated thought for a tactic whose effect is unknown (rendered as if it changed
    nothing, so the thought claims no outcome)."""
    from leancot.translate.templates import render_step

    try:
        return render_step(state, tactic, state).thought
    except Exception:  # a template that cannot read this tactic: no thought
        return ""


# --- policies ------------------------------------------------------------------------------------


class SampledPolicy:
    """A scoring-API policy (`propose(states, n, max_tokens=..., temperature=...)`) as a search
    policy whose log-probabilities form a distribution over each state's distinct tactics.

    The searches add log-probabilities along a path and compare them with the portfolio's, so the
    raw sequence log-probabilities (tens of nats for a long thought) are renormalised per state:
    `log softmax(logprob / length_norm)`, plus `log(weight)` for a mixture.
    """

    def __init__(
        self,
        model: Any,
        *,
        max_tokens: int = 128,
        temperature: float = 0.7,
        weight: float = 1.0,
        length_norm: float = 1.0,
    ) -> None:
        if not 0 < weight <= 1:
            raise ValueError(f"weight must be in (0, 1], got {weight}")
        self.model = model
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.log_weight = math.log(weight)
        self.length_norm = length_norm
        self._lock = threading.Lock()  # one generate at a time (torch on a shared device)

    def propose(self, states: list[str], n: int) -> list[list[Candidate]]:
        with self._lock:
            out = self.model.propose(
                states, n, max_tokens=self.max_tokens, temperature=self.temperature
            )
        return [normalized(cands, self.log_weight, self.length_norm) for cands in out]


class WeightedPolicy:
    """Any search policy with its log-probabilities renormalised and shifted by `log(weight)`."""

    def __init__(self, policy: Any, weight: float) -> None:
        self.policy = policy
        self.log_weight = math.log(weight)

    def propose(self, states: list[str], n: int) -> list[list[Candidate]]:
        return [normalized(c, self.log_weight) for c in self.policy.propose(states, n)]


def normalized(
    cands: Iterable[Sequence[Any]], log_weight: float = 0.0, scale: float = 1.0
) -> list[Candidate]:
    """Candidates with `log softmax(logprob / scale) + log_weight` (order kept)."""
    items = [Candidate(str(t), str(c), float(lp)) for t, c, lp in cands]
    if not items:
        return []
    top = max(c.logprob / scale for c in items)
    log_z = top + math.log(sum(math.exp(c.logprob / scale - top) for c in items))
    return [c._replace(logprob=c.logprob / scale - log_z + log_weight) for c in items]


def mixture(
    model: Any,
    *,
    model_weight: float = 0.5,
    portfolio_n: int = 16,
    goal_tactics: bool = True,
    **sampling: Any,
) -> MixedPolicy:
    """The model's samples (weight `model_weight`), then with `goal_tactics` the tactics that
    unfold the goal's definitions (`UnfoldingPolicy`), then the portfolio's; the two fixed sources
    share the remaining weight equally."""
    sampled = SampledPolicy(model, weight=model_weight, **sampling)
    rest = 1.0 - model_weight
    if not goal_tactics:
        return MixedPolicy(
            sampled, WeightedPolicy(PortfolioPolicy(), rest), portfolio_n=portfolio_n
        )
    fixed = MixedPolicy(
        WeightedPolicy(UnfoldingPolicy(), rest / 2),
        WeightedPolicy(PortfolioPolicy(), rest / 2),
        portfolio_n=portfolio_n,
    )
    return MixedPolicy(sampled, fixed, portfolio_n=portfolio_n)


# --- proving theorems with headers ------------------------------------------------------------


class ProbingEnv(LeanEnv):
    """A `LeanEnv` that, before each theorem, checks the REPL still runs tactics
    (`refresh_if_exhausted`) and elaborates the theorem's header (`use_header`, set by the
    runner) with the server's start-up budget: a file context is set-up work, not a step of the
    search, and a long one must not hit the per-tactic timeout (which restarts Lean)."""

    def start(self, statement: str, timeout: float | None = None) -> Any:
        refresh_if_exhausted(self.server)
        if self.header.strip():
            self.server.header_env(self.header)  # cached per header; the search reuses it
        return super().start(statement, timeout)


class WorkerServers:
    """One LeanServer per prover thread: `make_env` binds the next server to the calling
    thread, `verify` checks proofs on the server of the thread that asks."""

    def __init__(
        self,
        servers: Sequence[LeanServer],
        verify_timeout: float | None,
        trust_header: bool = False,
    ) -> None:
        self.servers = list(servers)
        self.verify_timeout = verify_timeout
        self.trust_header = trust_header
        self._local = threading.local()
        self._next = 0
        self._lock = threading.Lock()

    def make_env(self) -> ProbingEnv:
        with self._lock:
            server = self.servers[self._next % len(self.servers)]
            self._next += 1
        self._local.server = server
        return ProbingEnv(server)

    def verify(self, statement: str, proof: str, header: str = "") -> Any:
        """`leancot.lean.verify` from scratch: the header, then the theorem with its proof."""
        from leancot.lean.verify import verify

        server = getattr(self._local, "server", None) or self.servers[0]
        return verify(
            statement,
            proof,
            header,
            server=server,
            timeout=self.verify_timeout,
            trust_header=self.trust_header,
        )


def prove_theorems(
    theorems: Sequence[Theorem],
    servers: Sequence[LeanServer],
    *,
    method: str,
    policy: Any,
    out_path: Path,
    budget: Budget,
    value: Any = None,
    search_kwargs: Mapping[str, Any] | None = None,
    progress: bool = True,
    trust_header: bool = False,
) -> RunSummary:
    """`prove_all` with one worker per server; every claimed proof re-checked by `verify`
    (the theorems' headers are untrusted text too unless `trust_header`)."""
    workers = WorkerServers(
        servers, verify_timeout=budget.theorem_wall_s, trust_header=trust_header
    )
    return prove_all(
        theorems,
        workers.make_env,
        method=method,
        policy=policy,
        verify=workers.verify,
        out_path=out_path,
        value=value,
        budget=budget,
        workers=len(servers),
        search_kwargs=search_kwargs,
        progress=progress,
    )


SEARCH_OPTIONS = (
    "num_samples",
    "portfolio_n",
    "baseline_n",
    "max_tokens",
    "temperature",
    "priority",
    "goal_tactics",
)


def search_options(config: Any) -> dict[str, Any]:
    """The `search_setup` keyword arguments a run or prove config carries (by field name)."""
    return {name: getattr(config, name) for name in SEARCH_OPTIONS if hasattr(config, name)}


def search_setup(
    method: str,
    *,
    model: Any = None,
    prm: Any = None,
    num_samples: int = 8,
    portfolio_n: int = 16,
    baseline_n: int = 32,
    max_tokens: int = 128,
    temperature: float = 0.7,
    priority: str = "logprob",
    goal_tactics: bool = True,
) -> tuple[Any, Any, dict[str, Any]]:
    """(policy, value, search kwargs) of a method.

    baseline: best-first over the tactic portfolio alone; best_first: the model's samples mixed
    with the portfolio, cumulative log-probability priority (or `priority` "value"/"mix" with a
    PRM); mcts_prm: the same mixture under MCTS with the PRM as value. `goal_tactics` adds the
    goal-aware unfolding tactics to the searches' mixture (never to the baseline). Without a
    model, best_first is the baseline.
    """
    from leancot.prover.prm_value import PRMValue

    if method not in ("baseline", "best_first", "mcts_prm"):
        raise ValueError(f"method must be baseline, best_first or mcts_prm, not {method!r}")
    if method == "mcts_prm" and prm is None:
        raise ValueError("method mcts_prm needs a PRM (a trained PRM folder: --prm DIR)")
    if method == "baseline" or model is None:
        if method == "mcts_prm":
            policy: Any = WeightedPolicy(PortfolioPolicy(), 1.0)
            return policy, PRMValue(prm), {"num_candidates": baseline_n}
        return PortfolioPolicy(), None, {"num_candidates": baseline_n}
    policy = mixture(
        model,
        portfolio_n=portfolio_n,
        goal_tactics=goal_tactics,
        max_tokens=max_tokens,
        temperature=temperature,
    )
    if method == "mcts_prm":
        return policy, PRMValue(prm), {"num_candidates": num_samples}
    value = PRMValue(prm) if prm is not None and priority != "logprob" else None
    if priority != "logprob" and value is None:
        raise ValueError(f"best_first with priority {priority!r} needs a PRM (--prm DIR)")
    return policy, value, {"num_candidates": num_samples, "priority": priority}
