"""One `buildModule` request (docs/FORMATS.md, "buildModule"): Lean elaborates a source file as
a named module and writes its .olean into the server's private directory.

`build_module` sends it and checks the reply; `extract.build` (a project's own modules) and
`lean.image_build` (the REPL's image) both build through it and say its failure their own way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from leancot.lean.protocol import error_text, parse_messages
from leancot.lean.results import Crashed, Message, Timeout

if TYPE_CHECKING:
    from leancot.lean.server import LeanServer


class ModuleBuildError(RuntimeError):
    """Lean did not build the module: `reason` says why, `messages` holds its error messages
    (with their lines) when elaboration failed."""

    def __init__(self, reason: str, messages: Sequence[Message] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.messages = list(messages)


def build_module(
    server: LeanServer,
    source: Path,
    module: Sequence[str],
    olean: str | Path,
    timeout: float,
    *,
    image: bool = False,
) -> Path:
    """Build `source` as the module named by the components `module`; the .olean is written at
    `olean` relative to the server's private directory, whose path is returned. `image`: write
    it as the REPL's image (its specialisation cache empty). Raises `ModuleBuildError`."""
    private = server.private_dir
    if private is None:
        raise ModuleBuildError("this Lean backend cannot build modules (no private directory)")
    written = Path(private) / olean
    written.parent.mkdir(parents=True, exist_ok=True)
    request: dict[str, object] = {
        "buildModule": str(source.resolve()),
        "module": list(module),
        "olean": str(written),
    }
    if image:
        request["image"] = True
    raw = server.request(request, timeout)
    if isinstance(raw, Timeout):
        raise ModuleBuildError(f"building it timed out after {raw.seconds:g} s")
    if isinstance(raw, Crashed):
        raise ModuleBuildError(f"Lean failed while building it: {raw.reason}")
    errors = [m for m in parse_messages(raw) if m.is_error]
    if errors:
        first = "; ".join(f"line {m.line}: {m.text}" for m in errors[:3])
        raise ModuleBuildError(f"Lean reported errors: {first}", errors)
    if raw.get("olean") != str(written) or not written.is_file():
        raise ModuleBuildError(f"Lean did not build it: {error_text(raw) or raw}")
    return written


__all__ = ["ModuleBuildError", "build_module"]
