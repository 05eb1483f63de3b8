"""`leancot train grpo`: the statements, their initial states and the Lean servers for
`leancot.train.grpo` (which sits below the prover and knows nothing of benchmarks).

Statements come from a named benchmark's split (`prover.suites.load_suite`: `bundled` by
default, `core`, `minif2f-core`, ...) or, when DATA folders are given, from the `.lean` files in
them (split by a hash of the theorem name, as the bundled corpus). Each statement's initial goal,
pretty-printed by Lean in its header's environment, is its prompt; a statement Lean cannot start
is left out and counted. With `--retriever` (a `leancot train retriever` folder or bm25) the
prompt shows the premises retrieved at that state, built as the SFT/DPO rows' and the prover's
(`models.prompts.format_state_prompt` with `TheoremPremises.texts(state)`, the theorem's banned
names left out), so GRPO tunes the policy on the prompts it is trained and searched with.
Rewards are checked by `leancot.lean.verify` on a `LeanPool` of
`lean_workers` servers, and a restated core lemma's proof may not use the lemma itself
(`prover.core_lemmas.forbid_source_lemmas`), as in `leancot prove`.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from leancot.options import option
from leancot.pipeline.stages import Notify, quiet
from leancot.prover.suites import SUITES
from leancot.train.grpo import GRPOTrainConfig
from leancot.train.runner import TrainResult


@dataclass
class GRPORunConfig(GRPOTrainConfig):
    """`leancot train grpo`: GRPOTrainConfig plus where the statements and Lean come from."""

    data: list[str] = option(
        [], "folders of .lean files whose theorems are the prompts (default: --benchmark)"
    )
    benchmark: str = option(
        "bundled", "named benchmark whose --split gives the statements", choices=SUITES
    )
    minif2f: str | None = option(None, "with --benchmark minif2f-core: its jsonl file")
    limit: int | None = option(None, "train on at most this many statements (the first)")
    backend: str = option("wasm", "wasm (embedded Lean) or native (lake/lean on PATH)")
    start_timeout: float = option(60.0, "seconds Lean may take to state one theorem")
    retriever: str | None = option(
        None,
        "premise retriever whose premises the prompts show (a `leancot train retriever` folder "
        "or bm25; default: none, the state alone)",
    )
    retriever_k: int = option(8, "premises retrieved per prompt (with --retriever)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.benchmark not in SUITES:
            raise ValueError(f"`benchmark` must be one of {SUITES}, not {self.benchmark!r}")
        if self.backend not in ("wasm", "native"):
            raise ValueError(f"`backend` must be wasm or native, not {self.backend!r}")
        if self.limit is not None and self.limit < 1:
            raise ValueError("`limit` must be positive")
        if self.retriever_k < 1:
            raise ValueError("`retriever_k` must be positive")


def load_statements(config: GRPORunConfig, server: Any, split: str, limit: int | None) -> list[Any]:
    """The first `limit` theorems of `split`: from the DATA folders, or from the benchmark."""
    from leancot.prover.benchmarks import load_bundled
    from leancot.prover.suites import load_suite

    if config.data:
        theorems = [t for d in config.data for t in load_bundled(split, corpus_dir=d)]
        return theorems[:limit] if limit is not None else theorems
    theorems, _ = load_suite(
        config.benchmark, split, server=server, path=config.minif2f, limit=limit
    )
    return theorems


def initial_prompts(
    theorems: Sequence[Any],
    server: Any,
    timeout: float,
    notify: Notify = quiet,
    premises: Any = None,
) -> tuple[list[dict[str, str]], Counter[str]]:
    """GRPO prompt rows (`train.grpo.PROMPT_COLUMNS`) of the theorems Lean can start, and why
    the others were left out (each theorem's header is elaborated first: `notify` hears every
    50 theorems). `premises` (a `prover.retrieval.PremiseSource`): each prompt shows the
    premises retrieved at the initial state, as the SFT rows and the searches do."""
    from leancot.lean.results import TacticState
    from leancot.models.prompts import format_state_prompt
    from leancot.prover.lean_env import LeanEnv

    rows, dropped = [], Counter[str]()
    for i, theorem in enumerate(theorems, 1):
        if i % 50 == 0:
            notify(f"grpo: stating theorem {i} of {len(theorems)}")
        start = LeanEnv(server, theorem.header).start(theorem.statement, timeout)
        if not isinstance(start, TacticState):
            dropped[type(start).__name__] += 1
            continue
        shown = premises.for_theorem(theorem).texts(start.pp) if premises is not None else ()
        rows.append(
            {
                "prompt": format_state_prompt(start.pp, shown),
                "statement": theorem.statement,
                "header": theorem.header,
                "full_name": theorem.full_name,
            }
        )
    return rows, dropped


def guarded_check(theorems: Sequence[Any], timeout: float) -> Any:
    """`check(server, statement, proof, header)`: `lean_reward.lean_check`, refusing a restated
    core lemma's proof that uses the lemma."""
    from leancot.prover.core_lemmas import forbid_source_lemmas
    from leancot.train.lean_reward import lean_check

    base = lean_check(timeout)
    local = threading.local()  # the server of the pool thread that asks
    guarded = forbid_source_lemmas(lambda s, p, h: base(local.server, s, p, h), theorems)

    def check(server: Any, statement: str, proof: str, header: str) -> Any:
        local.server = server
        return guarded(statement, proof, header)

    return check


def main(
    config: GRPORunConfig, *, notify: Notify = quiet, servers: Sequence[Any] | None = None
) -> TrainResult:
    """Load the statements, state them in Lean, run GRPO (`train.grpo.main`). `servers`: running
    Lean servers to use instead of starting `config.lean_workers` new ones."""
    from leancot.lean.pool import LeanPool
    from leancot.pipeline.prove import make_backend
    from leancot.train import grpo

    with contextlib.ExitStack() as stack:
        if servers is None:
            notify(f"grpo: starting {config.lean_workers} Lean process(es) ({config.backend})")
            backend = make_backend(config.backend)
            timeout = max(600.0, config.verify_timeout, config.start_timeout)
            pool = LeanPool(backend, config.lean_workers, request_timeout=timeout)
            stack.enter_context(pool)
        else:
            pool = LeanPool.from_servers(servers)
        server = pool.servers[0]
        theorems = load_statements(config, server, config.split, config.limit)
        held_out: list[Any] = []
        if config.eval_split is not None:
            held_out = load_statements(config, server, config.eval_split, config.eval_max_rows)
        premises = None
        if config.retriever is not None:
            from leancot.prover.retrieval import premise_source

            notify(f"grpo: premises from {config.retriever} (k={config.retriever_k})")
            premises = premise_source(
                config.retriever, server, [*theorems, *held_out], config.retriever_k
            )
        start = config.start_timeout
        prompts, dropped = initial_prompts(theorems, server, start, notify, premises)
        source = ", ".join(config.data) if config.data else config.benchmark
        notify(
            f"grpo: {len(prompts)} of {len(theorems)} {config.split} statements of {source} "
            f"(not started: {dict(dropped) or 'none'})"
        )
        if not prompts:
            raise ValueError(f"no statements to train on in split {config.split!r} of {source}")
        eval_prompts: list[dict[str, str]] = []
        if config.eval_split is not None:
            eval_prompts, _ = initial_prompts(held_out, server, start, quiet, premises)
            notify(f"grpo: {len(eval_prompts)} held-out {config.eval_split} statements")
        return grpo.main(
            config,
            prompts,
            pool,
            check=guarded_check([*theorems, *held_out], config.verify_timeout),
            extra_metrics={"statements": len(theorems), "statements_not_started": dict(dropped)},
            eval_prompts=eval_prompts,
        )


__all__ = ["GRPORunConfig", "guarded_check", "initial_prompts", "load_statements", "main"]
