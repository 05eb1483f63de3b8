"""A fixed set of LeanServers shared by worker threads, each theorem routed to a server that already
holds its header's environment.

Every server caches the environments of the headers it elaborated (an LRU, handles.py), as
kimina-lean-server keeps REPLs per import header: `acquire(header=...)` lends a free server whose
cache has that header if there is one (a hit), else the free server with the fewest cached
environments (a miss: it elaborates the header once and keeps it). `header_hit_rate` reports hits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from leancot.lean.backends import Backend
from leancot.lean.handles import header_key
from leancot.lean.results import LeanInfraError
from leancot.lean.server import LeanServer, ServerStats

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class LeanPool:
    """`n` LeanServers started in parallel; `acquire()` lends one (routed by header), `map()`
    spreads work over all.

    Each Lean process is memory hungry (1-2.5 GB for the WASM Lean; twice that with `standby=True`
    in `server_kwargs`): size `n` to the machine.
    """

    def __init__(self, backend: Backend, n: int, **server_kwargs: Any) -> None:
        if n < 1:
            raise ValueError(f"a pool needs at least one server, got n={n}")
        self.backend = backend
        self.n = n
        self.servers = [LeanServer(backend, **server_kwargs) for _ in range(n)]
        self._free: list[LeanServer] = []
        self._cond = threading.Condition()
        self._started = False
        self.header_requests = 0
        self.header_hits = 0

    @classmethod
    def from_servers(cls, servers: Sequence[LeanServer]) -> LeanPool:
        """A pool over servers that are already running (closing the pool closes them)."""
        if not servers:
            raise ValueError("a pool needs at least one server")
        pool = cls.__new__(cls)
        pool.backend = servers[0].backend
        pool.n = len(servers)
        pool.servers = list(servers)
        pool._free = list(pool.servers)
        pool._cond = threading.Condition()
        pool._started = True
        pool.header_requests = 0
        pool.header_hits = 0
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
        with self._cond:
            self._free = list(self.servers)
            self._cond.notify_all()
        self._started = True

    def close(self) -> None:
        for s in self.servers:
            s.close()

    @contextmanager
    def acquire(
        self, timeout: float | None = None, *, header: str | None = None
    ) -> Iterator[LeanServer]:
        """Lend a free server (waiting up to `timeout` s): with `header`, one that holds its
        environment if any is free (`route`). On return it may be recycled."""
        if not self._started:
            self.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._free:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutError(f"no free Lean server within {timeout} s")
                self._cond.wait(remaining)
            server = route(self._free, header)
            self._free.remove(server)
            if header is not None:
                self.header_requests += 1
                self.header_hits += holds_header(server, header)
        try:
            yield server
        finally:
            try:
                server.maybe_recycle()
            except LeanInfraError as e:
                logger.warning("recycling %r failed: %s", server, e)
            with self._cond:
                self._free.append(server)
                self._cond.notify()

    @property
    def header_hit_rate(self) -> float | None:
        """Of the `acquire(header=...)` calls, the share lent a server that held the header."""
        if not self.header_requests:
            return None
        return self.header_hits / self.header_requests

    def map(
        self,
        fn: Callable[[LeanServer, T], R],
        items: Iterable[T],
        header_of: Callable[[T], str] | None = None,
    ) -> list[R]:
        """`[fn(server, item) for item in items]` across the servers, in the order of `items`;
        with `header_of`, each item goes to a server holding its header when one is free."""
        return list(self.imap(fn, items, header_of))

    def imap(
        self,
        fn: Callable[[LeanServer, T], R],
        items: Iterable[T],
        header_of: Callable[[T], str] | None = None,
    ) -> Iterator[R]:
        """Like `map`, yielding results in order as they are ready."""

        def run(item: T) -> R:
            header = header_of(item) if header_of is not None else None
            with self.acquire(header=header) as server:
                return fn(server, item)

        ex = ThreadPoolExecutor(max_workers=self.n, thread_name_prefix="lean-pool")
        try:
            yield from ex.map(run, items)
        finally:
            ex.shutdown(wait=True, cancel_futures=True)

    @property
    def stats(self) -> tuple[ServerStats, ...]:
        return tuple(s.stats for s in self.servers)


def holds_header(server: LeanServer, header: str) -> bool:
    """Whether the server's current process has the header's environment cached."""
    return server.env_handles.holds(header_key(header), server.generation)


def route(free: Sequence[LeanServer], header: str | None) -> LeanServer:
    """The server to lend: the first free one holding `header`, else the free one with the fewest
    cached environments (the first such, so an idle pool fills in order)."""
    if header is not None:
        for server in free:
            if holds_header(server, header):
                return server
    return min(free, key=lambda s: len(s.env_handles.keys()))
