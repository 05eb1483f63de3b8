"""report.html in a real browser: headless Chromium (the Debian package) driven by playwright.

The page of a scripted proving run must render (the screenshot is not blank), raise no console
error or page error, load nothing from the network, and show a drawn search tree once its
theorem's `<details>` is opened.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from leancot.prover import ScriptedEnv, ScriptedPolicy
from leancot.prover.report import write_report
from leancot.prover.runner import prove_all

pytestmark = pytest.mark.timeout(180)

STARTS = {"theorem one : R": "⊢ R", "theorem two : P": "⊢ P", "theorem three : Q": "⊢ Q"}
TABLE = {"⊢ R": {"b": "⊢ B", "c": "⊢ C"}, "⊢ B": {"z": "no goals"}, "⊢ P": {"p": "no goals"}}
TABLE["⊢ C"] = {}
POLICY = {"⊢ R": ["a", "b", "c"], "⊢ B": ["x", "z"], "⊢ C": ["y"], "⊢ P": ["p"], "⊢ Q": ["q"]}
THEOREMS = [
    {"full_name": f"T.{name}", "statement": s, "split": "test"}
    for name, s in zip(["one", "two", "three"], STARTS, strict=True)
]
DOCS = [{"full_name": "Demo.and_swap", "split": "train", "text": "Statement: p ∧ q → q ∧ p"}]


@pytest.fixture
def report_html(tmp_path):
    for method in ("baseline", "best_first"):
        prove_all(
            THEOREMS,
            lambda: ScriptedEnv(TABLE, STARTS),
            method=method,
            policy=ScriptedPolicy(POLICY),
            verify=lambda statement, proof: True,
            out_path=tmp_path / f"{method}.jsonl",
            progress=False,
        )
    logs = [tmp_path / "baseline.jsonl", tmp_path / "best_first.jsonl"]
    report = write_report(logs, tmp_path / "report", documents=DOCS)
    assert report.html is not None
    return report.html


def pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def not_blank(image: np.ndarray) -> bool:
    """More than a background: many pixels differ from the most common colour."""
    flat = image.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    return len(colours) > 20 and 1 - counts.max() / len(flat) > 0.02


def test_the_page_renders_without_errors_or_network(chromium, report_html):
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(report_html.as_uri(), wait_until="load")
            closed = pixels(page.screenshot(full_page=True))
            assert page.locator("details").count() == len(THEOREMS) + len(DOCS)
            assert page.locator("table tbody tr").count() == 2  # one row per method
            plot = page.locator("img[alt^='theorems proved']")
            assert plot.evaluate("img => img.complete && img.naturalWidth > 100")

            page.locator("summary", has_text="T.one").click()
            tree = page.locator("#thm-1 img.tree").first
            assert tree.is_visible()
            assert tree.evaluate("img => img.complete && img.naturalWidth > 100")
            assert "theorem one : R := by" in page.locator("#thm-1").inner_text()
            opened = pixels(tree.screenshot())
        finally:
            browser.close()
    assert problems == []
    assert not_blank(closed)
    assert not_blank(opened)  # the tree itself is drawn, not an empty box
    remote = [u for u in requests if not u.startswith(("file:", "data:"))]
    assert remote == []


def test_a_blank_page_is_told_apart():
    assert not not_blank(np.full((50, 50, 3), 255, dtype=np.uint8))
