"""The external evaluation: every method on named benchmarks, several seeds, pass-vs-budget.

For each benchmark split (`core` val/test, `minif2f-core` valid/test, `bundled` test) and each
method (`baseline`, `heuristic`, `best_first`, `best_first_value`, `mcts_prm`), `leancot prove`
runs with the models
of a finished `leancot run` at the largest budget of `budgets`; the fixed methods once (they are
deterministic), the learned ones at each of `seeds` (the policy's `sampling_seed`). A proof
counts within budget `b` when it was verified after at most `b` Lean calls, so one run at the
largest budget gives the whole pass-versus-budget curve. Logs live under `out_dir` and resume.

`best_first` is best-first without a value (priority: the policy's cumulative log-probability);
`best_first_value` is the same search ranked by the PRM's value (`--priority value`), so the
curves of `mcts_prm` and `best_first_value` against `best_first` show what the value saves.

What was tuned where: the models were trained on the bundled corpus' train split; the search
settings are leancot's defaults (chosen on the bundled corpus); `minif2f-core` valid is the split
to tune on, its test split and `core` are reported only.
"""

from __future__ import annotations

import contextlib
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from leancot.files import write_json
from leancot.options import option
from leancot.pipeline.config import ProveConfig
from leancot.pipeline.stages import Notify, quiet
from leancot.prover.config import FIXED_METHODS, METHODS, BudgetConfig, SearchConfig

DEFAULT_SPLITS = (
    "core:val",
    "core:test",
    "minif2f-core:valid",
    "minif2f-core:test",
    "bundled:test",
)
BUDGETS = (8, 16, 32, 64, 128)
VALUE_METHODS = {"best_first_value": "best_first"}  # a method ranked by the PRM: its search
EXTERNAL_METHODS = (*METHODS[:3], "best_first_value", *METHODS[3:])
SUMMARY_NAME = "external.json"
SUMMARY_SEARCH_FIELDS = (  # the search settings external.json records
    "step_values", "value_prior_weight", "c_puct", "root_breadth", "sample_logprob_scale",
)  # fmt: skip
TUNED_ON = "models: bundled train split; search settings: leancot defaults (bundled)"
TUNED_ON_MODEL_DIRS = "models: as each folder's manifests say; search settings: as recorded here"


@dataclass(frozen=True)
class ExternalConfig:
    """Settings of the external evaluation (`benchmarks/prover.py --suite external`)."""

    run_dir: Path = option(Path("runs/default"), "a finished `leancot run`: its policy/ and prm/")
    model_dirs: tuple[Path, ...] = option(
        (),
        "one folder with policy/ and prm/ per seed (e.g. each self-play replicate's last "
        "round): the learned methods at seeds[i] use model_dirs[i] (empty: run_dir's for all)",
    )
    out_dir: Path = option(Path("runs/external"), "where the search logs and the summary go")
    splits: tuple[str, ...] = option(DEFAULT_SPLITS, "benchmark:split pairs to prove")
    methods: tuple[str, ...] = option(
        EXTERNAL_METHODS,
        "methods to compare (best_first: no value; best_first_value: ranked by the PRM)",
    )
    seeds: tuple[int, ...] = option((0, 1, 2), "sampling seeds of the learned methods")
    budgets: tuple[int, ...] = option(BUDGETS, "Lean-call budgets of the pass curves")
    report_budget: int = option(64, "the budget the `proved` counts are taken at")
    limit: int | None = option(None, "at most this many theorems per split")
    core_limit: int = option(500, "`core` splits: this many statements (a seeded hash sample)")
    workers: int = option(2, "parallel searches, one Lean process each")
    theorem_timeout: float = option(120.0, "wall-clock seconds per theorem")
    value: Path | None = option(
        None,
        "value of mcts_prm and best_first_value: a `leancot train value` folder (outcome "
        "value) instead of RUN_DIR/prm (none: the run's PRM)",
    )
    search: SearchConfig = option(
        SearchConfig(),
        "search settings of every method (the retriever reaches heuristic too); each search "
        "takes its seed as sampling_seed, and best_first_value ranks by value",
    )
    progress: bool = option(False, "progress bars")

    def __post_init__(self) -> None:
        unknown = set(self.methods) - set(EXTERNAL_METHODS)
        if unknown:
            raise ValueError(f"unknown methods {sorted(unknown)}: choose among {EXTERNAL_METHODS}")
        if self.report_budget not in self.budgets:
            raise ValueError(f"report_budget {self.report_budget} must be one of {self.budgets}")
        for pair in self.splits:
            if ":" not in pair:
                raise ValueError(f"splits take benchmark:split pairs, not {pair!r}")
        if self.model_dirs and len(self.model_dirs) != len(self.seeds):
            raise ValueError(
                f"model_dirs gives {len(self.model_dirs)} folders for {len(self.seeds)} seeds "
                f"{list(self.seeds)}: give one per seed, or none"
            )

    def models_for(self, seed: int) -> Path:
        """The folder whose policy/ and prm/ the learned methods use at `seed`."""
        if not self.model_dirs:
            return self.run_dir
        return self.model_dirs[self.seeds.index(seed)]


def split_limit(benchmark: str, config: ExternalConfig) -> int | None:
    """How many theorems of a split to prove: `core` splits are sampled (thousands each)."""
    if benchmark == "core":
        return min(config.limit or config.core_limit, config.core_limit)
    return config.limit


def seeds_of(method: str, seeds: Sequence[int]) -> tuple[int, ...]:
    """The fixed methods are deterministic: one run; the learned ones run at every seed."""
    return (seeds[0],) if method in FIXED_METHODS else tuple(seeds)


def proved_within(records: Sequence[dict[str, Any]], budget: int) -> int:
    """Verified proofs found within `budget` Lean calls."""
    return sum(bool(r.get("verified")) and int(r.get("lean_calls") or 0) <= budget for r in records)


def seed_summary(counts: Sequence[int]) -> dict[str, Any]:
    """Mean, spread and per-seed values of a count measured at several seeds."""
    return {
        "mean": round(statistics.fmean(counts), 3),
        "min": min(counts),
        "max": max(counts),
        "std": round(statistics.pstdev(counts), 3) if len(counts) > 1 else 0.0,
        "per_seed": list(counts),
    }


def calls_to_proof(records: Sequence[dict[str, Any]]) -> dict[str, int | None]:
    """Per theorem (`full_name`): the Lean calls its verified proof took, None when the search
    found none."""
    return {
        r["full_name"]: int(r.get("lean_calls") or 0) if r.get("verified") else None
        for r in records
    }


def disagreements(
    logs: dict[str, list[list[dict[str, Any]]]], budget: int
) -> dict[str, dict[str, list[int | None]]]:
    """The theorems on which the runs differ at `budget`: proved within it by at least one
    method and seed and not by another. Per theorem (sorted by name), per method, the Lean calls
    to proof at each seed, also those beyond `budget` (None: no proof, or not searched): what
    one method wins or loses against another, and by how much."""
    per_run = {m: [calls_to_proof(r) for r in runs] for m, runs in logs.items()}
    names = sorted({n for runs in per_run.values() for calls in runs for n in calls})
    out: dict[str, dict[str, list[int | None]]] = {}
    for name in names:
        row = {m: [calls.get(name) for calls in runs] for m, runs in per_run.items()}
        within = {c is not None and c <= budget for cells in row.values() for c in cells}
        if within == {True, False}:
            out[name] = row
    return out


def summarize(
    logs: dict[str, list[list[dict[str, Any]]]], budgets: Sequence[int], report_budget: int
) -> dict[str, Any]:
    """Per method: `proved` (seed summary at `report_budget`), `curve` (mean proved at each
    budget), `total`; `logs[method]` holds one record list per seed."""
    out: dict[str, Any] = {}
    for method, runs in logs.items():
        totals = {len(r) for r in runs}
        out[method] = {
            "proved": seed_summary([proved_within(r, report_budget) for r in runs]),
            "curve": {
                str(b): round(statistics.fmean(proved_within(r, b) for r in runs), 3)
                for b in budgets
            },
            "total": max(totals) if totals else 0,
            "seeds": len(runs),
        }
    return out


def main(
    config: ExternalConfig, *, notify: Notify = quiet, servers: Sequence[Any] | None = None
) -> dict[str, Any]:
    """Prove every split with every method (resuming), then write and return the summary.
    `servers`: running Lean servers to use instead of starting `config.workers` new ones."""
    from leancot.pipeline.prove import start_servers

    learned = [m for m in config.methods if m not in FIXED_METHODS]
    folders = dict.fromkeys(config.models_for(seed) for seed in config.seeds) if learned else {}
    for folder in folders:
        if not all((folder / d).is_dir() for d in ("policy", "prm")):
            raise ValueError(f"{folder} has no trained policy/ and prm/: run `leancot run`")
    budget = BudgetConfig(lean_calls=max(config.budgets), theorem_timeout=config.theorem_timeout)
    results: dict[str, Any] = {}
    timeout = max(600.0, config.theorem_timeout)
    with contextlib.ExitStack() as stack:
        if servers is None:
            servers = start_servers(stack, "wasm", config.workers, timeout)
        for pair in config.splits:
            results[pair] = _prove_split(pair, config, budget, servers, notify)
    summary = {
        "lean_calls_budget": config.report_budget,
        "budgets": list(config.budgets),
        "seeds": list(config.seeds),
        "benchmarks": results,
        "tuned_on": TUNED_ON if not config.model_dirs else TUNED_ON_MODEL_DIRS,
        "models": {str(seed): str(config.models_for(seed)) for seed in config.seeds},
        "value": None if config.value is None else str(config.value),
        **{name: getattr(config.search, name) for name in SUMMARY_SEARCH_FIELDS},
    }
    write_json(config.out_dir / SUMMARY_NAME, summary)
    return summary


def _prove_split(
    pair: str,
    config: ExternalConfig,
    budget: BudgetConfig,
    servers: Sequence[Any],
    notify: Notify,
) -> dict[str, Any]:
    from leancot.pipeline import prove
    from leancot.prover.search_log import read_log

    benchmark, split = pair.split(":", 1)
    logs: dict[str, list[list[dict[str, Any]]]] = {}
    suite: dict[str, Any] = {}
    for method in config.methods:
        fixed = method in FIXED_METHODS
        for seed in seeds_of(method, config.seeds):
            out = config.out_dir / benchmark / split / f"{method}-seed{seed}.jsonl"
            out.parent.mkdir(parents=True, exist_ok=True)
            valued = method == "mcts_prm" or method in VALUE_METHODS
            models = config.models_for(seed)
            priority = "value" if method in VALUE_METHODS else "logprob"
            prove_config = ProveConfig(
                out=out,
                method=VALUE_METHODS.get(method, method),
                benchmark=benchmark,
                split=split,
                limit=split_limit(benchmark, config),
                policy="portfolio" if fixed else str(models / "policy"),
                prm=str(config.value or models / "prm") if valued else None,
                search=replace(config.search, sampling_seed=seed, priority=priority),
                budget=budget,
                workers=len(servers),
                progress=config.progress,
            )
            notify(f"{pair}: {method} seed {seed}")
            result = prove.main(prove_config, notify=notify, servers=servers)
            suite = result.suite or suite
            logs.setdefault(method, []).append(read_log(out))
    return {
        "methods": summarize(logs, config.budgets, config.report_budget),
        "disagreements": disagreements(logs, config.report_budget),
        "filters": suite,
    }
