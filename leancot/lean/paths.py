"""Where leancot keeps its downloads and where the Lean project (`lean_project/`) lives."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "LEANCOT_CACHE_DIR"
PROJECT_ENV = "LEANCOT_PROJECT_DIR"


def cache_dir() -> Path:
    """The cache root: `$LEANCOT_CACHE_DIR`, else the platform's user cache dir for "leancot"."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_cache_dir("leancot")).resolve()


def runner_dir() -> Path:
    """Where the REPL's runner files are written (`backends.repl_runner`): `<cache>/repl`."""
    return cache_dir() / "repl"


def project_dir() -> Path:
    """The Lake project with leancot's Lean sources (`lean_project/`).

    Found beside the package in a source checkout; an installed wheel has no copy, so there
    `$LEANCOT_PROJECT_DIR` must point at one.
    """
    override = os.environ.get(PROJECT_ENV)
    if override:
        path = Path(override).expanduser().resolve()
        if not (path / "lakefile.lean").is_file():
            raise FileNotFoundError(f"{PROJECT_ENV}={override} has no lakefile.lean")
        return path
    path = Path(__file__).resolve().parents[2] / "lean_project"
    if (path / "lakefile.lean").is_file():
        return path
    raise FileNotFoundError(
        "cannot find leancot's lean_project/ (not a source checkout); set "
        f"{PROJECT_ENV} to the lean_project directory of a leancot checkout"
    )
