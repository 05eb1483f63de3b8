"""The JSON wire protocol of leanprover-community/repl, as spoken by `LeanCot/Repl.lean` too.

A request is one line of JSON followed by an empty line. Responses come in one of two framings:
- "marker" (our REPL with `LEANCOT_REPL_PROTOCOL=leancot`, as leancot's backends start it): each
  response is one stdout line `@@LEANCOT@@ <json>` carrying the request's nonce; every other line
  is noise (`#eval` output, debug prints) and is ignored. The first response is a ready line.
- "plain" (the community `repl` binary, and our REPL by default): each response is a possibly
  multi-line JSON object followed by an empty line.
Everything here is pure: no processes, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal, Protocol

from leancot.lean.results import (
    CommandResult,
    LeanError,
    LeanProtocolError,
    Message,
    ProofFinished,
    Sorry,
    TacticState,
    TracedTactic,
    goals_pp,
)

MARKER = "@@LEANCOT@@"
LEAN_ERROR_PREFIX = "Lean error:\n"  # before the text of a tactic that threw
Framing = Literal["marker", "plain"]
FRAMINGS: tuple[Framing, ...] = ("marker", "plain")


def encode_request(request: Mapping[str, Any]) -> bytes:
    """One JSON line plus the empty line that ends a request."""
    return (json.dumps(request, ensure_ascii=False) + "\n\n").encode("utf-8")


def command_request(cmd: str, env: int | None = None, all_tactics: bool = False) -> dict[str, Any]:
    request: dict[str, Any] = {"cmd": cmd}
    if env is not None:
        request["env"] = env
    if all_tactics:
        request["allTactics"] = True
    return request


def tactic_request(tactic: str, proof_state: int) -> dict[str, Any]:
    return {"tactic": tactic, "proofState": proof_state}


class Decoder(Protocol):
    def feed(self, line: str) -> list[dict[str, Any]]:
        """Take one output line (without its newline); return the responses it completes."""
        ...

    def flush(self) -> list[dict[str, Any]]:
        """At end of output: return a response still pending, if any."""
        ...


def _loads(text: str, framing: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise LeanProtocolError(
            f"malformed JSON from Lean ({framing} framing): {e.msg} at char {e.pos} in "
            f"{_preview(text)}"
        ) from None
    if not isinstance(value, dict):
        raise LeanProtocolError(f"expected a JSON object from Lean, got {_preview(text)}")
    return value


def _preview(text: str, limit: int = 300) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


class MarkerDecoder:
    """Responses are the lines starting with the marker; all other lines are ignored."""

    def __init__(self, marker: str = MARKER) -> None:
        self.marker = marker
        self.noise_lines = 0

    def feed(self, line: str) -> list[dict[str, Any]]:
        line = line.rstrip("\r\n")
        if not line.startswith(self.marker):
            self.noise_lines += 1
            return []
        return [_loads(line[len(self.marker) :].strip(), "marker")]

    def flush(self) -> list[dict[str, Any]]:
        return []


class PlainDecoder:
    """Responses are JSON objects, possibly spread over lines, each ended by an empty line.

    Lines outside a response that do not open one (`{`) are noise and are ignored.
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self.noise_lines = 0

    def feed(self, line: str) -> list[dict[str, Any]]:
        line = line.rstrip("\r\n")
        if not line.strip():
            return self.flush()
        if not self._lines and not line.lstrip().startswith("{"):
            self.noise_lines += 1
            return []
        self._lines.append(line)
        return []

    def flush(self) -> list[dict[str, Any]]:
        if not self._lines:
            return []
        text, self._lines = "\n".join(self._lines), []
        return [_loads(text, "plain")]


def make_decoder(framing: Framing) -> Decoder:
    if framing == "marker":
        return MarkerDecoder()
    if framing == "plain":
        return PlainDecoder()
    raise ValueError(f"unknown framing {framing!r}; expected one of {FRAMINGS}")


def is_ready(response: Mapping[str, Any]) -> bool:
    return response.get("ready") is True


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LeanProtocolError(f"expected an integer {what} from Lean, got {value!r}")
    return value


def _pos(value: Any) -> tuple[int | None, int | None]:
    if not isinstance(value, Mapping):
        return None, None
    line, column = value.get("line"), value.get("column")
    return (line if isinstance(line, int) else None, column if isinstance(column, int) else None)


def parse_message(raw: Mapping[str, Any]) -> Message:
    line, column = _pos(raw.get("pos"))
    end_line, end_column = _pos(raw.get("endPos"))
    return Message(
        severity=str(raw.get("severity", "error")),
        line=line or 0,
        column=column or 0,
        end_line=end_line,
        end_column=end_column,
        text=str(raw.get("data", "")),
    )


def parse_messages(raw: Mapping[str, Any]) -> tuple[Message, ...]:
    return tuple(parse_message(m) for m in raw.get("messages") or () if isinstance(m, Mapping))


def parse_sorry(raw: Mapping[str, Any]) -> Sorry:
    line, column = _pos(raw.get("pos"))
    end_line, end_column = _pos(raw.get("endPos"))
    state = raw.get("proofState")
    return Sorry(
        line=line or 0,
        column=column or 0,
        end_line=end_line,
        end_column=end_column,
        goal=str(raw.get("goal", "")),
        proof_state=state if isinstance(state, int) and not isinstance(state, bool) else None,
    )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    return ()


def parse_traced_tactic(raw: Mapping[str, Any]) -> TracedTactic:
    """One entry of `tactics` (our REPL's shape or the community REPL's)."""
    line, column = _pos(raw.get("pos"))
    end_line, end_column = _pos(raw.get("endPos"))
    decl, text, state = raw.get("decl"), raw.get("tactic"), raw.get("proofState")
    return TracedTactic(
        line=line or 0,
        column=column or 0,
        end_line=end_line,
        end_column=end_column,
        kind=str(raw.get("kind", "")),
        decl=decl if isinstance(decl, str) else None,
        goals_before=_strings(raw.get("goalsBefore", raw.get("goals"))),
        goals_after=_strings(raw.get("goalsAfter")),
        constants=_strings(raw.get("constants")),
        text=text if isinstance(text, str) else None,
        proof_state=state if isinstance(state, int) and not isinstance(state, bool) else None,
    )


def error_text(raw: Mapping[str, Any]) -> str | None:
    """The request-level error of a response (`{"message": ...}`), if it is one."""
    message = raw.get("message")
    if isinstance(message, str) and "env" not in raw and "proofState" not in raw:
        return message
    return None


def parse_command_response(
    raw: Mapping[str, Any], generation: int = 0
) -> CommandResult | LeanError:
    """A `{"cmd": ...}` response; Lean errors in the source stay inside the CommandResult."""
    error = error_text(raw)
    if error is not None:
        return LeanError(error)
    if "env" not in raw:
        raise LeanProtocolError(f"command response without 'env': {_preview(json.dumps(raw))}")
    return CommandResult(
        env=_int(raw["env"], "env"),
        messages=parse_messages(raw),
        sorries=tuple(parse_sorry(s) for s in raw.get("sorries") or () if isinstance(s, Mapping)),
        generation=generation,
        tactics=tuple(
            parse_traced_tactic(t) for t in raw.get("tactics") or () if isinstance(t, Mapping)
        ),
    )


def parse_tactic_response(
    raw: Mapping[str, Any], generation: int = 0
) -> TacticState | ProofFinished | LeanError:
    """A `{"tactic": ...}` response. A tactic that errs or leaves a `sorry` is a LeanError (an
    exception's text without the community REPL's `Lean error:` line in front)."""
    error = error_text(raw)
    if error is not None:
        return LeanError(error.removeprefix(LEAN_ERROR_PREFIX))
    messages = parse_messages(raw)
    errors = [m for m in messages if m.is_error]
    if errors:
        return LeanError("\n".join(m.text for m in errors), messages)
    status = raw.get("proofStatus")
    if isinstance(status, str) and status.startswith("Error"):
        return LeanError(status, messages)
    if raw.get("sorries") or any(m.is_sorry_warning for m in messages):
        return LeanError("the tactic uses `sorry`", messages)
    if "proofState" not in raw:
        raise LeanProtocolError(
            f"tactic response without 'proofState': {_preview(json.dumps(raw))}"
        )
    state = _int(raw["proofState"], "proofState")
    goals = raw.get("goals") or []
    if not isinstance(goals, list) or not all(isinstance(g, str) for g in goals):
        raise LeanProtocolError(f"tactic response with malformed 'goals': {goals!r}")
    if not goals:
        if isinstance(status, str) and status != "Completed":
            return LeanError(f"no goals remain but the proof is not complete ({status})", messages)
        return ProofFinished(state, messages, generation)
    goals_t = tuple(goals)
    return TacticState(goals_pp(goals_t), state, goals_t, messages, generation)


def start_from_command(result: CommandResult) -> TacticState | LeanError:
    """The proof state of the first `sorry` of `theorem ... := by sorry`."""
    if result.errors:
        return LeanError("\n".join(m.text for m in result.errors), result.messages)
    for s in result.sorries:
        if s.proof_state is not None:
            goals = (s.goal,)
            return TacticState(
                goals_pp(goals), s.proof_state, goals, result.messages, result.generation
            )
    return LeanError(
        "the statement produced no proof state (no `sorry` with a goal)", result.messages
    )
