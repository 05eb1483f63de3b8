"""Prove theorems on several machines with Ray: one actor per Lean environment.

`prove_all_ray` is `runner.prove_all` with Ray actors in place of threads. Each actor makes its
own environment (`make_env()`, e.g. a `LeanEnv` on a `LeanServer` running
`lean_project/LeanCot/Repl.lean`) and searches whole theorems; the driver hands out one theorem
per idle actor and appends each finished search to the same search log, with the same skip,
resume and verification rules as `prove_all`. Ray is the `distributed` extra and is imported
only when a run starts.

What travels to the actors is pickled by Ray: `make_env`, the policy, the value function and
`verify` (or `make_verify`) must pickle, so build processes and models inside the factories or
reach them over the network (an HTTP policy), and install leancot on every node.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from leancot.prover.budget import DEFAULT_BUDGET, Budget, Env
from leancot.prover.policies import ProposeFn, TacticPolicy, ValueCall, ValueFn
from leancot.prover.runner import attempt, check_run, close_env, search_arguments
from leancot.prover.search_log import Record, RunSummary, SearchLogWriter, pending

logger = logging.getLogger(__name__)

Verify = Callable[[str, str], object]


class RemoteSearchError(RuntimeError):
    """A search raised inside a Ray actor (the message is the remote exception's)."""


def import_ray() -> Any:
    """The `ray` module, or a ModuleNotFoundError that says how to install it."""
    try:
        import ray
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "distributed proving needs Ray: pip install 'leancot[distributed]'", name="ray"
        ) from exc
    return ray


class ProverWorker:
    """The body of one Ray actor: an environment of its own and whole-theorem searches."""

    def __init__(
        self,
        make_env: Callable[[], Env],
        method: str,
        verify: Verify | None,
        make_verify: Callable[[Env], Verify] | None,
        search_kwargs: Mapping[str, Any],
    ) -> None:
        self.env = make_env()
        if verify is None:
            if make_verify is None:
                raise ValueError("give exactly one of verify=... and make_verify=...")
            verify = make_verify(self.env)
        self.verify = verify
        self.method = method
        self.search_kwargs = search_kwargs

    def prove(self, theorem: Mapping[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """(search-log record, None), or (None, why) when the search raised."""
        try:
            return attempt(theorem, self.env, self.method, self.verify, self.search_kwargs), None
        except Exception as e:
            logger.exception("searching %s failed", theorem.get("full_name"))
            return None, f"{type(e).__name__}: {e}"

    def close(self) -> None:
        close_env(self.env)


def prove_all_ray(
    theorems: Iterable[Mapping[str, Any]],
    make_env: Callable[[], Env],
    *,
    num_workers: int,
    method: str,
    policy: TacticPolicy | ProposeFn,
    out_path: str | Path,
    verify: Verify | None = None,
    make_verify: Callable[[Env], Verify] | None = None,
    value: ValueFn | ValueCall | None = None,
    budget: Budget = DEFAULT_BUDGET,
    search_kwargs: Mapping[str, Any] | None = None,
    address: str | None = None,
    init_kwargs: Mapping[str, Any] | None = None,
    actor_options: Mapping[str, Any] | None = None,
    progress: bool = True,
) -> RunSummary:
    """Search each theorem not yet in `out_path` on `num_workers` Ray actors.

    Like `runner.prove_all`, with `verify(statement, proof)` shipped to the actors, or
    `make_verify(env)` called in each actor to check proofs with that actor's Lean (give one).
    Ray is started with `ray.init(address=address, **init_kwargs)` unless it already runs
    (`address="auto"` joins a running cluster) and shut down again afterwards if started here.
    `actor_options` go to `.options()` of the actor class (default `num_cpus=1`: one Lean
    process per core). An actor that dies is retired and its theorem retried once on another;
    with no actor left a `RuntimeError` is raised (what finished is in the log).
    """
    check_run(method, value, num_workers, "num_workers")
    if (verify is None) == (make_verify is None):
        raise ValueError("give exactly one of verify=... and make_verify=...")
    t0 = time.perf_counter()
    total, todo = pending(theorems, out_path, method)
    kwargs = search_arguments(policy, budget, value, search_kwargs)
    log = SearchLogWriter(out_path, todo=len(todo), desc=f"prove[{method}] ray", progress=progress)
    if todo:
        ray = import_ray()
        with log:
            _run_actors(
                ray,
                todo,
                log.record,
                (make_env, method, verify, make_verify, kwargs),
                min(num_workers, len(todo)),
                address,
                dict(init_kwargs or {}),
                {"num_cpus": 1, **(actor_options or {})},
            )
    return log.summary(total, total - len(todo), t0)


def _run_actors(
    ray: Any,
    todo: list[Mapping[str, Any]],
    record: Record,
    worker_args: tuple[Any, ...],
    num_actors: int,
    address: str | None,
    init_kwargs: dict[str, Any],
    actor_options: dict[str, Any],
) -> None:
    started_ray = not ray.is_initialized()
    if started_ray:
        ray.init(address=address, **init_kwargs)
    actors: list[Any] = []
    try:
        actor_class = ray.remote(ProverWorker).options(**actor_options)
        actors = [actor_class.remote(*worker_args) for _ in range(num_actors)]
        _dispatch(ray, actors, deque(todo), record)
    finally:
        for actor in actors:
            _stop(ray, actor)
        if started_ray:
            ray.shutdown()


def _dispatch(
    ray: Any,
    actors: list[Any],
    queue: deque[Mapping[str, Any]],
    record: Record,
) -> None:
    """Keep every live actor busy with one theorem until the queue is empty."""
    idle = deque(actors)
    in_flight: dict[Any, tuple[Any, Mapping[str, Any]]] = {}
    retried: set[str] = set()
    last_error: BaseException | None = None
    while True:
        while queue and idle:
            actor, thm = idle.popleft(), queue.popleft()
            in_flight[actor.prove.remote(thm)] = (actor, thm)
        if not in_flight:
            break
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        actor, thm = in_flight.pop(ready[0])
        try:
            rec, why = ray.get(ready[0])
        except Exception as e:  # the actor died or never started: retire it
            last_error = e
            logger.warning("a Ray prover actor failed on %s: %s", thm["full_name"], e)
            actors.remove(actor)
            _stop(ray, actor)
            if thm["full_name"] in retried:
                record(thm, None, e)
            else:
                retried.add(thm["full_name"])
                queue.appendleft(thm)
            if not actors and queue:
                raise RuntimeError(
                    f"no Ray prover actor is left; {len(queue)} theorems were not attempted "
                    "(rerun to resume)"
                ) from last_error
            continue
        record(thm, rec, None if why is None else RemoteSearchError(why))
        idle.append(actor)


CLOSE_TIMEOUT_S = 30.0


def _stop(ray: Any, actor: Any) -> None:
    """Close the actor's environment if it still answers soon, then kill it."""
    try:
        ray.get(actor.close.remote(), timeout=CLOSE_TIMEOUT_S)
    except Exception:  # already dead: nothing to close
        pass
    try:
        ray.kill(actor)
    except Exception:
        pass
