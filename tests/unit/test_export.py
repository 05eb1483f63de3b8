"""`leancot export`: Parquet shards + dataset card that `datasets` reads back; a safe push."""

from __future__ import annotations

import hashlib

import pytest
import yaml

pa = pytest.importorskip("pyarrow")

from leancot.translate.dataset_card import size_category  # noqa: E402
from leancot.translate.export import ExportError, HubError, export_dataset, push_to_hub  # noqa: E402
from leancot.translate.parquet_shards import infer_schema, schema_features  # noqa: E402

CARD = dict(
    name="Lean CoT steps",
    source_repo="https://github.com/owner/repo",
    source_commit="a" * 40,
    license="apache-2.0",
    description="Tactic steps with thoughts.",
)


def step_row(i: int, split: str) -> dict:
    return {
        "id": hashlib.sha256(f"T.thm{i}:0".encode()).hexdigest()[:16],
        "full_name": f"T.thm{i}",
        "split": split,
        "step": i % 4,
        "state_before": "n : Nat\n⊢ n + 0 = n",
        "tactic": "simp",
        "thought": "The goal is an arithmetic identity; `simp` closes it.",
        "premises": [f"p{j}" for j in range(i % 3)],
        "edges": [{"src": 0, "logprob": -0.25 * j} for j in range(i % 2)],
        "value": None,
        "verified": True,
    }


def rows(n: int, split: str):
    return (step_row(i, split) for i in range(n))  # a generator: export must stream


def front_matter(folder) -> dict:
    text = (folder / "README.md").read_text("utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


def test_round_trip_through_datasets(tmp_path):
    datasets = pytest.importorskip("datasets")
    out = export_dataset(
        {"train": rows(23, "train"), "val": rows(4, "val"), "test": rows(5, "test")},
        tmp_path / "ds",
        shard_rows=10,
        lean_version="4.28.0",
        **CARD,
    )
    names = sorted(p.name for p in (out / "data").iterdir())
    assert names == [
        "test-00000-of-00001.parquet",
        "train-00000-of-00003.parquet",
        "train-00001-of-00003.parquet",
        "train-00002-of-00003.parquet",
        "val-00000-of-00001.parquet",
    ]
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "cache"))
    assert {s: len(d) for s, d in loaded.items()} == {"train": 23, "val": 4, "test": 5}
    assert sorted(loaded["train"]["full_name"]) == sorted(f"T.thm{i}" for i in range(23))
    first = next(r for r in loaded["train"] if r["full_name"] == "T.thm5")
    assert first == {**step_row(5, "train"), "value": None}
    # The card's declared features are what `datasets` itself would write for this schema.
    meta = front_matter(out)
    expected = datasets.DatasetInfo(features=loaded["train"].features)._to_yaml_dict()
    assert meta["dataset_info"]["features"] == expected["features"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "ds"]


def test_card_front_matter_and_prose(tmp_path):
    out = export_dataset(
        {"train": rows(3, "train"), "test": [], "val": rows(1, "val")},
        tmp_path / "ds",
        lean_version="4.28.0",
        rewrite_model="Qwen/Qwen2.5-7B-Instruct",
        **CARD,
    )
    meta = front_matter(out)
    assert meta["license"] == "apache-2.0"
    assert meta["task_categories"] == ["text-generation"]
    assert set(meta["tags"]) >= {"lean4", "theorem-proving", "chain-of-thought"}
    assert meta["size_categories"] == ["n<1K"]
    assert meta["configs"][0]["data_files"] == [
        {"split": "train", "path": "data/train-*.parquet"},
        {"split": "val", "path": "data/val-*.parquet"},
    ]  # the empty test split is left out
    splits = {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]}
    assert splits == {"train": 3, "val": 1}
    text = (out / "README.md").read_text("utf-8")
    for needle in [
        "# Lean CoT steps",
        "Tactic steps with thoughts.",
        "| `thought` | string |",
        "| `premises` | list[string] |",
        "| train | 3 |",
        "https://github.com/owner/repo",
        "a" * 40,
        "Lean 4.28.0",
        "Qwen/Qwen2.5-7B-Instruct",
        "apache-2.0",
    ]:
        assert needle in text, needle


def test_schema_inference_promotes_nulls_and_keeps_key_order():
    schema = infer_schema([{"a": 1, "b": None, "c": []}, {"a": 2, "d": [{"x": None}]}])
    assert schema.names == ["a", "b", "c", "d"]
    assert schema.field("b").type == pa.string()
    assert schema.field("c").type == pa.list_(pa.string())
    assert schema_features(schema) == [
        {"name": "a", "dtype": "int64"},
        {"name": "b", "dtype": "string"},
        {"name": "c", "list": "string"},
        {"name": "d", "list": [{"name": "x", "dtype": "string"}]},
    ]


def test_rows_that_break_the_schema_are_named(tmp_path):
    bad_type = [{"full_name": "a", "step": 1}, {"full_name": "b", "step": "two"}]
    with pytest.raises(ExportError, match=r"split 'train', rows 1-1 .*schema"):
        export_dataset({"train": bad_type}, tmp_path / "ds", shard_rows=1, **CARD)
    extra_key = [{"full_name": "a"}, {"full_name": "b", "surprise": 1}]
    with pytest.raises(ExportError, match=r"row 1: key\(s\) \['surprise'\]"):
        export_dataset({"train": extra_key}, tmp_path / "ds", shard_rows=1, **CARD)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_refusals(tmp_path):
    with pytest.raises(ExportError, match="no rows"):
        export_dataset({"train": []}, tmp_path / "ds", **CARD)
    with pytest.raises(ExportError, match="split name"):
        export_dataset({"train/evil": rows(1, "x")}, tmp_path / "ds", **CARD)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("x")
    with pytest.raises(ExportError, match="not a leancot export"):
        export_dataset({"train": rows(1, "train")}, mine, **CARD)
    assert (mine / "keep.txt").read_text() == "x"


def test_re_export_replaces_the_previous_one(tmp_path):
    out = export_dataset({"train": rows(5, "train")}, tmp_path / "ds", **CARD)
    export_dataset({"test": rows(2, "test")}, out, **CARD)
    assert sorted(p.name for p in (out / "data").iterdir()) == ["test-00000-of-00001.parquet"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_size_categories():
    assert size_category(0) == "n<1K"
    assert size_category(999) == "n<1K"
    assert size_category(1_000) == "1K<n<10K"
    assert size_category(250_000) == "100K<n<1M"


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_push_without_network_fails_clearly_and_loses_nothing(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    out = export_dataset({"train": rows(3, "train")}, tmp_path / "ds", **CARD)
    before = snapshot(out)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    with pytest.raises(HubError) as err:
        push_to_hub(out, "someone/lean-cot")
    message = str(err.value)
    assert "could not reach the Hugging Face hub at http://127.0.0.1:9" in message
    assert f"the dataset is intact at {out}" in message
    assert snapshot(out) == before


def test_push_without_token_says_how_to_get_one(tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    out = export_dataset({"train": rows(1, "train")}, tmp_path / "ds", **CARD)
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr(huggingface_hub, "get_token", lambda: None)
    with pytest.raises(HubError, match="no Hugging Face token: set HF_TOKEN.*intact"):
        push_to_hub(out, "someone/lean-cot")


def test_push_refuses_an_unfinished_folder(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(ExportError, match="not a finished export"):
        push_to_hub(tmp_path / "half", "someone/lean-cot")


def test_push_with_a_malformed_repo_id(tmp_path, monkeypatch):
    pytest.importorskip("huggingface_hub")
    out = export_dataset({"train": rows(1, "train")}, tmp_path / "ds", **CARD)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    with pytest.raises(HubError, match="cannot push to 'not a repo!'.*intact"):
        push_to_hub(out, "not a repo!")
