"""report.html: what the page holds, that it stands alone, and how big trees are cut down."""

from __future__ import annotations

import base64
import json
import re

import pytest

from leancot.prover import ScriptedEnv, ScriptedPolicy
from leancot.prover.graph import ProofGraph, Status
from leancot.prover.graph_export import svg_text, trimmed
from leancot.prover.report import REPORT_HTML, REPORT_JSON, write_report
from leancot.prover.report_html import SAMPLE_DOCUMENTS, proof_text
from leancot.prover.runner import prove_all

pytest.importorskip("matplotlib")

STARTS = {"theorem one : R": "⊢ R", "theorem two : P": "⊢ P", "theorem three : Q": "⊢ Q"}
TABLE = {"⊢ R": {"b": "⊢ B"}, "⊢ B": {"z": "no goals"}, "⊢ P": {"p": "no goals"}}
POLICY = {"⊢ R": ["a", "b"], "⊢ B": ["x", "z"], "⊢ P": ["p"], "⊢ Q": ["q"]}
THEOREMS = [
    {"full_name": "T.one", "statement": "theorem one : R", "split": "test"},
    {"full_name": "T.two", "statement": "theorem two : P", "split": "test"},
    {"full_name": "T.three", "statement": "theorem three : Q", "split": "test"},
]


def log(tmp_path, method="best_first", verify=lambda s, p: True):
    out = tmp_path / f"{method}.jsonl"
    prove_all(
        THEOREMS,
        lambda: ScriptedEnv(TABLE, STARTS),
        method=method,
        policy=ScriptedPolicy(POLICY),
        verify=verify,
        out_path=out,
        progress=False,
    )
    return out


def images(html):
    """The decoded data-URI images of the page, by MIME type."""
    found = re.findall(r'src="data:(image/[a-z+]+);base64,([A-Za-z0-9+/=]+)"', html)
    return [(mime, base64.b64decode(data)) for mime, data in found]


def test_page_holds_table_plot_trees_proofs_and_documents(tmp_path):
    docs = [
        {"full_name": f"D.{i}", "split": "test", "text": f"Statement {i} <&>"}
        for i in range(SAMPLE_DOCUMENTS + 2)
    ]
    rep = write_report([log(tmp_path)], tmp_path / "r", documents=docs)
    html = rep.html.read_text("utf-8")
    assert json.loads((tmp_path / "r" / REPORT_JSON).read_text())["html"] == REPORT_HTML
    assert f"]({REPORT_HTML})" in rep.markdown.read_text("utf-8")
    assert "<td>best_first</td>" in html and "2/3" in html
    pictures = images(html)
    assert [m for m, _ in pictures].count("image/png") == 1  # the pass/budget plot
    assert pictures[0][1].startswith(b"\x89PNG")
    svgs = [data for m, data in pictures if m == "image/svg+xml"]
    assert len(svgs) == 3 and all(s.startswith(b"<svg") for s in svgs)  # one tree per search
    assert html.count('<details id="thm-') == 3
    assert "theorem one : R := by\n  b\n  z" in html
    assert re.search(r"T.three</code> —\s*<span class=\"no\">best_first: not proved", html)
    assert html.count("Statement ") == SAMPLE_DOCUMENTS  # a sample, escaped
    assert "Statement 0 &lt;&amp;&gt;" in html
    assert f"{SAMPLE_DOCUMENTS} of {SAMPLE_DOCUMENTS + 2} proof documents" in html


def test_page_stands_alone(tmp_path):
    html = write_report([log(tmp_path)], tmp_path / "r").html.read_text("utf-8")
    assert "<script" not in html
    assert not re.search(r'(src|href)="(?!data:|#)', html)  # nothing to fetch
    assert "url(" not in html and "@import" not in html
    assert "no chain-of-thought documents" in html


def test_rejected_proofs_show_as_rejected(tmp_path):
    rep = write_report([log(tmp_path, verify=lambda s, p: "two" not in s)], tmp_path / "r")
    assert 'class="bad">best_first: rejected' in rep.html.read_text("utf-8")


def test_without_matplotlib_the_page_says_why(tmp_path, monkeypatch):
    import leancot.prover.report_html as page

    def no_drawing(graph, **kwargs):
        raise ModuleNotFoundError("rendering a proof graph needs matplotlib")

    monkeypatch.setattr(page, "svg_text", no_drawing)
    html = write_report([log(tmp_path)], tmp_path / "r", plot=False).html.read_text("utf-8")
    assert "image/svg+xml" not in html
    assert html.count("tree not drawn: rendering a proof graph needs matplotlib") == 3


def test_the_page_caps_the_number_of_trees(tmp_path):
    from leancot.prover.report_html import write_html_report

    runs = {"best_first": [json.loads(line) for line in log(tmp_path).read_text().splitlines()]}
    path = write_html_report(
        tmp_path / "p.html", runs=runs, rows=[], columns=[], cells=[], summary="",
        plot=None, plot_note=None, sources=[], max_trees=1,
    )  # fmt: skip
    html = path.read_text("utf-8")
    assert html.count("image/svg+xml") == 1
    assert "2 search trees not drawn: the page shows at most 1" in html


def wide_graph(width):
    """A root with `width` failed tactics, then a two-step proof found last (a log line's form)."""
    edge = {"thought": "", "logprob": 0.0, "error": None, "visits": 0}
    edges = [{**edge, "src": 0, "dst": None, "tactic": f"bad{i}", "result": "error"}
             for i in range(width)]  # fmt: skip
    edges.append({**edge, "src": 0, "dst": 1, "tactic": "b", "result": "ok"})
    edges.append({**edge, "src": 1, "dst": None, "tactic": "z", "result": "proved"})
    nodes = [
        {"id": 0, "state": "⊢ R", "status": "PROVED", "visits": 0, "value": None},
        {"id": 1, "state": "⊢ B", "status": "PROVED", "visits": 0, "value": None},
    ]
    return ProofGraph.from_json({"root": 0, "nodes": nodes, "edges": edges})


def test_trimmed_keeps_the_proof_path_and_says_what_it_dropped():
    g = wide_graph(100)
    small, left_out = trimmed(g, 10)
    assert len(small.edges) == 10 and left_out == 92
    assert small.extract_proof() == ["b", "z"] == g.extract_proof()
    assert small.root.status is Status.PROVED
    small.check_invariants()
    assert trimmed(g, 500) == (g, 0)
    with pytest.raises(ValueError, match="max_edges"):
        trimmed(g, 0)


def test_proof_text_and_deterministic_svg():
    assert proof_text("theorem t : P", ["intro h", "exact\n  h"]) == (
        "theorem t : P := by\n  intro h\n  exact\n    h"
    )
    assert proof_text("theorem t : P", None) is None
    g = wide_graph(2)
    assert svg_text(g) == svg_text(g)
    assert svg_text(g).startswith("<svg")


def test_the_run_report_stage_samples_the_test_documents(tmp_path):
    from leancot.files import write_jsonl
    from leancot.formats import PROOFS_FILE
    from leancot.pipeline.steps import report

    cot = tmp_path / "cot"
    cot.mkdir()
    write_jsonl(
        cot / PROOFS_FILE,
        [{"full_name": f"D.{s}", "split": s, "text": f"doc of {s}"} for s in ("train", "test")],
    )
    outputs = report(tmp_path / "report", [log(tmp_path)], cot)
    html = (tmp_path / "report" / REPORT_HTML).read_text("utf-8")
    assert outputs["html"] == str(tmp_path / "report" / REPORT_HTML)
    assert "doc of test" in html and "doc of train" not in html
