"""Handles of a Lean server: which process generation issued each, which were freed, and an LRU
cache of environments that are expensive to rebuild (imports, checked file headers).

Every restart of the REPL process bumps the server's `generation` (supervisor.py); an integer
`env` handle issued by an older generation names nothing (or something else) in the new process,
so `EnvHandles.resolve` raises `StaleHandleError` for it, and so does a handle that was freed with
a `forget` request (`check_live`). The cache keeps at most `capacity` environments per process,
least recently used first out; an evicted environment is queued for `forget` (`take_evicted`).
Its hit and miss counts are what `LeanPool` reports as its header hit rate.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from leancot.lean.results import CommandResult, StaleHandleError

DEFAULT_CACHED_ENVS = 16
HEADER_PREFIX = "imports\n"


def header_key(header: str) -> str:
    """The cache key of a header's environment (`LeanServer.header_env`)."""
    return HEADER_PREFIX + header


class EnvHandles:
    """The generation that issued each `env` handle, freed handles, and the LRU environment cache
    of one server; thread-safe."""

    def __init__(self, capacity: int = DEFAULT_CACHED_ENVS) -> None:
        if capacity < 1:
            raise ValueError(f"the env cache needs a capacity of at least 1, got {capacity}")
        self.capacity = capacity
        self._lock = threading.Lock()
        self._issued: dict[int, int] = {}
        self._cache: OrderedDict[str, CommandResult] = OrderedDict()
        self._forgotten_envs: set[int] = set()
        self._forgotten_states: set[int] = set()
        self._evicted: list[int] = []
        self.hits = 0
        self.misses = 0

    def record(self, env: int, generation: int) -> None:
        """Note that the process of `generation` issued `env`."""
        with self._lock:
            self._issued[env] = generation
            self._forgotten_envs.discard(env)

    def resolve(
        self, env: CommandResult | int | None, generation: int
    ) -> tuple[int | None, int | None]:
        """(handle, issuing generation if it is known) of an `env` argument.

        A `CommandResult` carries its generation; a bare int is looked up, and one issued before
        the current `generation` raises StaleHandleError.
        """
        if env is None:
            return None, None
        if isinstance(env, CommandResult):
            return env.env, env.generation
        if isinstance(env, bool) or not isinstance(env, int):
            raise TypeError(
                f"env must be a CommandResult, an int or None, not {type(env).__name__}"
            )
        with self._lock:
            issued = self._issued.get(env)
        if issued is not None and issued != generation:
            raise StaleHandleError(
                f"env {env} was issued by Lean process generation {issued}; the server restarted "
                f"since (now generation {generation})"
            )
        return env, None

    # --- freed handles -----------------------------------------------------------------------

    def pinned(self) -> set[int]:
        """The env handles the cache holds (never freed by a handle scope)."""
        with self._lock:
            return {r.env for r in self._cache.values()}

    def mark_forgotten(self, envs: list[int], states: list[int]) -> None:
        with self._lock:
            self._forgotten_envs.update(envs)
            self._forgotten_states.update(states)

    def check_live(self, env: int | None, proof_state: int | None) -> None:
        """Raise StaleHandleError if `env` or `proof_state` (of the current process) was freed."""
        with self._lock:
            dead_env = env is not None and env in self._forgotten_envs
            dead_state = proof_state is not None and proof_state in self._forgotten_states
        if dead_env:
            raise StaleHandleError(f"env {env} was freed (`forget`); use a live environment")
        if dead_state:
            raise StaleHandleError(
                f"proof state {proof_state} was freed (`forget`, after its theorem); start the "
                "proof again"
            )

    def take_evicted(self) -> list[int]:
        """Env handles evicted from the cache since the last call (to be freed in Lean)."""
        with self._lock:
            evicted, self._evicted = self._evicted, []
            return evicted

    # --- the LRU cache -----------------------------------------------------------------------

    def holds(self, key: str, generation: int) -> bool:
        """Whether the cache has `key` from the process of `generation` (no hit is counted)."""
        with self._lock:
            result = self._cache.get(key)
            return result is not None and result.generation == generation

    def cached(self, key: str, generation: int) -> CommandResult | None:
        """The environment cached under `key` if the process of `generation` made it."""
        with self._lock:
            result = self._cache.get(key)
            if result is not None and result.generation == generation:
                self._cache.move_to_end(key)
                self.hits += 1
                return result
            self.misses += 1
            return None

    def remember(self, key: str, result: CommandResult, generation: int) -> None:
        """Cache `result` under `key` if the process of `generation` (the current one) made it;
        the least recently used entry beyond `capacity` is evicted."""
        if result.generation != generation:
            return
        with self._lock:
            self._cache[key] = result
            self._cache.move_to_end(key)
            self._issued[result.env] = result.generation
            while len(self._cache) > self.capacity:
                _, old = self._cache.popitem(last=False)
                if old.env not in {r.env for r in self._cache.values()}:
                    self._evicted.append(old.env)

    def keys(self) -> list[str]:
        """The cached keys, least recently used first."""
        with self._lock:
            return list(self._cache)

    def install(self, entries: dict[str, CommandResult], generation: int) -> None:
        """Replace the cache with `entries` made by the process of `generation` (a standby's
        replayed headers, at a handover)."""
        with self._lock:
            self._cache.clear()
            self._evicted.clear()
            self._forgotten_envs.clear()
            self._forgotten_states.clear()
            for key, result in entries.items():
                if result.generation == generation:
                    self._cache[key] = result
                    self._issued[result.env] = generation

    def clear_cache(self) -> None:
        """Forget the cached environments and freed handles (their process is gone)."""
        with self._lock:
            self._cache.clear()
            self._evicted.clear()
            self._forgotten_envs.clear()
            self._forgotten_states.clear()
