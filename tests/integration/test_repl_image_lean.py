"""The REPL's image (leancot/lean/image.py) on the real WASM Lean: the session's server starts from
it when it is built (`leancot setup` builds it, so under CI it must be), and an image start answers
the protocol's requests exactly as a start that elaborates Repl.lean does."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from leancot.lean.backends import wasm_backend
from leancot.lean.image import find_image
from leancot.lean.paths import project_dir
from leancot.lean.results import Crashed, Timeout
from leancot.lean.server import LeanServer

pytestmark = [pytest.mark.slow, pytest.mark.lean]

STATEMENT = "theorem image_d (a b : Nat) : a + b = b + a"
REQUESTS: list[dict[str, Any]] = [
    {"cmd": "theorem image_a (n : Nat) : n + 0 = n := by simp"},
    {"cmd": "theorem image_b : 2 + 2 = 5 := by decide"},
    {
        "cmd": "theorem image_c (p q : Prop) (hp : p) (hq : q) : p ∧ q := by\n"
        "  constructor\n  · sorry\n  · exact hq",
        "allTactics": True,
    },
    {"verify": STATEMENT + " := by omega", "mode": "theorem", "reference": STATEMENT + " := sorry"},
    {"verify": STATEMENT + " := by sorry", "mode": "theorem", "reference": STATEMENT + " := sorry"},
    {"premises": "theorem image_e (xs : List Nat) : (xs ++ []).length = xs.length := by simp"},
]
HANDLES = ("env", "proofState", "nonce")


def _without_handles(value: Any) -> Any:
    """A reply with its handle numbers dropped (they count the process's earlier requests)."""
    if isinstance(value, dict):
        return {k: _without_handles(v) for k, v in value.items() if k not in HANDLES}
    if isinstance(value, list):
        return [_without_handles(v) for v in value]
    return value


def _replies(server: LeanServer) -> list[Any]:
    replies = []
    for request in REQUESTS:
        reply = server.request(request, 300)
        assert not isinstance(reply, (Timeout, Crashed)), (request, reply)
        replies.append(reply)
    sorry = replies[2]["sorries"][0]
    tactic = server.request({"tactic": "exact hp", "proofState": sorry["proofState"]}, 300)
    assert not isinstance(tactic, (Timeout, Crashed)), tactic
    return [_without_handles(r) for r in [*replies, tactic]]


def test_the_session_server_starts_from_the_built_image(lean_server, wasm_install) -> None:
    image = find_image(wasm_install, project_dir())
    if image is None:
        message = "no REPL image is built for this REPL (leancot setup builds it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    assert Path(lean_server.backend.argv[-1]) == image / "runner-leancot.lean"


def test_an_image_start_answers_as_an_elaborated_start(lean_server, wasm_install) -> None:
    if not Path(lean_server.backend.argv[-1]).name.startswith("runner-"):
        pytest.skip("the session's server elaborated the REPL (no image built)")
    from_image = _replies(lean_server)
    elaborated = wasm_backend(wasm_install, project_dir(), image=False)
    assert Path(elaborated.argv[-1]).name == "Repl.lean"
    with LeanServer(elaborated) as server:
        assert _replies(server) == from_image
    assert from_image[0] == {}  # no messages: proved
    assert any(m["severity"] == "error" for m in from_image[1]["messages"])
    assert from_image[2]["tactics"] and from_image[2]["sorries"]
    assert from_image[-1]["goals"] == [], from_image[-1]
