"""Scoring API without torch: propose() on a scripted policy, HTTPPolicy on a local server,
evaluation metrics: tests/unit/test_evaluate.py."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from leancot.models.scoring import (
    Completion,
    HTTPPolicy,
    Policy,
    PolicyBase,
    PolicyServerError,
    SamplingParams,
)


class ScriptedPolicy(PolicyBase):
    """Answers from a table keyed by prompt; records the calls."""

    def __init__(self, table):
        self.table = table
        self.calls = []

    def generate(self, prompts, params):
        self.calls.append((list(prompts), params))
        return [[Completion(t, lp) for t, lp in self.table[p]][: params.n] for p in prompts]


def test_sampling_params_validation():
    with pytest.raises(ValueError):
        SamplingParams(n=0)
    with pytest.raises(ValueError):
        SamplingParams(top_p=0)


def test_propose_parses_dedupes_and_ranks():
    table = {
        "⊢ a\n": [
            ("Use simp.\nsimp", -2.0),
            ("Close.\nrfl", -1.0),
            ("Again.\n simp ", -0.5),  # same tactic, better logprob: kept
            ("Nothing.\n", -0.1),  # empty tactic: dropped
        ],
        "⊢ b\n": [("exact h", -3.0)],
    }
    policy = ScriptedPolicy(table)
    assert isinstance(policy, Policy)
    out = policy.propose(["⊢ a", "⊢ b"], 4, temperature=0.7, seed=1)
    assert [(p.thought, p.tactic, p.logprob) for p in out[0]] == [
        ("Again.", "simp", -0.5),
        ("Close.", "rfl", -1.0),
    ]
    thought, tactic, logprob = out[1][0]
    assert (thought, tactic, logprob) == ("", "exact h", -3.0)
    ((prompts, params),) = policy.calls
    assert prompts == ["⊢ a\n", "⊢ b\n"] and params.n == 4 and params.stop == ("\n\n",)


class _Handler(BaseHTTPRequestHandler):
    requests: list = []

    def do_POST(self):  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((self.path, self.headers.get("Authorization"), body))
        if body["model"] == "broken":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"boom")
            return
        choices = []
        for i, prompt in enumerate(body["prompt"]):
            for k in range(body["n"]):
                choices.append(
                    {
                        "index": i * body["n"] + k,
                        "text": f"Thought {k}.\ntac_{prompt.strip()}_{k}",
                        "logprobs": {"token_logprobs": [None, -0.5, -0.25 * (k + 1)]},
                    }
                )
        choices.reverse()  # servers may answer out of order; `index` says where each belongs
        data = json.dumps({"choices": choices}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.requests = []
    httpd = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_http_policy_batches_and_preserves_order(server):
    policy = HTTPPolicy(server + "/v1", "tiny", api_key="k", batch_size=2)
    prompts = ["a", "b", "c"]
    out = policy.generate(prompts, SamplingParams(n=2, temperature=0.5, seed=7, stop=("\n\n",)))
    assert [[c.text.split("\n")[1] for c in row] for row in out] == [
        ["tac_a_0", "tac_a_1"],
        ["tac_b_0", "tac_b_1"],
        ["tac_c_0", "tac_c_1"],
    ]
    assert out[0][1].cumulative_logprob == pytest.approx(-1.0)
    assert len(_Handler.requests) == 2  # batch_size=2 over 3 prompts
    path, auth, body = _Handler.requests[0]
    assert path == "/v1/completions" and auth == "Bearer k"
    assert body["prompt"] == ["a", "b"] and body["seed"] == 7 and body["stop"] == ["\n\n"]
    assert body["logprobs"] == 1
    proposals = HTTPPolicy(server, "tiny").propose(["⊢ x"], 2)
    assert [p.tactic for p in proposals[0]] == ["tac_⊢ x_0", "tac_⊢ x_1"]


def test_http_policy_errors(server):
    with pytest.raises(PolicyServerError, match="HTTP 500"):
        HTTPPolicy(server, "broken").generate(["a"], SamplingParams())
    with pytest.raises(PolicyServerError):
        HTTPPolicy("http://127.0.0.1:9", "tiny", timeout_s=2).generate(["a"], SamplingParams())


def test_vllm_policy_says_how_to_install():
    pytest.importorskip("sklearn")  # any train-extra machine; vLLM itself must be absent
    try:
        import vllm  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("vLLM is installed")
    from leancot.models.scoring import VLLMPolicy

    with pytest.raises(ImportError, match=r"leancot\[gpu\]"):
        VLLMPolicy("some/model")
