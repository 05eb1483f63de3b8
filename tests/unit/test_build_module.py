"""`lean.build_module`: the one buildModule request that extract.build and image_build share
(a scripted server: what Lean answers is given, the request and the checks are real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from leancot.lean.build_module import ModuleBuildError, build_module
from leancot.lean.results import Crashed, Timeout


class ScriptedServer:
    """Answers one request with `reply`; with `write`, first writes the .olean it was asked for."""

    def __init__(self, private: Path | None, reply: Any, write: bool = True) -> None:
        self.private_dir = private
        self.reply, self.write = reply, write
        self.requests: list[dict[str, Any]] = []

    def request(self, request: dict[str, Any], timeout: float) -> Any:
        self.requests.append(request)
        if self.write:
            Path(request["olean"]).write_bytes(b"olean")
        if callable(self.reply):
            return self.reply(request)
        return self.reply


def test_builds_into_the_private_dir_and_returns_the_olean(tmp_path: Path) -> None:
    source = tmp_path / "A.lean"
    source.write_text("def a := 1\n")
    server = ScriptedServer(tmp_path / "private", lambda req: {"olean": req["olean"]})
    written = build_module(server, source, ["Foo", "A"], Path("sub") / "A.olean", 30.0)  # type: ignore[arg-type]
    assert written == tmp_path / "private" / "sub" / "A.olean"
    assert written.read_bytes() == b"olean"
    (request,) = server.requests
    assert request == {
        "buildModule": str(source.resolve()),
        "module": ["Foo", "A"],
        "olean": str(written),
    }


def test_image_is_asked_for_only_when_wanted(tmp_path: Path) -> None:
    server = ScriptedServer(tmp_path, lambda req: {"olean": req["olean"]})
    build_module(server, tmp_path / "R.lean", ["R"], "R.olean", 30.0, image=True)  # type: ignore[arg-type]
    assert server.requests[0]["image"] is True


def test_errors_keep_their_lines(tmp_path: Path) -> None:
    reply = {
        "messages": [
            {"severity": "warning", "pos": {"line": 1, "column": 0}, "data": "unused"},
            {"severity": "error", "pos": {"line": 3, "column": 2}, "data": "unknown x"},
        ]
    }
    server = ScriptedServer(tmp_path, reply, write=False)
    with pytest.raises(ModuleBuildError) as info:
        build_module(server, tmp_path / "A.lean", ["A"], "A.olean", 30.0)  # type: ignore[arg-type]
    assert [(m.line, m.text) for m in info.value.messages] == [(3, "unknown x")]
    assert "line 3: unknown x" in str(info.value)


@pytest.mark.parametrize(
    ("reply", "write", "why"),
    [
        (Timeout(12.0), False, "timed out after 12 s"),
        (Crashed("out of memory"), False, "Lean failed while building it: out of memory"),
        ({"olean": "/elsewhere.olean"}, True, "Lean did not build it"),
        ({}, False, "Lean did not build it"),
    ],
)
def test_failures_say_why(tmp_path: Path, reply: Any, write: bool, why: str) -> None:
    server = ScriptedServer(tmp_path, reply, write=write)
    with pytest.raises(ModuleBuildError, match=why) as info:
        build_module(server, tmp_path / "A.lean", ["A"], "A.olean", 30.0)  # type: ignore[arg-type]
    assert info.value.messages == []


def test_a_backend_without_a_private_dir_cannot_build(tmp_path: Path) -> None:
    server = ScriptedServer(None, {})
    with pytest.raises(ModuleBuildError, match="cannot build modules"):
        build_module(server, tmp_path / "A.lean", ["A"], "A.olean", 30.0)  # type: ignore[arg-type]
    assert server.requests == []
