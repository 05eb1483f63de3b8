"""`leancot iterate`: self-play rounds on a finished `leancot run`.

Each round proves training theorems (with the current policy, or a teacher's): a fresh sample of
the corpus' train split, or of a named benchmark split (`train_benchmark`, e.g. "core:train"),
leaving out the statements an earlier round proved. Every verified proof goes into the proof
cache (`pipeline.proof_cache`, RUN/iterate/proofs.jsonl; `out_dir` moves the rounds). The round
turns the verified search logs into SFT, PRM and (optionally) DPO rows (leancot.train.rows),
retrains the policy and the PRM from the current ones (with `value` "outcome", instead of the PRM
an outcome value, `leancot train value` on all the rounds' search logs, which the searches then
use) and proves the test split again: with the
full search, and (`model_only`) with the policy alone (best-first over its samples, no portfolio
and no goal tactics, the same budget), the number that shows whether the model learned; and
evaluates on the named splits of `eval_splits` the same two ways (`pipeline.round_eval`; round 0
is the run's models before any round, and a `teacher` is evaluated there too, on the same
budget). Every step of a round is a resumable stage (`pipeline.stages.run_stage`); the report
(`RUN/iterate/report/`) is rewritten after each round. The search and budget are the run's
unless given. A run with a retriever stage lends its retriever (unless `--retriever` names one):
the searches retrieve with it, the round's verified logs record what it retrieved at each state
(`pipeline.premise_rows`) and the policy trains on those prompts and on the run's step records
with premises (`RUN/retriever/step_records.jsonl`); the PRM's rows stay without.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from leancot.files import write_jsonl
from leancot.options import config_from_mapping
from leancot.pipeline.config import IterateConfig, RunConfig
from leancot.pipeline.proof_cache import (
    PROOFS_FILE,
    ProofCache,
    first_unproved,
    in_tune_slice,
    sample_unproved,
)
from leancot.pipeline.prove import make_backend
from leancot.pipeline.round_eval import EvalTheorems, evaluate, prove_with, write_report
from leancot.pipeline.stages import (
    RUN_SUMMARY,
    LazyLean,
    Notify,
    fingerprint,
    key_path,
    quiet,
    read_json,
    read_manifest,
    run_stage,
)

VALUE_EVAL_ROWS = 1000  # held-out outcome rows a round's value is evaluated on (AUROC)


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
    new_proofs: int | None = None  # statements this round proved first (the proof cache)
    model_only_proved: int | None = None  # test theorems the policy alone proved
    evals: dict[str, dict[str, int | None]] | None = None  # round_eval.evaluate per split
    sft_trained: int | None = None  # SFT rows in all, the new ones weighted (sft_row_counts)


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


def train_settings(config: IterateConfig, run_cfg: RunConfig) -> dict[str, Any]:
    """The trainer settings every round's fine-tuning shares."""
    return {
        "learning_rate": config.learning_rate,
        "batch_size": run_cfg.batch_size,
        "save_total_limit": 1,
        "seed": config.seed,
        "progress": config.progress,
        "eval_split": None,
        "report_to": run_cfg.report_to,
    }


def round_sft_config(
    config: IterateConfig, run_cfg: RunConfig, data: Sequence[str], model: Path, out: Path
) -> Any:
    """A round's policy SFT (`train.policy.PolicyConfig`): `sft_steps` from `model` on `data`,
    the search logs' rows `new_rows_weight` times."""
    from leancot.train.policy import PolicyConfig

    return PolicyConfig(
        data=list(data), model=str(model), output_dir=str(out), max_steps=config.sft_steps,
        save_steps=config.sft_steps, search_log_weight=config.new_rows_weight,
        **train_settings(config, run_cfg),
    )  # fmt: skip


def sft_row_counts(data: Sequence[str], weight: int) -> dict[str, int]:
    """What a round's SFT trains on (`train.policy.build_rows`): the distinct rows of the step
    records (`replay`), the distinct rows of the verified proof paths no step record gives
    (`new`), and the rows in all with each new one `weight` times (`trained`)."""
    from leancot.train.data import load_inputs
    from leancot.train.policy import build_rows

    inputs = load_inputs([p for p in data if Path(p).exists()])  # the trainer read them all
    once = build_rows(inputs, "train")
    replay = len(build_rows(inputs, "train", include_search_logs=False))
    trained = len(build_rows(inputs, "train", search_log_weight=weight))
    return {"replay": replay, "new": len(once) - replay, "trained": trained}


def saved_run_config(run_dir: Path) -> RunConfig:
    """The settings a finished `leancot run` used (its report/run.json)."""
    path = Path(run_dir) / "report" / RUN_SUMMARY
    saved = read_json(path)
    if saved is None or not isinstance(saved.get("config"), dict):
        raise ValueError(f"{path} is missing or unreadable: run `leancot run` first")
    return config_from_mapping(RunConfig, {**saved["config"], "run_dir": Path(run_dir)})


def run_retriever(run_dir: Path, run_cfg: RunConfig) -> dict[str, Any] | None:
    """The outputs of the run's finished retriever stage (`retriever`, `steps_file`), or None
    when the run retrieved nothing."""
    if not run_cfg.retrieval:
        return None
    manifest = read_manifest(Path(run_dir) / "retriever")
    return None if manifest is None else manifest.get("outputs") or None


def with_retriever(search: Any, retriever: dict[str, Any] | None) -> Any:
    """`search` with the run's retriever when it names none itself."""
    if retriever is None or search.retriever is not None:
        return search
    return replace(search, retriever=str(retriever["retriever"]))


def main(config: IterateConfig, *, notify: Notify = quiet) -> list[RoundRow]:
    """Run (or resume) the rounds; one row per round, round 0 being the `leancot run` result.
    The search and budget are the run's unless `config` gives them; the retriever is the run's
    unless the search names one."""
    from leancot.pipeline import steps as st

    run_dir = Path(config.run_dir)
    run_cfg = saved_run_config(run_dir)
    retriever = run_retriever(run_dir, run_cfg)
    run_cfg = replace(run_cfg, search=with_retriever(run_cfg.search, retriever))
    config = replace(
        config,
        search=with_retriever(config.search or run_cfg.search, retriever),
        budget=config.budget or run_cfg.budget,
    )
    for stage in ("extract", "cot", "policy", "negatives", "prm"):
        if read_manifest(run_dir / stage) is None:
            raise ValueError(f"{run_dir}/{stage} is not finished: run `leancot run` first")
    first = read_manifest(run_dir / "prove" / config.method)
    timeout = max(600.0, config.budget.theorem_timeout)
    lean = LazyLean(lambda: make_backend("wasm"), request_timeout=timeout)
    policy_dir, prm_dir = run_dir / "policy", run_dir / "prm"
    logs: list[str] = []
    settings = [config.search.key_fields(), asdict(config.budget)]
    prev = fingerprint([config.method, str(run_dir), (first or {}).get("key"), settings])
    cache = ProofCache(config.iterate_dir / PROOFS_FILE)
    splits = EvalTheorems()  # each evaluation split loaded once for all rounds
    try:
        d = config.iterate_dir / "round0"
        model_only = None
        if config.model_only and config.test_limit != 0:
            model_only = _model_only(0, d, policy_dir, prev, config, run_cfg, lean, notify, st)
        same = (config.test_limit, config.search, config.budget) == (
            run_cfg.test_limit, run_cfg.search, run_cfg.budget
        )  # fmt: skip
        if config.test_limit == 0:  # no test set: nothing to prove (the named splits evaluate)
            proved, total = 0, 0
        elif first is not None and same:
            proved, total = _test_counts(first)
        else:  # the run's models on this test set, search and budget
            proved, total = _round0_full(
                d, policy_dir, prm_dir, prev, config, run_cfg, lean, notify, st
            )
        evals = evaluate(
            "round 0: eval", d / "eval", policy_dir, prm_dir, prev, config, run_cfg, lean,
            notify, st, splits,
        )  # fmt: skip
        extra: dict[str, Any] = {}
        if config.teacher is not None:  # the teacher on the same splits and budget
            extra["teacher"] = {
                "policy": config.teacher,
                **evaluate(
                    "teacher: eval", d / "eval_teacher", config.teacher, prm_dir, prev,
                    config, run_cfg, lean, notify, st, splits,
                ),
            }  # fmt: skip
        rows = [
            RoundRow(0, str(policy_dir), None, None, proved, total, None, None, None,
                     None, model_only, evals)
        ]  # fmt: skip
        write_report(config.iterate_dir, rows, extra)
        for r in range(1, config.rounds + 1):
            out = _round(
                r, config, run_cfg, policy_dir, prm_dir, logs, prev, lean, cache, notify, st,
                splits,
            )  # fmt: skip
            row, policy_dir, prm_dir, prev = out
            rows.append(row)
            write_report(config.iterate_dir, rows, extra)
            only = "" if row.model_only_proved is None else f" (model only {row.model_only_proved})"
            notify(
                f"round {r}: test {row.test_proved}/{row.test_total}{only}, "
                f"train {row.train_proved}/{row.train_total}, {row.new_proofs} new proofs"
            )
    finally:
        lean.close()
    return rows


def _test_counts(manifest: dict[str, Any] | None) -> tuple[int, int]:
    outputs = (manifest or {}).get("outputs", {})
    return int(outputs.get("proved", 0)), int(outputs.get("total", 0))


def _test_set(config: IterateConfig, run_cfg: Any, lean: Any, st: Any) -> list[Any]:
    """The run's test set: its benchmark split, else the corpus' test split."""
    from leancot.pipeline.run import source_root

    if run_cfg.benchmark is None:
        root = source_root(run_cfg)
        return st.test_theorems(Path(config.run_dir) / "extract", root, config.test_limit)
    return st.benchmark_theorems(run_cfg.benchmark, lean.get(), config.test_limit)


def _round0_full(
    d: Path,
    policy_dir: Path,
    prm_dir: Path,
    key: str,
    config: IterateConfig,
    run_cfg: Any,
    lean: Any,
    notify: Notify,
    st: Any,
) -> tuple[int, int]:
    """Round 0's full search when the run's own (prove/METHOD) is not comparable: another
    method, test limit, search or budget (stage d/prove_test)."""

    def prove_first(sd: Path) -> dict[str, Any]:
        thms = _test_set(config, run_cfg, lean, st)
        out = sd / "test.jsonl"
        return prove_with(out, thms, str(policy_dir), prm_dir, config, run_cfg, lean, st)

    models = [key_path(m, config.iterate_dir) for m in (policy_dir, prm_dir)]
    key = fingerprint([key, *models, config.test_limit])
    done = run_stage("round 0: prove test", d / "prove_test", key, prove_first, notify)
    return int(done.outputs["proved"]), int(done.outputs["total"])


def _model_only(
    r: int,
    d: Path,
    policy_path: Path,
    key: str,
    config: IterateConfig,
    run_cfg: Any,
    lean: Any,
    notify: Notify,
    st: Any,
) -> int:
    """Test theorems the policy at `policy_path` proves alone (stage d/prove_test_model_only)."""

    def prove_alone(sd: Path) -> dict[str, Any]:
        thms = _test_set(config, run_cfg, lean, st)
        return prove_with(
            sd / "test.jsonl", thms, str(policy_path), None, config, run_cfg, lean, st
        )

    where = key_path(policy_path, config.iterate_dir)
    key = fingerprint([key, where, config.test_limit, "model_only"])
    name = f"round {r}: prove test, model only"
    done = run_stage(name, d / "prove_test_model_only", key, prove_alone, notify)
    return int(done.outputs["proved"])


def round_theorems(
    config: IterateConfig, r: int, proved: set[str], lean: Any, run_cfg: Any, st: Any
) -> list[Any]:
    """Round `r`'s training theorems: its count (`harvest_for`) drawn with seed `seed * 1000 +
    r` from the train split (of `train_benchmark`, `train_set` or the run's corpus), leaving out the
    statements in `proved` (keys of `proof_cache.statement_key`) and, from a benchmark's split,
    its tuning slice (`proof_cache.in_tune_slice`)."""
    from leancot.pipeline.run import source_root
    from leancot.prover.benchmarks import load_leandojo_split
    from leancot.prover.suites import load_suite

    seed, n = config.seed * 1000 + r, config.harvest_for(r)[1]
    if config.train_benchmark is None:
        dataset = config.train_set or (Path(config.run_dir) / "extract" / st.DATASET)
        root = source_root(run_cfg)
        pool = load_leandojo_split(dataset, "train", source_root=root, source="bundled")
        return sample_unproved(pool, proved, n, random.Random(seed))
    name, _, split = config.train_benchmark.partition(":")

    def keep(full_name: str) -> bool:
        return not in_tune_slice(full_name)

    if name == "core":  # restated lazily in a seeded order: ask for as many more as are proved
        limit = n + len(proved)
        pool, _ = load_suite(name, split, server=lean.get(), limit=limit, seed=seed, keep=keep)
        return first_unproved(pool, proved, n)
    server = lean.get() if name == "minif2f-core" else None
    pool, _ = load_suite(name, split, server=server, keep=keep)
    return sample_unproved(pool, proved, n, random.Random(seed))


def _round(
    r: int,
    config: IterateConfig,
    run_cfg: Any,
    policy_dir: Path,
    prm_dir: Path,
    logs: list[str],
    prev: str,
    lean: Any,
    cache: ProofCache,
    notify: Notify,
    st: Any,
    splits: EvalTheorems | None = None,
) -> tuple[RoundRow, Path, Path, str]:
    from leancot.pipeline.premise_rows import annotate_logs, by_name
    from leancot.prover.retrieval import premise_source
    from leancot.prover.search_log import read_log
    from leancot.train import dpo, policy, prm, rows, value

    run_dir = Path(config.run_dir)
    d = config.iterate_dir / f"round{r}"
    steps = str(run_dir / "cot" / st.STEPS_FILE)  # the PRM's: its prompts show no premises
    retriever = run_retriever(run_dir, run_cfg)
    policy_steps = str(retriever["steps_file"]) if retriever else steps
    negs = str(run_dir / "negatives" / st.NEGATIVES_FILE)
    s = config.search
    assert s is not None  # resolved by `main`

    harvest = replace(config, budget=config.harvest_budget())  # more calls than evaluating
    method, limit = config.harvest_for(r)

    def prove_train(sd: Path) -> dict[str, Any]:
        theorems = round_theorems(config, r, cache.proved_before(r), lean, run_cfg, st)
        prover = config.teacher or str(policy_dir)
        source = None
        if s.retriever is not None:  # one source for the search and its rows' prompts
            source = premise_source(
                s.retriever, lean.get(), theorems, s.retriever_k, roots=s.premise_roots
            )
        counts = prove_with(
            sd / "train.jsonl", theorems, prover, prm_dir, harvest, run_cfg, lean, st, source,
            method=method,
        )  # fmt: skip
        verified = verified_only(read_log(sd / "train.jsonl"))
        if source is not None:
            verified = annotate_logs(verified, source, by_name(theorems))
        write_jsonl(sd / "train_verified.jsonl", verified)
        headers = {str(t["full_name"]): str(t["header"]) for t in theorems}
        cache.add(verified, r, headers=headers)
        all_logs = [x for p in [*logs, str(sd / "train_verified.jsonl")] for x in read_log(p)]
        return {
            **counts,
            "prover": "heuristic" if method == "heuristic" else prover,
            "method": method or config.method,
            "lean_calls": harvest.budget.lean_calls if harvest.budget else None,
            "new_proofs": cache.count(r),
            "sft_rows": len(rows.sft_rows_from_search_logs(all_logs)),
            "prm_rows": len(rows.prm_rows_from_search_logs(all_logs)),
            "dpo_pairs": len(rows.dpo_pairs_from_search_logs(all_logs)),
        }

    source = config.train_benchmark or str(config.train_set or "corpus")
    key = fingerprint([prev, config.teacher, limit, source, config.seed])
    key = fingerprint([key, asdict(harvest.budget), "tune slice apart"])
    if method is not None:  # another search, other proofs
        key = fingerprint([key, method])
    if s.retriever is not None:  # its logs carry the retrieved premises: another key
        key = fingerprint([key, s.retriever, s.retriever_k])
    train = run_stage(f"round {r}: prove train", d / "prove_train", key, prove_train, notify)
    logs.append(str(train.path / "train_verified.jsonl"))
    cache.add(read_log(logs[-1]), r)  # a cache lost or cut short is refilled from the logs
    common = train_settings(config, run_cfg)

    def train_policy(sd: Path) -> dict[str, Any]:
        cfg = round_sft_config(config, run_cfg, [policy_steps, *logs], policy_dir, sd)
        result = policy.main(cfg)
        return {
            "metrics": st.metric_summary(result.metrics),
            "new_rows_weight": config.new_rows_weight,
            "rows": sft_row_counts([policy_steps, *logs], config.new_rows_weight),
        }

    key = fingerprint([train.key, config.sft_steps, config.learning_rate])
    if config.new_rows_weight != 1:  # weight 1 keeps the key of the rounds before the option
        key = fingerprint([key, config.new_rows_weight])
    new_policy = run_stage(f"round {r}: policy", d / "policy", key, train_policy, notify)
    policy_path, policy_key = new_policy.path, new_policy.key

    if config.dpo:

        def train_dpo(sd: Path) -> dict[str, Any]:
            cfg = dpo.DPOTrainConfig(
                data=list(logs), model=str(policy_path), output_dir=str(sd),
                max_steps=config.dpo_steps, save_steps=config.dpo_steps, **common,
            )  # fmt: skip
            try:
                return {"metrics": st.metric_summary(dpo.main(cfg).metrics)}
            except ValueError as exc:  # no pairs yet: keep the SFT policy
                return {"skipped": str(exc)}

        key = fingerprint([new_policy.key, config.dpo_steps])
        tuned = run_stage(f"round {r}: dpo", d / "dpo", key, train_dpo, notify)
        if "skipped" not in tuned.outputs:
            policy_path, policy_key = tuned.path, tuned.key

    def train_prm(sd: Path) -> dict[str, Any]:
        cfg = prm.PRMTrainConfig(
            data=[steps, negs, *logs], model=str(prm_dir), output_dir=str(sd),
            max_steps=config.prm_steps, save_steps=config.prm_steps, **common,
        )  # fmt: skip
        return {"metrics": st.metric_summary(prm.main(cfg).metrics)}

    def train_outcome_value(sd: Path) -> dict[str, Any]:
        cfg = value.ValueTrainConfig(
            data=[negs, *logs], model=str(prm_dir), output_dir=str(sd),
            max_steps=config.prm_steps, save_steps=config.prm_steps,
            eval_max_rows=VALUE_EVAL_ROWS, **common,
        )  # fmt: skip
        return {"metrics": st.metric_summary(value.main(cfg).metrics)}

    key = fingerprint([train.key, config.prm_steps, config.learning_rate])
    if config.value == "outcome":  # the searches' value: what steps led to, from all rounds
        key = fingerprint([key, "outcome value"])
        new_prm = run_stage(f"round {r}: value", d / "value", key, train_outcome_value, notify)
    else:
        new_prm = run_stage(f"round {r}: prm", d / "prm", key, train_prm, notify)

    def prove_test(sd: Path) -> dict[str, Any]:
        thms = _test_set(config, run_cfg, lean, st)
        out = sd / "test.jsonl"
        return prove_with(out, thms, str(policy_path), new_prm.path, config, run_cfg, lean, st)

    where = key_path(policy_path, config.iterate_dir)
    key = fingerprint([new_policy.key, new_prm.key, where, config.test_limit])
    if config.test_limit == 0:  # no test set: no stage, the same key for the next round
        test_proved, test_total, test_key = 0, 0, key
    else:
        test = run_stage(f"round {r}: prove test", d / "prove_test", key, prove_test, notify)
        test_proved, test_total = test.outputs["proved"], test.outputs["total"]
        test_key = test.key
    model_only = None
    if config.model_only and config.test_limit != 0:
        model_only = _model_only(r, d, policy_path, policy_key, config, run_cfg, lean, notify, st)
    evals = evaluate(
        f"round {r}: eval", d / "eval", policy_path, new_prm.path,
        fingerprint([policy_key, new_prm.key]), config, run_cfg, lean, notify, st, splits,
    )  # fmt: skip
    row = RoundRow(
        round=r,
        policy=str(policy_path),
        train_proved=train.outputs["proved"],
        train_total=train.outputs["total"],
        test_proved=test_proved,
        test_total=test_total,
        sft_rows=train.outputs["sft_rows"],
        prm_rows=train.outputs["prm_rows"],
        dpo_pairs=train.outputs["dpo_pairs"],
        new_proofs=train.outputs.get("new_proofs"),
        model_only_proved=model_only,
        evals=evals,
        sft_trained=new_policy.outputs.get("rows", {}).get("trained"),
    )
    return row, policy_path, new_prm.path, test_key
