"""Compare proving runs from their search logs: a table, a JSON summary, a pass/budget plot and
a self-contained HTML page with each theorem's proof and search tree (`report_html`).

Input: search logs as `runner.prove_all` writes them (docs/FORMATS.md#search-logs, one line per
theorem, with leancot's extras `verified`, `time_lean_s`, `time_model_s`, `stop_reason`). A run
is one method in one file. Runs are compared at an equal Lean-call budget: a theorem counts as
proved within budget `b` when its proof was verified and the search had made at most `b` Lean
calls (the search stops at its first proof, so `lean_calls` is the cost of the proof). With
several runs the comparison is on the theorems every run attempted.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from leancot.files import atomic_path, atomic_write_text, write_json
from leancot.formats import REPORT_JSON
from leancot.prover.search_log import read_log

logger = logging.getLogger(__name__)

REPORT_MD = "report.md"
REPORT_HTML = "report.html"
PLOT_PNG = "pass_vs_budget.png"
LEAN_CALL_LIMIT = "max_lean_calls"  # StopReason value of a search that ran out of Lean calls

Record = Mapping[str, Any]


@dataclass(frozen=True)
class MethodRow:
    """One run's line of the comparison.

    `proved` counts verified proofs within `budget` Lean calls (None: as run) among `total`
    theorems. Lean calls and times are over all of the run's attempts; the fractions split the
    wall time into Lean, the model and the search's own overhead (None without time fields).
    """

    method: str
    proved: int
    total: int
    budget: int | None
    lean_calls_sum: int
    lean_calls_mean: float
    wall_s_sum: float
    lean_frac: float | None
    model_frac: float | None
    overhead_frac: float | None

    @property
    def rate(self) -> float:
        return self.proved / self.total if self.total else 0.0


def is_proved(record: Record) -> bool:
    """A verified proof (`proved` for logs that predate the `verified` field)."""
    return bool(record.get("verified", record.get("proved", False)))


def lean_calls(record: Record) -> int:
    return int(record.get("lean_calls") or 0)


def load_runs(paths: Iterable[str | os.PathLike[str]]) -> dict[str, list[dict[str, Any]]]:
    """`{label: records}`, one run per (file, method); the label is the method, with the file's
    stem added when a method occurs in several files. A theorem's first record counts."""
    groups: dict[tuple[Path, str], dict[str, dict[str, Any]]] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"{path}: no such search log")
        for rec in read_log(path):
            if "full_name" not in rec:
                continue
            group = groups.setdefault((path, str(rec.get("method", "?"))), {})
            group.setdefault(rec["full_name"], rec)
    per_method: dict[str, int] = {}
    for _, method in groups:
        per_method[method] = per_method.get(method, 0) + 1
    runs = {}
    for (path, method), records in groups.items():
        label = method if per_method[method] == 1 else f"{method} ({path.stem})"
        if label in runs:  # two files with the same stem
            label = f"{method} ({path})"
        runs[label] = list(records.values())
    return runs


def common_theorems(runs: Mapping[str, Sequence[Record]]) -> set[str]:
    """Full names attempted by every run."""
    names = [{r["full_name"] for r in records} for records in runs.values()]
    return set.intersection(*names) if names else set()


def restrict_to_common(runs: Mapping[str, Sequence[Record]]) -> dict[str, list[Record]]:
    """The runs limited to the theorems every run attempted."""
    keep = common_theorems(runs)
    return {m: [r for r in recs if r["full_name"] in keep] for m, recs in runs.items()}


def run_budget(records: Sequence[Record]) -> int | None:
    """The Lean-call limit a run was seen to hit (None: no search ran out of Lean calls)."""
    hit = [lean_calls(r) for r in records if r.get("stop_reason") == LEAN_CALL_LIMIT]
    return max(hit) if hit else None


def equal_budget(runs: Mapping[str, Sequence[Record]]) -> int | None:
    """The smallest Lean-call limit any run hit: every run had at least that much."""
    budgets = [b for b in map(run_budget, runs.values()) if b is not None]
    return min(budgets) if budgets else None


def _sum(records: Sequence[Record], key: str) -> float | None:
    values = [r.get(key) for r in records]
    if any(v is None for v in values):
        return None
    return float(sum(values))  # type: ignore[arg-type]


def method_row(method: str, records: Sequence[Record], budget: int | None = None) -> MethodRow:
    """The row of one run, counting proofs made within `budget` Lean calls."""
    proved = sum(is_proved(r) and (budget is None or lean_calls(r) <= budget) for r in records)
    calls = sum(lean_calls(r) for r in records)
    wall = _sum(records, "wall_s") or 0.0
    lean, model = _sum(records, "time_lean_s"), _sum(records, "time_model_s")
    search = _sum(records, "time_search_s")
    if search is None and lean is not None and model is not None:
        search = sum(max(0.0, r["wall_s"] - r["time_lean_s"] - r["time_model_s"]) for r in records)
    fracs = [None if t is None or wall <= 0 else t / wall for t in (lean, model, search)]
    return MethodRow(
        method=method,
        proved=proved,
        total=len(records),
        budget=budget,
        lean_calls_sum=calls,
        lean_calls_mean=calls / len(records) if records else 0.0,
        wall_s_sum=wall,
        lean_frac=fracs[0],
        model_frac=fracs[1],
        overhead_frac=fracs[2],
    )


def method_rows(
    runs: Mapping[str, Sequence[Record]],
    *,
    budget: int | None | str = "equal",
    common: bool = True,
) -> list[MethodRow]:
    """One row per run, best first. `budget`: a Lean-call budget, None (as run) or "equal"
    (`equal_budget`). `common`: only the theorems every run attempted."""
    if common and len(runs) > 1:
        runs = restrict_to_common(runs)
    if budget == "equal":
        budget = equal_budget(runs)
    elif isinstance(budget, str):
        raise ValueError(f"budget must be a number of Lean calls, None or 'equal', not {budget!r}")
    rows = [method_row(m, recs, budget) for m, recs in runs.items()]
    return sorted(rows, key=lambda r: (-r.proved, r.lean_calls_sum, r.method))


def pass_curve(records: Sequence[Record]) -> list[tuple[int, int]]:
    """`[(b, proved within b Lean calls)]` at each budget where the count grows."""
    costs = sorted(lean_calls(r) for r in records if is_proved(r))
    points: list[tuple[int, int]] = []
    for i, cost in enumerate(costs, 1):
        if points and points[-1][0] == cost:
            points[-1] = (cost, i)
        else:
            points.append((cost, i))
    return points


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


TABLE_COLUMNS = (
    "method",
    "proved",
    "rate",
    "Lean calls (sum)",
    "Lean calls (mean)",
    "wall s",
    "Lean",
    "model",
    "overhead",
)


def table_cells(rows: Sequence[MethodRow]) -> list[list[str]]:
    """The rows formatted as the table shows them, one string per `TABLE_COLUMNS` entry."""
    return [
        [
            row.method,
            f"{row.proved}/{row.total}",
            f"{100 * row.rate:.1f}%",
            str(row.lean_calls_sum),
            f"{row.lean_calls_mean:.1f}",
            f"{row.wall_s_sum:.1f}",
            _pct(row.lean_frac),
            _pct(row.model_frac),
            _pct(row.overhead_frac),
        ]
        for row in rows
    ]


def render_table(rows: Sequence[MethodRow]) -> str:
    """A Markdown table of the rows (readable as plain text too)."""
    cells = table_cells(rows)
    widths = [
        max(len(c[i]) for c in [list(TABLE_COLUMNS), *cells]) for i in range(len(TABLE_COLUMNS))
    ]

    def line(values: Sequence[str]) -> str:
        padded = [
            v.ljust(w) if i == 0 else v.rjust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if i else (":" + "-" * (w + 1)) for i, w in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(TABLE_COLUMNS), rule, *map(line, cells)])


def plot_pass_vs_budget(
    curves: Mapping[str, Sequence[tuple[int, int]]],
    limits: Mapping[str, int],
    path: str | os.PathLike[str],
    budget: int | None = None,
) -> None:
    """A step plot of proved count against Lean-call budget, one line per run (needs
    matplotlib, with the Agg backend: no display). `limits`: how far each run searched;
    `budget`: the budget the table counts at, drawn as a dotted line."""
    try:
        import matplotlib
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "the pass/budget plot needs matplotlib: pip install 'leancot[train]' "
            "(or pip install matplotlib)",
            name=exc.name,
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    try:
        top = max([1, *limits.values(), *(p[-1][0] for p in curves.values() if p)])
        for label, points in curves.items():
            xs = [1] + [b for b, _ in points] + [max(limits.get(label, 1), 1)]
            ys = [0] + [n for _, n in points] + [points[-1][1] if points else 0]
            if points and points[0][0] <= 1:
                xs, ys = xs[1:], ys[1:]
            ax.step(xs, ys, where="post", label=label)
        if budget is not None:
            ax.axvline(budget, color="grey", linestyle=":", label=f"table budget ({budget})")
        ax.set_xscale("log" if top >= 32 else "linear")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Lean-call budget per theorem")
        ax.set_ylabel("theorems proved (verified)")
        ax.set_title("Proved within a Lean-call budget")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.tight_layout()
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=120)
    finally:
        plt.close(fig)


@dataclass(frozen=True)
class Report:
    """What `write_report` wrote; `plot` is None when it could not be drawn (see `note`), `html`
    when the page was not asked for."""

    rows: tuple[MethodRow, ...]
    markdown: Path
    json: Path
    plot: Path | None
    note: str | None = None
    html: Path | None = None


def write_report(
    results_paths: Iterable[str | os.PathLike[str]],
    out_dir: str | os.PathLike[str],
    *,
    budget: int | None | str = "equal",
    common: bool = True,
    plot: bool = True,
    html: bool = True,
    documents: Sequence[Record] = (),
) -> Report:
    """Write report.md (the table), pass_vs_budget.png, report.html and report.json (last) into
    `out_dir`.

    `budget` and `common` as in `method_rows`. Without matplotlib the plot is skipped, and the
    report says so (the HTML page then has no search trees either). `documents`: chain-of-thought
    rows (`proofs.jsonl`) the HTML page samples.
    """
    paths = [Path(p) for p in results_paths]
    runs = load_runs(paths)
    if not runs:
        raise ValueError(f"no search-log records in {', '.join(map(str, paths)) or 'no files'}")
    common = common and len(runs) > 1
    if common:
        runs = restrict_to_common(runs)
    rows = method_rows(runs, budget=budget, common=False)
    used_budget = rows[0].budget
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / REPORT_JSON).unlink(missing_ok=True)  # unfinished until written again

    curves = {m: pass_curve(recs) for m, recs in runs.items()}
    limits = {m: max((lean_calls(r) for r in recs), default=0) for m, recs in runs.items()}
    plot_path: Path | None = None
    note = None
    if plot:
        try:
            plot_pass_vs_budget(curves, limits, out / PLOT_PNG, used_budget)
            plot_path = out / PLOT_PNG
        except ModuleNotFoundError as exc:
            note = f"plot skipped: {exc}"
            logger.warning("%s", note)

    theorems = sorted({r["full_name"] for recs in runs.values() for r in recs})
    budget_text = (
        "with the budget each run had"
        if used_budget is None
        else f"within {used_budget} Lean calls per theorem"
    )
    summary_text = (
        f"Theorems: {len(theorems)}{' (attempted by every run)' if common else ''}."
        f" Proofs counted: verified, {budget_text}."
    )
    html_path = None
    if html:
        from leancot.prover.report_html import write_html_report

        html_path = write_html_report(
            out / REPORT_HTML, runs=runs, rows=rows, columns=TABLE_COLUMNS,
            cells=table_cells(rows), summary=summary_text, plot=plot_path, plot_note=note,
            sources=paths, documents=documents,
        )  # fmt: skip
    lines = [
        "# Proving runs",
        "",
        summary_text,
        "Lean / model / overhead: shares of wall time (overhead: the search itself).",
        "",
        render_table(rows),
        "",
        f"![proved vs Lean-call budget]({PLOT_PNG})" if plot_path else (note or "no plot"),
        "",
        f"Each theorem's proof and search tree: [{REPORT_HTML}]({REPORT_HTML})."
        if html_path
        else "",
        "Sources: " + ", ".join(f"`{p}`" for p in paths),
        "",
    ]
    atomic_write_text(out / REPORT_MD, "\n".join(lines))
    summary = {
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "sources": [str(p) for p in paths],
        "budget": used_budget,
        "common": common,
        "num_theorems": len(theorems),
        "rows": [{**asdict(r), "rate": r.rate} for r in rows],
        "curves": {m: [list(p) for p in pts] for m, pts in curves.items()},
        "plot": PLOT_PNG if plot_path else None,
        "html": REPORT_HTML if html_path else None,
        "note": note,
    }
    write_json(out / REPORT_JSON, summary)  # last: marks a finished report
    return Report(tuple(rows), out / REPORT_MD, out / REPORT_JSON, plot_path, note, html_path)
