"""Optional stage: rewrite template thoughts of CoT step records into fluent chain-of-thought.

`rewrite_records(records, config)` renders `templates/rewrite_prompt.j2` for each step record
(state_before, tactic, state_after, template thought), asks a backend (`rewrite_backends`: local
transformers model, vLLM, or an OpenAI-compatible server) in batches, and keeps a rewrite only if
`check_faithful` accepts it: every name the template mentions survives, no other tactic is quoted,
and the length stays in bounds. Otherwise the template thought stays and the reason is recorded.

Completions are cached (`rewrite_cache`), so a rerun or a change of the faithfulness bounds
calls the model only for prompts it has not seen. The settings are a `rewrite_config.RewriteConfig`;
the faithfulness check is `faithfulness.check_faithful`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sized
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any

import jinja2

from leancot.files import read_jsonl, write_jsonl
from leancot.translate.faithfulness import Verdict, check_faithful, required_names
from leancot.translate.rewrite_backends import RewriteBackend, RewriteBackendError, cut_at_stop
from leancot.translate.rewrite_cache import RewriteCache, cache_key
from leancot.translate.rewrite_config import RewriteConfig, backend_id, make_backend

__all__ = [  # the stage, and re-exported the config, cache and errors its callers use with it
    "RewriteBackend",
    "RewriteBackendError",
    "RewriteCache",
    "RewriteConfig",
    "clean_rewrite",
    "make_backend",
    "render_prompt",
    "rewrite_file",
    "rewrite_records",
]

PROMPT_TEMPLATE = Path(__file__).with_name("templates") / "rewrite_prompt.j2"


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
