"""Latency of the long-lived Lean REPL against one-shot `lean FILE` runs, on leancot's corpus.

Usage: python benchmarks/lean_latency.py [--json] [--one-shot-samples 3] [--max-theorems N]

The theorems and their tactic proofs are parsed from lean_project/LeanCot/Corpus/*.lean. Each file
is replayed command by command (every theorem as one command: the "cmd" and per-proof times), then
every theorem is proved again tactic by tactic from `start_proof` (the "tactic" times). The same
tactic workload then runs on a LeanPool of two servers (`pool2_speedup`: throughput with two over
one; it cannot exceed the cores that are free). `one_shot_s` is the median time of checking one of
the same proofs with a fresh `node lean.js FILE.lean` process per file.

Then the process layer (benchmarks/lean_process.py): `timeout_recovery_s` (a runaway tactic
stopped by its heartbeat limit, to the next answer), `restart_visible_s` (a hard kill handed over
to the standby process), `header_hit_rate` (a pool of two routing theorems by header) and
`rss_after_5000_tactics_gb` (5000 tactics, each theorem's handles freed, no recycling).
`--only process` runs just those (and `ready_s`, `tactic_median_ms` from the long run).

With --json, stdout is exactly one JSON object (ready_s, cmd_median_ms, tactic_median_ms,
tactic_p90_ms, theorems, tactics, pool2_speedup, one_shot_s, one_shot_ratio, rss_gb,
verify_median_ms, textual_check_median_ms, verify_overhead, timeout_recovery_s, restart_visible_s,
header_hit_rate, rss_after_5000_tactics_gb); notes go to stderr. At most two Lean processes run at
a time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lean_process import header_routing, rss_long_run, standby_handover, timeout_recovery

from leancot.lean import (
    Backend,
    CommandResult,
    LeanPool,
    LeanServer,
    ProofFinished,
    TacticState,
    wasm_backend,
)
from leancot.lean.backends import MALLOC_ARENA_ENV
from leancot.lean.paths import project_dir
from leancot.lean.screen import mask
from leancot.lean.source_text import assemble
from leancot.lean.verify import verify

CORPUS = Path("LeanCot") / "Corpus"


# --- parsing the corpus ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """One top-level command of a file; for a theorem with a tactic proof, its parts too."""

    text: str
    statement: str | None = None  # `theorem NAME ... : TYPE`, without `:= by`
    tactics: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.statement.split()[1] if self.statement else ""


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def split_chunks(text: str) -> list[Chunk]:
    """Top-level commands: a command starts at a line that begins in column 0 outside comments.

    Comment lines before a command (doc strings) go with that command.
    """
    lines = text.splitlines()
    masked = mask(text).splitlines()
    starts = [i for i, m in enumerate(masked) if m.strip() and not m[0].isspace()]
    chunks = []
    prev_end = 0
    for k, s in enumerate(starts):
        nxt = starts[k + 1] if k + 1 < len(starts) else len(lines)
        last = max((i for i in range(s, nxt) if masked[i].strip()), default=s)
        chunks.append(parse_chunk(lines[prev_end : last + 1], masked[prev_end : last + 1]))
        prev_end = last + 1
    return chunks


def parse_chunk(lines: list[str], masked: list[str]) -> Chunk:
    text = "\n".join(lines)
    first = next(i for i, m in enumerate(masked) if m.strip() and not m[0].isspace())
    head = masked[first].split()
    if not head or head[0] not in ("theorem", "lemma"):
        return Chunk(text)
    body = "\n".join(masked[first:])
    at = body.find(":= by")
    if at < 0:
        return Chunk(text)
    original = "\n".join(lines[first:])
    statement = original[:at].rstrip()
    rest = original[at + len(":= by") :]
    if rest.strip() and not rest.startswith("\n") and "\n" not in rest.strip():
        return Chunk(text, statement, (rest.strip(),))  # `:= by tac` on one line
    return Chunk(text, statement, split_tactics(rest.split("\n")[1:]))


def split_tactics(lines: list[str]) -> tuple[str, ...]:
    """Tactic steps of an indented block: a step starts at the block's indentation; deeper lines
    and `| alt` lines at the same indentation continue it. Steps are dedented."""
    lines = [line for line in lines if line.strip()]
    if not lines:
        return ()
    base = _indent(lines[0])
    steps: list[list[str]] = []
    for line in lines:
        at_base = _indent(line) == base
        if at_base and not line.lstrip().startswith("|") or not steps:
            steps.append([])
        steps[-1].append(line[base:] if _indent(line) >= base else line.lstrip())
    return tuple("\n".join(s) for s in steps)


def load_corpus(project: Path) -> dict[str, list[Chunk]]:
    files = sorted((project / CORPUS).glob("*.lean"))
    if not files:
        raise ValueError(f"no corpus files in {project / CORPUS}")
    return {f.name: split_chunks(f.read_text(encoding="utf-8")) for f in files}


# --- replaying -----------------------------------------------------------------------------------


@dataclass
class Replay:
    """What one server built from the corpus: per theorem, the env before it."""

    items: list[tuple[str, Chunk, CommandResult]] = field(default_factory=list)
    cmd_s: list[float] = field(default_factory=list)  # per theorem command
    failures: list[str] = field(default_factory=list)


def replay_file(server: LeanServer, name: str, chunks: list[Chunk], replay: Replay) -> None:
    """Run the file's commands in order; remember the env before each theorem."""
    env = server.header_env("")
    if not isinstance(env, CommandResult):
        replay.failures.append(f"{name}: header: {env}")
        return
    for chunk in chunks:
        started = time.perf_counter()
        result = server.run_cmd(chunk.text, env=env)
        elapsed = time.perf_counter() - started
        if not isinstance(result, CommandResult) or not result.ok:
            replay.failures.append(f"{name}: {chunk.text.splitlines()[0][:60]}: {result}")
            continue
        if chunk.statement is not None and chunk.tactics:
            replay.items.append((name, chunk, env))
            replay.cmd_s.append(elapsed)
        env = result


def prove_stepwise(
    server: LeanServer, chunk: Chunk, env: CommandResult
) -> tuple[list[float], str | None]:
    """(seconds per tactic, None or why it failed): `start_proof`, then one tactic at a time."""
    assert chunk.statement is not None
    state = server.start_proof(chunk.statement, env=env)
    if not isinstance(state, TacticState):
        return [], f"start_proof: {state}"
    times = []
    result: object = state
    for tactic in chunk.tactics:
        if not isinstance(result, TacticState):
            return times, f"{tactic!r} after the proof ended"
        started = time.perf_counter()
        result = server.run_tac(result, tactic)
        times.append(time.perf_counter() - started)
    if not isinstance(result, ProofFinished):
        return times, f"ended with {result}"
    return times, None


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[k]


# --- one-shot runs -------------------------------------------------------------------------------


def one_shot_seconds(backend: Backend, chunk: Chunk, workdir: Path) -> tuple[float, str]:
    """Seconds for a fresh `node lean.js FILE.lean` on a file with just this theorem."""
    path = workdir / f"one_shot_{chunk.name.replace('.', '_')}.lean"
    path.write_text(chunk.text + "\n", encoding="utf-8")
    argv = [*backend.argv[:-1], str(path)]
    started = time.perf_counter()
    run = subprocess.run(
        argv,
        cwd=backend.cwd,
        env=backend.process_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    elapsed = time.perf_counter() - started
    problem = ""
    if run.returncode != 0 or "error" in run.stdout:
        problem = f"exit {run.returncode}: {run.stdout.strip()[-300:]}"
    return elapsed, problem


# --- the benchmark -------------------------------------------------------------------------------


def verify_samples(corpus: dict[str, list[Chunk]], count: int) -> list[tuple[str, str, str]]:
    """(statement, proof, header) of `count` theorems spread over the corpus; the header is the
    file's text before the theorem, as the prover's bundled benchmark gives it."""
    found = []
    for chunks in corpus.values():
        before: list[str] = []
        for chunk in chunks:
            if chunk.statement is not None and chunk.tactics:
                at = chunk.text.index(chunk.statement) + len(chunk.statement)
                found.append((chunk.statement, chunk.text[at:], "\n".join(before)))
            before.append(chunk.text)
    step = max(1, len(found) // count)
    return found[::step][:count]


def time_verify(
    server: LeanServer, samples: list[tuple[str, str, str]]
) -> tuple[list[float], list[float], list[str]]:
    """Per proof: `verify` (Lean's allow-list, type check, axioms, kernel replay) and, in the same
    run, the check it replaced (the header and theorem as one command, then `#print axioms`)."""
    checked, textual, failures = [], [], []
    for statement, proof, header in samples:
        # Fetched each time: `verify` caches file contexts, and the LRU may evict (and free) it.
        base = server.header_env("")
        assert isinstance(base, CommandResult), base
        started = time.perf_counter()
        verdict = verify(statement, proof, header, server=server)
        checked.append(time.perf_counter() - started)
        if not verdict.ok:
            failures.append(f"{statement[:60]}: {verdict.reasons[:1]}")
        started = time.perf_counter()
        body = (header + "\n" if header else "") + assemble(statement, proof)
        result = server.run_cmd(body, env=base)
        if isinstance(result, CommandResult):
            server.run_cmd(f"#print axioms {statement.split()[1]}", env=result)
        textual.append(time.perf_counter() - started)
    return checked, textual, failures


def _uses_image(backend) -> bool:
    """Whether `backend` starts the REPL from its image (the image runner) or elaborates it."""
    return Path(backend.argv[-1]).name.startswith("runner-")


def run(
    *, one_shot_samples: int = 3, max_theorems: int | None = None, image: bool = True, log=print
) -> tuple[dict[str, float | int], dict[str, object]]:
    """(the headline numbers, extra notes). `image=False`: the REPL is elaborated at start even
    when its image is built (leancot.lean.image)."""
    project = project_dir()
    corpus = load_corpus(project)
    backend = wasm_backend(project_dir=project, image=image)
    notes: dict[str, object] = {"repl_image": _uses_image(backend)}

    log("starting one Lean server ...")
    started = time.perf_counter()
    server = LeanServer(backend)
    with server:
        first = server.run_cmd("#check Nat")
        ready_s = time.perf_counter() - started
        assert isinstance(first, CommandResult) and first.ok, first
        log(f"ready in {ready_s:.1f} s; replaying {len(corpus)} files command by command ...")
        replay = Replay()
        for name, chunks in corpus.items():
            replay_file(server, name, chunks, replay)
        items = replay.items[:max_theorems] if max_theorems else replay.items
        cmd_s = replay.cmd_s[: len(items)]
        log(f"{len(items)} theorems; proving each tactic by tactic ...")
        tactic_s: list[float] = []
        failed: list[str] = []
        t0 = time.perf_counter()
        for name, chunk, env in items:
            times, why = prove_stepwise(server, chunk, env)
            tactic_s.extend(times)
            if why:
                failed.append(f"{name}:{chunk.name}: {why}")
        one_s = time.perf_counter() - t0
        # Theorems that elaborate alone (no namespace, no earlier lemma): one-shot candidates.
        base = server.header_env("")
        assert isinstance(base, CommandResult), base
        standalone: list[tuple[Chunk, float]] = []
        for _, chunk, _ in items:
            if len(standalone) >= one_shot_samples:
                break
            t = time.perf_counter()
            alone = server.run_cmd(chunk.text, env=base)
            if isinstance(alone, CommandResult) and alone.ok and not alone.has_sorry:
                standalone.append((chunk, time.perf_counter() - t))
        samples = verify_samples(corpus, 30)
        log(f"verifying {len(samples)} proofs with their file context as header ...")
        verify_s, textual_s, verify_failed = time_verify(server, samples)
        rss_single = server.stats.peak_rss_gb
    notes.update(replay_failures=replay.failures, stepwise_failures=failed, single_server_s=one_s)
    notes.update(verify_failures=verify_failed)

    log("starting a pool of two servers ...")
    envs: dict[int, dict[str, CommandResult]] = {}
    with LeanPool(backend, 2) as pool:

        def rebuild(s: LeanServer) -> None:
            rebuilt = Replay()
            for name, chunks in corpus.items():
                replay_file(s, name, chunks, rebuilt)
            envs[id(s)] = {f"{n}:{c.name}": e for n, c, e in rebuilt.items}

        log("replaying the corpus on both ...")
        with ThreadPoolExecutor(max_workers=2) as ex:
            list(ex.map(rebuild, pool.servers))
        keys = [(f"{n}:{c.name}", c) for n, c, _ in items]

        def prove(s: LeanServer, item: tuple[str, Chunk]) -> str | None:
            key, chunk = item
            env = envs[id(s)].get(key)
            if env is None:
                return f"{key}: not replayed"
            return prove_stepwise(s, chunk, env)[1]

        log("proving the same theorems on the pool ...")
        t0 = time.perf_counter()
        pool_failed = [w for w in pool.map(prove, keys) if w]
        two_s = time.perf_counter() - t0
        rss_pool = max(st.peak_rss_gb for st in pool.stats)
    notes.update(
        pool_failures=pool_failed,
        pool_s=two_s,
        rss_gb_single=round(rss_single, 3),
        rss_gb_pool=round(rss_pool, 3),
    )

    log(f"one-shot `node lean.js FILE.lean` on {len(standalone)} proofs ...")
    one_shot: list[float] = []
    repl_same: list[float] = []
    with tempfile.TemporaryDirectory(prefix="leancot-oneshot-") as tmp:
        for chunk, repl_s in standalone:
            seconds, problem = one_shot_seconds(backend, chunk, Path(tmp))
            if problem:
                notes.setdefault("one_shot_problems", []).append(f"{chunk.name}: {problem}")
            one_shot.append(seconds)
            repl_same.append(repl_s)
    notes.update(one_shot_theorems=[c.name for c, _ in standalone], one_shot_repl_s=repl_same)

    cmd_median = statistics.median(cmd_s)
    one_shot_s = statistics.median(one_shot) if one_shot else float("nan")
    numbers: dict[str, float | int] = {
        "ready_s": round(ready_s, 2),
        "cmd_median_ms": round(1000 * cmd_median, 2),
        "tactic_median_ms": round(1000 * statistics.median(tactic_s), 2),
        "tactic_p90_ms": round(1000 * percentile(tactic_s, 0.9), 2),
        "theorems": len(items),
        "tactics": len(tactic_s),
        "pool2_speedup": round(one_s / two_s, 3),
        "one_shot_s": round(one_shot_s, 2),
        "one_shot_ratio": round(one_shot_s / cmd_median, 1),
        "rss_gb": round(max(rss_single, rss_pool), 3),
        "verify_median_ms": round(1000 * statistics.median(verify_s), 2),
        "textual_check_median_ms": round(1000 * statistics.median(textual_s), 2),
        "verify_overhead": round(statistics.median(verify_s) / statistics.median(textual_s), 3),
    }
    return numbers, notes


PROCESS_PARTS = ("memory", "recovery", "standby", "routing")


def run_process(
    *,
    parts: Sequence[str] = PROCESS_PARTS,
    tactics: int = 5000,
    free: bool = True,
    node_flags: Sequence[str] | None = None,
    malloc_arena_max: int | None = None,
    image: bool = True,
    log=print,
) -> tuple[dict[str, float | int], dict[str, object]]:
    """The process layer's numbers (lean_process.py) of `parts`; the memory part also gives
    ready_s and tactic_median_ms of its server. `free=False`: the long run frees no handles (the
    baseline it is compared with). `node_flags`, `malloc_arena_max` (0: not set): instead of
    wasm_backend's defaults."""
    project = project_dir()
    corpus = load_corpus(project)
    flags: dict[str, object] = {} if node_flags is None else {"node_flags": tuple(node_flags)}
    if malloc_arena_max is not None:
        flags["malloc_arena_max"] = malloc_arena_max or None
    backend = wasm_backend(project_dir=project, image=image, **flags)
    notes: dict[str, object] = {
        "repl_image": _uses_image(backend),
        "node_flags": list(backend.argv[2:-3]),
        "malloc_arena_max": dict(backend.env).get(MALLOC_ARENA_ENV),
    }
    numbers: dict[str, float | int] = {}
    tactic_s: list[float] = []

    def replay(server: LeanServer) -> list[tuple[Chunk, CommandResult]]:
        built = Replay()
        for name, chunks in corpus.items():
            replay_file(server, name, chunks, built)
        return [(chunk, env) for _, chunk, env in built.items]

    def timed(server: LeanServer, chunk: Chunk, env: CommandResult):
        times, why = prove_stepwise(server, chunk, env)
        tactic_s.extend(times)
        return times, why

    if "memory" in parts:
        log(f"{tactics} tactics on one server, handles freed per theorem: {free} ...")
        long_run = rss_long_run(backend, timed, replay, log, tactics=tactics, free=free)
        numbers["ready_s"] = long_run.pop("ready_s")
        numbers["tactic_median_ms"] = round(1000 * statistics.median(tactic_s), 2)
        numbers["rss_after_5000_tactics_gb"] = long_run.pop("rss_after_5000_tactics_gb")
        notes["long_run"] = long_run
    if "recovery" in parts:
        log("a runaway tactic ...")
        recovery = timeout_recovery(backend, log)
        numbers["timeout_recovery_s"] = recovery.pop("timeout_recovery_s")
        notes["recovery"] = recovery
    if "standby" in parts:
        log("a hard kill with a standby process ...")
        standby = standby_handover(backend, log)
        numbers["restart_visible_s"] = standby.pop("restart_visible_s")
        notes["standby"] = standby
    if "routing" in parts:
        log("routing by header on a pool of two ...")
        routing = header_routing(backend, log)
        numbers["header_hit_rate"] = routing.pop("header_hit_rate")
        notes["routing"] = routing
    return numbers, notes


TARGETS = {
    "ready_s": ("<=", 20),
    "tactic_median_ms": ("<=", 15),
    "one_shot_ratio": (">=", 200),
    "rss_gb": ("<=", 2.5),
    "verify_overhead": ("<=", 1.5),
    "timeout_recovery_s": ("<=", 1),
    "restart_visible_s": ("<=", 2),
    "rss_after_5000_tactics_gb": ("<=", 1.6),
}
UNITS = {
    "ready_s": "s, process start to the first answer",
    "cmd_median_ms": "ms, one theorem as one command",
    "tactic_median_ms": "ms, one tactic",
    "tactic_p90_ms": "ms, one tactic",
    "theorems": "distinct corpus theorems proved tactic by tactic",
    "tactics": "tactic requests",
    "pool2_speedup": "tactic throughput, 2 servers over 1",
    "one_shot_s": "s, fresh `node lean.js FILE.lean` per proof",
    "one_shot_ratio": "one-shot over the REPL's median per proof",
    "rss_gb": "GiB, peak per server",
    "verify_median_ms": "ms, `verify` of one proof with its file as header",
    "textual_check_median_ms": "ms, the same as one command + `#print axioms`",
    "verify_overhead": "verify over the textual check it replaced",
    "timeout_recovery_s": "s, runaway tactic's deadline to the next answer",
    "restart_visible_s": "s, hard kill's deadline to the next answer (standby)",
    "header_hit_rate": "theorems lent a server holding their header",
    "rss_after_5000_tactics_gb": "GiB, one server after 5000 tactics, no recycle",
}


def table(numbers: dict[str, float | int], notes: dict[str, object]) -> str:
    rows = []
    for key, value in numbers.items():
        target = ""
        if key in TARGETS:
            op, bound = TARGETS[key]
            met = value <= bound if op == "<=" else value >= bound
            target = f"target {op} {bound}: {'met' if met else 'MISSED'}"
        rows.append(f"{key:<18} {value:>10}  {UNITS[key]:<50} {target}")
    single, pool = notes.get("single_server_s"), notes.get("pool_s")
    if isinstance(single, float) and isinstance(pool, float):
        rows.append(f"(tactic workload: {single:.1f} s on one server, {pool:.1f} s on two)")
    rows.append(
        f"(peak RSS: {notes.get('rss_gb_single')} GiB alone, {notes.get('rss_gb_pool')} GiB "
        "in the pool)"
    )
    for key in (
        "replay_failures",
        "stepwise_failures",
        "pool_failures",
        "one_shot_problems",
        "verify_failures",
    ):
        for line in notes.get(key, []) or []:  # type: ignore[union-attr]
            rows.append(f"! {key}: {line}")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--one-shot-samples", type=int, default=3, help="one-shot runs (3)")
    parser.add_argument(
        "--max-theorems", type=int, default=None, help="prove only the first N theorems"
    )
    parser.add_argument(
        "--only",
        choices=("all", "latency", "process"),
        default="all",
        help="latency: the REPL's latencies; process: timeouts, standby, routing, memory",
    )
    parser.add_argument(
        "--process-parts",
        default=",".join(PROCESS_PARTS),
        help=f"comma-separated parts of the process run ({','.join(PROCESS_PARTS)})",
    )
    parser.add_argument("--tactics", type=int, default=5000, help="tactics of the long run")
    parser.add_argument(
        "--no-free", action="store_true", help="the long run frees no handles (baseline)"
    )
    parser.add_argument(
        "--node-flags",
        default=None,
        help="Node/V8 flags of the process run's servers, space-separated, instead of "
        "wasm_backend's default (e.g. '' for none, '--max-semi-space-size=1'; write "
        "--node-flags='--a --b')",
    )
    parser.add_argument(
        "--malloc-arena-max",
        type=int,
        default=None,
        help="MALLOC_ARENA_MAX of the process run's servers instead of wasm_backend's default "
        "(0: not set)",
    )
    parser.add_argument(
        "--no-image",
        action="store_true",
        help="elaborate the REPL at each start even when its image is built (the baseline)",
    )
    args = parser.parse_args(argv)
    parts = [p for p in args.process_parts.split(",") if p]
    unknown = sorted(set(parts) - set(PROCESS_PARTS))
    if unknown:
        parser.error(f"unknown --process-parts {unknown}; choose from {PROCESS_PARTS}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    numbers: dict[str, float | int] = {}
    notes: dict[str, object] = {}
    if args.only in ("all", "latency"):
        numbers, notes = run(
            one_shot_samples=args.one_shot_samples,
            max_theorems=args.max_theorems,
            image=not args.no_image,
            log=log,
        )
    if args.only in ("all", "process"):
        extra, extra_notes = run_process(
            parts=parts,
            tactics=args.tactics,
            free=not args.no_free,
            node_flags=None if args.node_flags is None else args.node_flags.split(),
            malloc_arena_max=args.malloc_arena_max,
            image=not args.no_image,
            log=log,
        )
        if args.only == "all":  # the latency run's own ready_s and tactic median stand
            extra = {k: v for k, v in extra.items() if k not in numbers}
        numbers.update(extra)
        notes.update(extra_notes)
    if args.json:
        print(json.dumps(numbers))
        log(json.dumps(notes))
    else:
        print(table(numbers, notes))
    failures = sum(
        len(notes.get(k) or [])  # type: ignore[arg-type]
        for k in ("stepwise_failures", "pool_failures", "verify_failures")
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
