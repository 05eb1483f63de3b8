"""Text generators behind the CoT rewriter: transformers, vLLM and OpenAI-compatible HTTP.

Every backend has `backend_id` (part of the cache key) and `generate(prompts, *, max_new_tokens,
temperature, stop) -> list[str]`, one completion per prompt, in order. Greedy decoding is
`temperature=0`. Heavy imports (torch, transformers, vllm) happen inside the constructors, and the
HTTP backend uses only the standard library.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol, runtime_checkable

GPU_EXTRA_HINT = "install the GPU extra: pip install 'leancot[gpu]'"
TRAIN_EXTRA_HINT = "install the train extra: pip install 'leancot[train]'"
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER_S = 60.0


class RewriteBackendError(RuntimeError):
    """A generation backend failed (server unreachable, bad answer, retries used up)."""


@runtime_checkable
class RewriteBackend(Protocol):
    backend_id: str

    def generate(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
    ) -> list[str]: ...


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` up to the first stop string (leading whitespace skipped first)."""
    text = text.lstrip()
    ends = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return text[: min(ends)] if ends else text


# --- transformers --------------------------------------------------------------------------------


class HFBackend:
    """A causal LM run by transformers: batched `generate` with left padding."""

    backend_id = "hf"

    def __init__(
        self,
        model: str,
        *,
        device: str | None = None,
        dtype: str | None = None,
        chat: bool = False,
        max_prompt_tokens: int | None = None,
    ) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:
            hint = f"the hf rewrite backend needs transformers: {TRAIN_EXTRA_HINT}"
            raise ImportError(hint) from exc
        kwargs: dict[str, Any] = {}
        if dtype is not None:
            kwargs["dtype"] = dtype if dtype == "auto" else getattr(torch, dtype)
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        self.tokenizer.truncation_side = "left"  # the end of the prompt asks for the answer
        self.model = AutoModelForCausalLM.from_pretrained(model, **kwargs)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.chat = chat
        self.max_prompt_tokens = max_prompt_tokens

    def _format(self, prompt: str) -> str:
        if not self.chat:
            return prompt
        messages = [{"role": "user", "content": prompt}]
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    def generate(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
    ) -> list[str]:
        import torch

        if not prompts:
            return []
        tok = self.tokenizer
        enc = tok(
            [self._format(p) for p in prompts],
            return_tensors="pt",
            padding=True,
            truncation=self.max_prompt_tokens is not None,
            max_length=self.max_prompt_tokens,
            add_special_tokens=not self.chat,
        ).to(self.device)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "pad_token_id": tok.pad_token_id,
            "eos_token_id": tok.eos_token_id,
        }
        if temperature == 0:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(do_sample=True, temperature=temperature)
        with torch.no_grad():
            sequences = self.model.generate(**enc, **kwargs)
        generated = sequences[:, enc["input_ids"].shape[1] :]
        texts = tok.batch_decode(generated, skip_special_tokens=True)
        return [cut_at_stop(t, stop) for t in texts]


# --- vLLM ----------------------------------------------------------------------------------------


class VLLMBackend:
    """A model run in-process by vLLM (the gpu extra)."""

    backend_id = "vllm"

    def __init__(self, model: str, *, chat: bool = False, **engine_kwargs: Any) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise ImportError(f"the vllm rewrite backend needs vLLM: {GPU_EXTRA_HINT}") from exc
        self._vllm = vllm
        self.llm = vllm.LLM(model=model, **engine_kwargs)
        self.chat = chat

    def generate(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
    ) -> list[str]:
        if not prompts:
            return []
        params = self._vllm.SamplingParams(
            n=1, temperature=temperature, max_tokens=max_new_tokens, stop=list(stop) or None
        )
        if self.chat:
            conversations = [[{"role": "user", "content": p}] for p in prompts]
            outputs = self.llm.chat(conversations, params, use_tqdm=False)
        else:
            outputs = self.llm.generate(list(prompts), params, use_tqdm=False)
        return [cut_at_stop(o.outputs[0].text, stop) for o in outputs]


# --- OpenAI-compatible HTTP ----------------------------------------------------------------------


def endpoint_url(endpoint: str, chat: bool) -> tuple[str, bool]:
    """The request URL and whether it is a chat endpoint. A URL ending in `/chat/completions`
    or `/completions` is used as given; otherwise the `/v1/...` path is appended."""
    base = endpoint.rstrip("/")
    if base.endswith("/chat/completions"):
        return base, True
    if base.endswith("/completions"):
        return base, False
    if not base.endswith("/v1"):
        base += "/v1"
    return base + ("/chat/completions" if chat else "/completions"), chat


class HTTPBackend:
    """An OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp, hosted APIs).

    `/v1/completions` gets one request per batch (a list of prompts); `/v1/chat/completions`
    one request per prompt, `concurrency` at a time. Connection errors, timeouts and HTTP
    408/429/5xx are retried with exponential backoff (a numeric `Retry-After` is honoured).
    """

    def __init__(
        self,
        endpoint: str,
        model: str,
        *,
        chat: bool = False,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        concurrency: int = 4,
        extra_body: dict[str, Any] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url, self.chat = endpoint_url(endpoint, chat)
        self.backend_id = "http-chat" if self.chat else "http-completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.concurrency = concurrency
        self.extra_body = dict(extra_body or {})
        self._sleep = sleep

    def generate(
        self,
        prompts: Sequence[str],
        *,
        max_new_tokens: int,
        temperature: float,
        stop: Sequence[str] = (),
    ) -> list[str]:
        if not prompts:
            return []
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            **self.extra_body,
        }
        if not self.chat:
            if stop:
                body["stop"] = list(stop)
            answer = self._post({**body, "prompt": list(prompts)})
            return [cut_at_stop(t, stop) for t in _completion_texts(answer, len(prompts), self.url)]

        def one(prompt: str) -> str:
            answer = self._post({**body, "messages": [{"role": "user", "content": prompt}]})
            return cut_at_stop(_chat_text(answer, self.url), stop)

        if self.concurrency <= 1 or len(prompts) == 1:
            return [one(p) for p in prompts]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(prompts))) as pool:
            return list(pool.map(one, prompts))

    def _post(self, body: dict[str, Any]) -> Any:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:300]
                error = RewriteBackendError(f"{self.url}: HTTP {exc.code}: {detail}")
                if exc.code not in RETRY_STATUS:
                    raise error from exc
                wait = _retry_after(exc.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                error = RewriteBackendError(f"{self.url}: {exc}")
                wait = None
            except json.JSONDecodeError as exc:
                raise RewriteBackendError(f"{self.url}: the answer is not JSON: {exc}") from exc
            if attempt == self.max_retries:
                raise RewriteBackendError(
                    f"{error} (gave up after {self.max_retries + 1} attempts)"
                ) from error
            self._sleep(wait if wait is not None else self.backoff_s * 2**attempt)
        raise AssertionError("unreachable")


def _retry_after(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S) if value else None
    except ValueError:  # an HTTP date: fall back to the backoff schedule
        return None


def _completion_texts(answer: Any, count: int, url: str) -> list[str]:
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or len(choices) != count:
        raise RewriteBackendError(f"{url}: expected {count} choices, got {answer!r:.300}")
    ordered = sorted(choices, key=lambda c: c.get("index", 0))
    return [str(c.get("text") or "") for c in ordered]


def _chat_text(answer: Any, url: str) -> str:
    try:
        return str(answer["choices"][0]["message"]["content"] or "")
    except (KeyError, IndexError, TypeError) as exc:
        raise RewriteBackendError(f"{url}: not a chat completion: {answer!r:.300}") from exc


def api_key_from_env(name: str | None) -> str | None:
    """The API key in environment variable `name` (None when unset or empty)."""
    return (os.environ.get(name) or None) if name else None
