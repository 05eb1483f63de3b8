"""The REPL's image: `LeanCot/Repl.lean` compiled once, so the WASM backend starts without
elaborating it (README, "Start-up, session 9").

The embedded WASM Lean runs no executable and no `lean --run`, so the REPL used to be elaborated
at every start (a runner: the module's text with an `#eval` appended). The image is the module's
.olean, written by the REPL's own `buildModule` request with `"image": true` (see Repl.lean,
"Building a module"), under the install at `<install>/repl-image/<key>/LeanCot/Repl.olean`. The
key digests the REPL module's text, the loader's (`LeanCot/ReplImage.lean`) and Lean's version,
so an edited REPL or another Lean never starts an old image: it starts elaborated until its own
image is built. The image runner is the loader's text with two commands appended: `install`
(copies the image's compiled helpers where this build's interpreter finds them; the loader's
docstring says why) and the protocol's entry point.

`image_build.build_image` (called by `leancot setup` and `leancot run`) builds it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from leancot.files import ensure_text

IMAGE_MODULE = ("LeanCot", "Repl")
REPL_MODULE_FILE = Path("LeanCot") / "Repl.lean"
LOADER_FILE = Path("LeanCot") / "ReplImage.lean"
IMAGE_SUBDIR = "repl-image"
OLEAN = Path(*IMAGE_MODULE).with_suffix(".olean")
LOADER_LINES = {
    "community": "#eval LeanCot.ReplImage.install\n#eval LeanCot.ReplImage.main\n",
    "leancot": "#eval LeanCot.ReplImage.install\n#eval LeanCot.ReplImage.mainLeancot\n",
}
IMAGE_ENV = "LEANCOT_REPL_IMAGE"  # "0": never use or build an image


def images_enabled() -> bool:
    """False when `$LEANCOT_REPL_IMAGE` is "0" (start elaborated; build nothing)."""
    return os.environ.get(IMAGE_ENV, "1").strip() != "0"


def has_loader(project: Path) -> bool:
    """Whether the project has both the REPL module and the image's loader."""
    return (project / REPL_MODULE_FILE).is_file() and (project / LOADER_FILE).is_file()


def image_key(project: Path, lean_version: str) -> str:
    """The digest naming an image: the REPL module's and the loader's text, and Lean's version."""
    digest = hashlib.sha256()
    for part in (
        (project / REPL_MODULE_FILE).read_bytes(),
        (project / LOADER_FILE).read_bytes(),
        lean_version.encode(),
    ):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()[:16]


def image_dir(install: Any, project: Path) -> Path | None:
    """Where the project's image for `install` lives (it may not exist yet): a directory to put
    on `LEAN_PATH`; None when the install has no root or the project no loader."""
    root = getattr(install, "root", None)
    version = getattr(install, "lean_version", None)
    if root is None or version is None or not has_loader(project):
        return None
    return Path(root) / IMAGE_SUBDIR / image_key(project, str(version))


def find_image(install: Any, project: Path) -> Path | None:
    """The directory of the project's built image for `install`, or None (none built, or images
    turned off by `$LEANCOT_REPL_IMAGE=0`)."""
    if not images_enabled():
        return None
    found = image_dir(install, project)
    if found is None or not (found / OLEAN).is_file():
        return None
    return found


def loader_runner_text(project: Path, protocol: str) -> str:
    """The image runner: the loader's text with `install` and the protocol's entry appended."""
    if protocol not in LOADER_LINES:
        raise ValueError(
            f"unknown REPL protocol {protocol!r}; expected one of {sorted(LOADER_LINES)}"
        )
    text = (project / LOADER_FILE).read_text(encoding="utf-8")
    return text.rstrip("\n") + "\n\n" + LOADER_LINES[protocol]


def image_runner(project: Path, image: Path, protocol: str) -> Path:
    """The image runner for `protocol`, written once into the image's directory (content-keyed
    like the image itself, so an existing file with the same name has this text)."""
    text = loader_runner_text(project, protocol)
    path = image / f"runner-{protocol}.lean"
    ensure_text(path, text)
    return path
