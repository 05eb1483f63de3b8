"""PRM tokenization: int64 labels (the datasets bool pitfall) and TRL's stepwise label layout."""

from __future__ import annotations

import pytest

from leancot.models.prompts import STEP_SEPARATOR, encode_prm

ROWS = [
    {
        "prompt": "n : ℕ\n⊢ n + 0 = n\n",
        "completions": ["Simp.\nsimp", "Done.\nrfl"],
        "labels": [True, False],
    },
    {"prompt": "⊢ p → p\n", "completions": ["Assume.\nintro h"], "labels": [True]},
]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from leancot.models.hf import load_tokenizer
    from leancot.train.model import train_tokenizer

    out = tmp_path_factory.mktemp("tok")
    texts = [r["prompt"] + STEP_SEPARATOR.join(r["completions"]) for r in ROWS] * 20
    train_tokenizer(texts, out, vocab_size=300)
    return load_tokenizer(out)  # what AutoTokenizer gives back


def test_naive_map_turns_ignore_index_into_true():
    """The pitfall itself: mapping ints onto a list[bool] column keeps bool, -100 -> True."""
    from leancot.train.prm import rows_dataset

    naive = rows_dataset(ROWS, soft=False).map(lambda r: {"labels": [-100, 1, 0]})
    if naive.features["labels"].feature.dtype != "bool":
        pytest.skip("this datasets version no longer keeps the bool type")
    assert naive[0]["labels"] == [True, True, False]


def test_tokenized_labels_are_int64_with_ignore_index(tokenizer):
    from leancot.train.prm import IGNORE, rows_dataset, tokenize_prm_dataset

    ds = tokenize_prm_dataset(rows_dataset(ROWS, soft=False), tokenizer, max_length=512, soft=False)
    assert ds.features["labels"].feature.dtype == "int64"
    assert ds.features["input_ids"].feature.dtype == "int64"
    labels = ds[0]["labels"]
    assert labels.count(IGNORE) == len(labels) - 2
    ids, positions = encode_prm(tokenizer, ROWS[0]["prompt"], ROWS[0]["completions"])
    assert ds[0]["input_ids"] == ids
    assert [labels[p] for p in positions] == [1, 0]
    last = tokenize_prm_dataset(
        rows_dataset(ROWS, soft=False), tokenizer, max_length=512, soft=False, last_only=True
    )
    assert [x for x in last[0]["labels"] if x != IGNORE] == [0]


def test_soft_labels_are_float32(tokenizer):
    from leancot.train.prm import IGNORE, rows_dataset, tokenize_prm_dataset

    rows = [{**ROWS[0], "labels": [0.75, 0.0]}]
    ds = tokenize_prm_dataset(rows_dataset(rows, soft=True), tokenizer, max_length=512, soft=True)
    assert ds.features["labels"].feature.dtype == "float32"
    assert [x for x in ds[0]["labels"] if x != IGNORE] == [0.75, 0.0]


def test_layout_is_trl_stepwise(tokenizer):
    """TRL's stepwise layout: BOS, the prompt, each step followed by the separator, the label on
    the separator's last token (spelled out here token by token)."""
    separator = tokenizer(STEP_SEPARATOR, add_special_tokens=False)["input_ids"]
    for row in ROWS:
        ids, positions = encode_prm(tokenizer, row["prompt"], row["completions"])
        prompt = tokenizer(row["prompt"], add_special_tokens=False)["input_ids"]
        assert ids[: 1 + len(prompt)] == [tokenizer.bos_token_id, *prompt]
        start = 1 + len(prompt)
        for step, position in zip(row["completions"], positions, strict=True):
            step_ids = tokenizer(step, add_special_tokens=False)["input_ids"]
            assert ids[start : position + 1] == [*step_ids, *separator]
            start = position + 1
        assert start == len(ids)


def test_truncation_drops_cut_steps(tokenizer):
    ids, positions = encode_prm(tokenizer, ROWS[0]["prompt"], ROWS[0]["completions"])
    short_ids, short_positions = encode_prm(
        tokenizer, ROWS[0]["prompt"], ROWS[0]["completions"], max_length=positions[0] + 1
    )
    assert short_ids == ids[: positions[0] + 1] and short_positions == positions[:1]


@pytest.mark.parametrize("soft", [False, True])
def test_collator_pads_right_with_ignore(soft):
    import torch

    from leancot.train.prm import IGNORE, RightPadCollator

    batch = RightPadCollator(pad_id=0, soft=soft)(
        [{"input_ids": [5, 6, 7], "labels": [IGNORE, IGNORE, 1]}, {"input_ids": [8], "labels": [0]}]
    )
    assert batch["input_ids"].tolist() == [[5, 6, 7], [8, 0, 0]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]
    assert batch["labels"].dtype == (torch.float32 if soft else torch.int64)
    assert batch["labels"].tolist() == [[IGNORE, IGNORE, 1], [0, IGNORE, IGNORE]]
