"""transformers backends of the scoring API: `HFPolicy` and `HFPRM` (batched, any device).

Each takes a local path, a hub id or an already-loaded model (plus its tokenizer). Sampling uses
`generate`; the reported log-probability of a completion is recomputed with one teacher-forced
pass under the raw model distribution (temperature 1, no top-p), as vLLM reports it.
Temperature 0 gives greedy decoding, or beam search with `n` beams when `n > 1`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from leancot.models.prompts import encode_prm, format_state_prompt
from leancot.models.scoring import Completion, PolicyBase, SamplingParams, Step, as_step_texts


def load_tokenizer(name_or_path: str | os.PathLike[str]) -> Any:
    """AutoTokenizer with a pad token (the EOS token when the model has none) and left padding."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(name_or_path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    return tok


def _place(model: Any, device: str | None) -> Any:
    """Put the model on `device` (default: CUDA if present); a model loaded with a
    `device_map` stays where it is. Returns the device inputs go to."""
    import torch

    if device is None and getattr(model, "hf_device_map", None):
        model.eval()
        return model.device
    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    return torch.device(device)


def _load(kind: str, model: Any, tokenizer: Any, model_kwargs: dict[str, Any]) -> tuple[Any, Any]:
    if isinstance(model, str | os.PathLike):
        name = str(model)
        if kind == "causal":
            from transformers import AutoModelForCausalLM as Auto
        else:
            from transformers import AutoModelForTokenClassification as Auto
        tokenizer = tokenizer if tokenizer is not None else load_tokenizer(name)
        model = Auto.from_pretrained(name, **model_kwargs)
    elif tokenizer is None:
        raise ValueError("pass the tokenizer along with an in-memory model")
    elif isinstance(tokenizer, str | os.PathLike):
        tokenizer = load_tokenizer(tokenizer)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


class HFPolicy(PolicyBase):
    """Causal LM policy run by transformers."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: str | None = None,
        batch_size: int = 16,
        max_prompt_tokens: int | None = None,
        **model_kwargs: Any,
    ) -> None:
        """`model_kwargs` go to `from_pretrained` (e.g. `dtype`); an over-long prompt keeps
        its last `max_prompt_tokens` tokens (the goal is at the end)."""
        self.model, self.tokenizer = _load("causal", model, tokenizer, model_kwargs)
        self.tokenizer.truncation_side = "left"
        self.device = _place(self.model, device)
        self.batch_size = batch_size
        self.max_prompt_tokens = max_prompt_tokens
        self._token_text: list[str] | None = None  # for `fast_decode` (built on first use)

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        import torch

        if params.seed is not None:
            torch.manual_seed(params.seed)
        out: list[list[Completion]] = []
        for start in range(0, len(prompts), self.batch_size):
            out.extend(self._generate(list(prompts[start : start + self.batch_size]), params))
        return out

    def _generate(self, prompts: list[str], params: SamplingParams) -> list[list[Completion]]:
        import torch

        tok = self.tokenizer
        tok.padding_side = "left"
        enc = tok(
            prompts,
            return_tensors="pt",
            padding=True,
            truncation=self.max_prompt_tokens is not None,
            max_length=self.max_prompt_tokens,
        ).to(self.device)
        greedy = params.temperature == 0
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "num_return_sequences": params.n,
            "pad_token_id": tok.pad_token_id,
            "eos_token_id": tok.eos_token_id,
        }
        if greedy:
            kwargs.update(do_sample=False, num_beams=params.n if params.n > 1 else 1)
        else:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
        if params.stop:
            kwargs.update(stop_strings=list(params.stop), tokenizer=tok)
        prompt_ids = enc["input_ids"].repeat_interleave(params.n, dim=0)
        prompt_mask = enc["attention_mask"].repeat_interleave(params.n, dim=0)
        if self._fast(params):
            generated, token_lp = self._fast_sample(prompt_ids, prompt_mask, params)
            keep = _completion_mask(generated, tok.eos_token_id, tok.pad_token_id)
            logprobs = (token_lp * keep).sum(dim=1).tolist()
        else:
            with torch.no_grad():
                sequences = self.model.generate(**enc, **kwargs)
            generated = sequences[:, enc["input_ids"].shape[1] :]
            keep = _completion_mask(generated, tok.eos_token_id, tok.pad_token_id)
            logprobs = self._logprobs(prompt_ids, prompt_mask, generated, keep)
        texts = tok.batch_decode(
            generated * keep + tok.pad_token_id * (1 - keep), skip_special_tokens=True
        )
        result = []
        for i in range(len(prompts)):
            row = []
            for k in range(params.n):
                j = i * params.n + k
                row.append(Completion(_cut(texts[j], params.stop), float(logprobs[j])))
            result.append(row)
        return result

    def _fast(self, params: SamplingParams) -> bool:
        """Whether `fast_decode.LlamaDecoder` samples this call: a plain sampling call (no
        nucleus cut, ASCII stop strings) on a model it supports."""
        from leancot.models import fast_decode

        return (
            params.temperature > 0
            and params.top_p >= 1.0
            and all(s.isascii() for s in params.stop)
            and fast_decode.supports(self.model)
            and fast_decode.generate_top_k(self.model) is not False
        )

    def _fast_sample(self, prompt_ids: Any, prompt_mask: Any, params: SamplingParams) -> Any:
        from leancot.models import fast_decode

        tok = self.tokenizer
        if params.stop and self._token_text is None:
            self._token_text = fast_decode.token_texts(tok, self.model.config.vocab_size)
        decoder = fast_decode.LlamaDecoder(self.model)  # per call: reads the current weights
        return decoder.sample(
            prompt_ids, prompt_mask, max_new_tokens=params.max_tokens,
            temperature=params.temperature, top_k=fast_decode.generate_top_k(self.model),
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id, stop=params.stop, token_text=self._token_text or (),
        )  # fmt: skip

    def _logprobs(self, prompt_ids, prompt_mask, generated, keep):
        import torch

        ids = torch.cat([prompt_ids, generated], dim=1)
        mask = torch.cat([prompt_mask, keep], dim=1)
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        with torch.no_grad():
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions).logits
        logits = logits.float()
        width = prompt_ids.shape[1]
        step_logits = logits[:, width - 1 : -1]
        token_lp = torch.log_softmax(step_logits, dim=-1).gather(-1, generated.unsqueeze(-1))
        return (token_lp.squeeze(-1) * keep).sum(dim=1).tolist()


def _completion_mask(generated: Any, eos_id: int | None, pad_id: int | None) -> Any:
    """1 for generated tokens up to and including the first EOS, 0 after it and on padding
    (a row stopped by a stop string is padded while the others go on)."""
    import torch

    keep = torch.ones_like(generated)
    if pad_id is not None and pad_id != eos_id:
        keep = keep * (generated != pad_id).long()
    if eos_id is not None:
        is_eos = (generated == eos_id).long()
        before = torch.cumsum(is_eos, dim=1) - is_eos  # EOS tokens seen strictly before
        keep = keep * (before == 0).long()
    return keep


def _cut(text: str, stop: Sequence[str]) -> str:
    """Drop everything from the first stop string on (vLLM excludes the stop string)."""
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return text if cut < 0 else text[:cut]


class HFPRM:
    """Token-classification PRM run by transformers: P(good) at each step's separator token."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: str | None = None,
        batch_size: int = 16,
        max_length: int = 2048,
        **model_kwargs: Any,
    ) -> None:
        self.model, self.tokenizer = _load("token", model, tokenizer, model_kwargs)
        self.device = _place(self.model, device)
        self.batch_size = batch_size
        self.max_length = max_length

    def score(self, state: str, steps: Sequence[Step]) -> list[float]:
        return self.score_batch([(state, steps)])[0]

    def score_batch(self, items: Sequence[tuple[str, Sequence[Step]]]) -> list[list[float]]:
        """For each (prompt state, steps): one probability per step (NaN if cut off)."""
        encoded = []
        for state, steps in items:
            texts = as_step_texts(steps)
            ids, positions = self._encode(format_state_prompt(state), texts)
            encoded.append((ids, positions, len(texts)))
        out: list[list[float]] = []
        for start in range(0, len(encoded), self.batch_size):
            out.extend(self._score(encoded[start : start + self.batch_size]))
        return out

    def _encode(self, prompt: str, steps: list[str]) -> tuple[list[int], list[int]]:
        """`encode_prm`, keeping the end of an over-long input (a long prompt loses its start)."""
        ids, positions = encode_prm(self.tokenizer, prompt, steps)
        cut = max(0, len(ids) - self.max_length)
        return ids[cut:], [p - cut for p in positions]

    def _score(self, batch: list[tuple[list[int], list[int], int]]) -> list[list[float]]:
        import torch

        width = max(len(ids) for ids, _, _ in batch)
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([ids + [pad] * (width - len(ids)) for ids, _, _ in batch])
        mask = torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _, _ in batch])
        with torch.no_grad():
            logits = self.model(
                input_ids=input_ids.to(self.device), attention_mask=mask.to(self.device)
            ).logits.float()
        probs = torch.softmax(logits, dim=-1)[..., 1].cpu()
        return [
            [float(probs[i, p]) if p >= 0 else float("nan") for p in positions]
            for i, (_, positions, _) in enumerate(batch)
        ]
