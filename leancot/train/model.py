"""The tiny default model: a byte-level BPE tokenizer trained on the corpus and a small Llama.

Real runs pass an HF path or hub id instead (`load_tokenizer` in leancot/models/hf.py,
`from_pretrained`). The tiny model exists so that the whole pipeline trains in seconds on one CPU
thread: a few million parameters, built from a config (no download). torch/transformers are
imported inside functions.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BOS, EOS, PAD = "<|bos|>", "<|eos|>", "<|pad|>"
# Lean's notation; seeded into the vocabulary so each symbol is one token even when rare.
LEAN_SYMBOLS = (
    "⊢ ∀ ∃ → ← ↔ ¬ ∧ ∨ ℕ ℤ ℚ ℝ ∈ ∉ ⊆ ⊂ ∪ ∩ ∅ ≤ ≥ ≠ ≈ ⟨ ⟩ λ ↦ ∘ × • ∑ ∏ ⁻¹ ✝ ▸ · ⦃ ⦄ ↑ ⊤ ⊥ ∣ ≃ "
    "α β γ δ ε ι σ τ π φ"
).split()


@dataclass(frozen=True)
class TinyModelSpec:
    """Shape of the tiny Llama (defaults: ~1-3 M parameters with a 4k vocabulary)."""

    hidden_size: int = 128
    num_layers: int = 4
    num_heads: int = 4
    intermediate_size: int = 344
    max_position_embeddings: int = 1024

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError("hidden_size must be a multiple of num_heads")


TINY_SPECS = {
    "small": TinyModelSpec(),  # the default: ~1-3 M parameters
    "large": TinyModelSpec(hidden_size=256, num_layers=6, num_heads=8, intermediate_size=688),
}  # "large" (~6-8 M parameters) is the embedded default's teacher (`iterate --teacher`)


def tiny_spec(size: str) -> TinyModelSpec:
    """The shape of the tiny model of `size` (a key of `TINY_SPECS`)."""
    if size not in TINY_SPECS:
        raise ValueError(f"tiny model size must be one of {sorted(TINY_SPECS)}, not {size!r}")
    return TINY_SPECS[size]


def train_tokenizer(
    texts: Iterable[str], out_dir: str | os.PathLike[str] | None = None, *, vocab_size: int = 4096
) -> Any:
    """Train a byte-level BPE tokenizer on `texts`; save it (AutoTokenizer-loadable) if asked."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[PAD, BOS, EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # each symbol both bare and after a space (byte-level BPE keeps the space in the token)
    seeded = "\n".join(LEAN_SYMBOLS) + "\n " + " ".join(LEAN_SYMBOLS)
    tok.train_from_iterator(_with_seed(texts, seeded), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, eos_token=EOS, pad_token=PAD, padding_side="left"
    )
    fast.model_max_length = TinyModelSpec().max_position_embeddings
    if out_dir is not None:
        fast.save_pretrained(str(out_dir))
    return fast


def _with_seed(texts: Iterable[str], seeded: str) -> Iterable[str]:
    for _ in range(4):  # min_frequency=2: repeat so every symbol's byte pairs merge
        yield seeded
    yield from texts


def tiny_config(tokenizer: Any, spec: TinyModelSpec = TinyModelSpec(), **extra: Any) -> Any:
    """A LlamaConfig sized by `spec`, vocabulary and special ids from `tokenizer`."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_layers,
        num_attention_heads=spec.num_heads,
        num_key_value_heads=spec.num_heads,
        max_position_embeddings=spec.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        **extra,
    )


def build_tiny_causal_lm(tokenizer: Any, spec: TinyModelSpec = TinyModelSpec(), seed: int = 0):
    """A freshly initialised tiny LlamaForCausalLM."""
    import torch
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(tiny_config(tokenizer, spec))


def build_tiny_token_classifier(
    tokenizer: Any, spec: TinyModelSpec = TinyModelSpec(), seed: int = 0
):
    """A freshly initialised tiny LlamaForTokenClassification with two labels (bad, good)."""
    import torch
    from transformers import AutoModelForTokenClassification

    torch.manual_seed(seed)
    config = tiny_config(tokenizer, spec, num_labels=2, id2label={0: "bad", 1: "good"})
    return AutoModelForTokenClassification.from_config(config)


def count_parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def is_local_model(name_or_path: str | os.PathLike[str]) -> bool:
    return Path(name_or_path).is_dir()
