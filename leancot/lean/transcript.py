"""Request/reply transcripts in the style of leanprover-community/repl's `test/` folder.

A transcript is a `NAME.in` file of JSON requests separated by blank lines (a request may span
lines, and lines starting with `#` or `--` are comments, as the community REPL reads them) and a
`NAME.expected.out` file of the replies, one JSON object each, separated by blank lines. Used by
the golden tests (tests/integration/golden_runner.py) and `benchmarks/repl_compat.py`.

Handles are written as a fresh REPL process gives them (first command: env 0, first proof state:
0). A long-lived process has issued handles already, so `Offsets` shifts every `env` and
`proofState` of a request up by the process's counters and those of its reply back down; handles
of `UNKNOWN_HANDLE` or more (for "unknown handle" cases) are never shifted. Everything here is
pure: no processes, no I/O beyond the caller's text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

UNKNOWN_HANDLE = 1_000_000
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


def request_text(block: str) -> str | None:
    """A request block as the community REPL reads it: its lines joined after trimming their
    ends (a raw line break inside a JSON string disappears); `None` for a comment block."""
    joined = "".join(line.rstrip() for line in block.splitlines())
    if joined.startswith("#") or joined.startswith("--"):
        return None
    return joined


def parse_requests(text: str, where: str) -> list[dict[str, Any]]:
    """The requests of a `.in` file (comments skipped)."""
    requests = []
    for k, block in enumerate(split_blocks(text)):
        joined = request_text(block)
        if joined is None:
            continue
        requests.append(_object(joined, f"{where}: request block {k + 1}"))
    return requests


def parse_replies(text: str, where: str) -> list[dict[str, Any]]:
    """The replies of an `.expected.out` file."""
    return [
        _object(block, f"{where}: reply block {k + 1}")
        for k, block in enumerate(split_blocks(text))
    ]


def _object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{where} is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not a JSON object")
    return value


def format_replies(objects: list[dict[str, Any]]) -> str:
    """Replies as an `.expected.out` file: indented, keys sorted, blank lines between."""
    return "\n\n".join(json.dumps(o, indent=2, ensure_ascii=False, sort_keys=True) for o in objects)


@dataclass(frozen=True)
class Offsets:
    """Handle in the process = handle in the transcript + offset."""

    env: int = 0
    proof_state: int = 0

    def of(self, key: str) -> int:
        return self.env if key == "env" else self.proof_state


def _shifted(value: Any, key: str, offsets: Offsets, sign: int) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    if sign > 0 and value >= UNKNOWN_HANDLE:
        return value  # a handle meant to be unknown
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


PROBE = {"cmd": "example : True := sorry"}


def probe_offsets(request: Callable[[dict[str, Any]], Any]) -> Offsets:
    """The offsets that make the process's next handles look like a fresh process's first ones
    (env 0, proof state 0): one command with a `sorry` takes the next env E and proof state P."""
    reply = request(dict(PROBE))
    sorries = reply.get("sorries") if isinstance(reply, dict) else None
    if not isinstance(reply, dict) or not isinstance(reply.get("env"), int) or not sorries:
        raise AssertionError(f"the handle probe got an unexpected reply: {reply!r}")
    return Offsets(env=reply["env"] + 1, proof_state=sorries[0]["proofState"] + 1)


# --- field-level comparison, after normalising wording that changes between Lean versions ------

# Lean's own texts that changed between versions without a change of meaning.
_WORDING = (
    (re.compile(r"declaration uses 'sorry'"), "declaration uses `sorry`"),
    (re.compile(r"unknown identifier '([^']*)'", re.IGNORECASE), r"Unknown identifier `\1`"),
    (re.compile(r"unknown constant '([^']*)'", re.IGNORECASE), r"Unknown constant `\1`"),
)


def normalise_text(text: str) -> str:
    """A message text with its surrounding blanks trimmed and version wording unified."""
    text = text.strip()
    for pattern, replacement in _WORDING:
        text = pattern.sub(replacement, text)
    return text


def normalise(obj: Any) -> Any:
    """A reply with every string normalised and empty `messages`/`sorries`/`tactics`/`traces`
    lists dropped (the community REPL omits them; leancot's REPL did not always)."""
    if isinstance(obj, dict):
        return {
            k: normalise(v)
            for k, v in obj.items()
            if not (k in ("messages", "sorries", "tactics", "traces") and v == [])
        }
    if isinstance(obj, list):
        return [normalise(v) for v in obj]
    if isinstance(obj, str):
        return normalise_text(obj)
    return obj


# Fields leancot's REPL adds to the community REPL's `allTactics` entries (see Repl.lean).
EXTRA_KEYS = frozenset({"kind", "decl", "goalsBefore", "goalsAfter", "constants"})


def differences(got: Any, want: Any, path: str = "") -> Iterator[str]:
    """Where `got` differs from `want`, field by field; a field `want` lacks is a difference
    unless it is one of leancot's additions (`EXTRA_KEYS`)."""
    if isinstance(want, dict) and isinstance(got, dict):
        for key, value in want.items():
            if key not in got:
                yield f"{path}.{key}: missing"
            else:
                yield from differences(got[key], value, f"{path}.{key}")
        for key in got.keys() - want.keys() - EXTRA_KEYS:
            yield f"{path}.{key}: unexpected field"
        return
    if isinstance(want, list) and isinstance(got, list):
        if len(got) != len(want):
            yield f"{path}: {len(got)} items, expected {len(want)}"
            return
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            yield from differences(g, w, f"{path}[{k}]")
        return
    if got != want:
        shown = json.dumps(got, ensure_ascii=False)[:200]
        yield f"{path or '.'}: got {shown}, expected {json.dumps(want, ensure_ascii=False)[:200]}"
