"""`models.fast_decode.LlamaDecoder` against `transformers`' own `generate` on small random
Llama models: the same logits, the same tokens drawn at the same seed (left padding, grouped
attention, top-k), the raw log-probabilities a teacher-forced pass gives, and stop strings."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from leancot.models import fast_decode  # noqa: E402
from leancot.models.hf import _completion_mask  # noqa: E402


def _model(kv_heads: int = 4, top_k: int | None = None):
    config = transformers.LlamaConfig(
        vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=kv_heads, max_position_embeddings=128,
        tie_word_embeddings=True, pad_token_id=0, bos_token_id=1, eos_token_id=2,
    )  # fmt: skip
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(config).eval()
    if top_k is not None:
        model.generation_config.top_k = top_k
    return model


def _batch():
    """Two prompts of different lengths, left-padded (pad 0), two completions each."""
    ids = torch.tensor([[0, 0, 0, 5, 9, 11, 40], [7, 8, 3, 12, 50, 61, 33]])
    mask = (ids != 0).long()
    return ids.repeat_interleave(2, 0), mask.repeat_interleave(2, 0)


@pytest.mark.parametrize("kv_heads", [4, 2])
def test_logits_match_the_model(kv_heads):
    model = _model(kv_heads)
    ids, mask = _batch()
    positions = (mask.cumsum(1) - 1).clamp(min=0)
    with torch.no_grad():
        reference = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
    decoder = fast_decode.LlamaDecoder(model)
    b, w = ids.shape
    allowed = torch.ones(w, w, dtype=torch.bool).tril()[None] & mask.bool()[:, None, :]
    bias = torch.zeros(b, 1, w, w).masked_fill(~allowed[:, None], torch.finfo(torch.float32).min)
    shape = (b, decoder.kv_heads, w, decoder.head_dim)
    cache = [(torch.zeros(shape), torch.zeros(shape)) for _ in decoder.layers]
    ours = decoder.forward(ids, decoder._rope(positions), bias, cache, 0)
    assert torch.allclose(ours, reference[:, -1], atol=1e-5)


@pytest.mark.parametrize(("kv_heads", "top_k"), [(4, None), (2, None), (4, 5)])
def test_samples_what_generate_samples(kv_heads, top_k):
    """At the same seed the decoder draws the tokens `generate` draws (its top-k included),
    finishes rows at EOS like it, and reports the teacher-forced raw log-probability."""
    model = _model(kv_heads, top_k)
    ids, mask = _batch()
    k = fast_decode.generate_top_k(model)
    assert k == (top_k if top_k is not None else 50)
    torch.manual_seed(3)
    with torch.no_grad():
        seq = model.generate(
            input_ids=ids[::2], attention_mask=mask[::2], max_new_tokens=12,
            num_return_sequences=2, do_sample=True, temperature=0.8, top_p=1.0,
            pad_token_id=0, eos_token_id=2,
        )  # fmt: skip
    expected = seq[:, ids.shape[1] :]
    torch.manual_seed(3)
    generated, token_lp = fast_decode.LlamaDecoder(model).sample(
        ids, mask, max_new_tokens=12, temperature=0.8, top_k=k, eos_token_id=2, pad_token_id=0
    )
    assert torch.equal(generated, expected)
    keep = _completion_mask(generated, 2, 0)
    full = torch.cat([ids, generated], 1)
    full_mask = torch.cat([mask, torch.ones_like(keep)], 1)  # what each draw attended to
    with torch.no_grad():
        logits = model(
            input_ids=full, attention_mask=full_mask,
            position_ids=(full_mask.cumsum(1) - 1).clamp(min=0),
        ).logits  # fmt: skip
    lp = torch.log_softmax(logits[:, ids.shape[1] - 1 : -1], -1)
    lp = lp.gather(-1, generated[..., None]).squeeze(-1)
    assert (token_lp * keep).sum(1).tolist() == pytest.approx((lp * keep).sum(1).tolist(), abs=1e-4)


def test_stop_strings_finish_a_row_where_the_text_first_holds_one():
    """A row finishes on the token that completes a stop string, split across two tokens
    ("a\n" then "\nb") or inside one ("c\n\nd"), and is padded after it."""
    model = _model()
    ids, mask = _batch()
    texts = ["a\n" if i % 3 == 0 else "\nb" if i % 3 == 1 else "c" for i in range(97)]
    texts[50] = "c\n\nd"
    torch.manual_seed(1)
    generated, _ = fast_decode.LlamaDecoder(model).sample(
        ids, mask, max_new_tokens=30, temperature=5.0, top_k=None, eos_token_id=None,
        pad_token_id=0, stop=("\n\n",), token_text=texts,
    )  # fmt: skip
    stopped = 0
    for row in generated.tolist():
        n = next(
            (i + 1 for i in range(len(row)) if "\n\n" in "".join(texts[t] for t in row[: i + 1])),
            len(row),
        )
        if "\n\n" in "".join(texts[t] for t in row[:n]):
            stopped += 1
            assert "\n\n" not in "".join(texts[t] for t in row[: n - 1])
            assert all(t == 0 for t in row[n:])
        else:
            assert n == 30
    assert stopped >= 3


def test_supports_only_the_shapes_it_implements():
    model = _model()
    assert fast_decode.supports(model)
    model.train()
    assert not fast_decode.supports(model)
    model.eval().to(torch.float64)
    assert not fast_decode.supports(model)
    other = _model()
    other.generation_config.repetition_penalty = 1.3
    assert fast_decode.generate_top_k(other) is False
    with pytest.raises(ValueError, match="temperature"):
        fast_decode.LlamaDecoder(_model()).sample(
            *_batch(), max_new_tokens=2, temperature=0.0, eos_token_id=2, pad_token_id=0
        )
