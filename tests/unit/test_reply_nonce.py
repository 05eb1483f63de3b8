"""Replies carry the request's nonce: lines printed by checked code cannot pass for replies."""

from __future__ import annotations

import pytest
from fake_repl import fake_backend

from leancot.lean import CommandResult, LeanServer


@pytest.fixture
def server(tmp_path):
    with LeanServer(fake_backend(tmp_path), request_timeout=5) as s:
        yield s


def test_forged_reply_lines_are_ignored(server):
    result = server.run_cmd("forge")
    assert isinstance(result, CommandResult)
    assert result.env not in (98, 99)  # the real reply, not one of the two forged lines
    assert server.stats.forged_replies == 2


def test_the_nonce_is_not_part_of_the_reply(server):
    raw = server.request({"cmd": "theorem t : True := trivial"})
    assert isinstance(raw, dict) and "nonce" not in raw and "env" in raw


def test_each_request_gets_a_fresh_nonce(server, monkeypatch):
    sent: list[dict] = []

    import leancot.lean.supervisor as supervisor_module

    original = supervisor_module.encode_request

    def spy(obj):
        sent.append(dict(obj))
        return original(obj)

    monkeypatch.setattr(supervisor_module, "encode_request", spy)
    server.run_cmd("example : True := trivial")
    server.run_cmd("example : True := trivial")
    nonces = [r["nonce"] for r in sent]
    assert len(nonces) == 2 and nonces[0] != nonces[1] and all(len(n) == 32 for n in nonces)
