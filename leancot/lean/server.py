"""One Lean REPL process behind a context manager: timeouts, crashes, memory limits, recycling.

The process runs `lean_project/LeanCot/Repl.lean` (or the community `repl` binary; see
backends.py). Requests go one at a time. A request that times out, kills the process, runs out of
memory or gets a garbled reply is answered with a `Timeout`/`Crashed` value and the process is
restarted; every restart bumps `generation`, and a handle from an older generation raises
`StaleHandleError` instead of silently meaning something else in the new process.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

from leancot.lean.backends import Backend
from leancot.lean.protocol import (
    command_request,
    encode_request,
    error_text,
    is_ready,
    make_decoder,
    parse_command_response,
    parse_tactic_response,
    start_from_command,
    tactic_request,
)
from leancot.lean.results import (
    CommandOutcome,
    CommandResult,
    Crashed,
    LeanCrashed,
    LeanError,
    LeanProtocolError,
    LeanStartupError,
    StaleHandleError,
    TacticResult,
    TacticState,
    Timeout,
)

logger = logging.getLogger(__name__)

GIB = 1 << 30
STDERR_TAIL_LINES = 200
_EOF = object()


def tree_rss(pid: int) -> int:
    """Resident memory in bytes of a process and all its descendants (0 if it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def kill_tree(popen: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process group of `popen` (and any descendants that left it), then reap it."""
    try:
        children = psutil.Process(popen.pid).children(recursive=True)
    except psutil.Error:
        children = []
    try:
        os.killpg(popen.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    try:
        popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        logger.warning("Lean process %d did not exit after SIGKILL", popen.pid)


GUARD_SCRIPT = Path(__file__).with_name("guard.py")
PRIVATE_DIR_PREFIX = "leancot-lean-"


def guarded_argv(
    argv: tuple[str, ...] | list[str],
    cleanup: str | None = None,
    memory_limit_bytes: int | None = None,
) -> list[str]:
    """`argv` behind guard.py, which kills the process group when this Python process dies (even
    by SIGKILL) and passes the child's exit status through; `cleanup` is removed when it ends;
    `memory_limit_bytes` caps the child's address space (RLIMIT_AS)."""
    if not sys.executable:  # an embedded interpreter: nothing to run the guard with
        return list(argv)
    extra = ["--cleanup", cleanup] if cleanup else []
    if memory_limit_bytes is not None:
        extra += ["--rlimit-as", str(memory_limit_bytes)]
    guard = [sys.executable, "-I", "-S", str(GUARD_SCRIPT), "--parent", str(os.getpid())]
    return [*guard, *extra, "--", *argv]


def _is_executable(program: str, cwd: Path | None, search_path: str | None) -> bool:
    """Whether `program` names an executable, as the child (in `cwd`, with PATH) would see it."""
    if os.sep in program and not os.path.isabs(program) and cwd is not None:
        program = os.path.join(cwd, program)
    return shutil.which(program, path=search_path) is not None


def _release(popen: subprocess.Popen[bytes], private_dir: str | None) -> None:
    kill_tree(popen)
    if private_dir is not None:
        shutil.rmtree(private_dir, ignore_errors=True)


WASM_RECYCLE_GB = 2.8  # default recycle threshold of embedded-Lean processes (RSS, whole tree)
FATAL_STDERR = re.compile(
    r"INTERNAL PANIC|RangeError|Maximum call stack|out of memory|Aborted\(|Error:|^Node\.js v"
)


class _Process:
    """A running REPL with a stdout reader, a stderr drain and a stdin writer thread.

    The command runs behind guard.py in a new session: `pid` is the guard's, the root of the
    process tree (its process group), whose exit status is the REPL's. A backend with
    `private_dir_env` gets a fresh private directory (`private_dir`, the cwd), removed on `kill`.
    """

    def __init__(self, backend: Backend) -> None:
        env = backend.process_env()
        cwd = backend.cwd
        if not _is_executable(backend.argv[0], cwd, env.get("PATH")):
            raise LeanStartupError(f"cannot start {backend.argv[0]!r}: no such executable")
        self.private_dir: str | None = None
        if backend.private_dir_env is not None:
            self.private_dir = os.path.realpath(tempfile.mkdtemp(prefix=PRIVATE_DIR_PREFIX))
            env[backend.private_dir_env] = self.private_dir
            cwd = Path(self.private_dir)
        try:
            self.popen = subprocess.Popen(
                guarded_argv(backend.argv, self.private_dir, backend.memory_limit_bytes),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=env,
                start_new_session=True,
            )
        except OSError as e:
            if self.private_dir is not None:
                shutil.rmtree(self.private_dir, ignore_errors=True)
            raise LeanStartupError(f"cannot start {backend.argv[0]!r}: {e}") from e
        self._finalizer = weakref.finalize(self, _release, self.popen, self.private_dir)
        self.pid = self.popen.pid
        self.responses: queue.Queue[Any] = queue.Queue()
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
        self.requests = 0
        self.peak_rss = 0
        self.current_rss = 0
        self._killed = False
        self._last_sample = 0.0
        self._decoder = make_decoder(backend.framing)
        self._outbox: queue.Queue[bytes | None] = queue.Queue()
        self._threads = [
            threading.Thread(target=self._read_stdout, name=f"lean-{self.pid}-out", daemon=True),
            threading.Thread(target=self._read_stderr, name=f"lean-{self.pid}-err", daemon=True),
            threading.Thread(target=self._write_stdin, name=f"lean-{self.pid}-in", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read_stdout(self) -> None:
        stream: IO[bytes] = self.popen.stdout  # type: ignore[assignment]
        try:
            for raw in stream:
                self._put_decoded(raw.decode("utf-8", errors="replace"))
        except (OSError, ValueError):
            pass
        finally:
            try:
                for item in self._decoder.flush():
                    self.responses.put(item)
            except LeanProtocolError as e:
                self.responses.put(e)
            self.responses.put(_EOF)

    def _put_decoded(self, line: str) -> None:
        try:
            items: list[Any] = list(self._decoder.feed(line))
        except LeanProtocolError as e:
            items = [e]
        for item in items:
            self.responses.put(item)

    def _read_stderr(self) -> None:
        stream: IO[bytes] = self.popen.stderr  # type: ignore[assignment]
        try:
            for raw in stream:
                self.stderr_tail.append(raw.decode("utf-8", errors="replace").rstrip()[:2000])
        except (OSError, ValueError):
            pass

    def _write_stdin(self) -> None:
        stream: IO[bytes] = self.popen.stdin  # type: ignore[assignment]
        while (data := self._outbox.get()) is not None:
            try:
                stream.write(data)
                stream.flush()
            except (OSError, ValueError):
                return

    def send(self, data: bytes) -> None:
        self._outbox.put(data)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def sample_rss(self, max_age: float = 0.0) -> int:
        """Current tree RSS (re-sampled if the last sample is older than `max_age` seconds)."""
        now = time.monotonic()
        if now - self._last_sample >= max_age:
            self._last_sample = now
            self.current_rss = tree_rss(self.pid)
            self.peak_rss = max(self.peak_rss, self.current_rss)
        return self.current_rss

    def stderr_summary(self, lines: int = 4, chars: int = 1000) -> str:
        """The fatal lines of stderr (panics, JS errors) if any, else its last lines; without the
        WASM glue's multi-line `[DEBUG` noise and JS stack frames."""
        useful = [
            s
            for s in self.stderr_tail
            if s.strip() and not s.startswith(("[DEBUG", " ", "\t")) and not s.startswith("at ")
        ]
        fatal = [s for s in useful if FATAL_STDERR.search(s)]
        text = "\n".join((fatal or useful)[-lines:])
        return text[-chars:]

    def death_reason(self) -> str:
        try:
            code = self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self._threads[1].join(timeout=2)
        if code is None:
            what = "the Lean process closed its output but did not exit"
        elif code < 0:
            what = f"the Lean process was killed by signal {-code}"
        else:
            what = f"the Lean process exited with code {code}"
        tail = self.stderr_summary()
        return f"{what}; stderr: {tail}" if tail else what

    def kill(self) -> None:
        """Kill the process tree and stop the threads; idempotent."""
        if self._killed:
            return
        self._killed = True
        self._finalizer()  # kill_tree, then remove the private directory
        self._outbox.put(None)
        for t in self._threads:
            t.join(timeout=2)
        for stream in (self.popen.stdin, self.popen.stdout, self.popen.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass


@dataclass(frozen=True)
class ServerStats:
    """Counters of one LeanServer; RSS in bytes over the whole process tree."""

    requests: int
    restarts: int
    recycles: int
    timeouts: int
    crashes: int
    generation: int
    peak_rss: int
    process_peak_rss: tuple[int, ...]
    forged_replies: int = 0  # reply lines without the request's nonce (printed by checked code)

    @property
    def peak_rss_gb(self) -> float:
        return self.peak_rss / GIB


class LeanServer:
    """Owns one Lean REPL process; use as a context manager (the process tree dies on exit).

    `request_timeout` is the per-request wall-clock budget in seconds. The process restarts after
    `max_requests` requests or above `max_rss_gb` GiB at the next safe point (`maybe_recycle`),
    and is killed at once above `hard_rss_gb` GiB during a request (reported as `Crashed`).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        request_timeout: float = 60.0,
        startup_timeout: float | None = None,
        max_requests: int | None = None,
        max_rss_gb: float | None = None,
        hard_rss_gb: float | None = None,
        poll_interval: float = 0.1,
    ) -> None:
        if request_timeout <= 0:
            raise ValueError(f"request_timeout must be positive, got {request_timeout}")
        if max_requests is not None and max_requests < 1:
            raise ValueError(f"max_requests must be at least 1, got {max_requests}")
        self.backend = backend
        self.request_timeout = request_timeout
        self.startup_timeout = (
            backend.startup_timeout if startup_timeout is None else startup_timeout
        )
        self.max_requests = max_requests
        if max_rss_gb is None and backend.name == "wasm":
            max_rss_gb = WASM_RECYCLE_GB  # the wasm32 heap caps Lean at 2 GiB
        self.max_rss = None if max_rss_gb is None else int(max_rss_gb * GIB)
        self.hard_rss = None if hard_rss_gb is None else int(hard_rss_gb * GIB)
        self.poll_interval = poll_interval
        self.generation = 0
        self.version: str | None = None
        self._proc: _Process | None = None
        self._lock = threading.RLock()
        self._closed = False
        self._started_once = False
        self._env_generation: dict[int, int] = {}
        self._memo: dict[str, CommandResult] = {}
        self._requests = self._restarts = self._recycles = self._timeouts = self._crashes = 0
        self._forged = 0
        self._old_peaks: list[int] = []

    # --- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> LeanServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        pid = self._proc.pid if self._proc is not None else None
        return f"LeanServer({self.backend.name}, pid={pid}, generation={self.generation})"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> None:
        """Start the process and wait until it is ready (no-op if it runs)."""
        with self._lock:
            self._check_open()
            if self._proc is None:
                self._spawn()

    def close(self) -> None:
        """Kill the process tree. Safe to call twice, and from another thread mid-request."""
        self._closed = True
        proc = self._proc
        if proc is not None:
            proc.kill()
        with self._lock:
            if self._proc is not None:
                self._retire(self._proc)
                self._proc = None

    def _check_open(self) -> None:
        if self._closed:
            raise LeanCrashed("the Lean server is closed")

    def _spawn(self) -> None:
        proc = _Process(self.backend)
        try:
            self._wait_ready(proc)
        except BaseException:
            proc.kill()
            raise
        if self._started_once:
            self.generation += 1
        self._started_once = True
        self._proc = proc

    def _wait_ready(self, proc: _Process) -> None:
        if self.backend.framing != "marker":
            return
        deadline = time.monotonic() + self.startup_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LeanStartupError(
                    f"the Lean REPL was not ready after {self.startup_timeout:g} s "
                    f"({' '.join(self.backend.argv)}); stderr: {proc.stderr_summary()}"
                )
            try:
                item = proc.responses.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                proc.sample_rss()
                continue
            if item is _EOF:
                raise LeanStartupError(f"the Lean REPL died while starting: {proc.death_reason()}")
            if isinstance(item, LeanProtocolError):
                raise LeanStartupError(f"the Lean REPL wrote garbage while starting: {item}")
            if is_ready(item):
                version = item.get("version")
                self.version = version if isinstance(version, str) else None
                return
            error = error_text(item)
            if error is not None:
                raise LeanStartupError(f"the Lean REPL failed to start: {error}")

    def _retire(self, proc: _Process) -> None:
        proc.kill()
        self._old_peaks.append(proc.peak_rss)

    def _restart(self, why: str) -> None:
        """Kill the current process and start a new one (a new generation)."""
        old, self._proc = self._proc, None
        if old is not None:
            self._retire(old)
        self._memo.clear()
        self._check_open()
        self._restarts += 1
        logger.info("restarting the Lean process: %s", why)
        try:
            self._spawn()
        except LeanStartupError as e:
            self.generation += 1  # handles of the dead process are stale even if none runs now
            raise LeanCrashed(f"restarting Lean after {why} failed: {e}") from e

    def maybe_recycle(self) -> bool:
        """Restart if the process served `max_requests` or is above `max_rss_gb`; a safe point."""
        with self._lock:
            proc = self._proc
            if proc is None or self._closed:
                return False
            why = None
            if self.max_requests is not None and proc.requests >= self.max_requests:
                why = f"{proc.requests} requests"
            elif self.max_rss is not None:
                rss = proc.sample_rss()
                if rss > self.max_rss:
                    why = f"RSS {rss / GIB:.2f} GiB above {self.max_rss / GIB:.2f} GiB"
            if why is None:
                return False
            self._recycles += 1
            self._restart(f"recycling ({why})")
            return True

    # --- requests ----------------------------------------------------------------------------

    def request(
        self, obj: Mapping[str, Any], timeout: float | None = None
    ) -> dict[str, Any] | Timeout | Crashed:
        """Send one raw request; the raw JSON reply, or Timeout/Crashed (the process restarted)."""
        return self._exchange(obj, timeout, None)

    def _exchange(
        self, obj: Mapping[str, Any], timeout: float | None, handle_generation: int | None
    ) -> dict[str, Any] | Timeout | Crashed:
        budget = self.request_timeout if timeout is None else timeout
        if budget <= 0:
            raise ValueError(f"timeout must be positive, got {budget}")
        nonce = None
        if self.backend.framing == "marker":
            # our REPL echoes it: a reply line printed by checked code cannot know it
            nonce = secrets.token_hex(16)
            obj = {**obj, "nonce": nonce}
        data = encode_request(obj)
        with self._lock:
            self._check_open()
            if self._proc is None:
                self._spawn()
            elif not self._proc.alive():
                self._restart("the process exited between requests")
            if handle_generation is not None and handle_generation != self.generation:
                raise StaleHandleError(
                    f"handle from Lean process generation {handle_generation}, but the server "
                    f"restarted since (now generation {self.generation}); start again from a "
                    "fresh command"
                )
            proc = self._proc
            assert proc is not None
            while not proc.responses.empty():  # nothing should be pending; drop strays
                if proc.responses.get_nowait() is _EOF:
                    return self._crash(proc, "the Lean process died before the request was sent")
            self._requests += 1
            proc.requests += 1
            proc.send(data)
            deadline = time.monotonic() + budget
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self._timeouts += 1
                    proc.sample_rss()
                    self._restart(f"a request ran past its {budget:g} s budget")
                    return Timeout(budget)
                try:
                    item = proc.responses.get(timeout=min(remaining, self.poll_interval))
                except queue.Empty:
                    rss = proc.sample_rss()
                    if self.hard_rss is not None and rss > self.hard_rss:
                        return self._crash(
                            proc,
                            f"memory: the Lean process tree used {rss / GIB:.2f} GiB, above the "
                            f"hard limit of {self.hard_rss / GIB:.2f} GiB",
                            kill_first=True,
                        )
                    continue
                if item is _EOF:
                    return self._crash(proc, None)
                if isinstance(item, LeanProtocolError):
                    return self._crash(proc, str(item), kill_first=True)
                if is_ready(item):
                    continue
                if nonce is not None:
                    if item.get("nonce") != nonce:
                        self._forged += 1
                        logger.warning("ignored a reply line without this request's nonce")
                        continue
                    item = {k: v for k, v in item.items() if k != "nonce"}
                proc.sample_rss(max_age=1.0)
                return item

    def _crash(self, proc: _Process, reason: str | None, kill_first: bool = False) -> Crashed:
        if kill_first:
            proc.kill()
        if self._closed:
            return Crashed("the Lean server was closed during the request")
        if reason is None:
            reason = proc.death_reason()
        self._crashes += 1
        self._restart(reason)
        return Crashed(reason)

    def _env_handle(self, env: CommandResult | int | None) -> tuple[int | None, int | None]:
        if env is None:
            return None, None
        if isinstance(env, CommandResult):
            return env.env, env.generation
        if isinstance(env, bool) or not isinstance(env, int):
            raise TypeError(
                f"env must be a CommandResult, an int or None, not {type(env).__name__}"
            )
        issued = self._env_generation.get(env)
        if issued is not None and issued != self.generation:
            raise StaleHandleError(
                f"env {env} was issued by Lean process generation {issued}; the server restarted "
                f"since (now generation {self.generation})"
            )
        return env, None

    def run_cmd(
        self,
        cmd: str,
        env: CommandResult | int | None = None,
        timeout: float | None = None,
        *,
        all_tactics: bool = False,
    ) -> CommandOutcome:
        """Elaborate `cmd` in `env` (None: process its own imports; a recycle point).

        `all_tactics=True` also returns every tactic run, with its goals (`CommandResult.tactics`).
        """
        if env is None:
            self.maybe_recycle()
        env_id, generation = self._env_handle(env)
        request = command_request(cmd, env_id, all_tactics)
        raw = self._exchange(request, timeout, generation)
        if isinstance(raw, (Timeout, Crashed)):
            return raw
        result = parse_command_response(raw, self.generation)
        if isinstance(result, CommandResult):
            self._env_generation[result.env] = self.generation
        return result

    def header_env(self, header: str, timeout: float | None = None) -> CommandOutcome:
        """The environment of a header (import lines), cached per header while the process lives.

        Importing is start-up work: the default budget is `startup_timeout`, not `request_timeout`.
        """
        self.maybe_recycle()
        budget = max(self.request_timeout, self.startup_timeout) if timeout is None else timeout
        return self.memo_env(f"imports\n{header}", lambda: self.run_cmd(header, None, budget))

    def memo_env(self, key: str, make: Callable[[], CommandOutcome]) -> CommandOutcome:
        """`make()`'s environment, cached under `key` while the process lives (if it is ok)."""
        with self._lock:
            cached = self._memo.get(key)
            if cached is not None and cached.generation == self.generation:
                return cached
        result = make()
        if isinstance(result, CommandResult) and result.ok:
            with self._lock:
                if result.generation == self.generation:
                    self._memo[key] = result
                    self._env_generation[result.env] = result.generation
        return result

    def verify_text(
        self,
        text: str,
        env: CommandResult | int | None,
        *,
        mode: str,
        reference: str | None = None,
        fields: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> dict[str, Any] | Timeout | Crashed:
        """Our REPL's `verify` request (see Repl.lean and verify.py): Lean's raw findings.

        `mode` "theorem" checks one theorem against `reference` (its statement with `:= sorry`);
        "file" checks the commands of a file (and stores the environment, `env` in the reply).
        """
        if self.backend.framing != "marker":
            raise ValueError(
                "verification needs leancot's own REPL (the wasm or native backend): the "
                f"{self.backend.name!r} backend has no `verify` request"
            )
        env_id, generation = self._env_handle(env)
        request: dict[str, Any] = {"verify": text, "env": env_id or 0, "mode": mode}
        if reference is not None:
            request["reference"] = reference
        request.update(fields or {})
        raw = self._exchange(request, timeout, generation)
        if isinstance(raw, dict) and isinstance(raw.get("env"), int):
            self._env_generation[raw["env"]] = self.generation
        return raw

    def start_proof(
        self, statement: str, env: CommandResult | int | None = None, timeout: float | None = None
    ) -> TacticState | LeanError | Timeout | Crashed:
        """The goal of a theorem statement (` := by sorry` is appended if it has no `:=`)."""
        cmd = statement if ":=" in statement else statement.rstrip() + " := by sorry"
        result = self.run_cmd(cmd, env, timeout)
        if not isinstance(result, CommandResult):
            return result
        return start_from_command(result)

    def run_tac(
        self, state: TacticState, tactic: str, timeout: float | None = None
    ) -> TacticResult:
        """Run one tactic on a proof state; any earlier state may be reused (backtracking)."""
        if not isinstance(state, TacticState):
            raise TypeError(f"run_tac needs a TacticState, not {type(state).__name__}")
        raw = self._exchange(tactic_request(tactic, state.id), timeout, state.generation)
        if isinstance(raw, (Timeout, Crashed)):
            return raw
        return parse_tactic_response(raw, self.generation)

    @property
    def stats(self) -> ServerStats:
        with self._lock:
            peaks = list(self._old_peaks)
            if self._proc is not None:
                peaks.append(self._proc.peak_rss)
            return ServerStats(
                requests=self._requests,
                restarts=self._restarts,
                recycles=self._recycles,
                timeouts=self._timeouts,
                crashes=self._crashes,
                generation=self.generation,
                peak_rss=max(peaks, default=0),
                process_peak_rss=tuple(peaks),
                forged_replies=self._forged,
            )
