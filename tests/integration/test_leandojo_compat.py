"""The bundled extraction meets what ReProver's loaders assume (docs/LEANDOJO.md), checked by
our own restatement of them (leancot/extract/compat.py) on a real extraction (real WASM Lean)."""

import json

import pytest

from leancot.extract.compat import leandojo_problems
from leancot.extract.dataset import read_benchmark, read_corpus, read_metadata
from leancot.extract.extractor import ExtractConfig, bundled_corpus, main
from leancot.extract.origin import find_origin

pytestmark = [pytest.mark.slow, pytest.mark.lean]

LEAN4 = ".lake/packages/lean4/src/lean/"


@pytest.fixture(scope="module")
def bundled(lean_server, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundled") / "dataset"
    # a developer's checkout may have local edits: extract anyway, as `leancot run` does
    config = ExtractConfig(out_dir=out, allow_dirty=True)
    summary = main(config, server=lean_server, progress=False)
    assert not summary.files_failed, summary.files_failed
    return out


def test_reprover_invariants_hold_on_the_bundled_extraction(bundled):
    root = find_origin(bundled_corpus(), allow_dirty=True).root
    assert leandojo_problems(bundled, source_root=root) == []


def test_every_premise_is_located(bundled):
    stats = read_metadata(bundled)["premises"]
    assert stats["unlocated"] == 0
    assert stats["provenances"] > 1000 and stats["tactics_with_premises"] > 600


def test_paths_repo_and_core_files(bundled):
    meta = read_metadata(bundled)
    theorems = [t for split in read_benchmark(bundled).values() for t in split]
    assert {t["file_path"].rsplit("/", 1)[0] for t in theorems} == {"lean_project/LeanCot/Corpus"}
    assert {(t["url"], t["commit"]) for t in theorems} == {
        (meta["from_repo"]["url"], meta["from_repo"]["commit"])
    }
    assert len(meta["from_repo"]["commit"]) == 40
    corpus = read_corpus(bundled)
    paths = [c["path"] for c in corpus]
    assert f"{LEAN4}Init.lean" in paths and f"{LEAN4}Init/Prelude.lean" in paths
    own = [c for c in corpus if c["path"].startswith("lean_project/")]
    assert all(c["imports"][0] == f"{LEAN4}Init.lean" for c in own)
    kinds = {p["kind"] for c in own for p in c["premises"]}
    assert kinds == {"commanddeclaration"}
    names = {p["full_name"] for c in own for p in c["premises"]}
    assert "LeanCot.Corpus.List.len" in names  # definitions too, not only theorems


def test_library_constants_point_into_core_files(bundled):
    theorems = [t for split in read_benchmark(bundled).values() for t in split]
    provs = {
        p["full_name"]: p
        for t in theorems
        for s in t["traced_tactics"]
        for p in s["annotated_tactic"][1]
    }
    assert provs["List.cons"]["def_path"] == f"{LEAN4}Init/Prelude.lean"
    assert provs["LeanCot.Corpus.List.len"]["def_path"] == "lean_project/LeanCot/Corpus/List.lean"
    assert all("·" not in s["tactic"] for t in theorems for s in t["traced_tactics"])
    text = json.dumps(theorems, ensure_ascii=False)
    assert '"def_pos": null' not in text
