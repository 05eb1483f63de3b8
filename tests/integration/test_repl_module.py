"""The REPL's own module, `lean_project/LeanCot/Repl.lean`, elaborates without an error.

The WASM runner is the module's text with `#eval LeanCot.Repl.main` appended, and Lean elaborates
past a broken command, so a parse error there (two doc comments in a row, say) still gives a
working REPL here; `lake build` and `lake exe leancot-repl` of a native user fail on it. The
module is built here the way the extractor builds a user's module (`buildModule`, real Lean).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from leancot.lean.paths import project_dir
from leancot.lean.protocol import parse_messages
from leancot.lean.results import Crashed, Timeout

pytestmark = [pytest.mark.slow, pytest.mark.lean]


def test_the_repl_module_elaborates_without_errors(lean_server) -> None:
    private = lean_server.private_dir
    assert private is not None, "the session's server has a private directory (sandbox)"
    olean = Path(private) / "repl-module-check" / "LeanCot" / "Repl.olean"
    olean.parent.mkdir(parents=True, exist_ok=True)
    source = project_dir() / "LeanCot" / "Repl.lean"
    request = {"buildModule": str(source), "module": ["LeanCot", "Repl"], "olean": str(olean)}
    reply = lean_server.request(request, 900)
    assert not isinstance(reply, (Timeout, Crashed)), reply
    errors = [f"line {m.line}: {m.text}" for m in parse_messages(reply) if m.is_error]
    assert errors == [], f"{source} has errors:\n" + "\n".join(errors)
    assert reply.get("olean") == str(olean) and olean.stat().st_size > 0
    olean.unlink()
