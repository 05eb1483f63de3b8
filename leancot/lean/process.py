"""One running Lean REPL process: spawned behind guard.py, with reader, writer and stderr threads.

`ReplProcess` starts the command of a `Backend` (see backends.py) in its own session behind
guard.py, so the whole process tree dies with this Python process; it decodes stdout into replies
(the backend's framing, protocol.py) on `responses`, keeps the tail of stderr, samples the tree's
resident memory and kills the tree on `kill`. Restarts, timeouts and recycling are supervisor.py's.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import deque
from pathlib import Path
from typing import IO, Any

import psutil

from leancot.lean.backends import Backend
from leancot.lean.protocol import error_text, is_ready, make_decoder
from leancot.lean.results import LeanProtocolError, LeanStartupError

logger = logging.getLogger(__name__)

GIB = 1 << 30
STDERR_TAIL_LINES = 200
END_OF_OUTPUT = object()  # put on `ReplProcess.responses` when the REPL's stdout closes


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


FATAL_STDERR = re.compile(
    r"INTERNAL PANIC|RangeError|Maximum call stack|out of memory|Aborted\(|Error:|^Node\.js v"
)


class ReplProcess:
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
        self.backend = backend
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
            self.responses.put(END_OF_OUTPUT)

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

    def wait_ready(self, timeout: float) -> str | None:
        """Wait for the REPL's ready line (marker framing only); the Lean version it reports.

        Raises LeanStartupError if it is not ready within `timeout` seconds, dies, writes garbage
        or reports an error.
        """
        if self.backend.framing != "marker":
            return None
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LeanStartupError(
                    f"the Lean REPL was not ready after {timeout:g} s "
                    f"({' '.join(self.backend.argv)}); stderr: {self.stderr_summary()}"
                )
            try:
                item = self.responses.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                self.sample_rss()
                continue
            if item is END_OF_OUTPUT:
                raise LeanStartupError(f"the Lean REPL died while starting: {self.death_reason()}")
            if isinstance(item, LeanProtocolError):
                raise LeanStartupError(f"the Lean REPL wrote garbage while starting: {item}")
            if is_ready(item):
                version = item.get("version")
                return version if isinstance(version, str) else None
            error = error_text(item)
            if error is not None:
                raise LeanStartupError(f"the Lean REPL failed to start: {error}")

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
