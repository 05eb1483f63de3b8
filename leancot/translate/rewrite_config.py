"""`RewriteConfig`, how template thoughts are rewritten (backend, model, generation, the
faithfulness bounds), and `make_backend`, which builds the backend a config names.

The backends themselves (a local transformers model, vLLM, an OpenAI-compatible server) are in
`rewrite_backends`; `backend_id` is the id a built backend carries, part of the cache key
(`rewrite_cache.cache_key`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leancot.options import option
from leancot.translate.rewrite_backends import (
    HFBackend,
    HTTPBackend,
    RewriteBackend,
    VLLMBackend,
    api_key_from_env,
    endpoint_url,
)

BACKENDS = ("hf", "vllm", "http")


@dataclass
class RewriteConfig:
    """How template thoughts are rewritten (every field has a help text for the CLI)."""

    backend: str = option("hf", "generator: hf (local transformers model), vllm, or http")
    model: str = option("", "model path or hub id (hf, vllm), or the model name sent to the server")
    endpoint: str | None = option(
        None, "http: server base URL, or a full .../v1/completions or .../v1/chat/completions URL"
    )
    chat: bool = option(False, "send the prompt as a chat message (HF/vLLM: the chat template)")
    api_key_env: str | None = option("OPENAI_API_KEY", "environment variable holding the API key")
    batch_size: int = option(16, "prompts per backend call")
    max_new_tokens: int = option(256, "longest completion, in tokens")
    temperature: float = option(0.0, "sampling temperature; 0 is greedy")
    stop: list[str] = option(["\n\n"], "a completion ends at the first of these strings")
    cache_path: str | None = option(None, "JSONL cache of completions (unset: no cache)")
    prompt_template: str | None = option(None, "a .j2 prompt template (default: the built-in one)")
    min_ratio: float = option(0.5, "shortest rewrite accepted, relative to the template thought")
    max_ratio: float = option(4.0, "longest rewrite accepted, relative to the template thought")
    max_chars: int = option(2000, "longest rewrite accepted, in characters")
    timeout_s: float = option(60.0, "http: seconds per request")
    max_retries: int = option(3, "http: retries after a connection error, timeout, 429 or 5xx")
    backoff_s: float = option(1.0, "http: first retry delay, doubled each retry")
    concurrency: int = option(4, "http chat: requests in flight at once")
    device: str | None = option(None, "hf: torch device (default: cuda when present, else cpu)")
    dtype: str | None = option(None, "hf: weights dtype (auto, bfloat16, float16, float32)")
    max_prompt_tokens: int | None = option(None, "hf: keep the last this many prompt tokens")
    engine_kwargs: dict[str, Any] = option({}, "vllm: extra vllm.LLM arguments")

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            choices = ", ".join(BACKENDS)
            raise ValueError(f"`backend` must be one of {choices}, got {self.backend!r}")
        if not self.model:
            raise ValueError("`model` is required: a model path, hub id or served model name")
        if self.backend == "http" and not self.endpoint:
            raise ValueError("the http backend needs `endpoint`, e.g. http://127.0.0.1:8000/v1")
        for name in ("batch_size", "max_new_tokens", "max_chars", "timeout_s", "concurrency"):
            if getattr(self, name) <= 0:
                raise ValueError(f"`{name}` must be positive, got {getattr(self, name)}")
        if self.temperature < 0 or self.max_retries < 0 or self.backoff_s < 0:
            raise ValueError("`temperature`, `max_retries` and `backoff_s` must be >= 0")
        if not 0 <= self.min_ratio < self.max_ratio:
            raise ValueError("need 0 <= min_ratio < max_ratio")
        if self.max_prompt_tokens is not None and self.max_prompt_tokens <= 0:
            raise ValueError("`max_prompt_tokens` must be positive")
        if isinstance(self.stop, str):
            self.stop = [self.stop]
        if self.prompt_template is not None and not Path(self.prompt_template).is_file():
            raise ValueError(f"prompt template {self.prompt_template} does not exist")


def backend_id(config: RewriteConfig) -> str:
    """The id `make_backend(config)` will carry (part of the cache key)."""
    if config.backend == "http":
        chat = endpoint_url(config.endpoint or "", config.chat)[1]
        return "http-chat" if chat else "http-completions"
    return config.backend + ("-chat" if config.chat else "")


def make_backend(config: RewriteConfig) -> RewriteBackend:
    """The backend `config` names (loads the model, or checks nothing for http)."""
    if config.backend == "hf":
        backend: Any = HFBackend(
            config.model,
            device=config.device,
            dtype=config.dtype,
            chat=config.chat,
            max_prompt_tokens=config.max_prompt_tokens,
        )
    elif config.backend == "vllm":
        backend = VLLMBackend(config.model, chat=config.chat, **config.engine_kwargs)
    else:
        backend = HTTPBackend(
            config.endpoint or "",
            config.model,
            chat=config.chat,
            api_key=api_key_from_env(config.api_key_env),
            timeout_s=config.timeout_s,
            max_retries=config.max_retries,
            backoff_s=config.backoff_s,
            concurrency=config.concurrency,
        )
    backend.backend_id = backend_id(config)
    return backend
