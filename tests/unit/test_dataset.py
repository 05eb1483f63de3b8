"""LeanDojo Benchmark 4 folders: splits, atomic writing, validation on read."""

from __future__ import annotations

import hashlib
import json
import random

import pytest

from leancot.extract import dataset
from leancot.extract.dataset import (
    DatasetError,
    is_complete,
    novel_premises_split,
    read_benchmark,
    read_corpus,
    read_metadata,
    split_of,
    theorem_premises,
    write_benchmark,
)


def make_theorem(name: str, premises: list[str] = (), file_path: str = "Foo/Bar.lean") -> dict:
    provenance = [
        {"full_name": p, "def_path": "Init/Core.lean", "def_pos": [1, 1], "def_end_pos": [2, 3]}
        for p in premises
    ]
    return {
        "url": "https://github.com/owner/repo",
        "commit": "0" * 40,
        "file_path": file_path,
        "full_name": name,
        "start": [3, 1],
        "end": [5, 20],
        "traced_tactics": [
            {
                "tactic": "simp",
                "annotated_tactic": ["simp [" + ", ".join(premises) + "]", provenance],
                "state_before": "n : Nat\n⊢ n + 0 = n",
                "state_after": "no goals",
            }
        ],
        "statement": f"theorem {name} (n : Nat) : n + 0 = n",
    }


CORPUS = [{"path": "Foo/Bar.lean", "imports": ["Init.lean"], "premises": []}]
META = {"from_repo": {"url": "https://github.com/owner/repo", "commit": "0" * 40}}


def corpus_of(n: int, seed: int = 0) -> list[dict]:
    """`n` theorems; premise `common` everywhere, plus a few rarer ones."""
    rng = random.Random(seed)
    thms = []
    for i in range(n):
        premises = ["common"] + [f"p{rng.randrange(n // 2)}" for _ in range(rng.randrange(3))]
        thms.append(make_theorem(f"T.thm{i}", premises))
    return thms


def test_split_of_follows_the_sha256_prefix_rule():
    for name in ["Nat.add_zero", "List.map_id", "a", "Ünïcødé.lemma"]:
        x = int(hashlib.sha256(name.encode()).hexdigest()[:16], 16) / 16**16
        expected = "train" if x < 0.9 else "val" if x < 0.95 else "test"
        assert split_of(name) == expected
        assert split_of(name) == split_of(name)


def test_split_of_proportions():
    counts = {"train": 0, "val": 0, "test": 0}
    for i in range(20_000):
        counts[split_of(f"Thm.number_{i}")] += 1
    assert 0.88 < counts["train"] / 20_000 < 0.92
    assert 0.04 < counts["val"] / 20_000 < 0.06
    assert 0.04 < counts["test"] / 20_000 < 0.06


def test_theorem_premises_reads_annotated_tactics():
    thm = make_theorem("x", ["Nat.add_zero", "Nat.succ_le"])
    thm["traced_tactics"].append(
        {"tactic": "rfl", "annotated_tactic": ["rfl", []], "state_before": "", "state_after": ""}
    )
    assert theorem_premises(thm) == {"Nat.add_zero", "Nat.succ_le"}


def test_novel_premises_held_out_theorems_use_a_premise_unseen_in_train():
    thms = corpus_of(400)
    split = novel_premises_split(thms)
    assert set(split) == {t["full_name"] for t in thms}
    train_premises = set().union(
        *(theorem_premises(t) for t in thms if split[t["full_name"]] == "train")
    )
    held_out = [t for t in thms if split[t["full_name"]] != "train"]
    assert held_out
    for thm in held_out:
        assert theorem_premises(thm) - train_premises, thm["full_name"]
    counts = {s: list(split.values()).count(s) for s in ("train", "val", "test")}
    assert counts["val"] >= 1 and counts["test"] >= 1
    assert 0.08 <= (counts["val"] + counts["test"]) / 400 <= 0.2
    assert abs(counts["val"] - counts["test"]) <= 1


def test_novel_premises_split_is_deterministic_and_order_free():
    thms = corpus_of(200)
    shuffled = thms[:]
    random.Random(7).shuffle(shuffled)
    assert novel_premises_split(thms) == novel_premises_split(shuffled)


def test_novel_premises_theorems_without_premises_stay_in_train():
    thms = [make_theorem(f"t{i}") for i in range(50)] + [make_theorem("rare", ["only_here"])]
    split = novel_premises_split(thms)
    assert all(split[f"t{i}"] == "train" for i in range(50))


def test_novel_premises_never_empties_train():
    everywhere = [make_theorem(f"t{i}", ["Nat.add_zero"]) for i in range(100)]
    assert set(novel_premises_split(everywhere).values()) == {"train"}
    mixed = everywhere + [make_theorem(f"r{i}", ["Nat.add_zero", f"rare{i}"]) for i in range(20)]
    split = novel_premises_split(mixed)
    held_out = [name for name, s in split.items() if s != "train"]
    assert 12 <= len(held_out) <= 24 and all(name.startswith("r") for name in held_out)


def test_novel_premises_rejects_bad_fractions():
    with pytest.raises(ValueError):
        novel_premises_split([], val_fraction=0.0, test_fraction=0.0)


def test_write_then_read_round_trip(tmp_path):
    thms = corpus_of(300)
    out = write_benchmark(tmp_path / "bench", thms, CORPUS, {**META, "lean_version": "4.28.0"})
    assert is_complete(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]  # no temporaries left
    for strategy in ("random", "novel_premises"):
        splits = read_benchmark(out, strategy)
        names = [t["full_name"] for s in splits.values() for t in s]
        assert sorted(names) == sorted(t["full_name"] for t in thms)
    random_splits = read_benchmark(out)
    for split, part in random_splits.items():
        assert all(split_of(t["full_name"]) == split for t in part)
    assert random_splits["train"][0]["statement"].startswith("theorem ")  # extras survive
    assert read_corpus(out) == CORPUS

    meta = read_metadata(out)
    assert meta["from_repo"] == META["from_repo"]
    assert meta["lean_version"] == "4.28.0"
    assert meta["num_theorems"] == 300 and meta["num_tactics"] == 300
    assert meta["leancot_version"] and meta["created"]
    novel = read_benchmark(out, "novel_premises")
    assert {s: v["num_theorems"] for s, v in meta["splits"]["novel_premises"].items()} == {
        s: len(v) for s, v in novel.items()
    }


def test_files_are_plain_leandojo_json(tmp_path):
    out = write_benchmark(tmp_path / "b", [make_theorem("A.b", ["X"])], CORPUS, META)
    data = json.loads((out / "random" / f"{split_of('A.b')}.json").read_text("utf-8"))
    assert set(data[0]) >= set(dataset.THEOREM_KEYS)
    assert data[0]["traced_tactics"][0]["annotated_tactic"][1][0]["full_name"] == "X"
    assert (out / "corpus.jsonl").read_text("utf-8").count("\n") == 1


def test_rewrite_replaces_an_existing_benchmark(tmp_path):
    out = tmp_path / "bench"
    write_benchmark(out, corpus_of(20), CORPUS, META)
    write_benchmark(out, [make_theorem("Only.one")], CORPUS, META)
    splits = read_benchmark(out)
    assert [t["full_name"] for s in splits.values() for t in s] == ["Only.one"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bench"]


def test_refuses_to_replace_a_foreign_folder(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("precious")
    with pytest.raises(DatasetError, match="not a leancot benchmark"):
        write_benchmark(out, [make_theorem("a")], CORPUS, META)
    assert (out / "notes.txt").read_text() == "precious"


def test_empty_folder_is_fine(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    write_benchmark(out, [make_theorem("a")], CORPUS, META)
    assert is_complete(out)


def test_a_crash_mid_write_leaves_nothing_behind(tmp_path, monkeypatch):
    real = dataset._write_json

    def failing(path, value):
        if path.name == "metadata.json":
            raise OSError("disk full")
        real(path, value)

    monkeypatch.setattr(dataset, "_write_json", failing)
    with pytest.raises(OSError, match="disk full"):
        write_benchmark(tmp_path / "bench", corpus_of(10), CORPUS, META)
    assert list(tmp_path.iterdir()) == []


def test_a_crash_mid_rewrite_keeps_the_old_benchmark(tmp_path, monkeypatch):
    out = write_benchmark(tmp_path / "bench", [make_theorem("Old.one")], CORPUS, META)
    monkeypatch.setattr(dataset, "_write_json", lambda path, value: (_ for _ in ()).throw(OSError))
    with pytest.raises(OSError):
        write_benchmark(out, [make_theorem("New.one")], CORPUS, META)
    splits = read_benchmark(out)
    assert [t["full_name"] for s in splits.values() for t in s] == ["Old.one"]


def test_write_validates_theorems(tmp_path):
    bad = make_theorem("Bad.thm")
    del bad["traced_tactics"][0]["state_after"]
    with pytest.raises(DatasetError, match=r"theorems\[1\].*'Bad.thm'.*state_after"):
        write_benchmark(tmp_path / "b", [make_theorem("ok"), bad], CORPUS, META)
    no_pos = make_theorem("NoPos")
    no_pos["start"] = [3]
    with pytest.raises(DatasetError, match="'NoPos'.*'start'"):
        write_benchmark(tmp_path / "b", [no_pos], CORPUS, META)
    with pytest.raises(DatasetError, match=r"corpus_files\[0\].*'path'"):
        write_benchmark(tmp_path / "b", [make_theorem("a")], [{"imports": []}], META)
    assert not (tmp_path / "b").exists()


def test_read_names_file_and_theorem(tmp_path):
    out = write_benchmark(tmp_path / "b", [make_theorem("A.b")], CORPUS, META)
    path = out / "random" / f"{split_of('A.b')}.json"
    data = json.loads(path.read_text("utf-8"))
    del data[0]["commit"]
    path.write_text(json.dumps(data), "utf-8")
    with pytest.raises(DatasetError) as err:
        read_benchmark(out)
    assert str(path) in str(err.value) and "'A.b'" in str(err.value) and "commit" in str(err.value)


def test_read_refuses_unfinished_folder(tmp_path):
    out = write_benchmark(tmp_path / "b", [make_theorem("A.b")], CORPUS, META)
    (out / "metadata.json").unlink()
    with pytest.raises(DatasetError, match="not a finished benchmark"):
        read_benchmark(out)
    with pytest.raises(ValueError, match="split_strategy"):
        read_benchmark(out, "by_file")
