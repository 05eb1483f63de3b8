"""Shared fixtures: the embedded Lean install and ONE Lean server for the whole test session.

Tests that need Lean take `lean_server` (or `wasm_install`) and are marked `slow`. Without an
install they are skipped with the reason, except under CI (env `CI` set), where that is a failure.
The same holds for `chromium` (the browser test of report.html: the Debian `chromium` package,
or `$LEANCOT_CHROMIUM`, driven by playwright) and `ray_module` (the `distributed` extra).
`--skip-slow` (or env LEANCOT_SKIP_SLOW=1) skips every `slow` test for a quick local run.
"""

from __future__ import annotations

import os
import shutil

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--skip-slow",
        action="store_true",
        default=os.environ.get("LEANCOT_SKIP_SLOW") == "1",
        help="skip tests marked slow (those that run the real Lean)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--skip-slow"):
        return
    skip = pytest.mark.skip(reason="--skip-slow / LEANCOT_SKIP_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def wasm_install():
    """The embedded Lean (`leancot setup`); skip without it, fail under CI."""
    from leancot.lean.install import NotInstalledError, find_installation

    try:
        return find_installation()
    except NotInstalledError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the embedded Lean: {exc}")
        pytest.skip(f"embedded Lean not installed: {exc}")


def _missing(what: str) -> None:
    """Skip for `what` is missing, or fail under CI, which must have everything."""
    if os.environ.get("CI"):
        pytest.fail(f"CI needs {what}")
    pytest.skip(f"{what} is missing")


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a headless-capable Chromium with playwright to drive it."""
    path = os.environ.get("LEANCOT_CHROMIUM") or shutil.which("chromium")
    if path is None:
        _missing("chromium (apt-get install chromium; scripts/test.sh does it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ModuleNotFoundError:
        _missing("playwright (pip install -e '.[dev]')")
    return str(path)


@pytest.fixture(scope="session")
def ray_module():
    """The real `ray` module (the `distributed` extra)."""
    try:
        import ray
    except ModuleNotFoundError:
        _missing("ray (pip install -e '.[distributed]')")
    return ray


@pytest.fixture(scope="session")
def lean_server(wasm_install, tmp_path_factory):
    """One REPL server on the embedded Lean, shared by every test of the session."""
    from leancot.lean.backends import wasm_backend
    from leancot.lean.paths import project_dir
    from leancot.lean.server import LeanServer

    scratch = tmp_path_factory.mktemp("lean")
    backend = wasm_backend(wasm_install, project_dir(), mounts=[scratch])
    with LeanServer(backend) as server:
        yield server
