"""Resumable stages: each runs in its own folder and writes `manifest.json` last.

A stage whose manifest matches its key (a digest of its settings and of the stages it reads,
`fingerprint`) is skipped; one interrupted midway keeps its folder so its work can resume; one
whose settings changed starts again from an empty folder. `LazyLean` is the one Lean server the
stages share, started on first use. The manifest and stage.json formats: docs/FORMATS.md.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leancot.files import sha256_hex, write_json
from leancot.formats import MANIFEST_NAME, REPORT_JSON

Notify = Callable[[str], None]

STARTED_NAME = "stage.json"  # written first: the key the folder's contents belong to
RUN_SUMMARY = "run.json"


def quiet(_message: str) -> None:
    """A `Notify` that shows nothing."""


@dataclass(frozen=True)
class StageResult:
    """A finished stage: its folder, what it produced, how long it took when it ran."""

    name: str
    path: Path
    key: str
    outputs: dict[str, Any]
    seconds: float
    resumed: bool  # found complete: nothing was run this time


def fingerprint(obj: Any) -> str:
    """A stable digest of JSON-able settings (sha256 prefix)."""
    text = json.dumps(obj, sort_keys=True, default=str, ensure_ascii=False)
    return sha256_hex(text, 16)


def key_path(path: Path | str | None, root: Path) -> str:
    """`path` as a stage key holds it: relative to `root` when inside it (a folder of stages
    moved or copied elsewhere keeps its keys), else as given (a hub id, another folder)."""
    if path is None:
        return "None"
    try:
        return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        return str(path)


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The stage manifest in folder `path`, None if the stage has not finished there."""
    return read_json(Path(path) / MANIFEST_NAME)


def run_stage(
    name: str,
    path: Path,
    key: str,
    work: Callable[[Path], Mapping[str, Any]],
    notify: Notify = quiet,
    *,
    label: str | None = None,
) -> StageResult:
    """Run `work(path)` unless `path` holds a finished stage with this `key` (`label`: the
    stage's name in progress messages).

    A folder left by other settings (its stage.json or manifest has another key) is emptied
    first; one left by an interrupted run with the same key is kept, so `work` can resume.
    """
    path = Path(path)
    shown = label or name
    manifest = read_manifest(path)
    if manifest is not None and manifest.get("key") == key:
        notify(f"{shown}: done earlier ({manifest.get('seconds', 0):.0f} s), skipped")
        return StageResult(name, path, key, manifest.get("outputs", {}), manifest["seconds"], True)
    started = read_json(path / STARTED_NAME) or manifest
    if started is not None and started.get("key") != key and path.exists():
        notify(f"{shown}: settings changed, starting again in {path}")
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MANIFEST_NAME).unlink(missing_ok=True)
    write_json(path / STARTED_NAME, {"stage": name, "key": key, "started": _now()}, default=str)
    notify(f"{shown}: running")
    t0 = time.monotonic()
    outputs = dict(work(path))
    seconds = time.monotonic() - t0
    from leancot import __version__

    manifest = {
        "stage": name,
        "key": key,
        "outputs": outputs,
        "seconds": round(seconds, 2),
        "created": _now(),
        "leancot_version": __version__,
    }
    write_json(path / MANIFEST_NAME, manifest, default=str)  # last: the stage is complete
    notify(f"{shown}: done in {seconds:.0f} s")
    return StageResult(name, path, key, outputs, round(seconds, 2), False)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


class LazyLean:
    """One Lean server for the stages that need one, started on first use."""

    def __init__(self, backend_factory: Callable[[], Any], **server_kwargs: Any) -> None:
        self.backend_factory = backend_factory
        self.server_kwargs = server_kwargs
        self._server: Any = None

    def get(self) -> Any:
        if self._server is None:
            from leancot.lean.server import LeanServer

            server = LeanServer(self.backend_factory(), **self.server_kwargs)
            server.start()
            self._server = server
        return self._server

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON object from `path`, None if it is absent, unreadable or not an object."""
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def report_json(report_dir: Path) -> dict[str, Any]:
    """The report.json of a report folder ({} if absent)."""
    return read_json(Path(report_dir) / REPORT_JSON) or {}
