"""A lean decoding loop for small Llama-architecture policies on CPU (the embedded tiny models).

`transformers`' `generate` spends most of a small model's decoding step in Python around the
model (module hooks, output capturing, logits processors, the stop-string matcher): measured on
the embedded 4-layer, 128-wide policy, ~11 ms per step of which the matrix products are ~3 ms.
`LlamaDecoder` runs the same network (`LlamaForCausalLM`: RMSNorm, rotary embeddings, grouped
attention, SiLU-gated MLP, tied or untied head) from the model's own weights, with a key/value
cache and fused projections, and samples as `generate(do_sample=True, temperature=T, top_p=1)`
does: softmax of logits / T cut to the `top_k` best (`generate`'s default 50 when the model's
generation config sets none), one multinomial draw per row and step, rows that finished padded;
with the same seed it draws the same tokens. It returns each token's log-probability under the
raw logits (temperature 1): summed over a completion's tokens, the quantity `HFPolicy`
otherwise recomputes with a second teacher-forced pass.
A row finishes at EOS or when the text decoded so far first contains a stop string (the moment
HF's `StopStringCriteria` fires).

`supports(model)` says whether a model fits (anything else keeps `generate`). A decoder reads the
model's weights when it is made (the fused projections are small concatenated copies), so
`HFPolicy` makes one per call and a model trained in between is read afresh; the module does
nothing at import time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


def supports(model: Any) -> bool:
    """True for an eval-mode float32 `LlamaForCausalLM` on CPU with default rotary embeddings,
    SiLU, no biases and no tensor-parallel split (the embedded tiny policy's shape)."""
    cfg = getattr(model, "config", None)
    if cfg is None or getattr(cfg, "model_type", None) != "llama":
        return False
    if type(model).__name__ != "LlamaForCausalLM" or model.training:
        return False
    rope = getattr(cfg, "rope_parameters", None) or {}
    try:
        param = next(model.parameters())
    except StopIteration:
        return False
    import torch

    return (
        rope.get("rope_type", "default") == "default"
        and getattr(cfg, "hidden_act", None) == "silu"
        and not getattr(cfg, "attention_bias", False)
        and not getattr(cfg, "mlp_bias", False)
        and getattr(cfg, "pretraining_tp", 1) == 1
        and param.dtype == torch.float32
        and param.device.type == "cpu"
        and not hasattr(model, "peft_config")
    )


def generate_top_k(model: Any) -> int | None | bool:
    """The `top_k` that `generate` applies when sampling this model (its generation config's,
    else transformers' default), or False when that config asks `generate` for a logits
    processor `LlamaDecoder` does not have (repetition penalty, minimum length, ...)."""
    from transformers import GenerationConfig

    gc = getattr(model, "generation_config", None) or GenerationConfig()
    neutral = {
        "repetition_penalty": (None, 1.0), "no_repeat_ngram_size": (None, 0),
        "min_length": (None, 0), "min_new_tokens": (None, 0), "typical_p": (None, 1.0),
        "min_p": (None,), "epsilon_cutoff": (None, 0.0), "eta_cutoff": (None, 0.0),
        "bad_words_ids": (None,), "suppress_tokens": (None,), "begin_suppress_tokens": (None,),
        "forced_bos_token_id": (None,), "forced_eos_token_id": (None,),
        "sequence_bias": (None,), "renormalize_logits": (None, False),
        "exponential_decay_length_penalty": (None,), "remove_invalid_values": (None, False),
    }  # fmt: skip
    if any(getattr(gc, name, None) not in ok for name, ok in neutral.items()):
        return False
    if gc.top_k is not None:
        return int(gc.top_k) or None
    defaults = getattr(GenerationConfig, "_get_default_generation_params", None)
    return int(defaults()["top_k"]) if callable(defaults) else 50


def token_texts(tokenizer: Any, vocab_size: int) -> list[str]:
    """Each token id's decoded text, to find stop strings without decoding whole rows (an
    ASCII stop string is never split by a byte-level token's partial UTF-8)."""
    n = max(vocab_size, len(tokenizer))
    return [tokenizer.decode([i]) for i in range(n)]


@dataclass(frozen=True)
class _Layer:
    ln1: Any
    qkv: Any  # [q | k | v] rows of the three projections, one product
    o: Any
    ln2: Any
    gate_up: Any  # [gate | up] rows
    down: Any


class LlamaDecoder:
    """Sampling with a key/value cache for a model that `supports` accepts."""

    def __init__(self, model: Any) -> None:
        import torch

        if not supports(model):
            raise ValueError("LlamaDecoder needs an eval-mode float32 LlamaForCausalLM on CPU")
        cfg = model.config
        base = model.model
        self.heads = int(cfg.num_attention_heads)
        self.kv_heads = int(getattr(cfg, "num_key_value_heads", None) or self.heads)
        self.head_dim = int(getattr(cfg, "head_dim", None) or cfg.hidden_size // self.heads)
        self.eps = float(cfg.rms_norm_eps)
        theta = float((cfg.rope_parameters or {}).get("rope_theta", 10000.0))
        d = self.head_dim
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float) / d))
        self.embed = base.embed_tokens.weight.detach()
        self.norm = base.norm.weight.detach()
        self.head = model.lm_head.weight.detach()
        self.layers = []
        for layer in base.layers:
            a, m = layer.self_attn, layer.mlp
            qkv = torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]).detach()
            gate_up = torch.cat([m.gate_proj.weight, m.up_proj.weight]).detach()
            self.layers.append(
                _Layer(
                    layer.input_layernorm.weight.detach(),
                    qkv,
                    a.o_proj.weight.detach(),
                    layer.post_attention_layernorm.weight.detach(),
                    gate_up,
                    m.down_proj.weight.detach(),
                )  # fmt: skip
            )

    def _rope(self, positions: Any) -> tuple[Any, Any]:
        """cos and signed sin [B, 1, T, D] of `positions` [B, T]: rotating x is then
        `x * cos + roll(x, D/2) * sin` (HF's `rotate_half`, its sign folded into sin)."""
        import torch

        freqs = positions[..., None].float() * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        half = self.head_dim // 2
        sign = torch.cat((-torch.ones(half), torch.ones(half)))
        return emb.cos()[:, None], (emb.sin() * sign)[:, None]

    def forward(
        self, ids: Any, rope: tuple[Any, Any], bias: Any, cache: list[Any], length: int
    ) -> Any:
        """Logits of the last position of `ids` [B, T] at cache offset `length`; `rope` is
        `_rope` of their positions, `bias` [B, 1, T, length + T] the additive attention mask
        over the keys so far, `cache` one preallocated (k, v) [B, H, S, D] pair per layer,
        written in place."""
        import torch.nn.functional as F

        x = F.embedding(ids, self.embed)
        b, t, width = x.shape
        cos, sin = rope
        hq, hk, d = self.heads, self.kv_heads, self.head_dim
        half, end = d // 2, length + t
        for layer, (kc, vc) in zip(self.layers, cache, strict=True):
            h = F.rms_norm(x, (width,), layer.ln1, self.eps)
            qkv = F.linear(h, layer.qkv).view(b, t, hq + 2 * hk, d).transpose(1, 2)
            qk = qkv[:, : hq + hk]
            qk = qk * cos + qk.roll(half, dims=-1) * sin
            kc[:, :, length:end] = qk[:, hq:]
            vc[:, :, length:end] = qkv[:, hq + hk :]
            k, v = kc[:, :, :end], vc[:, :, :end]
            if hk != hq:
                k = k.repeat_interleave(hq // hk, dim=1)
                v = v.repeat_interleave(hq // hk, dim=1)
            att = F.scaled_dot_product_attention(qk[:, :hq], k, v, attn_mask=bias)
            x = x + F.linear(att.transpose(1, 2).reshape(b, t, hq * d), layer.o)
            h = F.rms_norm(x, (width,), layer.ln2, self.eps)
            gate, up = F.linear(h, layer.gate_up).chunk(2, dim=-1)
            x = x + F.linear(F.silu(gate) * up, layer.down)
        return F.linear(F.rms_norm(x[:, -1], (width,), self.norm, self.eps), self.head)

    def sample(
        self,
        input_ids: Any,
        attention_mask: Any,
        *,
        max_new_tokens: int,
        temperature: float,
        top_k: int | None = None,
        eos_token_id: int | None,
        pad_token_id: int,
        stop: Sequence[str] = (),
        token_text: Sequence[str] = (),
    ) -> tuple[Any, Any]:
        """Sample continuations of the left-padded rows `input_ids` [B, T] (one row per
        completion). `token_text[i]` is token i's decoded text (`token_texts`), needed with
        `stop`. Returns (generated [B, N], padded after a row's finishing token, and each
        token's raw log-probability [B, N])."""
        import torch

        if temperature <= 0:
            raise ValueError("LlamaDecoder samples (temperature > 0); greedy goes to generate")
        if stop and not token_text:
            raise ValueError("stop strings need each token's text (token_texts(tokenizer))")
        texts = token_text
        overlap = max((len(s) for s in stop), default=1) - 1
        b, width = input_ids.shape
        total = width + max_new_tokens
        mask = torch.zeros(b, total, dtype=torch.bool)
        mask[:, :width] = attention_mask.bool()
        positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        steps = positions[:, -1:] + torch.arange(1, max_new_tokens + 1)
        cos, sin = self._rope(torch.cat([positions, steps], dim=1))
        neg = torch.finfo(torch.float32).min
        causal = torch.ones(width, width, dtype=torch.bool).tril()
        allowed = causal[None] & mask[:, None, :width]
        bias = torch.zeros(b, 1, width, width).masked_fill(~allowed[:, None], neg)
        cache = [
            (torch.zeros(b, self.kv_heads, total, self.head_dim),
             torch.zeros(b, self.kv_heads, total, self.head_dim))
            for _ in self.layers
        ]  # fmt: skip
        done = torch.zeros(b, dtype=torch.bool)
        tails = [""] * b
        out: list[Any] = []
        token_lp: list[Any] = []
        with torch.inference_mode():
            rope = (cos[:, :, :width], sin[:, :, :width])
            logits = self.forward(input_ids, rope, bias, cache, 0)
            for step in range(max_new_tokens):
                logits = logits.float()
                raw = torch.log_softmax(logits, dim=-1)
                scores = logits / temperature
                if top_k is not None and top_k < scores.shape[-1]:  # HF's TopKLogitsWarper
                    kth = torch.topk(scores, top_k)[0][..., -1, None]
                    scores = scores.masked_fill(scores < kth, -float("inf"))
                probs = torch.softmax(scores, dim=-1)
                token = torch.multinomial(probs, 1).squeeze(1)
                token = torch.where(done, torch.full_like(token, pad_token_id), token)
                live = ~done
                out.append(token)
                token_lp.append(raw.gather(1, token[:, None]).squeeze(1))
                finished = torch.zeros(b, dtype=torch.bool)
                if eos_token_id is not None:
                    finished |= token == eos_token_id
                if stop:
                    for r in torch.nonzero(live).flatten().tolist():
                        text = tails[r] + texts[int(token[r])]
                        if any(s in text for s in stop):
                            finished[r] = True
                        tails[r] = text[-overlap:] if overlap else ""
                done = done | (finished & live)
                if bool(done.all()) or step == max_new_tokens - 1:
                    break
                at = width + step
                mask[:, at] = True
                step_bias = torch.zeros(b, 1, 1, at + 1).masked_fill(
                    ~mask[:, None, None, : at + 1], neg
                )
                rope = (cos[:, :, at : at + 1], sin[:, :, at : at + 1])
                logits = self.forward(token[:, None], rope, step_bias, cache, at)
        return torch.stack(out, 1), torch.stack(token_lp, 1)
