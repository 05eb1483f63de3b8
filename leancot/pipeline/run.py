"""`leancot run`: the whole pipeline on the embedded defaults, in one run folder, resumable.

Stages, each in its own folder under `run_dir` with a `manifest.json` written last:

  extract/    the bundled corpus (or `source`) traced into a LeanDojo folder (extract/dataset)
  cot/        chain-of-thought step records, Lean-STaR rows and proof documents
  retriever/  (unless `retrieval` is off) the dense premise retriever trained on the train split
              (or `search.retriever`, taken as it is), and step_records.jsonl: the step records
              with the premises it retrieves at each state, which the policy trains on
  policy/     the tiny tokenizer and tactic policy (SFT on the step records)
  negatives/  real Lean labels: tactics Lean rejects at training states, as search logs
  prm/        the process reward model (all-good corpus rows + first-error rows from negatives/)
  prove/<method>/results.jsonl   the test split proved by `baseline` (tactic portfolio,
              best-first), `heuristic` (portfolio + goal-aware tactics, best-first, no model),
              `best_first` (model + portfolio, cumulative log-probability) and
              `mcts_prm` (model + portfolio, PRM value), all at the same Lean-call budget; the
              learned two with the run's retriever (premises in the prompt and as tactics)
  report/     report.md (table), pass_vs_budget.png, report.html (the table, the plot, each
              theorem's proof and search tree, sample CoT documents), report.json; run.json

A stage whose manifest matches its key (a digest of its settings and of the stages it reads) is
skipped; a stage interrupted midway resumes where its own machinery allows (the extractor's
per-file cache, the trainers' checkpoints, the prover's append-only logs); a stage whose
settings changed starts again from an empty folder. One Lean process serves every stage.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from leancot.files import write_json
from leancot.pipeline.config import RunConfig
from leancot.pipeline.stages import (
    RUN_SUMMARY,
    LazyLean,
    Notify,
    StageResult,
    fingerprint,
    quiet,
    report_json,
    run_stage,
)
from leancot.prover.config import FIXED_METHODS


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
    """The folder the extracted `file_path`s are relative to (the source's repository root)."""
    from leancot.extract.origin import find_origin

    return find_origin(source_path(config), allow_dirty=True).root


def source_digest(source: Path) -> str:
    """A digest of the Lean sources to extract (names and contents; build folders skipped)."""
    root = source if source.is_dir() else source.parent
    files = sorted(root.rglob("*.lean")) if source.is_dir() else [source]
    digest = hashlib.sha256()
    for f in files:
        if ".lake" not in f.relative_to(root).parts:
            digest.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:16]


def _build_repl_image(install: Any, notify: Notify) -> None:
    """Build the REPL's image once (each later Lean start skips elaborating the REPL); a failure
    is reported and the run goes on with elaborated starts."""
    from leancot.lean.image_build import ImageBuildError, build_image
    from leancot.lean.paths import project_dir

    try:
        build_image(install, project_dir(), progress=lambda m: notify(f"lean: {m}"))
    except (ImageBuildError, FileNotFoundError) as exc:
        notify(f"lean: no REPL image, each Lean start elaborates the REPL ({exc})")


def main(config: RunConfig, *, notify: Notify = quiet) -> RunResult:
    """Run (or resume) every stage; see the module docstring."""
    from leancot.lean.install import install_embedded_lean
    from leancot.pipeline import steps as st

    t0 = time.monotonic()
    run_dir = config.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    install = install_embedded_lean(progress=lambda m: notify(f"lean: {m}"))
    _build_repl_image(install, notify)
    root = source_root(config)

    def backend() -> Any:
        from leancot.lean.backends import wasm_backend

        return wasm_backend(install, mounts=[run_dir.resolve()])

    lean = LazyLean(backend, request_timeout=max(600.0, config.budget.theorem_timeout))
    stages: list[StageResult] = []
    total = 6 + len(config.methods) + int(config.retrieval)

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
        premises, retrieved = None, {}
        steps_file = cot.path / st.STEPS_FILE
        if config.retrieval:
            name = config.search.retriever or str(run_dir / "retriever")
            premises = st.RunPremises(name, extract.path, root, lean, config.search.retriever_k)
            retriever = stage(
                "retriever",
                {
                    "up": [extract.key, cot.key],
                    "retriever": config.search.retriever,
                    "k": config.search.retriever_k,
                    **_pick(config, "retriever_steps", "seed"),
                },
                lambda d: st.retriever(d, extract.path, cot.path, premises, config, notify),
            )
            retrieved = {"retriever": retriever.key}
            steps_file = retriever.path / st.STEPS_FILE
        policy = stage(
            "policy",
            {
                "up": cot.key,
                **retrieved,
                **_pick(config, "sft_steps", "batch_size", "learning_rate", "seed"),
                **({} if config.tiny_size == "small" else {"tiny_size": config.tiny_size}),
            },
            lambda d: st.train_policy(d, steps_file, config),
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
        proving = {
            "search": config.search.key_fields(),
            "budget": asdict(config.budget),
            **_pick(config, "test_limit", "seed", "benchmark"),
        }
        models = st.Models(policy.path, prm.path, config)
        results = []
        for method in config.methods:
            fixed = method in FIXED_METHODS
            ups = {
                "baseline": [extract.key],
                "heuristic": [extract.key],
                "best_first": [extract.key, policy.key],
            }.get(method, [extract.key, policy.key, prm.key])
            done = stage(
                f"prove/{method}",
                {"up": ups, "method": method, **proving, **({} if fixed else retrieved)},
                lambda d, m=method, p=None if fixed else premises: st.prove(
                    d, m, extract.path, root, lean, models, config, p
                ),
            )
            results.append(done.path / st.RESULTS_NAME)
        report = stage(
            "report",
            {"up": [s.key for s in stages], "pages": ["report.md", "report.html"]},
            lambda d: st.report(d, results, cot.path),
        )
    finally:
        lean.close()
    summary = {
        "run_dir": str(run_dir),
        "config": asdict(config),
        "stage_seconds": {s.name: s.seconds for s in stages},
        "run_minutes": round(sum(s.seconds for s in stages) / 60, 2),
        "this_call_s": round(time.monotonic() - t0, 1),
        "lean_calls_budget": config.budget.lean_calls,
        "report": report.outputs,
    }
    write_json(run_dir / "report" / RUN_SUMMARY, summary, default=str)
    return RunResult(run_dir, tuple(stages), report_json(report.path), summary)


def _pick(config: Any, *names: str) -> dict[str, Any]:
    return {n: getattr(config, n) for n in names}
