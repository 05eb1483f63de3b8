"""Our restatement of ReProver's loader invariants finds each kind of violation (no Lean)."""

from leancot.extract.compat import leandojo_problems
from leancot.extract.dataset import write_benchmark

INIT = ".lake/packages/lean4/src/lean/Init.lean"
PRELUDE = ".lake/packages/lean4/src/lean/Init/Prelude.lean"


def theorem(file_path="P/A.lean", provenances=None, state="⊢ True"):
    provenances = provenances if provenances is not None else [_prov()]
    marks = " ".join("<a>x</a>" for _ in provenances)
    return {
        "url": "file:///repo",
        "commit": "c" * 40,
        "file_path": file_path,
        "full_name": "P.t",
        "start": [3, 1],
        "end": [4, 9],
        "traced_tactics": [
            {
                "tactic": "exact x",
                "annotated_tactic": [f"exact {marks}", provenances],
                "state_before": state,
                "state_after": "no goals",
            }
        ],
    }


def _prov(path=PRELUDE, pos=(1, 1)):
    return {
        "full_name": "True.intro",
        "def_path": path,
        "def_pos": list(pos),
        "def_end_pos": [1, 11],
    }


def corpus(a_imports=(INIT,)):
    return [
        {
            "path": PRELUDE,
            "imports": [],
            "premises": [
                {
                    "full_name": "True.intro",
                    "code": "True.intro : True",
                    "start": [1, 1],
                    "end": [1, 18],
                    "kind": "constructor",
                }
            ],
        },
        {"path": INIT, "imports": [PRELUDE], "premises": []},
        {"path": "P/A.lean", "imports": list(a_imports), "premises": []},
    ]


def problems(tmp_path, theorems, files):
    out = write_benchmark(
        tmp_path / "d", theorems, files, {"from_repo": {"url": "u", "commit": "c"}}
    )
    return leandojo_problems(out)


def test_a_conforming_folder_has_no_problems(tmp_path):
    assert problems(tmp_path, [theorem()], corpus()) == []


def test_each_violation_is_named(tmp_path):
    found = problems(
        tmp_path,
        [
            theorem(file_path="A.lean"),  # no directory, not in the corpus
            theorem(provenances=[_prov(pos=(7, 1))]),  # outside every premise
            theorem(
                provenances=[
                    {"full_name": "x", "def_path": "", "def_pos": None, "def_end_pos": None}
                ]
            ),
            theorem(state="no goals"),
        ],
        corpus(a_imports=("Missing.lean", INIT)),
    )
    text = "\n".join(found)
    assert "has no directory" in text
    assert "A.lean is not in corpus.jsonl" in text
    assert "not located" in text
    assert "def_pos/def_end_pos missing" in text
    assert "state_before has no ⊢" in text
    assert "imports Missing.lean, which is not listed before it" in text


def test_a_premise_of_a_file_not_imported_is_reported(tmp_path):
    found = problems(tmp_path, [theorem()], corpus(a_imports=()))
    assert any("is not imported by P/A.lean" in p for p in found)
