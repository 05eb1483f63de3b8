"""Golden request/response pairs for the REPL protocol, in the style of leanprover-community/repl.

`NAME.in` holds JSON requests separated by blank lines (a request may span lines);
`NAME.expected.out` holds the responses, one pretty-printed JSON object per request, separated by
blank lines. Handles are written as a fresh REPL process would give them (first command: env 1,
first proof state: 0). The tests share one long-lived server, so the runner shifts every `env` and
`proofState` by the server's counters when it sends a request and shifts them back in the
response; everything else must match exactly. Env 0 (the base environment) and handles of
1,000,000 or more (for "unknown handle" cases) are never shifted. A golden file must not import a
module that is not imported yet (a new header adds an environment of its own).

Set LEANCOT_UPDATE_GOLDEN=1 to rewrite the `.expected.out` files from the current output.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GOLDEN_DIR = Path(__file__).parent / "golden"
UPDATE_ENV = "LEANCOT_UPDATE_GOLDEN"
ABSOLUTE_HANDLE = 1_000_000
HANDLE_KEYS = ("env", "proofState")


def split_blocks(text: str) -> list[str]:
    """The chunks of `text` between blank lines."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.strip():
            current.append(line)
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


def parse_objects(text: str, where: Path) -> list[dict[str, Any]]:
    objects = []
    for k, block in enumerate(split_blocks(text)):
        try:
            value = json.loads(block)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: block {k + 1} is not JSON: {e}") from None
        if not isinstance(value, dict):
            raise ValueError(f"{where}: block {k + 1} is not a JSON object")
        objects.append(value)
    return objects


def format_objects(objects: list[dict[str, Any]]) -> str:
    return "\n\n".join(json.dumps(o, indent=2, ensure_ascii=False, sort_keys=True) for o in objects)


@dataclass(frozen=True)
class Offsets:
    """Actual handle = golden handle + offset (for the handles that are shifted at all)."""

    env: int
    proof_state: int

    def of(self, key: str) -> int:
        return self.env if key == "env" else self.proof_state


def _shifted(value: Any, key: str, offsets: Offsets, sign: int) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if sign > 0 and ((key == "env" and value == 0) or value >= ABSOLUTE_HANDLE):
        return value  # the base environment, or a handle meant to be unknown
    return value + sign * offsets.of(key)


def shift(obj: Any, offsets: Offsets, sign: int) -> Any:
    """A copy of `obj` with every `env`/`proofState` integer moved by `sign` * offset."""
    if isinstance(obj, dict):
        return {
            k: _shifted(v, k, offsets, sign) if k in HANDLE_KEYS else shift(v, offsets, sign)
            for k, v in obj.items()
        }
    if isinstance(obj, list):
        return [shift(v, offsets, sign) for v in obj]
    return obj


def probe_offsets(request: Callable[[dict[str, Any]], Any]) -> Offsets:
    """The offsets that make the server's next handles look like a fresh process's first ones.

    A fresh REPL gives env 1 and proof state 0 first; the probe takes the next env (E) and proof
    state (P), so the ones after it are E + 1 and P + 1.
    """
    reply = request({"cmd": "example : True := by sorry", "env": 0})
    if not isinstance(reply, dict) or "env" not in reply or not reply.get("sorries"):
        raise AssertionError(f"the golden probe got an unexpected reply: {reply!r}")
    return Offsets(env=reply["env"], proof_state=reply["sorries"][0]["proofState"] + 1)


def run_golden(name: str, request: Callable[[dict[str, Any]], Any]) -> tuple[list, list]:
    """(actual responses, expected responses) of `golden/NAME.in`, handles as in a fresh process.

    With LEANCOT_UPDATE_GOLDEN=1 the expected file is rewritten from the actual responses first.
    """
    source = GOLDEN_DIR / f"{name}.in"
    expected_path = GOLDEN_DIR / f"{name}.expected.out"
    requests = parse_objects(source.read_text(encoding="utf-8"), source)
    offsets = probe_offsets(request)
    actual = []
    for req in requests:
        reply = request(shift(req, offsets, +1))
        actual.append(shift(reply, offsets, -1) if isinstance(reply, dict) else repr(reply))
    if os.environ.get(UPDATE_ENV) == "1":
        expected_path.write_text(format_objects(actual) + "\n", encoding="utf-8")
    expected = parse_objects(expected_path.read_text(encoding="utf-8"), expected_path)
    return actual, expected


def golden_names() -> list[str]:
    return sorted(p.name.removesuffix(".in") for p in GOLDEN_DIR.glob("*.in"))
