"""`report.html`: the run report as one self-contained page (no network, no files beside it).

The methods table of `report.write_report`, its pass-versus-budget plot (embedded as a PNG data
URI), one collapsed `<details>` per theorem with, for each run, the verdict, the proof and the
search tree drawn as SVG (`graph_export.svg_text`: proof path red, dead ends grey; trees over
`max_tree_edges` edges are cut down by `graph_export.trimmed`, with a note), and sample
chain-of-thought documents (`proofs.jsonl` rows, docs/FORMATS.md#proof-documents). Rendered from
`templates/report.html.j2`, written atomically.
"""

from __future__ import annotations

import base64
import datetime as _dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from leancot.files import atomic_write_text
from leancot.prover.graph import ProofGraph
from leancot.prover.graph_export import svg_text, trimmed

logger = logging.getLogger(__name__)

MAX_TREE_EDGES = 60  # edges drawn per search tree; the rest are counted in a note
MAX_TREES = 120  # search trees drawn per page (0.2-1 s each under load); later ones: proofs only
SAMPLE_DOCUMENTS = 5

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Attempt:
    """One run's search of one theorem, ready for the page."""

    method: str
    verified: bool
    claimed: bool  # the search closed the goals (maybe rejected by verify)
    proof: str | None
    lean_calls: int
    stop_reason: str
    tree_svg: str | None  # a data URI
    tree_note: str | None
    error: str | None


@dataclass(frozen=True)
class TheoremView:
    name: str
    statement: str
    attempts: tuple[Attempt, ...]

    @property
    def proved_by(self) -> int:
        return sum(a.verified for a in self.attempts)


def proof_text(statement: str, tactics: Sequence[str] | None) -> str | None:
    """The proof as Lean reads it: the statement, `:= by` and the tactics indented."""
    if not tactics:
        return None
    body = "\n".join("  " + line for tac in tactics for line in str(tac).splitlines())
    return f"{statement} := by\n{body}"


def data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def tree_picture(record: Record, max_edges: int) -> tuple[str | None, str | None]:
    """(the search tree of `record` as an SVG data URI, a note on what was left out or why
    there is no picture)."""
    if not record.get("nodes"):
        return None, "no search tree (the statement gave no proof state)"
    graph = ProofGraph.from_json(record)
    small, left_out = trimmed(graph, max_edges)
    svg = svg_text(small)
    note = None
    if left_out:
        note = (
            f"{left_out} of {len(graph.edges)} edges not drawn (the proof path and the first "
            f"{len(small.edges)} tactics tried are); the search log has the whole tree"
        )
    return data_uri(svg.encode("utf-8"), "image/svg+xml"), note


def theorem_views(
    runs: Mapping[str, Sequence[Record]], *, max_tree_edges: int, max_trees: int
) -> tuple[list[TheoremView], int]:
    """One view per theorem (sorted by name), a run per attempt, and how many trees were not
    drawn because the page already held `max_trees`."""
    by_name: dict[str, dict[str, Record]] = {}
    for label, records in runs.items():
        for r in records:
            by_name.setdefault(r["full_name"], {})[label] = r
    views, drawn, skipped = [], 0, 0
    for name in sorted(by_name):
        attempts = []
        statement = ""
        for label, r in by_name[name].items():
            statement = statement or str(r.get("statement", ""))
            svg, note = None, "tree not drawn: the page already holds the most trees it shows"
            if drawn < max_trees:
                try:
                    svg, note = tree_picture(r, max_tree_edges)
                except ModuleNotFoundError as exc:  # no matplotlib: no drawing
                    svg, note = None, f"tree not drawn: {exc}"
                except (KeyError, ValueError, IndexError) as exc:  # a malformed log line
                    svg, note = None, f"tree not drawn: {type(exc).__name__}: {exc}"
                drawn += svg is not None
            else:
                skipped += 1
            attempts.append(
                Attempt(
                    method=label,
                    verified=bool(r.get("verified", r.get("proved", False))),
                    claimed=bool(r.get("proved", False)),
                    proof=proof_text(str(r.get("statement", "")), r.get("proof")),
                    lean_calls=int(r.get("lean_calls") or 0),
                    stop_reason=str(r.get("stop_reason") or ""),
                    tree_svg=svg,
                    tree_note=note,
                    error=r.get("error") or r.get("verify_error"),
                )
            )
        views.append(TheoremView(name, statement, tuple(attempts)))
    return views, skipped


def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("leancot.prover", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2")


def write_html_report(
    path: str | Path,
    *,
    runs: Mapping[str, Sequence[Record]],
    rows: Sequence[Any],
    columns: Sequence[str],
    cells: Sequence[Sequence[str]],
    summary: str,
    plot: Path | None,
    plot_note: str | None,
    sources: Sequence[Path],
    documents: Sequence[Record] = (),
    max_tree_edges: int = MAX_TREE_EDGES,
    max_trees: int = MAX_TREES,
) -> Path:
    """Write the page to `path` atomically and return it. `rows`/`cells`: the methods table
    (`report.MethodRow`s and their formatted cells under `columns`); `plot`: the PNG to embed;
    `documents`: chain-of-thought rows to show (the first SAMPLE_DOCUMENTS are used)."""
    views, skipped = theorem_views(runs, max_tree_edges=max_tree_edges, max_trees=max_trees)
    plot_uri = data_uri(Path(plot).read_bytes(), "image/png") if plot is not None else None
    html = _template().render(
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        summary=summary,
        columns=list(columns),
        cells=[list(c) for c in cells],
        methods=[r.method for r in rows],
        plot_uri=plot_uri,
        plot_note=plot_note,
        theorems=views,
        trees_skipped=skipped,
        max_trees=max_trees,
        documents=list(documents)[:SAMPLE_DOCUMENTS],
        num_documents=len(documents),
        sources=[str(s) for s in sources],
    )
    atomic_write_text(path, html)
    return Path(path)
