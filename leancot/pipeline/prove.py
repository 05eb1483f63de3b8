"""`leancot prove`: one search method over a theorem list.

Theorems from a loader (leancot.prover.benchmarks: the bundled test split by default, a
LeanDojo folder, miniF2F or ProofNet with a native Lean + Mathlib), a policy (the tactic
portfolio, a trained model folder, vLLM or an OpenAI-compatible endpoint), an optional PRM, the
shared search and budget settings, and workers (one Lean server each: threads here, or Ray
actors with `--ray ADDRESS`, each starting its own Lean on its node). The search log is
resumable; a proof counts only once `leancot.lean.verify` accepts it on a fresh check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leancot.files import write_json
from leancot.lean.backends import native_backend, wasm_backend
from leancot.pipeline.config import ProveConfig
from leancot.pipeline.stages import Notify, quiet
from leancot.prover.config import FIXED_METHODS

BACKENDS = {"wasm": wasm_backend, "native": native_backend}  # module functions: they pickle


@dataclass(frozen=True)
class ProveResult:
    out: Path
    attempted: int
    counts: dict[str, Any]  # steps.log_counts of the whole log
    suite: dict[str, Any]  # what a named benchmark's filters dropped ({} for a file)


def load_theorems(config: ProveConfig, server: Any = None) -> tuple[list[Any], dict[str, Any]]:
    """The theorems `config` names (a named suite or a file loader), `limit` applied, and what
    the suite's filters dropped (`SuiteReport.as_dict`; {} for a file)."""
    from leancot.prover import benchmarks as bm
    from leancot.prover.suites import load_suite

    if config.benchmark is not None:
        thms, report = load_suite(
            config.benchmark, config.split, server=server, path=config.minif2f, limit=config.limit
        )
        return thms, report.as_dict()
    if config.minif2f is not None:
        thms = bm.load_minif2f(config.minif2f, config.split, backend=config.backend)
    elif config.proofnet is not None:
        thms = bm.load_proofnet(config.proofnet, config.split, backend=config.backend)
    elif config.dataset is not None:
        thms = bm.load_leandojo_split(config.dataset, config.split, source_root=config.source_root)
    else:
        thms = bm.load_bundled(config.split)
    return (thms[: config.limit] if config.limit is not None else thms), {}


def make_backend(name: str) -> Any:
    return BACKENDS[name]()


def needs_lean_to_load(config: ProveConfig) -> bool:
    """Whether loading the theorems asks Lean (the named suites that filter by elaborating, or
    the library premises of a retriever)."""
    return retrieves_premises(config) or config.benchmark in ("minif2f-core", "core")


def retrieves_premises(config: ProveConfig) -> bool:
    """Whether the search uses a premise retriever: every method but the plain `baseline`
    (`heuristic` adds the premise tactics to its own), when `--retriever` is given."""
    return config.search.retriever is not None and config.method != "baseline"


def policy_model(config: ProveConfig) -> Any:
    """The scoring-API policy `config` names, None for the portfolio."""
    from leancot.models import hf, scoring

    if config.method in FIXED_METHODS:
        return None
    if config.vllm is not None:
        return scoring.VLLMPolicy(config.vllm)
    if config.endpoint is not None:
        return scoring.HTTPPolicy(config.endpoint, config.model_name or "")
    if config.policy != "portfolio":
        return hf.HFPolicy(config.policy, device=config.device)
    return None


def main(
    config: ProveConfig, *, notify: Notify = quiet, servers: Sequence[Any] | None = None
) -> ProveResult:
    """Prove the configured theorems with one method; see the module docstring. `servers`:
    running Lean servers to use instead of starting `config.workers` new ones."""
    from leancot.pipeline.steps import log_counts
    from leancot.prover.mixture import search_setup
    from leancot.prover.retrieval import premise_source
    from leancot.prover.workers import prove_theorems, prove_theorems_ray

    model = policy_model(config)
    prm = None
    if config.prm is not None and config.method not in FIXED_METHODS:
        from leancot.prover.outcome_value import load_value_model

        prm = load_value_model(config.prm, device=config.device)  # a PRM, or a state value
    timeout = max(600.0, config.budget.theorem_timeout)
    with contextlib.ExitStack() as stack:
        if servers is None and (config.ray is None or needs_lean_to_load(config)):
            n = 1 if config.ray is not None else config.workers
            notify(f"prove: starting {n} Lean process(es) ({config.backend})")
            servers = start_servers(stack, config.backend, n, timeout, standby=config.standby)
        theorems, suite = load_theorems(config, servers[0] if servers else None)
        if not theorems:
            raise ValueError("no theorems to prove (check the split and --limit)")
        if suite:
            write_json(suite_report_path(Path(config.out)), suite)
            notify(f"prove: {config.benchmark}: {suite['kept']} of {suite['candidates']} kept, "
                   f"dropped {suite['dropped'] or 'none'}")  # fmt: skip
        premises = None
        if retrieves_premises(config):
            notify(f"prove: premise retriever {config.search.retriever}")
            premises = premise_source(
                config.search.retriever, servers[0], theorems, config.search.retriever_k,
                roots=config.search.premise_roots,
            )  # fmt: skip
        policy, value, kwargs = search_setup(
            config.method, config.search, model=model, prm=prm, premises=premises
        )
        notify(f"prove: {len(theorems)} theorems, method {config.method}")
        common = {
            "method": config.method,
            "policy": policy,
            "out_path": config.out,
            "budget": config.budget.budget(),
            "value": value,
            "search_kwargs": kwargs,
            "progress": config.progress,
            "trust_header": config.trust_header,
        }
        if config.ray is not None:
            stack.close()  # the loading Lean is not needed while the actors prove
            notify(f"prove: {config.workers} Ray actor(s), one Lean each, at {config.ray}")
            summary = prove_theorems_ray(
                theorems,
                BACKENDS[config.backend],
                num_workers=config.workers,
                address=config.ray,
                request_timeout=timeout,
                **common,
            )
        else:
            assert servers is not None
            summary = prove_theorems(theorems, servers, **common)
    counts = log_counts(Path(config.out))
    return ProveResult(Path(config.out), summary.attempted, counts, suite)


def start_servers(
    stack: contextlib.ExitStack,
    backend: str,
    workers: int,
    timeout: float,
    *,
    standby: bool = False,
) -> Sequence[Any]:
    """`workers` Lean servers of `backend` (each with a standby process if `standby`), closed
    when `stack` closes."""
    from leancot.lean.pool import LeanPool

    pool = LeanPool(make_backend(backend), workers, request_timeout=timeout, standby=standby)
    return stack.enter_context(pool).servers


def suite_report_path(out: Path) -> Path:
    """Where `prove` records what a named benchmark's filters dropped: `<out>.suite.json`."""
    return out.with_name(out.name + ".suite.json")
