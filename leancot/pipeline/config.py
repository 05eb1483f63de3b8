"""Settings of `leancot run`, `leancot prove` and `leancot iterate`.

The three share the search settings (`SearchConfig`) and the per-theorem budget
(`BudgetConfig`) of `leancot.prover.config`: same names, defaults and help texts. `iterate`
inherits the run's search and budget unless they are given (`None` = the run's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from leancot.formats import RESULTS_NAME
from leancot.options import option
from leancot.pipeline.round_eval import EVAL_SPLITS, parse_eval_split
from leancot.prover.config import METHODS, BudgetConfig, SearchConfig
from leancot.prover.suites import SUITES
from leancot.train.config import REPORT_TO, TINY_SIZES

BACKENDS = ("wasm", "native")
ITERATE_METHODS = ("best_first", "mcts_prm")
HARVEST_METHODS = ("heuristic", *ITERATE_METHODS)
ITERATE_VALUES = ("prm", "outcome")  # the value a round trains: first-error PRM, outcome value
HARVEST_LEAN_CALLS = 64  # the least Lean calls of a round's proving of its training statements


@dataclass(frozen=True)
class RunConfig:
    """Settings of `leancot run` (defaults: the embedded Lean, CPU, no premise retrieval;
    about 8-10 min on 2 cores, far longer with --retrieval)."""

    run_dir: Path = option(Path("runs/default"), "folder of the run; every stage resumes from it")
    source: Path | None = option(None, "Lean file or project to extract (default: bundled corpus)")
    sft_steps: int = option(600, "policy SFT optimizer steps")
    prm_steps: int = option(300, "PRM training optimizer steps")
    batch_size: int = option(8, "training batch size")
    learning_rate: float = option(1e-3, "peak learning rate of both trainers (tiny model)")
    tiny_size: str = option(
        "small",
        "tiny model shape: small, or large (a teacher for `iterate --teacher`)",
        choices=TINY_SIZES,
    )
    retrieval: bool = option(
        False,
        "premise retrieval: a retriever stage trains the dense retriever on the extracted train "
        "split (or takes --retriever NAME) and the policy trains on, and the learned searches "
        "prove with, the premises it retrieves (off by default: it made the run several times "
        "longer and proved no more on the bundled test split; see the README)",
    )
    retriever_steps: int = option(150, "dense retriever optimizer steps (retriever stage)")
    negatives_seconds: float = option(120.0, "time for collecting Lean-rejected tactics")
    negatives_theorems: int = option(200, "training theorems sampled for negatives")
    search: SearchConfig = option(SearchConfig(), "how the searches propose tactics")
    budget: BudgetConfig = option(BudgetConfig(), "what each search may spend per theorem")
    test_limit: int | None = option(None, "prove at most this many test theorems")
    benchmark: str | None = option(
        None,
        "prove a named benchmark split NAME:SPLIT (e.g. minif2f-core:valid, core:test) instead "
        "of the corpus' test split",
    )
    methods: tuple[str, ...] = option(METHODS, "proving methods to run and compare")
    device: str | None = option(None, "torch device for the models (default: cuda if present)")
    seed: int = option(0, "random seed")
    progress: bool = option(True, "progress bars")
    report_to: str = option(
        "none", "trainer logs: none, tensorboard (STAGE/runs/) or wandb", choices=REPORT_TO
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "run_dir", Path(self.run_dir))
        if self.source is not None:
            object.__setattr__(self, "source", Path(self.source))
        object.__setattr__(self, "methods", tuple(self.methods))
        unknown = set(self.methods) - set(METHODS)
        if unknown or not self.methods:
            raise ValueError(f"methods must be among {METHODS}, got {self.methods}")
        if self.benchmark is not None and self.benchmark.partition(":")[0] not in SUITES:
            raise ValueError(f"benchmark must be NAME:SPLIT with NAME among {SUITES}")
        if not self.retrieval and self.search.retriever is not None:
            raise ValueError("--retriever needs retrieval: add --retrieval (not --no-retrieval)")
        for name in ("sft_steps", "prm_steps", "batch_size", "retriever_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass(frozen=True)
class ProveConfig:
    """Settings of `leancot prove`."""

    out: Path = option(Path(RESULTS_NAME), "search log to write (resumable)")
    method: str = option(
        "best_first", "baseline | heuristic | best_first | mcts_prm", choices=METHODS
    )
    dataset: Path | None = option(None, "LeanDojo Benchmark 4 folder (default: bundled corpus)")
    source_root: Path | None = option(
        None, "with --dataset: the sources' folder, for file contexts (default: a local: url)"
    )
    benchmark: str | None = option(
        None,
        "a named benchmark: bundled, bundled-grouped (siblings on one side), minif2f-core "
        "(miniF2F rows core Lean elaborates; --minif2f FILE or found beside the checkout), "
        "core (restated core-library lemmas)",
        choices=SUITES,
    )
    minif2f: Path | None = option(
        None,
        "miniF2F jsonl (Mathlib statements: native Lean with Mathlib; or the file of "
        "--benchmark minif2f-core)",
    )
    proofnet: Path | None = option(None, "ProofNet jsonl (needs native Lean with Mathlib)")
    split: str = option("test", "split to prove (train, val, test; miniF2F/ProofNet: valid, test)")
    limit: int | None = option(None, "prove at most this many theorems")
    policy: str = option("portfolio", "portfolio, or a trained policy folder / hub id (HF)")
    vllm: str | None = option(None, "policy model run in-process by vLLM")
    endpoint: str | None = option(None, "OpenAI-compatible /v1/completions server of the policy")
    model_name: str | None = option(None, "model name to ask the endpoint for")
    prm: str | None = option(
        None, "trained PRM folder (needed by mcts_prm), or a `leancot train value` folder"
    )
    search: SearchConfig = option(SearchConfig(), "how the search proposes tactics")
    budget: BudgetConfig = option(BudgetConfig(), "what the search may spend per theorem")
    workers: int = option(1, "parallel searches, one Lean process each")
    ray: str | None = option(
        None,
        "prove on --workers Ray actors, each with its own Lean (pip install "
        "'leancot[distributed]'): the cluster address for ray.init, 'auto' (RAY_ADDRESS or the "
        "cluster `ray start --head` made here), ray://HOST:10001, or 'local' (a new one here)",
    )
    standby: bool = option(
        False, "keep a standby Lean process per worker: a restart is a handover (twice the memory)"
    )
    backend: str = option("wasm", "wasm (embedded Lean) or native (lake/lean on PATH)")
    device: str | None = option(None, "torch device of HF models")
    progress: bool = option(True, "progress bar")
    trust_header: bool = option(
        False, "run code-running commands of the benchmark's headers (default: refuse them)"
    )

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method!r}")
        sources = [x for x in (self.dataset, self.minif2f, self.proofnet) if x is not None]
        if self.benchmark is not None and self.benchmark != "minif2f-core":
            sources.append(self.benchmark)
        if len(sources) > 1:
            raise ValueError("give at most one of --benchmark, --dataset, --minif2f, --proofnet")
        models = [self.vllm, self.endpoint, None if self.policy == "portfolio" else self.policy]
        if sum(m is not None for m in models) > 1:
            raise ValueError("give one policy: a model folder, --vllm MODEL or --endpoint URL")
        if self.endpoint is not None and not self.model_name:
            raise ValueError("--endpoint needs --model-name (the served model's name)")
        if self.backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {self.backend!r}")
        if self.workers < 1:
            raise ValueError("workers must be positive")
        if self.ray is not None and not self.ray.strip():
            raise ValueError("--ray needs an address: auto, local, HOST:PORT or ray://HOST:10001")
        if self.ray is not None and self.vllm is not None:
            raise ValueError("--ray ships the policy to the actors: use --endpoint, not --vllm")


@dataclass(frozen=True)
class IterateConfig:
    """Settings of `leancot iterate` (on top of a finished `leancot run`)."""

    run_dir: Path = option(Path("runs/default"), "a finished `leancot run` folder")
    rounds: int = option(2, "self-play rounds")
    out_dir: Path | None = option(
        None, "folder of the rounds and the proof cache (RUN_DIR/iterate)"
    )
    method: str = option(
        "best_first", "search used in every round: best_first | mcts_prm", choices=ITERATE_METHODS
    )
    train_limit: int = option(48, "training theorems proved per round (a new sample each round)")
    train_set: Path | None = option(None, "LeanDojo folder whose train split is proved instead")
    train_benchmark: str | None = option(
        None,
        "prove a fresh sample of a named benchmark split NAME:SPLIT each round (e.g. core:train) "
        "instead of the corpus' train split; statements already proved are not sampled again",
    )
    teacher: str | None = option(None, "policy folder / hub id that proves the training theorems")
    harvest_lean_calls: int | None = option(
        None,
        "Lean calls per training statement when a round proves them (the harvest; default: "
        "max(64, the evaluation budget's)): more calls find more proofs to learn from, while "
        "the evaluations keep the budget's",
    )
    harvest_method: str | None = option(
        None,
        "search that proves a round's training statements: heuristic | best_first | mcts_prm "
        "(default: --method); heuristic (the portfolio and the goal tactics, no model) takes a "
        "fraction of the time, so a round can prove many more statements, while the "
        "evaluations keep --method",
        choices=HARVEST_METHODS,
    )
    harvest_schedule: tuple[str, ...] = option(
        (),
        "the harvest per round, METHOD or METHOD:N (N training statements that round instead "
        "of --train-limit); round r takes the r-th entry, the last repeating (e.g. heuristic "
        "heuristic mcts_prm:100: two cheap rounds, then the models' own search); overrides "
        "--harvest-method",
    )
    new_rows_weight: int = option(
        4,
        "repeat each SFT row of the rounds' verified proofs this many times in a round's SFT "
        "data (the run's own rows once: the replay); 4 was chosen among 1, 4, 16 on the "
        "core:train tuning slice (benchmarks/iterate_tune.py, one seed)",
    )
    sft_steps: int = option(100, "policy SFT steps per round (from the current policy)")
    prm_steps: int = option(100, "PRM (or outcome value) steps per round (from the current one)")
    value: str = option(
        "prm",
        "the value the rounds train and search with: prm (first-error labels, retrained from "
        "the run's PRM) or outcome (`leancot train value` on every round's search logs and the "
        "run's negatives: what each step led to; round 1 warm-starts it from the run's PRM)",
        choices=ITERATE_VALUES,
    )
    dpo: bool = option(False, "also DPO-tune the policy on the search siblings")
    dpo_steps: int = option(50, "DPO steps per round")
    learning_rate: float = option(5e-4, "learning rate of the round's fine-tuning")
    search: SearchConfig | None = option(None, "search settings (default: the run's)")
    budget: BudgetConfig | None = option(None, "per-theorem budget (default: the run's)")
    test_limit: int | None = option(None, "prove at most this many test theorems (0: none)")
    model_only: bool = option(
        True, "also prove the test set with the policy alone each round (no portfolio, no value)"
    )
    eval_splits: tuple[str, ...] = option(
        EVAL_SPLITS,
        "benchmark splits NAME:SPLIT every round is evaluated on (full and model only); "
        "NAME:SPLIT:N gives that split its own theorem limit",
    )
    eval_limit: int | None = option(
        30, "theorems of each evaluation split (the same seeded sample every round; 0: none)"
    )
    seed: int = option(0, "random seed")
    progress: bool = option(True, "progress bars")

    def __post_init__(self) -> None:
        object.__setattr__(self, "run_dir", Path(self.run_dir))
        object.__setattr__(self, "eval_splits", tuple(self.eval_splits))
        for pair in self.eval_splits:
            name, _, _ = parse_eval_split(pair)
            if name not in SUITES:
                raise ValueError(f"eval_splits take NAME:SPLIT with NAME among {SUITES}: {pair!r}")
        if self.eval_limit is not None and self.eval_limit < 0:
            raise ValueError(f"eval_limit must be >= 0, got {self.eval_limit}")
        if self.out_dir is not None:
            object.__setattr__(self, "out_dir", Path(self.out_dir))
        if self.value not in ITERATE_VALUES:
            raise ValueError(f"value must be one of {ITERATE_VALUES}, not {self.value!r}")
        if self.method not in ITERATE_METHODS:
            raise ValueError(f"iterate searches with best_first or mcts_prm, not {self.method!r}")
        if self.rounds < 1 or self.train_limit < 1:
            raise ValueError("rounds and train_limit must be positive")
        if self.harvest_method is not None and self.harvest_method not in HARVEST_METHODS:
            raise ValueError(
                f"harvest_method must be one of {HARVEST_METHODS}, not {self.harvest_method!r}"
            )
        object.__setattr__(self, "harvest_schedule", tuple(self.harvest_schedule))
        for r in range(1, max(1, len(self.harvest_schedule)) + 1):  # every entry checked
            if self.harvest_for(r)[0] == "heuristic" and self.teacher is not None:
                raise ValueError(
                    "the heuristic harvest uses no model: give --teacher or it, not both"
                )
        if self.harvest_lean_calls is not None and self.harvest_lean_calls < 1:
            raise ValueError(f"harvest_lean_calls must be positive, got {self.harvest_lean_calls}")
        if self.new_rows_weight < 1:
            raise ValueError(
                f"new_rows_weight must be a positive integer, got {self.new_rows_weight}"
            )
        if self.train_benchmark is not None:
            name, _, split = self.train_benchmark.partition(":")
            if name not in SUITES or not split:
                raise ValueError(
                    f"train_benchmark must be NAME:SPLIT (e.g. core:train) with NAME among "
                    f"{SUITES}, not {self.train_benchmark!r}"
                )
            if self.train_set is not None:
                raise ValueError("give train_set or train_benchmark, not both")

    @property
    def iterate_dir(self) -> Path:
        """Where the rounds go: `out_dir`, else RUN_DIR/iterate."""
        return self.out_dir if self.out_dir is not None else self.run_dir / "iterate"

    def harvest_for(self, r: int) -> tuple[str | None, int]:
        """Round `r`'s harvest: its search (None: `method`) and how many training statements
        it proves, from `harvest_schedule` (the last entry repeating), else `harvest_method`
        and `train_limit`."""
        if not self.harvest_schedule:
            return self.harvest_method, self.train_limit
        entry = self.harvest_schedule[min(r, len(self.harvest_schedule)) - 1]
        method, sep, count = entry.partition(":")
        if method not in HARVEST_METHODS or (sep and not count.isdigit()) or count == "0":
            raise ValueError(
                f"harvest_schedule entries are METHOD or METHOD:N with METHOD among "
                f"{HARVEST_METHODS} and N a positive count, not {entry!r}"
            )
        return method, int(count) if sep else self.train_limit

    def harvest_budget(self) -> BudgetConfig:
        """The budget of proving a round's training statements: the evaluation budget with
        `harvest_lean_calls` (default max(64, its own)) Lean calls."""
        assert self.budget is not None  # resolved by `iterate.main`
        calls = self.harvest_lean_calls or max(HARVEST_LEAN_CALLS, self.budget.lean_calls)
        return replace(self.budget, lean_calls=calls)
