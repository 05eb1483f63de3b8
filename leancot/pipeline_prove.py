"""`leancot prove` (one method over a theorem list) and `leancot iterate` (self-play rounds).

`prove_main`: theorems from a loader (leancot.prover.benchmarks: the bundled test split by
default, a LeanDojo folder, miniF2F or ProofNet with a native Lean + Mathlib), a policy (the
tactic portfolio, a trained model folder, vLLM or an OpenAI-compatible endpoint), an optional
PRM, budgets and workers (one Lean server each). The search log is resumable; a proof counts
only once `leancot.lean.verify` accepts it on a fresh check.

`iterate_main`: on a finished `leancot run`, each round proves training theorems (with the
current policy, or a teacher's), turns the verified search logs into SFT, PRM and (optionally)
DPO rows (leancot.train.rows), retrains the policy and the PRM from the current ones and proves
the test split again. Every step of a round is a resumable stage (pipeline.run_stage).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from leancot.files import write_jsonl
from leancot.formats import RESULTS_NAME
from leancot.pipeline import (
    METHODS,
    RUN_SUMMARY,
    Notify,
    _quiet,
    fingerprint,
    read_manifest,
    run_stage,
    search_budget,
)

BACKENDS = ("wasm", "native")


def _arg(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class ProveConfig:
    """Settings of `leancot prove`."""

    out: Path = _arg(Path(RESULTS_NAME), "search log to write (resumable)")
    method: str = _arg("best_first", "baseline | best_first | mcts_prm")
    dataset: Path | None = _arg(None, "LeanDojo Benchmark 4 folder (default: bundled corpus)")
    source_root: Path | None = _arg(
        None, "with --dataset: the sources' folder, for file contexts (default: a local: url)"
    )
    minif2f: Path | None = _arg(None, "miniF2F jsonl (needs native Lean with Mathlib)")
    proofnet: Path | None = _arg(None, "ProofNet jsonl (needs native Lean with Mathlib)")
    split: str = _arg("test", "split to prove (train, val, test; miniF2F/ProofNet: valid, test)")
    limit: int | None = _arg(None, "prove at most this many theorems")
    policy: str = _arg("portfolio", "portfolio, or a trained policy folder / hub id (HF)")
    vllm: str | None = _arg(None, "policy model run in-process by vLLM")
    endpoint: str | None = _arg(None, "OpenAI-compatible /v1/completions server of the policy")
    model_name: str | None = _arg(None, "model name to ask the endpoint for")
    prm: str | None = _arg(None, "trained PRM folder (needed by mcts_prm)")
    priority: str = _arg("logprob", "best_first priority: logprob | value | mix (value: PRM)")
    max_lean_calls: int = _arg(64, "Lean calls per theorem")
    max_expansions: int | None = _arg(None, "policy expansions per theorem (default: no limit)")
    tactic_timeout: float = _arg(5.0, "seconds per tactic")
    theorem_timeout: float = _arg(120.0, "wall-clock seconds per theorem")
    workers: int = _arg(1, "parallel searches, one Lean process each")
    backend: str = _arg("wasm", "wasm (embedded Lean) or native (lake/lean on PATH)")
    num_samples: int = _arg(8, "model samples per expansion")
    portfolio_n: int = _arg(16, "portfolio tactics added to the model's per expansion")
    baseline_n: int = _arg(32, "portfolio tactics per expansion when there is no model")
    max_tokens: int = _arg(128, "tokens per sampled step")
    temperature: float = _arg(0.7, "sampling temperature")
    goal_tactics: bool = _arg(
        True, "searches also try tactics unfolding the goal's definitions (never the baseline)"
    )
    device: str | None = _arg(None, "torch device of HF models")
    progress: bool = _arg(True, "progress bar")
    trust_header: bool = _arg(
        False, "run code-running commands of the benchmark's headers (default: refuse them)"
    )

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        sources = [x for x in (self.dataset, self.minif2f, self.proofnet) if x is not None]
        if len(sources) > 1:
            raise ValueError("give at most one of --dataset, --minif2f, --proofnet")
        models = [self.vllm, self.endpoint, None if self.policy == "portfolio" else self.policy]
        if sum(m is not None for m in models) > 1:
            raise ValueError("give one policy: a model folder, --vllm MODEL or --endpoint URL")
        if self.endpoint is not None and not self.model_name:
            raise ValueError("--endpoint needs --model-name (the served model's name)")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {self.backend!r}")
        if self.workers < 1 or self.max_lean_calls < 1:
            raise ValueError("workers and max_lean_calls must be positive")

    def budget(self) -> Any:
        return search_budget(
            self.max_lean_calls, self.tactic_timeout, self.theorem_timeout, self.max_expansions
        )


@dataclass(frozen=True)
class ProveResult:
    out: Path
    attempted: int
    counts: dict[str, Any]  # pipeline_steps.log_counts of the whole log


def load_theorems(config: ProveConfig) -> list[Any]:
    """The theorems `config` names (benchmarks.py loaders), `limit` applied."""
    from leancot.prover import benchmarks as bm

    if config.minif2f is not None:
        thms = bm.load_minif2f(config.minif2f, config.split, backend=config.backend)
    elif config.proofnet is not None:
        thms = bm.load_proofnet(config.proofnet, config.split, backend=config.backend)
    elif config.dataset is not None:
        thms = bm.load_leandojo_split(config.dataset, config.split, source_root=config.source_root)
    else:
        thms = bm.load_bundled(config.split)
    return thms[: config.limit] if config.limit is not None else thms


def make_backend(name: str) -> Any:
    from leancot.lean.backends import native_backend, wasm_backend

    return wasm_backend() if name == "wasm" else native_backend()


def policy_model(config: ProveConfig) -> Any:
    """The scoring-API policy `config` names, None for the portfolio."""
    from leancot.models import hf, scoring

    if config.vllm is not None:
        return scoring.VLLMPolicy(config.vllm)
    if config.endpoint is not None:
        return scoring.HTTPPolicy(config.endpoint, config.model_name or "")
    if config.policy != "portfolio" and config.method != "baseline":
        return hf.HFPolicy(config.policy, device=config.device)
    return None


def prove_main(config: ProveConfig, *, notify: Notify = _quiet) -> ProveResult:
    """Prove the configured theorems with one method; see the module docstring."""
    from leancot.lean.pool import LeanPool
    from leancot.pipeline_search import prove_theorems, search_options, search_setup
    from leancot.pipeline_steps import log_counts

    theorems = load_theorems(config)
    if not theorems:
        raise ValueError("no theorems to prove (check the split and --limit)")
    notify(f"prove: {len(theorems)} theorems, method {config.method}")
    model = policy_model(config)
    prm = None
    if config.prm is not None and config.method != "baseline":
        from leancot.models.hf import HFPRM

        prm = HFPRM(config.prm, device=config.device)
    policy, value, kwargs = search_setup(
        config.method, model=model, prm=prm, **search_options(config)
    )
    notify(f"prove: starting {config.workers} Lean process(es) ({config.backend})")
    timeout = max(600.0, config.theorem_timeout)
    with LeanPool(make_backend(config.backend), config.workers, request_timeout=timeout) as pool:
        summary = prove_theorems(
            theorems,
            pool.servers,
            method=config.method,
            policy=policy,
            out_path=config.out,
            budget=config.budget(),
            value=value,
            search_kwargs=kwargs,
            progress=config.progress,
            trust_header=config.trust_header,
        )
    return ProveResult(Path(config.out), summary.attempted, log_counts(Path(config.out)))


# --- iterate -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IterateConfig:
    """Settings of `leancot iterate` (on top of a finished `leancot run`)."""

    run_dir: Path = _arg(Path("runs/default"), "a finished `leancot run` folder")
    rounds: int = _arg(2, "self-play rounds")
    method: str = _arg("best_first", "search used in every round: best_first | mcts_prm")
    train_limit: int = _arg(48, "training theorems proved per round (a new sample each round)")
    train_set: Path | None = _arg(None, "LeanDojo folder whose train split is proved instead")
    teacher: str | None = _arg(None, "policy folder / hub id that proves the training theorems")
    sft_steps: int = _arg(100, "policy SFT steps per round (from the current policy)")
    prm_steps: int = _arg(100, "PRM steps per round (from the current PRM)")
    dpo: bool = _arg(False, "also DPO-tune the policy on the search siblings")
    dpo_steps: int = _arg(50, "DPO steps per round")
    learning_rate: float = _arg(5e-4, "learning rate of the round's fine-tuning")
    lean_calls: int = _arg(64, "Lean calls per theorem")
    tactic_timeout: float = _arg(5.0, "seconds per tactic")
    theorem_timeout: float = _arg(60.0, "wall-clock seconds per theorem")
    test_limit: int | None = _arg(None, "prove at most this many test theorems")
    seed: int = _arg(0, "random seed")
    progress: bool = _arg(True, "progress bars")

    def __post_init__(self) -> None:
        if self.method not in ("best_first", "mcts_prm"):
            raise ValueError(f"iterate searches with best_first or mcts_prm, not {self.method!r}")
        if self.rounds < 1 or self.train_limit < 1:
            raise ValueError("rounds and train_limit must be positive")

    def budget(self) -> Any:
        return search_budget(self.lean_calls, self.tactic_timeout, self.theorem_timeout)


@dataclass(frozen=True)
class RoundRow:
    round: int
    policy: str
    train_proved: int | None
    train_total: int | None
    test_proved: int
    test_total: int
    sft_rows: int | None
    prm_rows: int | None
    dpo_pairs: int | None


def verified_only(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Search logs for training: proofs `verify` rejected are demoted to failed attempts (no
    proof), and attempts whose statement gave no proof state (no graph) are dropped."""
    out = []
    for r in records:
        if r.get("root") is None or not r.get("nodes"):
            continue
        if r.get("proved") and not r.get("verified"):
            r = {**r, "proved": False, "proof": None}
        out.append(r)
    return out


def iterate_main(config: IterateConfig, *, notify: Notify = _quiet) -> list[RoundRow]:
    """Run (or resume) the rounds; one row per round, round 0 being the `leancot run` result."""
    from leancot import pipeline_steps as st
    from leancot.pipeline import LazyLean, RunConfig

    run_dir = Path(config.run_dir)
    saved = json.loads((run_dir / "report" / RUN_SUMMARY).read_text(encoding="utf-8"))
    run_cfg = RunConfig(**{**saved["config"], "run_dir": run_dir})
    for stage in ("extract", "cot", "policy", "negatives", "prm"):
        if read_manifest(run_dir / stage) is None:
            raise ValueError(f"{run_dir}/{stage} is not finished: run `leancot run` first")
    first = read_manifest(run_dir / "prove" / config.method)
    rows = [
        RoundRow(0, str(run_dir / "policy"), None, None, *_test_counts(first), None, None, None)
    ]
    lean = LazyLean(lambda: make_backend("wasm"), request_timeout=600.0)
    policy_dir, prm_dir = run_dir / "policy", run_dir / "prm"
    logs: list[str] = []
    prev = fingerprint([config.method, str(run_dir), (first or {}).get("key")])
    try:
        for r in range(1, config.rounds + 1):
            out = _round(r, config, run_cfg, policy_dir, prm_dir, logs, prev, lean, notify, st)
            row, policy_dir, prm_dir, prev = out
            rows.append(row)
            notify(
                f"round {r}: test {row.test_proved}/{row.test_total}, "
                f"train {row.train_proved}/{row.train_total}"
            )
    finally:
        lean.close()
    return rows


def _test_counts(manifest: dict[str, Any] | None) -> tuple[int, int]:
    outputs = (manifest or {}).get("outputs", {})
    return int(outputs.get("proved", 0)), int(outputs.get("total", 0))


def _round(
    r: int,
    config: IterateConfig,
    run_cfg: Any,
    policy_dir: Path,
    prm_dir: Path,
    logs: list[str],
    prev: str,
    lean: Any,
    notify: Notify,
    st: Any,
) -> tuple[RoundRow, Path, Path, str]:
    from leancot.models.hf import HFPRM, HFPolicy
    from leancot.pipeline import source_root
    from leancot.pipeline_search import prove_theorems, search_options, search_setup
    from leancot.prover.benchmarks import load_leandojo_split
    from leancot.prover.runner import read_log
    from leancot.train import dpo, policy, prm, rows

    run_dir = Path(config.run_dir)
    d = run_dir / "iterate" / f"round{r}"
    root = source_root(run_cfg)
    dataset = config.train_set or (run_dir / "extract" / st.DATASET)
    budget = config.budget()
    steps = str(run_dir / "cot" / st.STEPS_FILE)
    negs = str(run_dir / "negatives" / st.NEGATIVES_FILE)

    def prove(out: Path, theorems: list[Any], model_dir: str, prm_path: Path) -> dict[str, Any]:
        model = HFPolicy(model_dir, device=run_cfg.device)
        value_model = HFPRM(str(prm_path), device=run_cfg.device)
        pol, value, kwargs = search_setup(
            config.method, model=model, prm=value_model, **search_options(run_cfg)
        )
        prove_theorems(
            theorems, [lean.get()], method=config.method, policy=pol, out_path=out,
            budget=budget, value=value, search_kwargs=kwargs, progress=config.progress,
        )  # fmt: skip
        return st.log_counts(out)

    def prove_train(sd: Path) -> dict[str, Any]:
        pool = load_leandojo_split(dataset, "train", source_root=root, source="bundled")
        rng = random.Random(config.seed * 1000 + r)
        theorems = rng.sample(pool, min(config.train_limit, len(pool)))
        prover = config.teacher or str(policy_dir)
        counts = prove(sd / "train.jsonl", theorems, prover, prm_dir)
        verified = verified_only(read_log(sd / "train.jsonl"))
        write_jsonl(sd / "train_verified.jsonl", verified)
        all_logs = [x for p in [*logs, str(sd / "train_verified.jsonl")] for x in read_log(p)]
        return {
            **counts,
            "prover": prover,
            "sft_rows": len(rows.sft_rows_from_search_logs(all_logs)),
            "prm_rows": len(rows.prm_rows_from_search_logs(all_logs)),
            "dpo_pairs": len(rows.dpo_pairs_from_search_logs(all_logs)),
        }

    key = fingerprint([prev, config.teacher, config.train_limit, str(dataset), config.seed])
    train = run_stage(f"round {r}: prove train", d / "prove_train", key, prove_train, notify)
    logs.append(str(train.path / "train_verified.jsonl"))
    common = {
        "learning_rate": config.learning_rate,
        "batch_size": run_cfg.batch_size,
        "save_total_limit": 1,
        "seed": config.seed,
        "progress": config.progress,
        "eval_split": None,
    }

    def train_policy(sd: Path) -> dict[str, Any]:
        cfg = policy.PolicyConfig(
            data=[steps, *logs], model=str(policy_dir), output_dir=str(sd),
            max_steps=config.sft_steps, save_steps=config.sft_steps, **common,
        )  # fmt: skip
        return {"metrics": st._numbers(policy.main(cfg).metrics)}

    key = fingerprint([train.key, config.sft_steps, config.learning_rate])
    new_policy = run_stage(f"round {r}: policy", d / "policy", key, train_policy, notify)
    policy_path = new_policy.path

    if config.dpo:

        def train_dpo(sd: Path) -> dict[str, Any]:
            cfg = dpo.DPOTrainConfig(
                data=list(logs), model=str(policy_path), output_dir=str(sd),
                max_steps=config.dpo_steps, save_steps=config.dpo_steps, **common,
            )  # fmt: skip
            try:
                return {"metrics": st._numbers(dpo.main(cfg).metrics)}
            except ValueError as exc:  # no pairs yet: keep the SFT policy
                return {"skipped": str(exc)}

        key = fingerprint([new_policy.key, config.dpo_steps])
        tuned = run_stage(f"round {r}: dpo", d / "dpo", key, train_dpo, notify)
        if "skipped" not in tuned.outputs:
            policy_path = tuned.path

    def train_prm(sd: Path) -> dict[str, Any]:
        cfg = prm.PRMTrainConfig(
            data=[steps, negs, *logs], model=str(prm_dir), output_dir=str(sd),
            max_steps=config.prm_steps, save_steps=config.prm_steps, **common,
        )  # fmt: skip
        return {"metrics": st._numbers(prm.main(cfg).metrics)}

    key = fingerprint([train.key, config.prm_steps, config.learning_rate])
    new_prm = run_stage(f"round {r}: prm", d / "prm", key, train_prm, notify)

    def prove_test(sd: Path) -> dict[str, Any]:
        thms = st.test_theorems(run_dir / "extract", root, config.test_limit)
        return prove(sd / "test.jsonl", thms, str(policy_path), new_prm.path)

    key = fingerprint([new_policy.key, new_prm.key, str(policy_path), config.test_limit])
    test = run_stage(f"round {r}: prove test", d / "prove_test", key, prove_test, notify)
    row = RoundRow(
        round=r,
        policy=str(policy_path),
        train_proved=train.outputs["proved"],
        train_total=train.outputs["total"],
        test_proved=test.outputs["proved"],
        test_total=test.outputs["total"],
        sft_rows=train.outputs["sft_rows"],
        prm_rows=train.outputs["prm_rows"],
        dpo_pairs=train.outputs["dpo_pairs"],
    )
    return row, policy_path, new_prm.path, test.key
