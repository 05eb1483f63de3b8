"""Environment handles of a Lean server: which process generation issued each, and a cache.

Every restart of the REPL process bumps the server's `generation` (supervisor.py); an integer
`env` handle issued by an older generation names nothing (or something else) in the new process,
so `EnvHandles.resolve` raises `StaleHandleError` for it. The cache keeps environments that are
expensive to rebuild (imports, checked preambles) for the life of one process.
"""

from __future__ import annotations

import threading

from leancot.lean.results import CommandResult, StaleHandleError


class EnvHandles:
    """The generation that issued each `env` handle, and environments cached by key; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued: dict[int, int] = {}
        self._cache: dict[str, CommandResult] = {}

    def record(self, env: int, generation: int) -> None:
        """Note that the process of `generation` issued `env`."""
        with self._lock:
            self._issued[env] = generation

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

    def cached(self, key: str, generation: int) -> CommandResult | None:
        """The environment cached under `key` if the process of `generation` made it."""
        with self._lock:
            result = self._cache.get(key)
        if result is not None and result.generation == generation:
            return result
        return None

    def remember(self, key: str, result: CommandResult, generation: int) -> None:
        """Cache `result` under `key` if the process of `generation` (the current one) made it."""
        if result.generation != generation:
            return
        with self._lock:
            self._cache[key] = result
            self._issued[result.env] = result.generation

    def clear_cache(self) -> None:
        """Forget the cached environments (their process is gone)."""
        with self._lock:
            self._cache.clear()
