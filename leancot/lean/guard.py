"""A tiny launcher that ties a Lean process to the life of the Python process that started it.

Run as a plain script, not imported (stdlib only, no leancot imports, so it starts in ~20 ms):

    python -I -S guard.py --parent PID [--cleanup DIR] [--rlimit-as BYTES] -- COMMAND [ARG...]

It starts COMMAND with the same stdin/stdout/stderr and in its own process group (the new
session that `process.ReplProcess` gives it), then waits. When COMMAND exits, the guard exits
the same way (the same exit code, or the same signal raised on itself), so the caller's view of
the exit status is unchanged. When the parent (PID, or the parent it had at start) is gone —
even after `kill -9`, which runs no cleanup in the parent — the guard kills its whole process
group with SIGKILL. It checks every POLL_S seconds, so a Lean child outlives its parent by at
most about that long.
SIGTERM, SIGINT and SIGHUP sent to the guard are forwarded to COMMAND. `--cleanup DIR` removes DIR
(the process's private temp directory) once COMMAND is gone. `--rlimit-as BYTES` caps COMMAND's
address space (RLIMIT_AS): an allocation beyond it fails inside COMMAND instead of exhausting the
machine.

A parent-death signal (Linux `PR_SET_PDEATHSIG`) is not used: it fires when the parent *thread*
that forked exits, and LeanServer processes are started from pool and worker threads.
"""

from __future__ import annotations

import os
import signal
import sys

POLL_S = 0.2
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
USAGE = "usage: guard.py [--parent PID] [--cleanup DIR] [--rlimit-as BYTES] -- COMMAND [ARG...]"


def parse(argv: list[str]) -> tuple[int, str | None, int | None, list[str]]:
    parent, cleanup, limit = os.getppid(), None, None
    i = 0
    while i < len(argv) and argv[i] != "--":
        if argv[i] == "--parent" and i + 1 < len(argv):
            parent = int(argv[i + 1])
        elif argv[i] == "--cleanup" and i + 1 < len(argv):
            cleanup = argv[i + 1]
        elif argv[i] == "--rlimit-as" and i + 1 < len(argv):
            limit = int(argv[i + 1])
        else:
            raise SystemExit(f"guard.py: unknown argument {argv[i]!r}\n{USAGE}")
        i += 2
    command = argv[i + 1 :]
    if not command:
        raise SystemExit(f"guard.py: no command\n{USAGE}")
    return parent, cleanup, limit, command


def remove(path: str | None) -> None:
    if path:
        import shutil

        shutil.rmtree(path, ignore_errors=True)


def start(command: list[str], limit: int | None = None) -> None:
    """In the forked child: the signal state a plain subprocess would have, the address-space
    limit, then exec."""
    try:
        if limit is not None:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        for sig in (signal.SIGPIPE, signal.SIGXFSZ):  # ignored by Python, default for others
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.execvp(command[0], command)
    except OSError as e:
        os.write(2, f"cannot start {command[0]!r}: {e.strerror or e}\n".encode())
    os._exit(127)


def exit_like(status: int, cleanup: str | None) -> None:
    """Exit with the child's wait status: its exit code, or the signal that killed it."""
    remove(cleanup)
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        os._exit(code)
    sig = -code
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
    try:
        signal.signal(sig, signal.SIG_DFL)  # (SIGKILL and SIGSTOP cannot be caught anyway)
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the child's core dump is enough
    except (ImportError, OSError, ValueError):
        pass
    os.kill(os.getpid(), sig)
    os._exit(128 + sig)  # only if the signal did not end us


def main(argv: list[str]) -> None:
    parent, cleanup, limit, command = parse(argv)
    if os.getppid() != parent:  # the parent died before we got here
        remove(cleanup)
        os.killpg(0, signal.SIGKILL)
    watched = [*FORWARDED, signal.SIGCHLD]
    signal.pthread_sigmask(signal.SIG_BLOCK, watched)
    pid = os.fork()
    if pid == 0:
        start(command, limit)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            exit_like(status, cleanup)
        if os.getppid() != parent:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except OSError:
                pass
            remove(cleanup)
            os.killpg(0, signal.SIGKILL)  # anything the child started in our group, and us
        info = signal.sigtimedwait(watched, POLL_S)
        if info is not None and info.si_signo in FORWARDED:
            try:
                os.kill(pid, info.si_signo)
            except ProcessLookupError:
                pass


if __name__ == "__main__":
    main(sys.argv[1:])
