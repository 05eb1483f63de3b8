"""The tiny default model: locally trained byte-level BPE tokenizer and a small Llama."""

from __future__ import annotations

import pytest

TEXTS = [
    "n : ℕ\n⊢ n + 0 = n",
    "p q : Prop\nhp : p\n⊢ p ∧ q → q ∨ p",
    "xs : List α\n⊢ ∀ (x : α), x ∈ xs ++ [] ↔ x ∈ xs",
    "Introduce the hypothesis.\nintro h",
] * 30


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from leancot.train.model import train_tokenizer

    out = tmp_path_factory.mktemp("tok")
    train_tokenizer(TEXTS, out, vocab_size=4096)
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(out)


def test_tokenizer_round_trips_lean_unicode(tokenizer):
    for symbol in ("⊢", "∀", "→", "ℕ", "∧", "↔", "∈", "α", "✝"):
        assert len(tokenizer(symbol, add_special_tokens=False)["input_ids"]) == 1, symbol
    text = "h✝ : ∃ x, x ≠ 0\n⊢ ¬∀ (y : ℤ), y ≤ y"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == text
    assert (tokenizer.bos_token, tokenizer.eos_token, tokenizer.pad_token) == (
        "<|bos|>",
        "<|eos|>",
        "<|pad|>",
    )


def test_tiny_models_share_the_backbone_shape(tokenizer):
    from leancot.train.model import (
        TinyModelSpec,
        build_tiny_causal_lm,
        build_tiny_token_classifier,
        count_parameters,
    )

    lm = build_tiny_causal_lm(tokenizer)
    cls = build_tiny_token_classifier(tokenizer)
    assert lm.config.vocab_size == len(tokenizer) and cls.config.num_labels == 2
    assert 0.3e6 < count_parameters(lm) < 5e6
    assert lm.config.pad_token_id == tokenizer.pad_token_id
    with pytest.raises(ValueError):
        TinyModelSpec(hidden_size=130, num_heads=4)
