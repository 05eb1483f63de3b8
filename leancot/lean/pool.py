"""A fixed set of LeanServers shared by worker threads."""

from __future__ import annotations

import logging
import queue
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from leancot.lean.backends import Backend
from leancot.lean.results import LeanInfraError
from leancot.lean.server import LeanServer, ServerStats

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class LeanPool:
    """`n` LeanServers started in parallel; `acquire()` lends one, `map()` spreads work over all.

    Each Lean process is memory hungry (1-2.5 GB for the WASM Lean): size `n` to the machine.
    """

    def __init__(self, backend: Backend, n: int, **server_kwargs: Any) -> None:
        if n < 1:
            raise ValueError(f"a pool needs at least one server, got n={n}")
        self.backend = backend
        self.n = n
        self.servers = [LeanServer(backend, **server_kwargs) for _ in range(n)]
        self._free: queue.Queue[LeanServer] = queue.Queue()
        self._started = False

    @classmethod
    def from_servers(cls, servers: Sequence[LeanServer]) -> LeanPool:
        """A pool over servers that are already running (closing the pool closes them)."""
        if not servers:
            raise ValueError("a pool needs at least one server")
        pool = cls.__new__(cls)
        pool.backend = servers[0].backend
        pool.n = len(servers)
        pool.servers = list(servers)
        pool._free = queue.Queue()
        for s in pool.servers:
            pool._free.put(s)
        pool._started = True
        return pool

    def __enter__(self) -> LeanPool:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start all servers at once; if any fails, close them all and re-raise its error."""
        if self._started:
            return
        with ThreadPoolExecutor(max_workers=self.n, thread_name_prefix="lean-start") as ex:
            futures = [ex.submit(s.start) for s in self.servers]
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            self.close()
            raise errors[0]  # type: ignore[misc]
        for s in self.servers:
            self._free.put(s)
        self._started = True

    def close(self) -> None:
        for s in self.servers:
            s.close()

    @contextmanager
    def acquire(self, timeout: float | None = None) -> Iterator[LeanServer]:
        """Lend a free server (waiting up to `timeout` s); on return it may be recycled."""
        if not self._started:
            self.start()
        try:
            server = self._free.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no free Lean server within {timeout} s") from None
        try:
            yield server
        finally:
            try:
                server.maybe_recycle()
            except LeanInfraError as e:
                logger.warning("recycling %r failed: %s", server, e)
            self._free.put(server)

    def map(self, fn: Callable[[LeanServer, T], R], items: Iterable[T]) -> list[R]:
        """`[fn(server, item) for item in items]` across the servers, in the order of `items`."""
        return list(self.imap(fn, items))

    def imap(self, fn: Callable[[LeanServer, T], R], items: Iterable[T]) -> Iterator[R]:
        """Like `map`, yielding results in order as they are ready."""

        def run(item: T) -> R:
            with self.acquire() as server:
                return fn(server, item)

        ex = ThreadPoolExecutor(max_workers=self.n, thread_name_prefix="lean-pool")
        try:
            yield from ex.map(run, items)
        finally:
            ex.shutdown(wait=True, cancel_futures=True)

    @property
    def stats(self) -> tuple[ServerStats, ...]:
        return tuple(s.stats for s in self.servers)
