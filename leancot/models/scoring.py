"""The scoring API the prover calls: a vLLM-shaped policy and a stepwise PRM.

`Policy.generate(prompts, SamplingParams) -> list[list[Completion]]` preserves prompt order and
returns `params.n` completions per prompt with their cumulative log-probability under the model
(raw distribution, before temperature / top-p), so HF, vLLM and HTTP backends swap freely.
`propose(states, n)` turns that into ranked, deduplicated `(thought, tactic, logprob)` proposals.
`PRM.score(state, steps)` gives, for each prefix of `steps`, the probability that the step is good.

Backends: `HFPolicy` / `HFPRM` (transformers, local path, hub id or in-memory model; in
`leancot.models.hf`), `VLLMPolicy` (needs the gpu extra) and `HTTPPolicy` (any
OpenAI-compatible `/v1/completions` server with logprobs, e.g. `vllm serve`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, runtime_checkable

from leancot.models.prompts import (
    STEP_SEPARATOR,
    format_state_prompt,
    format_step,
    normalize_tactic,
    parse_step,
)

__all__ = [
    "PRM",
    "Completion",
    "HTTPPolicy",
    "Policy",
    "PolicyBase",
    "PolicyServerError",
    "Proposal",
    "SamplingParams",
    "VLLMPolicy",
    "propose",
]

Step = str | tuple[str, str]
GPU_EXTRA_HINT = "install the GPU extra: pip install 'leancot[gpu]'"


@dataclass(frozen=True)
class SamplingParams:
    """vLLM's sampling parameters (the subset leancot uses)."""

    n: int = 1
    temperature: float = 1.0
    max_tokens: int = 128
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.n < 1 or self.max_tokens < 1:
            raise ValueError("n and max_tokens must be positive")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise ValueError("temperature must be >= 0 and top_p in (0, 1]")


@dataclass(frozen=True)
class Completion:
    """One generated continuation: its text (stop string excluded) and summed log-probability."""

    text: str
    cumulative_logprob: float


class Proposal(NamedTuple):
    """A parsed policy proposal; unpacks as `(thought, tactic, logprob)`."""

    thought: str
    tactic: str
    logprob: float


@runtime_checkable
class Policy(Protocol):
    def generate(
        self, prompts: Sequence[str], params: SamplingParams
    ) -> list[list[Completion]]: ...

    def propose(self, states: Sequence[str], n: int, **kw: Any) -> list[list[Proposal]]: ...


@runtime_checkable
class PRM(Protocol):
    def score(self, state: str, steps: Sequence[Step]) -> list[float]: ...

    def score_batch(self, items: Sequence[tuple[str, Sequence[Step]]]) -> list[list[float]]: ...


def propose(
    policy: Policy,
    states: Sequence[str],
    n: int,
    *,
    temperature: float = 1.0,
    max_tokens: int = 128,
    top_p: float = 1.0,
    seed: int | None = None,
    premises: Sequence[Sequence[str]] | None = None,
) -> list[list[Proposal]]:
    """Sample `n` steps per goal state; per state, unique tactics best log-probability first
    (empty tactics dropped, so a list may be shorter than `n`). `premises`, one list per state,
    go into the prompts (`format_state_prompt`)."""
    params = SamplingParams(
        n=n,
        temperature=temperature,
        max_tokens=max_tokens,
        top_p=top_p,
        seed=seed,
        stop=(STEP_SEPARATOR,),
    )
    if premises is not None and len(premises) != len(states):
        raise ValueError(f"{len(premises)} premise lists for {len(states)} states")
    shown = premises if premises is not None else [()] * len(states)
    prompts = [format_state_prompt(s, ps) for s, ps in zip(states, shown, strict=True)]
    outputs = policy.generate(prompts, params)
    result = []
    for completions in outputs:
        best: dict[str, Proposal] = {}
        for c in completions:
            thought, tactic = parse_step(c.text)
            key = normalize_tactic(tactic)
            if key and (key not in best or c.cumulative_logprob > best[key].logprob):
                best[key] = Proposal(thought, tactic, c.cumulative_logprob)
        result.append(sorted(best.values(), key=lambda p: -p.logprob))
    return result


class PolicyBase:
    """Mixin giving every backend `propose` on top of its `generate`."""

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        raise NotImplementedError

    def propose(self, states: Sequence[str], n: int, **kw: Any) -> list[list[Proposal]]:
        return propose(self, states, n, **kw)


def as_step_texts(steps: Sequence[Step]) -> list[str]:
    """Steps given as text or as (thought, tactic) pairs, as PRM step texts."""
    return [s if isinstance(s, str) else format_step(*s) for s in steps]


# --- HTTP ----------------------------------------------------------------------------------------


class PolicyServerError(RuntimeError):
    """The completion server failed or answered something unexpected."""


@dataclass
class HTTPPolicy(PolicyBase):
    """A policy served by an OpenAI-compatible `/v1/completions` endpoint that returns logprobs
    (vLLM, SGLang, TGI, llama.cpp server). One request per `batch_size` prompts."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 120.0
    batch_size: int = 32
    extra_body: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        base = self.base_url.rstrip("/")
        return base + ("/completions" if base.endswith("/v1") else "/v1/completions")

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        out: list[list[Completion]] = []
        for start in range(0, len(prompts), self.batch_size):
            out.extend(self._request(list(prompts[start : start + self.batch_size]), params))
        return out

    def _request(self, prompts: list[str], params: SamplingParams) -> list[list[Completion]]:
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": prompts,
            "n": params.n,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "max_tokens": params.max_tokens,
            "logprobs": 1,
            **self.extra_body,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.stop:
            body["stop"] = list(params.stop)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:500]
            raise PolicyServerError(f"{self.url}: HTTP {exc.code}: {detail}") from exc
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise PolicyServerError(f"{self.url}: {exc}") from exc
        return _group_choices(answer, len(prompts), params.n, self.url)


def _group_choices(answer: Any, num_prompts: int, n: int, url: str) -> list[list[Completion]]:
    """OpenAI orders choices prompt-major: choice `index` = prompt * n + k."""
    choices = answer.get("choices") if isinstance(answer, dict) else None
    if not isinstance(choices, list) or len(choices) != num_prompts * n:
        raise PolicyServerError(f"{url}: expected {num_prompts * n} choices, got {answer!r:.300}")
    grouped: list[list[Completion]] = [[] for _ in range(num_prompts)]
    for position, choice in enumerate(sorted(choices, key=lambda c: c.get("index", 0))):
        logprobs = (choice.get("logprobs") or {}).get("token_logprobs")
        if logprobs is None:
            raise PolicyServerError(f"{url}: the server returned no token_logprobs")
        total = float(sum(x for x in logprobs if x is not None))
        grouped[position // n].append(Completion(choice.get("text", ""), total))
    return grouped


# --- vLLM ----------------------------------------------------------------------------------------


class VLLMPolicy(PolicyBase):
    """A policy run in-process by vLLM (`pip install 'leancot[gpu]'`)."""

    def __init__(self, model: str, **engine_kwargs: Any) -> None:
        try:
            import vllm
        except ImportError as exc:
            raise ImportError(f"VLLMPolicy needs vLLM: {GPU_EXTRA_HINT}") from exc
        self._vllm = vllm
        self.llm = vllm.LLM(model=model, **engine_kwargs)

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[list[Completion]]:
        sampling = self._vllm.SamplingParams(
            n=params.n,
            temperature=params.temperature,
            top_p=params.top_p,
            max_tokens=params.max_tokens,
            seed=params.seed,
            stop=list(params.stop) or None,
            logprobs=0,
        )
        outputs = self.llm.generate(list(prompts), sampling, use_tqdm=False)
        return [
            [Completion(o.text, float(o.cumulative_logprob or 0.0)) for o in request.outputs]
            for request in outputs
        ]
