"""Golden request/response pairs for the REPL protocol, in the style of leanprover-community/repl.

`NAME.in` holds JSON requests separated by blank lines (a request may span lines; `#`/`--` lines
are comments); `NAME.expected.out` holds the responses, one pretty-printed JSON object per
request, separated by blank lines. Handles are written as a fresh REPL process would give them
(first command: env 0, first proof state: 0; a request without `env` starts from the base
environment). The tests share one long-lived server, so the runner shifts every `env` and
`proofState` by the server's counters (leancot/lean/transcript.py); everything else must match
exactly. Handles of 1,000,000 or more (for "unknown handle" cases) are never shifted.

Set LEANCOT_UPDATE_GOLDEN=1 to rewrite the `.expected.out` files from the current output.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from leancot.lean.transcript import (
    format_replies,
    parse_replies,
    parse_requests,
    probe_offsets,
    shift,
)

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_ENV = "LEANCOT_UPDATE_GOLDEN"


def run_golden(name: str, request: Callable[[dict[str, Any]], Any]) -> tuple[list, list]:
    """(actual responses, expected responses) of `golden/NAME.in`, handles as in a fresh process.

    With LEANCOT_UPDATE_GOLDEN=1 the expected file is rewritten from the actual responses first.
    """
    source = GOLDEN_DIR / f"{name}.in"
    expected_path = GOLDEN_DIR / f"{name}.expected.out"
    requests = parse_requests(source.read_text(encoding="utf-8"), str(source))
    offsets = probe_offsets(request)
    actual = []
    for req in requests:
        reply = request(shift(req, offsets, +1))
        actual.append(shift(reply, offsets, -1) if isinstance(reply, dict) else repr(reply))
    if os.environ.get(UPDATE_ENV) == "1":
        expected_path.write_text(format_replies(actual) + "\n", encoding="utf-8")
    expected = parse_replies(expected_path.read_text(encoding="utf-8"), str(expected_path))
    return actual, expected


def golden_names() -> list[str]:
    return sorted(p.name.removesuffix(".in") for p in GOLDEN_DIR.glob("*.in"))
