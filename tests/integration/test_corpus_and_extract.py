"""The bundled corpus passes Lean, and the extractor traces real files (real WASM Lean)."""

from pathlib import Path

import pytest

from leancot.extract.dataset import read_benchmark, split_of
from leancot.extract.extractor import ExtractConfig, bundled_corpus, lean_files, main
from leancot.lean.results import ProofFinished
from leancot.lean.verify import check_file

pytestmark = [pytest.mark.slow, pytest.mark.lean]

CORPUS_FILES = lean_files(bundled_corpus(), ("**/*.lean",))


def test_corpus_has_at_least_300_theorems():
    count = sum(
        line.lstrip().startswith("theorem ")
        for path in CORPUS_FILES
        for line in path.read_text(encoding="utf-8").splitlines()
    )
    assert count >= 300


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name)
def test_every_corpus_theorem_passes_lean(lean_server, path: Path):
    report = check_file(path, server=lean_server, timeout=600)
    failing = [f"{t.name}: {t.verdict.reasons}" for t in report.theorems if not t.verdict.ok]
    assert not report.errors, report.errors
    assert not failing, failing
    assert len(report.theorems) >= 50


def test_extract_a_small_project_and_resume(lean_server, tmp_path):
    project = tmp_path / "proj"
    (project / "Demo").mkdir(parents=True)
    (project / "Demo" / "Good.lean").write_text(
        "namespace Demo\n\n"
        "theorem two_steps (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        "  constructor\n  · exact hp\n  · exact hq\n\n"
        "theorem by_ind (n : Nat) : 0 + n = n := by\n"
        "  induction n with\n  | zero => rfl\n  | succ k ih => omega\n\n"
        "end Demo\n",
        encoding="utf-8",
    )
    (project / "Demo" / "Bad.lean").write_text(
        "theorem broken : 1 = 2 := by\n  rfl\n", encoding="utf-8"
    )
    out = tmp_path / "dataset"
    seen: list[tuple[str, int, int]] = []
    config = ExtractConfig(out_dir=out, source=project, url="local:test", commit="abc")
    summary = main(config, server=lean_server, progress=False, on_file=lambda *a: seen.append(a))

    assert summary.theorems == 2 and summary.files_ok == 1
    assert [(f.path, f.line) for f in summary.files_failed] == [("Demo/Bad.lean", 2)]
    splits = read_benchmark(out)
    theorems = {t["full_name"]: t for split in splits.values() for t in split}
    assert set(theorems) == {"Demo.two_steps", "Demo.by_ind"}
    for name, thm in theorems.items():
        assert thm in splits[split_of(name)]
    steps = theorems["Demo.two_steps"]["traced_tactics"]
    assert [s["tactic"] for s in steps] == ["constructor", "exact hp", "exact hq"]
    assert steps[0]["state_after"].startswith("case left")
    induction = theorems["Demo.by_ind"]["traced_tactics"]
    assert [(s["depth"], s["tactic"]) for s in induction][1:] == [(1, "rfl"), (1, "omega")]

    requests_before = lean_server.stats.requests
    again = main(config, server=lean_server, progress=False)
    assert again.theorems == 2
    assert [(f.path, f.line) for f in again.files_failed] == [("Demo/Bad.lean", 2)]
    retried = lean_server.stats.requests - requests_before
    assert retried > 0  # a failed file is not cached: a rerun retries it

    (project / "Demo" / "Bad.lean").unlink()
    requests_before = lean_server.stats.requests
    fixed = main(config, server=lean_server, progress=False)
    assert fixed.theorems == 2 and fixed.files_ok == 1 and not fixed.files_failed
    assert lean_server.stats.requests == requests_before  # the good file came from the cache


def test_tactics_still_run_after_heavy_elaboration(lean_server):
    """The REPL's tactic runs count heartbeats from their own start, not the process's."""
    for path in CORPUS_FILES[:3]:
        result = lean_server.run_cmd(path.read_text(encoding="utf-8"), None, 600, all_tactics=True)
        assert result.ok, result
    state = lean_server.start_proof("theorem after_all (n : Nat) : n + 0 = n")
    assert isinstance(lean_server.run_tac(state, "simp"), ProofFinished)
