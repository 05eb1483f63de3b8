"""The work of each `leancot run` stage; `pipeline.run` decides which stages run and in what folder.

Every function takes the stage's folder `d` first, writes its outputs there and returns a small
JSON-able summary for the stage manifest.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leancot.files import read_jsonl, write_jsonl
from leancot.formats import (
    PROOFS_FILE,
    RESULTS_NAME,
    RETRIEVED_PREMISES,
    STAR_FILE,
    STEPS_FILE,
)
from leancot.pipeline.stages import Notify
from leancot.prover.config import FIXED_METHODS

if TYPE_CHECKING:
    from leancot.pipeline.config import RunConfig
    from leancot.pipeline.stages import LazyLean

DATASET = "dataset"
NEGATIVES_FILE = "search_logs.jsonl"


def extract(d: Path, config: RunConfig, lean: LazyLean, notify: Notify) -> dict[str, Any]:
    """Trace the corpus into `d/dataset` (per-file results cached in `d/dataset.cache`)."""
    from leancot.extract.extractor import ExtractConfig
    from leancot.extract.extractor import main as extract_main

    def on_file(path: str, theorems: int, failures: int) -> None:
        failed = f", {failures} failures" if failures else ""
        notify(f"extract: {path}: {theorems} theorems{failed}")

    summary = extract_main(
        # a run on a developer's checkout with local edits still extracts; metadata says dirty
        ExtractConfig(out_dir=d / DATASET, source=config.source, allow_dirty=True),
        server=lean.get(),
        progress=False,
        on_file=on_file,
    )
    if summary.theorems == 0:
        raise ValueError(f"no theorems were extracted from {config.source or 'the corpus'}")
    return {
        "dataset": str(d / DATASET),
        "theorems": summary.theorems,
        "tactics": summary.tactics,
        "files_ok": summary.files_ok,
        "files_failed": [str(f) for f in summary.files_failed],
    }


def translate(d: Path, extract_dir: Path) -> dict[str, Any]:
    """Step records, Lean-STaR rows and proof documents of every split (random strategy)."""
    from leancot.extract.dataset import read_benchmark
    from leancot.translate.corpora import proof_docs, star_rows, step_records

    by_split = read_benchmark(extract_dir / DATASET, "random")
    theorems = [{**t, "split": s} for s, thms in by_split.items() for t in thms]
    records = list(step_records(theorems))
    files = {
        STEPS_FILE: write_jsonl(d / STEPS_FILE, records),
        STAR_FILE: write_jsonl(d / STAR_FILE, star_rows(records)),
        PROOFS_FILE: write_jsonl(d / PROOFS_FILE, proof_docs(theorems)),
    }
    return {"files": files, "steps_per_split": dict(Counter(r["split"] for r in records))}


def _train_common(d: Path, config: RunConfig, steps: int) -> dict[str, Any]:
    return {
        "output_dir": str(d),
        "max_steps": steps,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "save_steps": max(1, steps // 2),
        "save_total_limit": 1,
        "logging_steps": max(1, min(25, steps)),
        "seed": config.seed,
        "progress": config.progress,
        "use_cpu": config.device == "cpu",
        "report_to": config.report_to,
        "tiny_size": config.tiny_size,
    }


def log_dir(d: Path, config: RunConfig) -> str | None:
    """Where a training stage's tracking logs are (transformers' TensorBoard default), or None
    (no local logs: `none`, or a W&B run)."""
    return str(d / "runs") if config.report_to == "tensorboard" else None


def metric_summary(metrics: dict[str, Any]) -> dict[str, Any]:
    """The numbers of a trainer's metrics a stage manifest keeps."""
    keep = ("global_step", "wall_s", "last_logged_loss", "train_loss", "eval")
    return {k: metrics[k] for k in keep if k in metrics}


class RunPremises:
    """The premise retrieval of a run: the retriever `name` (a folder or "bm25") over the library
    and the whole corpus (`corpus_theorems`), built on first use and shared by the retriever
    stage's training records and the prove stages, so both show the same premises."""

    def __init__(
        self,
        name: str,
        extract_dir: Path,
        root: Path,
        lean: LazyLean,
        k: int,
        *,
        library: Sequence[Any] | None = None,
    ) -> None:
        self.name = name
        self.extract_dir = extract_dir
        self.root = root
        self.lean = lean
        self.k = k
        self._library = list(library) if library is not None else None
        self._source: Any = None
        self._theorems: list[Any] | None = None

    def library(self) -> list[Any]:
        """The library premises (given, else read through the run's Lean; cached on disk)."""
        if self._library is None:
            from leancot.prover.premises import DATASET_ROOTS, library_premises

            self._library = library_premises(self.lean.get(), DATASET_ROOTS)
        return self._library

    def theorems(self) -> list[Any]:
        if self._theorems is None:
            self._theorems = corpus_theorems(self.extract_dir, self.root)
        return self._theorems

    def source(self) -> Any:
        if self._source is None:
            from leancot.prover.retrieval import premise_source

            self._source = premise_source(
                self.name, None, self.theorems(), self.k, library=self.library()
            )
        return self._source


def corpus_theorems(extract_dir: Path, root: Path) -> list[Any]:
    """Every split of the extracted corpus, each theorem with its file context as header."""
    from leancot.prover.benchmarks import load_leandojo_split

    return [
        t
        for split in ("train", "val", "test")
        for t in load_leandojo_split(
            extract_dir / DATASET, split, source_root=root, source="bundled"
        )
    ]


def retriever(
    d: Path,
    extract_dir: Path,
    cot_dir: Path,
    premises: RunPremises,
    config: RunConfig,
    notify: Notify,
) -> dict[str, Any]:
    """Train the dense retriever on the dataset's train split into `d` (unless
    `config.search.retriever` names one, then `premises.name`), then write
    `d/step_records.jsonl`: the step records with the premises `premises` retrieves at each
    state (`pipeline.premise_rows`), what the policy trains on."""
    from leancot.pipeline.premise_rows import annotate_steps, by_name

    trained = config.search.retriever is None  # else `--retriever NAME`: use it as it is
    metrics: dict[str, Any] = {}
    if trained:
        from leancot.train import retriever as rt

        common = _train_common(d, config, config.retriever_steps)
        for name in ("batch_size", "learning_rate", "tiny_size"):  # the retriever's own defaults
            common.pop(name)
        # no evaluation in the trainer: recall on val below, with the premises embedded once
        cfg = rt.RetrieverConfig(data=[str(extract_dir / DATASET)], eval_split=None, **common)
        metrics = metric_summary(rt.main(cfg, library=premises.library()).metrics)
    notify(f"retriever: retrieving premises at the training states ({premises.name})")
    source = premises.source()
    records = annotate_steps(read_jsonl(cot_dir / STEPS_FILE), source, by_name(premises.theorems()))
    if trained:
        metrics["eval"] = val_recall(source.retriever, extract_dir / DATASET, premises.library())
    rows = write_jsonl(d / STEPS_FILE, records)
    shown = [len(r[RETRIEVED_PREMISES]) for r in records]
    return {
        "retriever": premises.name,
        "trained": trained,
        "metrics": metrics,
        "steps_file": str(d / STEPS_FILE),
        "step_records": rows,
        "premises_per_state": round(sum(shown) / len(shown), 2) if shown else 0.0,
    }


def val_recall(dense: Any, dataset: Path, library: Sequence[Any]) -> dict[str, Any]:
    """Recall@1/10 of the dense retriever on the val split's tactics' premises
    (`retriever_eval`'s measure; the corpus' own premises embedded as well)."""
    from leancot.train.retriever import index_premises
    from leancot.train.retriever_data import dataset_index, recall_at, retrieval_examples

    index = dataset_index(dataset, list(library))
    dense.add(index_premises(index))
    return recall_at(dense, index, retrieval_examples(dataset, "val"))


def train_policy(d: Path, steps_file: Path, config: RunConfig) -> dict[str, Any]:
    """The tiny tokenizer and policy, SFT on the training step records of `steps_file`."""
    from leancot.train import policy

    cfg = policy.PolicyConfig(
        data=[str(steps_file)],
        eval_split="val",
        eval_max_rows=16,
        **_train_common(d, config, config.sft_steps),
    )
    result = policy.main(cfg)
    metrics = metric_summary(result.metrics)
    return {"model_dir": str(d), "metrics": metrics, "log_dir": log_dir(d, config)}


def negatives(
    d: Path,
    extract_dir: Path,
    cot_dir: Path,
    root: Path,
    lean: LazyLean,
    config: RunConfig,
    notify: Notify,
) -> dict[str, Any]:
    """Lean-rejected tactics at training states, as search logs (`d/search_logs.jsonl`)."""
    from leancot.extract.dataset import read_benchmark
    from leancot.pipeline.negatives import lean_negatives
    from leancot.train.rows import prm_rows_from_search_logs

    by_split = read_benchmark(extract_dir / DATASET, "random")
    entries = [e for thms in by_split.values() for e in thms]
    thoughts = {(r["full_name"], r["step"]): r["thought"] for r in read_jsonl(cot_dir / STEPS_FILE)}
    logs = lean_negatives(
        lean.get(),
        entries,
        root,
        train_names={e["full_name"] for e in by_split["train"]},
        thoughts=thoughts,
        seconds=config.negatives_seconds,
        max_theorems=config.negatives_theorems,
        seed=config.seed,
        notify=notify,
    )
    write_jsonl(d / NEGATIVES_FILE, logs)
    results = Counter(e["result"] for log in logs for e in log["edges"])
    rows = prm_rows_from_search_logs(logs, split="train")
    return {
        "file": str(d / NEGATIVES_FILE),
        "theorems": len(logs),
        "replayed_to_the_end": sum(bool(log["proved"]) for log in logs),
        "edges": dict(results),
        "lean_calls": sum(log["lean_calls"] for log in logs),
        "prm_rows": len(rows),
        "prm_rows_with_a_bad_step": sum(not all(r["labels"]) for r in rows),
    }


def train_prm(
    d: Path, cot_dir: Path, neg_dir: Path, policy_dir: Path, config: RunConfig
) -> dict[str, Any]:
    """The PRM, warm-started from the policy: corpus rows (all good) + Lean-labelled negatives."""
    from leancot.train import prm

    cfg = prm.PRMTrainConfig(
        data=[str(cot_dir / STEPS_FILE), str(neg_dir / NEGATIVES_FILE)],
        model=str(policy_dir),
        eval_split=None,
        **_train_common(d, config, config.prm_steps),
    )
    result = prm.main(cfg)
    metrics = metric_summary(result.metrics)
    return {"model_dir": str(d), "metrics": metrics, "log_dir": log_dir(d, config)}


class Models:
    """The trained policy and PRM, loaded once on first use and shared by the prove stages."""

    def __init__(self, policy_dir: Path, prm_dir: Path, config: RunConfig) -> None:
        self.policy_dir = policy_dir
        self.prm_dir = prm_dir
        self.device = config.device
        self._policy: Any = None
        self._prm: Any = None

    def policy(self) -> Any:
        if self._policy is None:
            from leancot.models.hf import HFPolicy

            self._policy = HFPolicy(str(self.policy_dir), device=self.device)
        return self._policy

    def prm(self) -> Any:
        if self._prm is None:
            from leancot.models.hf import HFPRM

            self._prm = HFPRM(str(self.prm_dir), device=self.device)
        return self._prm


def test_theorems(extract_dir: Path, root: Path, limit: int | None) -> list[Any]:
    """The test split of the extracted corpus, each theorem with its file context as header."""
    from leancot.prover.benchmarks import load_leandojo_split

    theorems = load_leandojo_split(
        extract_dir / DATASET, "test", source_root=root, source="bundled"
    )
    return theorems[:limit] if limit is not None else theorems


def benchmark_theorems(pair: str, server: Any, limit: int | None) -> list[Any]:
    """The theorems of a named benchmark split, "NAME:SPLIT" (`prover.suites`)."""
    from leancot.prover.suites import load_suite

    name, _, split = pair.partition(":")
    theorems, _ = load_suite(name, split or "test", server=server, limit=limit)
    return theorems


def prove(
    d: Path,
    method: str,
    extract_dir: Path,
    root: Path,
    lean: LazyLean,
    models: Models,
    config: RunConfig,
    premises: RunPremises | None = None,
) -> dict[str, Any]:
    """Prove the test split with one method; `d/results.jsonl` is the resumable search log.
    The learned methods retrieve with `premises` (the run's retriever), else with
    `config.search.retriever` if set."""
    from leancot.prover.mixture import search_setup
    from leancot.prover.retrieval import premise_source
    from leancot.prover.workers import prove_theorems

    if config.benchmark is None:
        theorems = test_theorems(extract_dir, root, config.test_limit)
    else:
        theorems = benchmark_theorems(config.benchmark, lean.get(), config.test_limit)
    model = None if method in FIXED_METHODS else models.policy()
    prm = models.prm() if method == "mcts_prm" else None
    source = None
    if model is not None and premises is not None and config.benchmark is None:
        source = premises.source()  # the corpus' own: the one the policy's rows were built with
    elif model is not None:
        name = premises.name if premises is not None else config.search.retriever
        source = premise_source(
            name, lean.get(), theorems, config.search.retriever_k,
            roots=config.search.premise_roots,
        )  # fmt: skip
    policy, value, kwargs = search_setup(
        method, config.search, model=model, prm=prm, premises=source
    )
    out = d / RESULTS_NAME
    prove_theorems(
        theorems,
        [lean.get()],
        method=method,
        policy=policy,
        out_path=out,
        budget=config.budget.budget(),
        value=value,
        search_kwargs=kwargs,
        progress=config.progress,
    )
    return {"results": str(out), **log_counts(out)}


def log_counts(path: Path) -> dict[str, Any]:
    """Totals of a search log: theorems, verified proofs, Lean calls, time split."""
    from leancot.prover.search_log import read_log

    recs = read_log(path)
    wall = sum(r.get("wall_s", 0.0) for r in recs)
    lean = sum(r.get("time_lean_s", 0.0) for r in recs)
    model = sum(r.get("time_model_s", 0.0) for r in recs)
    return {
        "total": len(recs),
        "proved": sum(bool(r.get("verified")) for r in recs),
        "unverified": sum(bool(r.get("proved")) and not r.get("verified") for r in recs),
        "lean_calls": sum(int(r.get("lean_calls") or 0) for r in recs),
        "wall_s": round(wall, 2),
        "time_lean_s": round(lean, 2),
        "time_model_s": round(model, 2),
        "time_search_s": round(max(0.0, wall - lean - model), 2),
    }


def report(d: Path, results: Sequence[Path], cot_dir: Path | None = None) -> dict[str, Any]:
    """The comparison table, the pass-vs-budget plot and report.html (leancot.prover.report),
    which samples the test split's chain-of-thought documents of `cot_dir` (all splits if the
    test split has none)."""
    from leancot.prover.report import write_report

    docs = read_jsonl(cot_dir / PROOFS_FILE) if cot_dir is not None else []
    docs = [r for r in docs if r.get("split") == "test"] or docs
    rep = write_report(results, d, budget="equal", documents=docs)
    rows = [
        {"method": r.method, "proved": r.proved, "total": r.total, "budget": r.budget,
         "lean_calls_mean": round(r.lean_calls_mean, 1), "wall_s": round(r.wall_s_sum, 1),
         "lean_frac": _r(r.lean_frac), "model_frac": _r(r.model_frac),
         "overhead_frac": _r(r.overhead_frac)}
        for r in rep.rows
    ]  # fmt: skip
    return {
        "markdown": str(rep.markdown),
        "html": str(rep.html) if rep.html else None,
        "plot": str(rep.plot) if rep.plot else None,
        "rows": rows,
        "note": rep.note,
    }


def _r(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else round(x, 4)
