"""Building the REPL's image (see `leancot.lean.image`).

`build_image` starts the REPL elaborated, once, in a process that serves nothing else, asks it for
the image (a `buildModule` request with `"image": true`), starts the image runner to check that it
answers a command, and only then moves the image into place, atomically, under a file lock (so
workers starting together build it once).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from filelock import FileLock

from leancot.files import atomic_dir
from leancot.lean.backends import wasm_backend
from leancot.lean.build_module import ModuleBuildError, build_module
from leancot.lean.image import IMAGE_MODULE, OLEAN, REPL_MODULE_FILE, image_dir, images_enabled
from leancot.lean.results import CommandResult
from leancot.lean.server import LeanServer

DEFAULT_BUILD_TIMEOUT = 1800.0


class ImageBuildError(RuntimeError):
    """Building the REPL's image failed (the message says at which step)."""


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def build_image(
    install: Any,
    project: Path,
    *,
    timeout: float = DEFAULT_BUILD_TIMEOUT,
    force: bool = False,
    progress: Progress = _quiet,
) -> Path | None:
    """Build the project's REPL image for `install` unless it exists; its directory, or None when
    images are off (`$LEANCOT_REPL_IMAGE=0`) or the project has no loader.

    Raises ImageBuildError (naming the step) when Lean cannot build it or the built image does not
    answer; nothing is left in place then, and backends keep starting the REPL elaborated.
    """
    if not images_enabled():
        return None
    target = image_dir(install, project)
    if target is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / OLEAN).is_file() and not force:
            return target
        started = time.monotonic()
        with atomic_dir(target) as staging:  # moved into place only if the block ends normally
            progress("building the REPL's image (once per REPL version)")
            _compile_image(install, project, staging / OLEAN, timeout)
            progress("checking the image")
            _check_image(install, project, staging, timeout)
        progress(f"REPL image built in {time.monotonic() - started:.0f}s")
        return target


def _compile_image(install: Any, project: Path, olean: Path, timeout: float) -> None:
    """Start the REPL elaborated (a process that serves only this) and ask it for the image."""
    backend = wasm_backend(install, project, image=False, startup_timeout=timeout)
    with LeanServer(backend, request_timeout=timeout) as server:
        try:
            written = build_module(
                server, project / REPL_MODULE_FILE, IMAGE_MODULE, Path("leancot-image") / OLEAN,
                timeout, image=True,
            )  # fmt: skip
        except ModuleBuildError as exc:
            raise ImageBuildError(f"building the REPL's image from Repl.lean: {exc}") from exc
        olean.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(written, olean)


def _check_image(install: Any, project: Path, image: Path, timeout: float) -> None:
    """Start the image runner from `image` and require the right answer to `#check Nat`."""
    backend = wasm_backend(install, project, image=image, startup_timeout=timeout)
    try:
        with LeanServer(backend, request_timeout=timeout) as server:
            outcome = server.run_cmd("#check Nat")
    except Exception as exc:  # a start that fails is the image's failure, said as such
        raise ImageBuildError(f"the built REPL image does not start: {exc}") from exc
    if not isinstance(outcome, CommandResult) or not any(
        m.text == "Nat : Type" for m in outcome.messages
    ):
        raise ImageBuildError(f"the built REPL image answered `#check Nat` with {outcome!r}")
