"""Which repository and commit extracted files come from, and their paths inside it.

LeanDojo's theorems name a repository (`url`, `commit`) and a `file_path` relative to its root,
and `LeanGitRepo(url, commit)` must be able to find that commit. So: the root is the git checkout
that holds the source (else the Lake project: the folder with `lean-toolchain`), `url` its
`origin` remote (else its absolute path: the form in which `LeanGitRepo` takes a local
repository, as `LeanGitRepo.from_path` makes it; it rejects a `file://` URL as "Invalid url"),
`commit` its HEAD. A checkout with changes under
the source's Lake project would name a commit that does not hold the files traced: it is refused
unless the caller allows it, and then `dirty` is recorded.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

TOOLCHAIN_FILE = "lean-toolchain"


class DirtyCheckout(ValueError):
    """The source has uncommitted changes and dirty extraction was not allowed."""


@dataclass(frozen=True)
class Origin:
    root: Path  # `file_path`s are relative to this folder (the repository's root)
    lake_root: Path  # the Lake project (module names are relative to it)
    url: str
    commit: str
    dirty: bool
    git: bool


def lake_root(source: Path) -> Path:
    """The nearest folder at or above `source` with a `lean-toolchain` (else its own folder)."""
    start = source if source.is_dir() else source.parent
    for folder in (start, *start.parents):
        if (folder / TOOLCHAIN_FILE).is_file():
            return folder
    return start


def _git(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=20, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def find_origin(
    source: Path, *, url: str | None = None, commit: str | None = None, allow_dirty: bool = False
) -> Origin:
    """The repository of `source` (see the module docstring); `url`/`commit` override git's."""
    project = lake_root(source)
    top = _git(project, "rev-parse", "--show-toplevel")
    if not top:
        local = url or str(project.resolve())
        return Origin(project, project, local, commit or "", dirty=False, git=False)
    root = Path(top).resolve()
    head = _git(root, "rev-parse", "HEAD") or ""
    remote = _git(root, "remote", "get-url", "origin")
    status = _git(root, "status", "--porcelain", "--", str(project.resolve()))
    dirty = bool(status)
    if dirty and not allow_dirty and commit is None:
        changed = ", ".join(line[3:] for line in (status or "").splitlines()[:5])
        raise DirtyCheckout(
            f"{root} has uncommitted changes under {project} ({changed}): commit them so that "
            f"{head[:12] or 'HEAD'} holds the files traced, or pass --allow-dirty (recorded in "
            "metadata.json)"
        )
    recorded_dirty = dirty and commit is None
    url = url or remote or str(root)
    return Origin(root, project, url, commit or head, dirty=recorded_dirty, git=True)


def module_name(path: Path, lake_root: Path) -> str:
    """The module a project file is (`LeanCot/Corpus/Nat.lean` -> `LeanCot.Corpus.Nat`)."""
    try:
        rel = path.resolve().relative_to(lake_root.resolve())
    except ValueError:
        rel = Path(path.name)
    return ".".join(rel.with_suffix("").parts)
