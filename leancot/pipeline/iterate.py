"""`leancot iterate`: self-play rounds on a finished `leancot run`.

Each round proves training theorems (with the current policy, or a teacher's), turns the
verified search logs into SFT, PRM and (optionally) DPO rows (leancot.train.rows), retrains the
policy and the PRM from the current ones and proves the test split again. Every step of a round
is a resumable stage (`pipeline.stages.run_stage`). The search and budget are the run's unless
given.
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
from leancot.pipeline.prove import make_backend
from leancot.pipeline.stages import (
    RUN_SUMMARY,
    LazyLean,
    Notify,
    fingerprint,
    quiet,
    read_json,
    read_manifest,
    run_stage,
)


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


def saved_run_config(run_dir: Path) -> RunConfig:
    """The settings a finished `leancot run` used (its report/run.json)."""
    path = Path(run_dir) / "report" / RUN_SUMMARY
    saved = read_json(path)
    if saved is None or not isinstance(saved.get("config"), dict):
        raise ValueError(f"{path} is missing or unreadable: run `leancot run` first")
    return config_from_mapping(RunConfig, {**saved["config"], "run_dir": Path(run_dir)})


def main(config: IterateConfig, *, notify: Notify = quiet) -> list[RoundRow]:
    """Run (or resume) the rounds; one row per round, round 0 being the `leancot run` result.
    The search and budget are the run's unless `config` gives them."""
    from leancot.pipeline import steps as st

    run_dir = Path(config.run_dir)
    run_cfg = saved_run_config(run_dir)
    config = replace(
        config, search=config.search or run_cfg.search, budget=config.budget or run_cfg.budget
    )
    for stage in ("extract", "cot", "policy", "negatives", "prm"):
        if read_manifest(run_dir / stage) is None:
            raise ValueError(f"{run_dir}/{stage} is not finished: run `leancot run` first")
    first = read_manifest(run_dir / "prove" / config.method)
    rows = [
        RoundRow(0, str(run_dir / "policy"), None, None, *_test_counts(first), None, None, None)
    ]
    timeout = max(600.0, config.budget.theorem_timeout)
    lean = LazyLean(lambda: make_backend("wasm"), request_timeout=timeout)
    policy_dir, prm_dir = run_dir / "policy", run_dir / "prm"
    logs: list[str] = []
    settings = [asdict(config.search), asdict(config.budget)]
    prev = fingerprint([config.method, str(run_dir), (first or {}).get("key"), settings])
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
    from leancot.pipeline.run import source_root
    from leancot.prover.benchmarks import load_leandojo_split
    from leancot.prover.mixture import search_setup
    from leancot.prover.search_log import read_log
    from leancot.prover.workers import prove_theorems
    from leancot.train import dpo, policy, prm, rows

    run_dir = Path(config.run_dir)
    d = run_dir / "iterate" / f"round{r}"
    root = source_root(run_cfg)
    dataset = config.train_set or (run_dir / "extract" / st.DATASET)
    assert config.search is not None and config.budget is not None  # resolved by `main`
    budget = config.budget.budget()
    steps = str(run_dir / "cot" / st.STEPS_FILE)
    negs = str(run_dir / "negatives" / st.NEGATIVES_FILE)

    def prove(out: Path, theorems: list[Any], model_dir: str, prm_path: Path) -> dict[str, Any]:
        model = HFPolicy(model_dir, device=run_cfg.device)
        value_model = HFPRM(str(prm_path), device=run_cfg.device)
        pol, value, kwargs = search_setup(
            config.method, config.search, model=model, prm=value_model
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
        "report_to": run_cfg.report_to,
    }

    def train_policy(sd: Path) -> dict[str, Any]:
        cfg = policy.PolicyConfig(
            data=[steps, *logs], model=str(policy_dir), output_dir=str(sd),
            max_steps=config.sft_steps, save_steps=config.sft_steps, **common,
        )  # fmt: skip
        return {"metrics": st.metric_summary(policy.main(cfg).metrics)}

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
                return {"metrics": st.metric_summary(dpo.main(cfg).metrics)}
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
        return {"metrics": st.metric_summary(prm.main(cfg).metrics)}

    key = fingerprint([train.key, config.prm_steps, config.learning_rate])
    new_prm = run_stage(f"round {r}: prm", d / "prm", key, train_prm, notify)

    def prove_test(sd: Path) -> dict[str, Any]:
        if run_cfg.benchmark is None:
            thms = st.test_theorems(run_dir / "extract", root, config.test_limit)
        else:
            thms = st.benchmark_theorems(run_cfg.benchmark, lean.get(), config.test_limit)
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
