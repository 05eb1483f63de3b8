"""Per-round evaluation of `leancot iterate` on named benchmark splits, and the rounds' report.

Every round (round 0: the run's own models, before any round) proves the first `eval_limit`
theorems (or a split's own N, `NAME:SPLIT:N`) of each split of `eval_splits` (default `core`
val, `minif2f-core` valid, `bundled` test; `prover.suites.load_suite`, the same seeded sample
every round) twice: with the round's
full search (its method, policy mixture and PRM) and with the policy alone (`model_only`:
best-first over its samples, no portfolio, no goal tactics, no value, the same budget). Each
proving is a resumable stage, `round<r>/eval/<key>/{full,model_only}/`, whose search log
resumes theorem by theorem, so a killed round restarts where it stopped.

`write_report` writes `report/rounds.json`, `report/rounds.md` and `report/round<r>.png`
(proved per split and round, full search and model only) after each round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from leancot.files import atomic_path, atomic_write_text, write_json
from leancot.pipeline.stages import Notify, fingerprint, key_path, run_stage

EVAL_SPLITS = ("core:val", "minif2f-core:valid", "bundled:test")
REPORT_DIR = "report"
ROUNDS_JSON = "rounds.json"
ROUNDS_MD = "rounds.md"


def split_key(pair: str) -> str:
    """The report's name of a `NAME:SPLIT` pair: `core:val` -> `core_val`, `minif2f-core:valid`
    -> `minif2f_valid`, `bundled:test` -> `bundled_test` (a `:N` limit is no part of it)."""
    name, split, _ = parse_eval_split(pair)
    return f"{name.removesuffix('-core').replace('-', '_')}_{split}"


def parse_eval_split(entry: str) -> tuple[str, str, int | None]:
    """`NAME:SPLIT` or `NAME:SPLIT:N` (N: that split's own theorem limit) -> (name, split, N)."""
    name, _, rest = entry.partition(":")
    split, _, limit = rest.partition(":")
    if not name or not split:
        raise ValueError(f"an evaluation split is NAME:SPLIT or NAME:SPLIT:N, not {entry!r}")
    if limit and not (limit.isdigit() and int(limit) > 0):
        raise ValueError(f"the limit in {entry!r} must be a positive integer")
    return name, split, int(limit) if limit else None


def eval_theorems(pair: str, lean: Any, limit: int | None) -> list[Any]:
    """The first `limit` theorems of a `NAME:SPLIT[:N]` benchmark (its own N first; seed 0: the
    same every round)."""
    from leancot.prover.suites import load_suite

    name, split, own = parse_eval_split(pair)
    limit = own if own is not None else limit
    server = lean.get() if name in ("core", "minif2f-core") else None
    theorems, _ = load_suite(name, split, server=server, limit=limit, seed=0)
    return theorems


class EvalTheorems:
    """The evaluation splits' theorems, loaded once (`eval_theorems`) and shared by every
    round's and mode's stage of one `iterate`: the same seeded sample each time, so a core
    split is not restated again for each of them."""

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, int | None], list[Any]] = {}

    def get(self, pair: str, lean: Any, limit: int | None) -> list[Any]:
        key = (pair, limit)
        if key not in self._loaded:
            self._loaded[key] = eval_theorems(pair, lean, limit)
        return list(self._loaded[key])


def prove_with(
    out: Path,
    theorems: list[Any],
    model_dir: str,
    prm_path: Path | None,
    config: Any,
    run_cfg: Any,
    lean: Any,
    st: Any,
    premises: Any = None,
    method: str | None = None,
) -> dict[str, Any]:
    """Search `theorems` into the log `out` with `method` (default: the round's), or with
    `prm_path` None with the policy alone: best-first over its samples (`SampledPolicy`), no
    portfolio, no goal tactics, no value, the same budget. `method` "heuristic" searches with
    the portfolio and the goal tactics, loading no model. With a retriever
    (`config.search.retriever`; `premises`: its `PremiseSource` over `theorems`, built here
    when None) the policy's prompts show the retrieved premises in both (what it was trained
    on); only the full search also tries the premise tactics."""
    from leancot.models.hf import HFPolicy
    from leancot.prover.mixture import SampledPolicy, sampling_kwargs, search_setup
    from leancot.prover.outcome_value import load_value_model
    from leancot.prover.retrieval import premise_source
    from leancot.prover.workers import prove_theorems

    s, b = config.search, config.budget
    assert s is not None and b is not None  # resolved by `iterate.main`
    method = method or config.method
    if premises is None and s.retriever is not None:
        premises = premise_source(
            s.retriever, lean.get(), theorems, s.retriever_k, roots=s.premise_roots
        )
    pol: Any
    kwargs: dict[str, Any]
    if method == "heuristic":  # no model
        pol, value, kwargs = search_setup(method, s, premises=premises)
    elif prm_path is None:
        method, value = "best_first", None
        pol = SampledPolicy(
            HFPolicy(model_dir, device=run_cfg.device), premises=premises, **sampling_kwargs(s)
        )
        kwargs = {"num_candidates": s.num_samples, "priority": "logprob"}
    else:
        model = HFPolicy(model_dir, device=run_cfg.device)
        value_model = load_value_model(prm_path, device=run_cfg.device)  # PRM or outcome value
        pol, value, kwargs = search_setup(
            method, s, model=model, prm=value_model, premises=premises
        )
    prove_theorems(
        theorems, [lean.get()], method=method, policy=pol, out_path=out, budget=b.budget(),
        value=value, search_kwargs=kwargs, progress=config.progress,
    )  # fmt: skip
    return st.log_counts(out)


def evaluate(
    label: str,
    d: Path,
    policy: Path | str,
    prm: Path,
    key: str,
    config: Any,
    run_cfg: Any,
    lean: Any,
    notify: Notify,
    st: Any,
    theorems: EvalTheorems | None = None,
) -> dict[str, dict[str, int | None]]:
    """`{split_key: {"full", "model_only", "total"}}` of `policy` (+ `prm`) on every split of
    `config.eval_splits` (stages under `d`); `model_only` is None without `config.model_only`,
    and the whole is empty with `eval_limit` 0. `theorems` shares the loaded splits between
    calls."""
    if config.eval_limit == 0:
        return {}
    loaded = theorems if theorems is not None else EvalTheorems()
    settings = [config.method, config.eval_limit, config.search.key_text(), str(config.budget)]
    out: dict[str, dict[str, int | None]] = {}
    for pair in config.eval_splits:
        name = split_key(pair)
        counts: dict[str, int | None] = {"full": None, "model_only": None, "total": 0}
        modes = [("full", prm), *([("model_only", None)] if config.model_only else [])]
        for mode, value in modes:

            def work(sd: Path, pair: str = pair, value: Path | None = value) -> dict[str, Any]:
                thms = loaded.get(pair, lean, config.eval_limit)
                log = sd / "log.jsonl"
                return prove_with(log, thms, str(policy), value, config, run_cfg, lean, st)

            where = [key_path(m, config.iterate_dir) for m in (policy, value)]
            stage_key = fingerprint([key, *where, pair, mode, settings])
            done = run_stage(f"{label}: {pair} {mode}", d / name / mode, stage_key, work, notify)
            counts[mode] = int(done.outputs["proved"])
            counts["total"] = int(done.outputs["total"])
        out[name] = counts
    return out


def report_rows(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """One JSON-able dict per round: its evaluations and data counts."""
    return [
        {
            "round": r.round,
            **(r.evals or {}),
            "new_proofs": r.new_proofs,
            "sft_rows": r.sft_rows,
            "sft_rows_trained": getattr(r, "sft_trained", None),
            "prm_rows": r.prm_rows,
        }
        for r in rows
    ]


def markdown_table(rows: Sequence[Any], teacher: Mapping[str, Any] | None = None) -> str:
    """The rounds as a markdown table: per split `full / model only / total`; with a `teacher`
    (`rounds.json`'s entry: its policy and counts on the same splits and budget) a last row
    `teacher POLICY` with its counts and no data columns."""
    keys = list(dict.fromkeys(k for r in rows for k in (r.evals or {})))
    head = ["round", *[f"{k} full / model only" for k in keys], "new proofs", "SFT", "PRM"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---:|" * len(head)]
    for r in rows:
        cells = [str(r.round)]
        for k in keys:
            e = (r.evals or {}).get(k)
            cells.append("–" if e is None else f"{_n(e['full'])} / {_n(e['model_only'])} of "
                         f"{e['total']}")  # fmt: skip
        cells += [_n(r.new_proofs), _n(r.sft_rows), _n(r.prm_rows)]
        lines.append("| " + " | ".join(cells) + " |")
    if teacher:
        cells = [f"teacher {teacher.get('policy')}"]
        for k in keys:
            e = teacher.get(k)
            cells.append("–" if e is None else f"{_n(e.get('full'))} / "
                         f"{_n(e.get('model_only'))} of {e.get('total')}")  # fmt: skip
        lines.append("| " + " | ".join([*cells, "–", "–", "–"]) + " |")
    return "\n".join(lines) + "\n"


def _n(x: Any) -> str:
    return "–" if x is None else str(x)


def write_report(iterate_dir: Path, rows: Sequence[Any], extra: Mapping[str, Any]) -> Path | None:
    """`report/rounds.json` (`report_rows` plus `extra`), `rounds.md` and the plot of the last
    round, `report/round<r>.png` (None without matplotlib)."""
    d = Path(iterate_dir) / REPORT_DIR
    write_json(d / ROUNDS_JSON, {"rounds": report_rows(rows), **extra})
    atomic_write_text(d / ROUNDS_MD, markdown_table(rows, extra.get("teacher")))
    return plot_rounds(rows, d / f"round{rows[-1].round}.png") if rows else None


def plot_rounds(rows: Sequence[Any], path: Path) -> Path | None:
    """Proved per round on each split: the full search solid, the policy alone dashed."""
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    keys = list(dict.fromkeys(k for r in rows for k in (r.evals or {})))
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for i, k in enumerate(keys):
        color = f"C{i}"
        for mode, style in (("full", "-"), ("model_only", "--")):
            pts = [
                (r.round, r.evals[k][mode])
                for r in rows
                if r.evals and k in r.evals and r.evals[k][mode] is not None
            ]
            if pts:
                total = next(r.evals[k]["total"] for r in rows if r.evals and k in r.evals)
                xs, ys = zip(*pts, strict=True)
                ax.plot(xs, ys, style, marker="o", color=color,
                        label=f"{k} {mode.replace('_', ' ')} (of {total})")  # fmt: skip
    ax.set_xlabel("round (0: before any round)")
    ax.set_ylabel("theorems proved")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    if keys:
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".tmp.png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return path
