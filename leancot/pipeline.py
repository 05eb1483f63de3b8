"""`leancot run`: the whole pipeline on the embedded defaults, in one run folder, resumable.

Stages, each in its own folder under `run_dir` with a `manifest.json` written last:

  extract/    the bundled corpus (or `source`) traced into a LeanDojo folder (extract/dataset)
  cot/        chain-of-thought step records, Lean-STaR rows and proof documents
  policy/     the tiny tokenizer and tactic policy (SFT on the step records)
  negatives/  real Lean labels: tactics Lean rejects at training states, as search logs
  prm/        the process reward model (all-good corpus rows + first-error rows from negatives/)
  prove/<method>/results.jsonl   the test split proved by `baseline` (tactic portfolio,
              best-first), `best_first` (model + portfolio, cumulative log-probability) and
              `mcts_prm` (model + portfolio, PRM value), all at the same Lean-call budget
  report/     report.md (table), pass_vs_budget.png, report.json; run.json (stage timings)

A stage whose manifest matches its key (a digest of its settings and of the stages it reads) is
skipped; a stage interrupted midway resumes where its own machinery allows (the extractor's
per-file cache, the trainers' checkpoints, the prover's append-only logs); a stage whose
settings changed starts again from an empty folder. One Lean process serves every stage.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from leancot.files import sha256_hex, write_json
from leancot.formats import MANIFEST_NAME, REPORT_JSON

logger = logging.getLogger(__name__)
Notify = Callable[[str], None]

STARTED_NAME = "stage.json"  # written first: the key the folder's contents belong to
RUN_SUMMARY = "run.json"
METHODS = ("baseline", "best_first", "mcts_prm")
PROVING_FIELDS = (
    "lean_calls",
    "tactic_timeout",
    "theorem_timeout",
    "num_samples",
    "portfolio_n",
    "baseline_n",
    "max_tokens",
    "temperature",
    "test_limit",
    "seed",
)  # settings of the prove stages: a change reruns them


def _quiet(_message: str) -> None:
    pass


# --- stages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StageResult:
    """A finished stage: its folder, what it produced, how long it took when it ran."""

    name: str
    path: Path
    key: str
    outputs: dict[str, Any]
    seconds: float
    resumed: bool  # found complete: nothing was run this time


def fingerprint(obj: Any) -> str:
    """A stable digest of JSON-able settings (sha256 prefix)."""
    text = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)
    return sha256_hex(text, 16)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The stage manifest in folder `path`, None if the stage has not finished there."""
    return _read_json(Path(path) / MANIFEST_NAME)


def run_stage(
    name: str,
    path: Path,
    key: str,
    work: Callable[[Path], Mapping[str, Any]],
    notify: Notify = _quiet,
    *,
    label: str | None = None,
) -> StageResult:
    """Run `work(path)` unless `path` holds a finished stage with this `key` (`label`: the
    stage's name in progress messages).

    A folder left by other settings (its stage.json or manifest has another key) is emptied
    first; one left by an interrupted run with the same key is kept, so `work` can resume.
    """
    path = Path(path)
    shown = label or name
    manifest = read_manifest(path)
    if manifest is not None and manifest.get("key") == key:
        notify(f"{shown}: done earlier ({manifest.get('seconds', 0):.0f} s), skipped")
        return StageResult(name, path, key, manifest.get("outputs", {}), manifest["seconds"], True)
    started = _read_json(path / STARTED_NAME) or manifest
    if started is not None and started.get("key") != key and path.exists():
        notify(f"{shown}: settings changed, starting again in {path}")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MANIFEST_NAME).unlink(missing_ok=True)
    write_json(path / STARTED_NAME, {"stage": name, "key": key, "started": _now()}, default=str)
    notify(f"{shown}: running")
    t0 = time.monotonic()
    outputs = dict(work(path))
    seconds = time.monotonic() - t0
    from leancot import __version__

    manifest = {
        "stage": name,
        "key": key,
        "outputs": outputs,
        "seconds": round(seconds, 2),
        "created": _now(),
        "leancot_version": __version__,
    }
    write_json(path / MANIFEST_NAME, manifest, default=str)  # last: the stage is complete
    notify(f"{shown}: done in {seconds:.0f} s")
    return StageResult(name, path, key, outputs, round(seconds, 2), False)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class LazyLean:
    """One Lean server for the stages that need one, started on first use."""

    def __init__(self, backend_factory: Callable[[], Any], **server_kwargs: Any) -> None:
        self.backend_factory = backend_factory
        self.server_kwargs = server_kwargs
        self._server: Any = None

    def get(self) -> Any:
        if self._server is None:
            from leancot.lean.server import LeanServer

            server = LeanServer(self.backend_factory(), **self.server_kwargs)
            server.start()
            self._server = server
        return self._server

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


# --- the run configuration ---------------------------------------------------------------------


def search_budget(
    lean_calls: int, tactic_timeout: float, theorem_timeout: float, expansions: int | None = None
) -> Any:
    """The prover's `Budget` from the flat settings of a pipeline config."""
    from leancot.prover.budget import Budget

    return Budget(
        max_expansions=expansions,
        max_lean_calls=lean_calls,
        tactic_timeout_s=tactic_timeout,
        theorem_wall_s=theorem_timeout,
    )


def _arg(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class RunConfig:
    """Settings of `leancot run` (defaults: the embedded Lean, CPU, about 8-10 min on 2 cores)."""

    run_dir: Path = _arg(Path("runs/default"), "folder of the run; every stage resumes from it")
    source: Path | None = _arg(None, "Lean file or project to extract (default: bundled corpus)")
    sft_steps: int = _arg(600, "policy SFT optimizer steps")
    prm_steps: int = _arg(300, "PRM training optimizer steps")
    batch_size: int = _arg(8, "training batch size")
    learning_rate: float = _arg(1e-3, "peak learning rate of both trainers (tiny model)")
    negatives_seconds: float = _arg(120.0, "time for collecting Lean-rejected tactics")
    negatives_theorems: int = _arg(200, "training theorems sampled for negatives")
    lean_calls: int = _arg(64, "Lean calls per theorem, the same for every method")
    tactic_timeout: float = _arg(5.0, "seconds per tactic")
    theorem_timeout: float = _arg(60.0, "wall-clock seconds per theorem and method")
    num_samples: int = _arg(8, "model samples per expansion (best_first, mcts_prm)")
    portfolio_n: int = _arg(16, "portfolio tactics added to the model's per expansion")
    baseline_n: int = _arg(32, "portfolio tactics per expansion of the baseline")
    max_tokens: int = _arg(128, "tokens per sampled step (thought + tactic)")
    temperature: float = _arg(0.7, "sampling temperature of the policy")
    goal_tactics: bool = _arg(
        True, "searches also try tactics unfolding the goal's definitions (never the baseline)"
    )
    test_limit: int | None = _arg(None, "prove at most this many test theorems")
    methods: tuple[str, ...] = _arg(METHODS, "proving methods to run and compare")
    device: str | None = _arg(None, "torch device for the models (default: cuda if present)")
    seed: int = _arg(0, "random seed")
    progress: bool = _arg(True, "progress bars")

    def __post_init__(self) -> None:
        object.__setattr__(self, "run_dir", Path(self.run_dir))
        if self.source is not None:
            object.__setattr__(self, "source", Path(self.source))
        object.__setattr__(self, "methods", tuple(self.methods))
        unknown = set(self.methods) - set(METHODS)
        if unknown or not self.methods:
            raise ValueError(f"methods must be among {METHODS}, got {self.methods}")
        for name in ("sft_steps", "prm_steps", "batch_size", "lean_calls", "num_samples"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.tactic_timeout <= 0 or self.theorem_timeout <= 0:
            raise ValueError("timeouts must be positive")

    def budget(self) -> Any:
        return search_budget(self.lean_calls, self.tactic_timeout, self.theorem_timeout)


@dataclass(frozen=True)
class RunResult:
    run_dir: Path
    stages: tuple[StageResult, ...]
    report: dict[str, Any]  # report/report.json
    summary: dict[str, Any]


def source_path(config: RunConfig) -> Path:
    """The Lean file or folder to extract (absolute)."""
    from leancot.extract.extractor import bundled_corpus

    return (config.source or bundled_corpus()).resolve()


def source_root(config: RunConfig) -> Path:
    """The folder the extracted `file_path`s are relative to."""
    source = source_path(config)
    return source if source.is_dir() else source.parent


def source_digest(source: Path) -> str:
    """A digest of the Lean sources to extract (names and contents; build folders skipped)."""
    root = source if source.is_dir() else source.parent
    files = sorted(root.rglob("*.lean")) if source.is_dir() else [source]
    digest = hashlib.sha256()
    for f in files:
        if ".lake" not in f.relative_to(root).parts:
            digest.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


def main(config: RunConfig, *, notify: Notify = _quiet) -> RunResult:
    """Run (or resume) every stage; see the module docstring."""
    from leancot import pipeline_steps as st
    from leancot.lean.install import install_embedded_lean

    t0 = time.monotonic()
    run_dir = config.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    install = install_embedded_lean(progress=lambda m: notify(f"lean: {m}"))
    root = source_root(config)

    def backend() -> Any:
        from leancot.lean.backends import wasm_backend

        return wasm_backend(install, mounts=[run_dir.resolve()])

    lean = LazyLean(backend, request_timeout=max(600.0, config.theorem_timeout))
    stages: list[StageResult] = []
    total = 6 + len(config.methods)

    def stage(name: str, key_material: Any, work: Callable[[Path], Mapping[str, Any]]) -> Any:
        n = len(stages) + 1
        label = f"[{n}/{total}] {name}"
        key = fingerprint(key_material)
        result = run_stage(name, run_dir / name, key, work, notify, label=label)
        stages.append(result)
        return result

    try:
        source = source_path(config)
        extract = stage(
            "extract",
            {"source": str(source), "files": source_digest(source), "lean": install.lean_version},
            lambda d: st.extract(d, config, lean, notify),
        )
        cot = stage("cot", {"up": extract.key}, lambda d: st.translate(d, extract.path))
        policy = stage(
            "policy",
            {"up": cot.key, **_pick(config, "sft_steps", "batch_size", "learning_rate", "seed")},
            lambda d: st.train_policy(d, cot.path, config),
        )
        negatives = stage(
            "negatives",
            {"up": cot.key, **_pick(config, "negatives_seconds", "negatives_theorems", "seed")},
            lambda d: st.negatives(d, extract.path, cot.path, root, lean, config, notify),
        )
        training = _pick(config, "prm_steps", "batch_size", "learning_rate", "seed")
        prm = stage(
            "prm",
            {"up": [policy.key, negatives.key], **training},
            lambda d: st.train_prm(d, cot.path, negatives.path, policy.path, config),
        )
        proving = _pick(config, *PROVING_FIELDS)
        models = st.Models(policy.path, prm.path, config)
        results = []
        for method in config.methods:
            upstream = {"baseline": [extract.key], "best_first": [extract.key, policy.key]}
            ups = upstream.get(method, [extract.key, policy.key, prm.key])
            done = stage(
                f"prove/{method}",
                {"up": ups, "method": method, **proving},
                lambda d, m=method: st.prove(d, m, extract.path, root, lean, models, config),
            )
            results.append(done.path / st.RESULTS_NAME)
        report = stage(
            "report",
            {"up": [s.key for s in stages]},
            lambda d: st.report(d, results),
        )
    finally:
        lean.close()
    summary = {
        "run_dir": str(run_dir),
        "config": asdict(config),
        "stage_seconds": {s.name: s.seconds for s in stages},
        "run_minutes": round(sum(s.seconds for s in stages) / 60, 2),
        "this_call_s": round(time.monotonic() - t0, 1),
        "lean_calls_budget": config.lean_calls,
        "report": report.outputs,
    }
    write_json(run_dir / "report" / RUN_SUMMARY, summary, default=str)
    return RunResult(run_dir, tuple(stages), report_json(report.path), summary)


def report_json(report_dir: Path) -> dict[str, Any]:
    """The report.json of a report folder ({} if absent)."""
    return _read_json(Path(report_dir) / REPORT_JSON) or {}


def _pick(config: Any, *names: str) -> dict[str, Any]:
    return {n: getattr(config, n) for n in names}
