"""Optional stage: rewrite template thoughts of CoT step records into fluent chain-of-thought.

`rewrite_records(records, config)` renders `templates/rewrite_prompt.j2` for each step record
(state_before, tactic, state_after, template thought), asks a backend (`rewrite_backends`: local
transformers model, vLLM, or an OpenAI-compatible server) in batches, and keeps a rewrite only if
`check_faithful` accepts it: every name the template mentions survives, no other tactic is quoted,
and the length stays in bounds. Otherwise the template thought stays and the reason is recorded.

Completions are cached in a JSONL file keyed by sha256 of (backend id, model, generation
settings, prompt); the cache stores the raw completion, so changing the faithfulness bounds never
calls the model again, and an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

import jinja2

from leancot.files import (
    append_jsonl,
    drop_partial_tail,
    open_jsonl_log,
    read_jsonl,
    read_jsonl_log,
    sha256_hex,
    write_jsonl,
)
from leancot.translate.goals import parse_goal_state
from leancot.translate.rewrite_backends import (
    HFBackend,
    HTTPBackend,
    RewriteBackend,
    RewriteBackendError,
    VLLMBackend,
    api_key_from_env,
    cut_at_stop,
    endpoint_url,
)

__all__ = [
    "RewriteBackend",
    "RewriteBackendError",
    "RewriteCache",
    "RewriteConfig",
    "Verdict",
    "backend_id",
    "check_faithful",
    "clean_rewrite",
    "code_spans",
    "hypothesis_names",
    "make_backend",
    "mentions",
    "render_prompt",
    "required_names",
    "rewrite_file",
    "rewrite_records",
    "tactic_identifiers",
]

log = logging.getLogger(__name__)

BACKENDS = ("hf", "vllm", "http")
PROMPT_TEMPLATE = Path(__file__).with_name("templates") / "rewrite_prompt.j2"


def _arg(default: Any, help: str) -> Any:
    if isinstance(default, list | dict):
        return field(default_factory=lambda d=default: type(d)(d), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class RewriteConfig:
    """How template thoughts are rewritten (every field has a help text for the CLI)."""

    backend: str = _arg("hf", "generator: hf (local transformers model), vllm, or http")
    model: str = _arg("", "model path or hub id (hf, vllm), or the model name sent to the server")
    endpoint: str | None = _arg(
        None, "http: server base URL, or a full .../v1/completions or .../v1/chat/completions URL"
    )
    chat: bool = _arg(False, "send the prompt as a chat message (HF/vLLM: the chat template)")
    api_key_env: str | None = _arg("OPENAI_API_KEY", "environment variable holding the API key")
    batch_size: int = _arg(16, "prompts per backend call")
    max_new_tokens: int = _arg(256, "longest completion, in tokens")
    temperature: float = _arg(0.0, "sampling temperature; 0 is greedy")
    stop: list[str] = _arg(["\n\n"], "a completion ends at the first of these strings")
    cache_path: str | None = _arg(None, "JSONL cache of completions (unset: no cache)")
    prompt_template: str | None = _arg(None, "a .j2 prompt template (default: the built-in one)")
    min_ratio: float = _arg(0.5, "shortest rewrite accepted, relative to the template thought")
    max_ratio: float = _arg(4.0, "longest rewrite accepted, relative to the template thought")
    max_chars: int = _arg(2000, "longest rewrite accepted, in characters")
    timeout_s: float = _arg(60.0, "http: seconds per request")
    max_retries: int = _arg(3, "http: retries after a connection error, timeout, 429 or 5xx")
    backoff_s: float = _arg(1.0, "http: first retry delay, doubled each retry")
    concurrency: int = _arg(4, "http chat: requests in flight at once")
    device: str | None = _arg(None, "hf: torch device (default: cuda when present, else cpu)")
    dtype: str | None = _arg(None, "hf: weights dtype (auto, bfloat16, float16, float32)")
    max_prompt_tokens: int | None = _arg(None, "hf: keep the last this many prompt tokens")
    engine_kwargs: dict[str, Any] = _arg({}, "vllm: extra vllm.LLM arguments")

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


# --- names and faithfulness ----------------------------------------------------------------------

_PART = r"[^\W\d][\w'!?]*"
_IDENT = re.compile(rf"(?<![\w'.!?]){_PART}(?:\.{_PART})*")
_FENCE = re.compile(r"```[^\n]*\n?(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")
# Words of tactic syntax that are not names a rewrite must keep.
LEAN_KEYWORDS = frozenset(
    "at by with only using fun λ in if then else do let have show from match return generalizing "
    "says case next to as where Type Prop Sort forall exists".split()
)
# Leading words that make a backticked span a tactic.
TACTIC_WORDS = frozenset(
    """rw rwa rewrite erw rw_mod_cast simp simp_all dsimp simpa simp_arith norm_num field_simp
    push_cast norm_cast exact_mod_cast push_neg exact apply refine refine' intro intros rintro
    induction induction' cases cases' rcases obtain constructor use exists existsi omega linarith
    nlinarith positivity ring ring_nf decide native_decide rfl trivial contradiction exfalso absurd
    by_cases by_contra unfold unfold_let delta funext ext specialize calc conv split left right
    assumption aesop tauto subst symm congr gcongr change generalize revert clear injection
    first try repeat all_goals any_goals focus skip done sorry admit exact? apply? simp? simp_all?
    rename_i set show have suffices wlog nofun nomatch trans apply_assumption infer_instance
    fun_induction match_target interval_cases fin_cases""".split()
)


class Verdict(NamedTuple):
    """Outcome of `check_faithful`; unpacks as `(ok, reason)` (reason None when ok)."""

    ok: bool
    reason: str | None


def mentions(text: str, name: str) -> bool:
    """Whether `name` occurs in `text` as a whole identifier (`h` in `h.symm`, not in `hx`)."""
    return re.search(rf"(?<![\w'.]){re.escape(name)}(?![\w'✝!?])", text) is not None


def tactic_identifiers(tactic: str) -> list[str]:
    """Names in a tactic (lemmas, hypotheses, variables), in order, keywords dropped."""
    names = []
    for m in _IDENT.finditer(tactic):
        name = m.group()
        if name.strip("_") and name not in LEAN_KEYWORDS | TACTIC_WORDS and name not in names:
            names.append(name)
    return names


def hypothesis_names(state: str) -> list[str]:
    """Hypothesis and variable names of a pretty-printed goal state (empty if unparsable)."""
    try:
        goals = parse_goal_state(state or "").goals
    except ValueError:
        return []
    names: list[str] = []
    for goal in goals:
        for hyp in goal.hypotheses:
            names += [n for n in hyp.names if n not in names]
    return names


def required_names(template_thought: str, record: dict[str, Any]) -> list[str]:
    """The names a rewrite must keep: hypotheses/variables of either goal state and identifiers
    of the tactic, as far as the template thought mentions them."""
    candidates = hypothesis_names(record.get("state_before", ""))
    candidates += hypothesis_names(record.get("state_after", ""))
    candidates += tactic_identifiers(record.get("tactic", ""))
    seen: list[str] = []
    for name in candidates:
        if name not in seen and name not in LEAN_KEYWORDS and mentions(template_thought, name):
            seen.append(name)
    return seen


def code_spans(text: str) -> list[str]:
    """Backticked spans and fenced blocks of `text`, whitespace collapsed."""
    fenced = [m.group(1) for m in _FENCE.finditer(text)]
    inline = _SPAN.findall(_FENCE.sub(" ", text))
    return [" ".join(s.split()) for s in fenced + inline if s.strip()]


def _is_tactic(span: str) -> bool:
    m = _IDENT.match(span.lstrip("·. "))
    return m is not None and m.group() in TACTIC_WORDS


def check_faithful(
    template_thought: str,
    rewrite: str,
    record: dict[str, Any],
    *,
    min_ratio: float = 0.5,
    max_ratio: float = 4.0,
    max_chars: int = 2000,
) -> Verdict:
    """Accept `rewrite` of `template_thought` for step `record` or say why not."""
    size, base = len(rewrite), max(len(template_thought), 1)
    if not rewrite.strip():
        return Verdict(False, "empty rewrite")
    if size > max_chars:
        return Verdict(False, f"too long: {size} chars, over max_chars {max_chars}")
    template = f"the template's {base}"
    if size > max_ratio * base:
        return Verdict(False, f"too long: {size} chars, over {max_ratio:g}x {template}")
    if size < min_ratio * base:
        return Verdict(False, f"too short: {size} chars, under {min_ratio:g}x {template}")
    dropped = [n for n in required_names(template_thought, record) if not mentions(rewrite, n)]
    if dropped:
        return Verdict(False, "dropped names: " + ", ".join(dropped))
    tactic = " ".join(str(record.get("tactic", "")).split())
    allowed = set(code_spans(template_thought))
    for span in code_spans(rewrite):
        if _is_tactic(span) and span not in tactic and span not in allowed:
            return Verdict(False, f"quotes a different tactic: `{span}`")
    return Verdict(True, None)


# --- prompts and completions ---------------------------------------------------------------------


@lru_cache(maxsize=8)
def _prompt_template(path: str) -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(path).parent)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(code=lambda s: f"`{s}`", oneline=lambda s: " ".join(str(s).split()))
    return env.get_template(Path(path).name)


def render_prompt(
    record: dict[str, Any], template_thought: str, template: str | None = None
) -> str:
    """The rewrite prompt for one step record (`template`: a .j2 path; default: built-in)."""
    return _prompt_template(str(template or PROMPT_TEMPLATE)).render(
        state_before=record.get("state_before", ""),
        tactic=record.get("tactic", ""),
        state_after=record.get("state_after", ""),
        thought=template_thought,
        names=required_names(template_thought, record),
        record=record,
    )


_LABEL = re.compile(r"^(?:rewritten (?:explanation|thought)|explanation|thought)\s*:\s*", re.I)


def clean_rewrite(text: str) -> str:
    """A completion as a thought: label and wrapping quotes dropped, one paragraph."""
    text = _LABEL.sub("", text.strip())
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text.strip() if "```" in text else " ".join(text.split())


# --- cache ---------------------------------------------------------------------------------------


class RewriteCache:
    """Completions by key, in memory and appended to a JSONL file (one fsynced line each).

    A partly written last line (a run killed mid-write) is ignored and cut off before appending.
    One writer at a time.
    """

    def __init__(self, path: str | os.PathLike[str] | None) -> None:
        self.path = Path(path) if path is not None else None
        self.entries: dict[str, str] = {}
        self._file: Any = None
        if self.path is not None and self.path.exists():
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        for entry in read_jsonl_log(self.path):  # skips lines that are not JSON objects
            if isinstance(entry.get("key"), str) and "text" in entry:
                self.entries[entry["key"]] = entry["text"]
            else:
                log.warning("%s: skipping a cache line without key and text", self.path)
        drop_partial_tail(self.path)  # a truncated tail: so the next append starts a fresh line

    def get(self, key: str) -> str | None:
        return self.entries.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __len__(self) -> int:
        return len(self.entries)

    def put(self, key: str, text: str, **meta: Any) -> None:
        self.entries[key] = text
        if self.path is None:
            return
        if self._file is None:
            self._file = open_jsonl_log(self.path)
        append_jsonl(self._file, {"key": key, **meta, "text": text})

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RewriteCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cache_key(backend: str, model: str, prompt: str, config: RewriteConfig) -> str:
    """sha256 of the backend id, model, generation settings and prompt."""
    settings = [config.max_new_tokens, config.temperature, list(config.stop)]
    payload = json.dumps([backend, model, settings, prompt], ensure_ascii=False)
    return sha256_hex(payload)


# --- the stage -----------------------------------------------------------------------------------


def rewrite_records(
    records: Iterable[dict[str, Any]],
    config: RewriteConfig,
    *,
    backend: RewriteBackend | None = None,
    progress: bool = True,
) -> Iterator[dict[str, Any]]:
    """Yield each step record with `thought` rewritten, or kept with the reason.

    Added fields: `template_thought` (the input thought), `rewrite_status` ("ok" or "fallback")
    and `rewrite_reason` (None when ok). A record that already has `template_thought` is
    rewritten from it again. The backend is built from `config` only when a prompt misses the
    cache, so a fully cached run loads no model.
    """
    from tqdm.auto import tqdm

    total = len(records) if isinstance(records, Sized) else None
    counts = {"ok": 0, "fallback": 0, "cached": 0}
    holder = [backend]
    ident = backend.backend_id if backend is not None else backend_id(config)
    items = iter(records)
    with (
        RewriteCache(config.cache_path) as cache,
        tqdm(total=total, desc="rewrite", unit="step", disable=not progress) as bar,
    ):
        while batch := list(islice(items, config.batch_size)):
            for out in _rewrite_batch(batch, config, cache, holder, ident, counts):
                bar.update(1)
                yield out
            bar.set_postfix(counts, refresh=False)


def _rewrite_batch(
    batch: list[dict[str, Any]],
    config: RewriteConfig,
    cache: RewriteCache,
    holder: list[RewriteBackend | None],
    ident: str,
    counts: dict[str, int],
) -> list[dict[str, Any]]:
    thoughts = [str(r.get("template_thought", r.get("thought")) or "") for r in batch]
    prompts = [
        render_prompt(r, t, config.prompt_template) if t.strip() else None
        for r, t in zip(batch, thoughts, strict=True)
    ]
    keys = [cache_key(ident, config.model, p, config) if p else None for p in prompts]
    missing: dict[str, str] = {}
    for key, prompt in zip(keys, prompts, strict=True):
        if key is not None and key not in cache:
            missing.setdefault(key, prompt or "")
        elif key is not None:
            counts["cached"] += 1
    if missing:
        if holder[0] is None:
            holder[0] = make_backend(config)
        texts = holder[0].generate(
            list(missing.values()),
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            stop=tuple(config.stop),
        )
        if len(texts) != len(missing):
            raise RewriteBackendError(f"asked for {len(missing)} completions, got {len(texts)}")
        for key, text in zip(missing, texts, strict=True):
            cache.put(key, text, backend=ident, model=config.model)
    out = []
    for record, thought, key in zip(batch, thoughts, keys, strict=True):
        if key is None:
            verdict, rewrite = Verdict(False, "no template thought"), ""
        else:
            rewrite = clean_rewrite(cut_at_stop(cache.get(key) or "", config.stop))
            verdict = check_faithful(
                thought,
                rewrite,
                record,
                min_ratio=config.min_ratio,
                max_ratio=config.max_ratio,
                max_chars=config.max_chars,
            )
        counts["ok" if verdict.ok else "fallback"] += 1
        out.append(
            {
                **record,
                "thought": rewrite if verdict.ok else thought,
                "template_thought": thought,
                "rewrite_status": "ok" if verdict.ok else "fallback",
                "rewrite_reason": verdict.reason,
            }
        )
    return out


def rewrite_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    config: RewriteConfig,
    *,
    backend: RewriteBackend | None = None,
    progress: bool = True,
) -> dict[str, int]:
    """Rewrite a JSONL file of step records into `dst` (written to a temp file, then renamed);
    returns the number of records per `rewrite_status`."""
    counts = {"ok": 0, "fallback": 0}

    def counted(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for row in rows:
            counts[row["rewrite_status"]] += 1
            yield row

    records = read_jsonl(src)
    write_jsonl(dst, counted(rewrite_records(records, config, backend=backend, progress=progress)))
    return counts
