"""LLM rewriting of template thoughts (translate/rewrite.py): the faithfulness check, batching,
the completion cache (resume, truncated lines) and the HTTP backend against a local server."""

from __future__ import annotations

import importlib.util
import json
import re
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from leancot.translate import rewrite
from leancot.translate.faithfulness import (
    check_faithful,
    mentions,
    required_names,
    tactic_identifiers,
)
from leancot.translate.rewrite import (
    RewriteBackendError,
    clean_rewrite,
    render_prompt,
    rewrite_file,
    rewrite_records,
)
from leancot.translate.rewrite_backends import HTTPBackend, endpoint_url
from leancot.translate.rewrite_cache import RewriteCache
from leancot.translate.rewrite_config import RewriteConfig, backend_id, make_backend


def step(i, state_before, tactic, state_after, thought, template="generic"):
    return {
        "id": f"{i:016x}",
        "full_name": f"T.thm{i}",
        "split": "train",
        "step": 0,
        "depth": 0,
        "state_before": state_before,
        "tactic": tactic,
        "state_after": state_after,
        "thought": thought,
        "template": template,
        "verified": True,
        "source": "extract",
    }


RW = step(
    0,
    "n : Nat\nh : n > 0\n⊢ n + 0 = n",
    "rw [Nat.add_zero]",
    "no goals",
    "The goal is `n + 0 = n`. We rewrite in the goal with `Nat.add_zero`. After rewriting, "
    "both sides agree, so `rfl` closes the goal. This completes the proof.",
    "rw",
)
EXACT = step(
    1,
    "p q : Prop\nhp : p\nhq : q\n⊢ p ∧ q",
    "exact ⟨hp, hq⟩",
    "no goals",
    "The goal is `p ∧ q`, so we build its proof from the components `hp` and `hq` with the "
    "anonymous constructor. This closes the goal and completes the proof.",
    "constructor",
)
INTRO = step(
    2,
    "p : Prop\n⊢ ¬(p ∧ ¬p)",
    "intro h",
    "p : Prop\nh : p ∧ ¬p\n⊢ False",
    "The goal `¬(p ∧ ¬p)` is a negation, so we assume `h : p ∧ ¬p` and derive `False`.",
    "intro",
)
SIMP = step(
    3,
    "a b : Nat\nhab : a + 0 = b\n⊢ b = a",
    "simp only [Nat.add_zero] at hab",
    "a b : Nat\nhab : a = b\n⊢ b = a",
    "We simplify `hab` with `Nat.add_zero`; it becomes `hab : a = b`. The goal is still `b = a`.",
    "simp",
)
INDUCTION = step(
    4,
    "n : Nat\n⊢ n + 0 = n",
    "induction n with\n  | zero => rfl\n  | succ k ih => simp",
    "no goals",
    "We prove the statement by induction on `n`. The base case `zero` is proved by `rfl`. In the "
    "inductive step `succ`, with new variable `k`, the induction hypothesis `ih` states "
    "`k + 0 = k`; this case is proved by `simp`. This completes the proof.",
    "induction",
)
RECORDS = [RW, EXACT, INTRO, SIMP, INDUCTION]

PARAPHRASE = {
    RW["id"]: "Adding zero changes nothing, so rewriting with `Nat.add_zero` turns `n + 0 = n` "
    "into `n = n`, which holds by reflexivity; the proof is done.",
    EXACT["id"]: "Both halves are at hand: `hp` proves `p` and `hq` proves `q`, so pairing them "
    "gives `p ∧ q` directly, and nothing is left to show.",
    INTRO["id"]: "To refute `p ∧ ¬p` we suppose it holds, naming the assumption `h : p ∧ ¬p`, and "
    "aim for `False`.",
    SIMP["id"]: "The hypothesis `hab` carries a useless `+ 0`; simplifying it with "
    "`Nat.add_zero` leaves `hab : a = b`, while the goal `b = a` is untouched.",
    INDUCTION["id"]: "Natural numbers are built from `zero` and `succ`, so we argue by induction "
    "on `n`: the case `zero` is immediate by `rfl`, and for `succ` with variable `k` the "
    "hypothesis `ih : k + 0 = k` lets `simp` finish. That settles the theorem.",
}


def thought_of(prompt: str) -> str:
    return re.search(r"Mechanical explanation:\n(.*)\n\nRewritten explanation:", prompt, re.S)[1]


def record_of(prompt: str) -> dict:
    (match,) = [r for r in RECORDS if r["thought"] == thought_of(prompt)]
    return match


class FakeBackend:
    """Answers each prompt with `respond(prompt)`; records the batches it was asked."""

    backend_id = "hf"  # what `config()` names, so a cache it fills serves backend-less runs

    def __init__(self, respond=None):
        self.respond = respond or (lambda p: " " + PARAPHRASE[record_of(p)["id"]] + "\n\nJunk")
        self.calls: list[list[str]] = []

    def generate(self, prompts: Sequence[str], *, max_new_tokens, temperature, stop=()):
        self.calls.append(list(prompts))
        return [self.respond(p) for p in prompts]

    @property
    def prompts(self) -> list[str]:
        return [p for batch in self.calls for p in batch]


def config(tmp_path: Path | None = None, **kw) -> RewriteConfig:
    cache = str(tmp_path / "cache.jsonl") if tmp_path is not None else None
    return RewriteConfig(**{"backend": "hf", "model": "fake-model", "cache_path": cache, **kw})


# --- faithfulness --------------------------------------------------------------------------------


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r["template"])
def test_the_template_thought_is_faithful_to_itself(record):
    assert check_faithful(record["thought"], record["thought"], record) == (True, None)


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r["template"])
def test_a_paraphrase_keeping_the_names_is_accepted(record):
    ok, reason = check_faithful(record["thought"], PARAPHRASE[record["id"]], record)
    assert ok, reason


def test_required_names_are_the_step_names_the_template_mentions():
    assert required_names(RW["thought"], RW) == ["n", "Nat.add_zero"]  # `h` is never mentioned
    assert required_names(EXACT["thought"], EXACT) == ["p", "q", "hp", "hq"]
    assert required_names(SIMP["thought"], SIMP) == ["a", "b", "hab", "Nat.add_zero"]
    assert set(required_names(INDUCTION["thought"], INDUCTION)) == {"n", "k", "ih", "zero", "succ"}


def test_tactic_identifiers_skip_keywords_and_tactic_names():
    assert tactic_identifiers("simp only [foo, ← Nat.bar_baz'] at h ⊢") == [
        "foo",
        "Nat.bar_baz'",
        "h",
    ]
    assert tactic_identifiers("induction n generalizing m with\n  | zero => rfl") == [
        "n",
        "m",
        "zero",
    ]
    assert tactic_identifiers("exact fun x => h₁ x (le_refl _)") == ["x", "h₁", "le_refl"]
    assert tactic_identifiers("omega") == []


def test_mentions_matches_whole_identifiers():
    assert mentions("by `h.symm`", "h") and mentions("apply h, then", "h")
    assert not mentions("use hx", "h") and not mentions("Foo.h", "h") and not mentions("h'", "h")
    assert mentions("with `Nat.add_zero`", "Nat.add_zero")
    assert not mentions("with `Nat.add_zero_right`", "Nat.add_zero")


def test_dropping_a_hypothesis_name_falls_back_with_the_reason():
    rewrite = PARAPHRASE[EXACT["id"]].replace("`hq`", "the other hypothesis")
    assert check_faithful(EXACT["thought"], rewrite, EXACT) == (False, "dropped names: hq")


def test_dropping_a_lemma_name_falls_back():
    rewrite = PARAPHRASE[RW["id"]].replace("`Nat.add_zero`", "the right lemma")
    ok, reason = check_faithful(RW["thought"], rewrite, RW)
    assert not ok and reason == "dropped names: Nat.add_zero"


def test_length_bounds():
    thought = RW["thought"]
    long = PARAPHRASE[RW["id"]] + " Indeed." * 80
    ok, reason = check_faithful(thought, long, RW)
    assert not ok and reason.startswith("too long") and "4x" in reason
    ok, reason = check_faithful(thought, long, RW, max_ratio=10, max_chars=300)
    assert not ok and "max_chars 300" in reason
    ok, reason = check_faithful(thought, "`Nat.add_zero` on `n`.", RW)
    assert not ok and reason.startswith("too short")
    assert check_faithful(thought, "  ", RW) == (False, "empty rewrite")
    assert check_faithful(thought, long, RW, max_ratio=100, max_chars=10**5).ok


def test_quoting_another_tactic_falls_back_but_the_steps_own_is_fine():
    base = PARAPHRASE[RW["id"]]
    ok, reason = check_faithful(RW["thought"], base + " Or just `simp`.", RW)
    assert (ok, reason) == (False, "quotes a different tactic: `simp`")
    assert check_faithful(RW["thought"], base + " We run `rw [Nat.add_zero]`.", RW).ok
    assert check_faithful(RW["thought"], base + " Then `rfl` closes it.", RW).ok  # template's
    fenced = base + "\n```lean\nexact Nat.add_zero n\n```"
    ok, reason = check_faithful(RW["thought"], fenced, RW)
    assert not ok and reason == "quotes a different tactic: `exact Nat.add_zero n`"
    # a quoted expression is not a tactic
    assert check_faithful(RW["thought"], base + " Here `n = n` is trivial.", RW).ok


def test_clean_rewrite():
    assert clean_rewrite('  Rewritten explanation: "We  rewrite\n with `h`."  ') == (
        "We rewrite with `h`."
    )
    assert clean_rewrite("Thought: ok") == "ok"


# --- config and backends -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"backend": "gpt"}, "backend"),
        ({"model": ""}, "model"),
        ({"backend": "http"}, "endpoint"),
        ({"batch_size": 0}, "batch_size"),
        ({"max_new_tokens": -1}, "max_new_tokens"),
        ({"temperature": -0.1}, "temperature"),
        ({"min_ratio": 2.0, "max_ratio": 1.0}, "ratio"),
        ({"prompt_template": "/nonexistent/p.j2"}, "does not exist"),
    ],
)
def test_config_validation(kw, message):
    with pytest.raises(ValueError, match=message):
        config(**kw)


def test_config_coerces_a_single_stop_string():
    assert config(stop="###").stop == ["###"]


def test_endpoint_urls():
    assert endpoint_url("http://h:8000", False) == ("http://h:8000/v1/completions", False)
    assert endpoint_url("http://h:8000/v1/", True) == ("http://h:8000/v1/chat/completions", True)
    assert endpoint_url("http://h/v1/chat/completions", False) == (
        "http://h/v1/chat/completions",
        True,
    )
    assert endpoint_url("http://h/api/completions", True) == ("http://h/api/completions", False)


def test_make_backend_http_carries_the_config_id(monkeypatch):
    monkeypatch.setenv("LEANCOT_TEST_KEY", "sk-test")
    cfg = config(backend="http", endpoint="http://127.0.0.1:9/v1", api_key_env="LEANCOT_TEST_KEY")
    backend = make_backend(cfg)
    assert isinstance(backend, HTTPBackend)
    assert backend.backend_id == backend_id(cfg) == "http-completions"
    assert backend.api_key == "sk-test"
    chat = config(backend="http", endpoint="http://127.0.0.1:9/v1", chat=True)
    assert make_backend(chat).backend_id == backend_id(chat) == "http-chat"
    assert backend_id(config(backend="hf", chat=True)) == "hf-chat"


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed")
def test_vllm_backend_without_vllm_says_what_to_install():
    with pytest.raises(ImportError, match=r"pip install 'leancot\[gpu\]'"):
        make_backend(config(backend="vllm"))


def test_prompt_gives_state_tactic_next_state_thought_and_names():
    prompt = render_prompt(SIMP, SIMP["thought"])
    for part in (SIMP["state_before"], SIMP["tactic"], SIMP["state_after"], SIMP["thought"]):
        assert part in prompt
    assert "`a`, `b`, `hab`, `Nat.add_zero`" in prompt
    assert prompt.endswith("Rewritten explanation:")


def test_custom_prompt_template(tmp_path):
    (tmp_path / "p.j2").write_text("{{ tactic }} | {{ thought }} | {{ names | join(',') }}")
    cfg = config(prompt_template=str(tmp_path / "p.j2"))
    backend = FakeBackend(lambda p: "x")
    list(rewrite_records([RW], cfg, backend=backend, progress=False))
    assert backend.prompts == [f"rw [Nat.add_zero] | {RW['thought']} | n,Nat.add_zero"]


# --- the stage: batching, fields, cache ----------------------------------------------------------


def test_batches_preserve_order_and_record_statuses():
    backend = FakeBackend()
    out = list(rewrite_records(RECORDS, config(batch_size=2), backend=backend, progress=False))
    assert [len(b) for b in backend.calls] == [2, 2, 1]
    assert [r["id"] for r in out] == [r["id"] for r in RECORDS]
    for record, row in zip(RECORDS, out, strict=True):
        assert row["rewrite_status"] == "ok" and row["rewrite_reason"] is None
        assert row["thought"] == PARAPHRASE[record["id"]]  # cut at the stop string, stripped
        assert row["template_thought"] == record["thought"]
        assert {k: row[k] for k in record if k != "thought"} == {
            k: v for k, v in record.items() if k != "thought"
        }
    assert RECORDS[0]["thought"].startswith("The goal is")  # inputs untouched


def test_unfaithful_completions_keep_the_template_thought():
    def respond(prompt):
        record = record_of(prompt)
        if record is EXACT:
            return (
                "We pair the hypothesis `hp` with the other assumption to obtain `p ∧ q`, which is "
            )
            "exactly the goal, so nothing remains."
        if record is INTRO:
            return "Hm. " * 200
        return PARAPHRASE[record["id"]]

    out = list(rewrite_records(RECORDS, config(), backend=FakeBackend(respond), progress=False))
    status = {r["template"]: (r["rewrite_status"], r["rewrite_reason"]) for r in out}
    assert status["constructor"] == ("fallback", "dropped names: hq")
    assert status["intro"][0] == "fallback" and status["intro"][1].startswith("too long")
    assert status["rw"] == ("ok", None)
    for row in out:
        if row["rewrite_status"] == "fallback":
            assert row["thought"] == row["template_thought"]


def test_identical_prompts_are_generated_once():
    backend = FakeBackend()
    twin = {**RW, "id": "twin"}
    out = list(rewrite_records([RW, twin, RW], config(), backend=backend, progress=False))
    assert len(backend.prompts) == 1 and [r["rewrite_status"] for r in out] == ["ok"] * 3


def test_records_without_a_thought_fall_back_without_a_call():
    backend = FakeBackend()
    (row,) = rewrite_records([{**RW, "thought": ""}], config(), backend=backend, progress=False)
    assert backend.calls == [] and row["rewrite_reason"] == "no template thought"


def test_a_rewritten_record_is_rewritten_from_its_template_thought():
    backend = FakeBackend()
    first = list(rewrite_records([RW], config(), backend=backend, progress=False))
    again = list(rewrite_records(first, config(), backend=backend, progress=False))
    assert again[0]["template_thought"] == RW["thought"]
    assert backend.prompts[0] == backend.prompts[1]


def test_second_run_is_served_from_the_cache(tmp_path):
    first = FakeBackend()
    out1 = list(rewrite_records(RECORDS, config(tmp_path), backend=first, progress=False))
    assert len(first.prompts) == 5
    lines = (tmp_path / "cache.jsonl").read_text().splitlines()
    assert len(lines) == 5
    assert {"key", "backend", "model", "text"} <= set(json.loads(lines[0]))
    second = FakeBackend()
    out2 = list(rewrite_records(RECORDS, config(tmp_path), backend=second, progress=False))
    assert second.calls == [] and out2 == out1
    # a fully cached run builds no backend at all (config backend "hf" with a fake model path)
    out3 = list(rewrite_records(RECORDS, config(tmp_path, batch_size=2), progress=False))
    assert out3 == out1


def test_the_cache_keeps_raw_completions_so_new_bounds_need_no_calls(tmp_path):
    list(rewrite_records(RECORDS, config(tmp_path), backend=FakeBackend(), progress=False))
    backend = FakeBackend()
    strict = config(tmp_path, max_chars=100)
    out = list(rewrite_records(RECORDS, strict, backend=backend, progress=False))
    assert backend.calls == []
    assert any("max_chars 100" in (r["rewrite_reason"] or "") for r in out)


def test_cache_key_depends_on_backend_model_and_settings(tmp_path):
    list(rewrite_records([RW], config(tmp_path), backend=FakeBackend(), progress=False))
    for changed in ({"model": "other"}, {"max_new_tokens": 17}, {"temperature": 0.7}):
        backend = FakeBackend()
        list(rewrite_records([RW], config(tmp_path, **changed), backend=backend, progress=False))
        assert len(backend.prompts) == 1, changed


def test_an_interrupted_run_resumes_with_the_missing_items(tmp_path):
    backend = FakeBackend()
    rows = rewrite_records(RECORDS, config(tmp_path, batch_size=2), backend=backend, progress=False)
    next(rows)
    rows.close()  # stopped after the first batch
    assert len(backend.prompts) == 2
    resumed = FakeBackend()
    out = list(rewrite_records(RECORDS, config(tmp_path), backend=resumed, progress=False))
    assert len(resumed.prompts) == 3 and len(out) == 5
    assert {record_of(p)["id"] for p in resumed.prompts} == {r["id"] for r in RECORDS[2:]}


def test_a_truncated_last_cache_line_is_ignored_and_cut(tmp_path):
    list(rewrite_records(RECORDS[:2], config(tmp_path), backend=FakeBackend(), progress=False))
    path = tmp_path / "cache.jsonl"
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"key": "abc", "backend": "fake", "te')  # killed mid-write
    assert len(RewriteCache(path)) == 2
    backend = FakeBackend()
    out = list(rewrite_records(RECORDS, config(tmp_path), backend=backend, progress=False))
    assert len(backend.prompts) == 3 and all(r["rewrite_status"] == "ok" for r in out)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and all(json.loads(line)["text"] for line in lines)


def test_a_corrupt_middle_cache_line_is_skipped(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text('{"key": "a", "text": "x"}\nnot json\n{"key": "b", "text": "y"}\n')
    cache = RewriteCache(path)
    assert (cache.get("a"), cache.get("b"), len(cache)) == ("x", "y", 2)


def test_a_backend_returning_the_wrong_count_is_an_error():
    class Short(FakeBackend):
        def generate(self, prompts, **kw):
            return super().generate(prompts, **kw)[:-1]

    with pytest.raises(RewriteBackendError, match="asked for 2"):
        list(rewrite_records(RECORDS[:2], config(), backend=Short(), progress=False))


def test_progress_bar_shows_counts(capsys):
    list(rewrite_records(RECORDS, config(batch_size=2), backend=FakeBackend(), progress=True))
    err = capsys.readouterr().err
    assert "rewrite" in err and "5/5" in err and "ok=5" in err


def test_rewrite_file(tmp_path):
    src = tmp_path / "steps.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS))
    dst = tmp_path / "out" / "steps.jsonl"
    counts = rewrite_file(src, dst, config(tmp_path), backend=FakeBackend(), progress=False)
    assert counts == {"ok": 5, "fallback": 0}
    rows = [json.loads(line) for line in dst.read_text().splitlines()]
    assert [r["rewrite_status"] for r in rows] == ["ok"] * 5
    assert sorted(p.name for p in dst.parent.iterdir()) == ["steps.jsonl"]


# --- HTTP backend against a local server ---------------------------------------------------------


class CannedServer:
    """An OpenAI-compatible server on 127.0.0.1; `handle(path, body)` gives (status, answer)."""

    def __init__(self, handle):
        self.handle = handle
        self.requests: list[tuple[str, dict, dict]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append((self.path, body, dict(self.headers)))
                status, answer, *headers = server.handle(self.path, body)
                data = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    for name, value in headers:
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(handle):
        servers.append(CannedServer(handle))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def canned(prompt: str) -> str:
    """Faithful for rw / simp / induction; drops `hq` for exact; rambles for intro."""
    record = record_of(prompt)
    if record is EXACT:
        return " We pair the hypothesis `hp` with the other assumption to obtain `p ∧ q`, which is "
        "exactly the goal, so nothing remains."
    if record is INTRO:
        return " " + "So on and so forth. " * 40
    return " " + PARAPHRASE[record["id"]] + "\n\nExplanation 2: more text"


def completions(path, body):
    texts = [canned(p) for p in body["prompt"]]
    return 200, {"choices": [{"index": i, "text": t} for i, t in reversed(list(enumerate(texts)))]}


def http_config(server, **kw):
    kw = {"backend": "http", "endpoint": server.url + "/v1", "model": "m", "backoff_s": 0, **kw}
    return config(**kw)


def test_http_completions_records_fallbacks(serve, tmp_path, monkeypatch):
    monkeypatch.setenv("LEANCOT_TEST_KEY", "sk-local")
    server = serve(completions)
    cfg = http_config(server, batch_size=2, api_key_env="LEANCOT_TEST_KEY")
    out = list(rewrite_records(RECORDS, cfg, progress=False))
    assert [len(body["prompt"]) for _, body, _ in server.requests] == [2, 2, 1]
    path, body, headers = server.requests[0]
    assert path == "/v1/completions" and body["model"] == "m" and body["stop"] == ["\n\n"]
    assert body["temperature"] == 0 and body["max_tokens"] == 256
    assert headers["Authorization"] == "Bearer sk-local"
    status = {r["template"]: (r["rewrite_status"], r["rewrite_reason"]) for r in out}
    assert status["constructor"] == ("fallback", "dropped names: hq")
    assert status["intro"][0] == "fallback" and status["intro"][1].startswith("too long")
    for name in ("rw", "simp", "induction"):
        assert status[name] == ("ok", None)
    by_id = {r["id"]: r for r in out}
    assert by_id[RW["id"]]["thought"] == PARAPHRASE[RW["id"]]
    assert by_id[EXACT["id"]]["thought"] == EXACT["thought"]


def test_http_chat_sends_one_message_per_prompt(serve):
    def chat(path, body):
        (message,) = body["messages"]
        assert message["role"] == "user"
        return 200, {
            "choices": [{"message": {"role": "assistant", "content": canned(message["content"])}}]
        }

    server = serve(chat)
    out = list(rewrite_records(RECORDS, http_config(server, chat=True), progress=False))
    assert len(server.requests) == 5
    assert {p for p, _, _ in server.requests} == {"/v1/chat/completions"}
    assert "Authorization" not in server.requests[0][2]
    assert [r["rewrite_status"] for r in out] == ["ok", "fallback", "fallback", "ok", "ok"]


def test_http_retries_server_errors_then_succeeds(serve):
    failures = [503, 429]

    def flaky(path, body):
        if failures:
            return failures.pop(0), {"error": "busy"}
        return completions(path, body)

    server = serve(flaky)
    out = list(rewrite_records(RECORDS[:1], http_config(server), progress=False))
    assert len(server.requests) == 3 and out[0]["rewrite_status"] == "ok"


def test_http_gives_up_after_the_retries(serve):
    server = serve(lambda path, body: (503, {"error": "down"}))
    with pytest.raises(RewriteBackendError, match="HTTP 503.*after 3 attempts"):
        list(rewrite_records(RECORDS[:1], http_config(server, max_retries=2), progress=False))
    assert len(server.requests) == 3


def test_http_client_errors_are_not_retried(serve):
    server = serve(lambda path, body: (400, {"error": "bad model"}))
    with pytest.raises(RewriteBackendError, match="HTTP 400: .*bad model"):
        list(rewrite_records(RECORDS[:1], http_config(server), progress=False))
    assert len(server.requests) == 1


def test_http_backoff_doubles_and_honours_retry_after(serve):
    replies = [(503, {}), (429, {}, ("Retry-After", "2")), (503, {})]
    server = serve(lambda path, body: replies.pop(0) if replies else completions(path, body))
    waits: list[float] = []
    backend = HTTPBackend(server.url, "m", backoff_s=0.5, max_retries=3, sleep=waits.append)
    (text,) = backend.generate([render_prompt(RW, RW["thought"])], max_new_tokens=8, temperature=0)
    assert waits == [0.5, 2.0, 2.0] and text.startswith("Adding zero")


def test_http_timeouts_are_retried_then_reported(serve):
    def slow(path, body):
        time.sleep(0.5)
        return 200, {"choices": [{"index": 0, "text": "too late"}]}

    server = serve(slow)
    backend = HTTPBackend(server.url, "m", timeout_s=0.1, max_retries=1, backoff_s=0)
    start = time.monotonic()
    with pytest.raises(RewriteBackendError, match="after 2 attempts"):
        backend.generate(["x"], max_new_tokens=8, temperature=0)
    assert time.monotonic() - start < 2 and len(server.requests) >= 1


def test_http_wrong_choice_count_is_an_error(serve):
    server = serve(lambda path, body: (200, {"choices": []}))
    with pytest.raises(RewriteBackendError, match="expected 1 choices"):
        list(rewrite_records(RECORDS[:1], http_config(server), progress=False))


def test_http_unreachable_server_is_an_error():
    backend = HTTPBackend("http://127.0.0.1:9", "m", timeout_s=1, max_retries=1, backoff_s=0)
    with pytest.raises(RewriteBackendError, match="after 2 attempts"):
        backend.generate(["x"], max_new_tokens=8, temperature=0)


def test_module_has_no_train_import():
    folder = Path(rewrite.__file__).parent
    modules = ("rewrite", "rewrite_backends", "rewrite_config", "rewrite_cache", "faithfulness")
    source = "".join((folder / f"{name}.py").read_text() for name in modules)
    assert "leancot.train" not in source and "leancot.prover" not in source
