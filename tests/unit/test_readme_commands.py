"""README's commands and what CI runs cannot drift apart (issue 16).

README.md holds the test command between `<!-- test-command -->` markers; `.ci/run` reads it from
there, in a fresh empty venv, and installs nothing itself. These tests pin that: the command
`.ci/run` would run is README's, the script it names installs everything the tests need, and the
run time `leancot run --help` states is the measured one.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
CI_RUN = ROOT / ".ci" / "run"
TEST_SCRIPT = ROOT / "scripts" / "test.sh"

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


def readme_block(start: str, end: str) -> list[str]:
    """The non-empty lines inside the fenced block between two marker comments, fences dropped."""
    text = README.read_text(encoding="utf-8")
    assert text.count(start) == 1 and text.count(end) == 1, f"README needs one {start} ... {end}"
    inside = text.split(start, 1)[1].split(end, 1)[0]
    return [ln for ln in inside.splitlines() if ln.strip() and not ln.startswith("```")]


def readme_test_command() -> str:
    lines = readme_block("<!-- test-command -->", "<!-- /test-command -->")
    assert len(lines) == 1, f"README's test command must be one line, got {lines}"
    return lines[0]


def code_lines(path: Path) -> list[str]:
    """A shell script's lines without comments and blank lines."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def test_readme_test_command_is_the_script() -> None:
    assert readme_test_command() == "bash scripts/test.sh"
    assert TEST_SCRIPT.is_file()


@needs_bash
def test_ci_runs_readme_test_command_verbatim() -> None:
    proc = subprocess.run(
        ["bash", str(CI_RUN), "--print-test-command"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert proc.stdout == readme_test_command() + "\n"
    # ... and what it prints is what it executes.
    assert 'bash -c "$command"' in code_lines(CI_RUN)


def test_ci_installs_nothing_itself() -> None:
    code = "\n".join(code_lines(CI_RUN))
    assert not re.search(r"\bpip\d*\b", code), "installs belong in README's command"
    assert not re.search(r"\bleancot\s", code), "leancot commands belong in README's command"
    assert "pytest" not in code
    # A fresh venv each time: cleared, not reused.
    assert "-m venv --clear" in code


def test_test_script_installs_what_the_tests_need() -> None:
    lines = code_lines(TEST_SCRIPT)
    assert "set -euo pipefail" in lines
    assert "python -m pip install -e '.[dev,train,distributed,leandojo]'" in lines
    assert any("apt-get install -y --no-install-recommends chromium" in line for line in lines)
    assert "leancot setup" in lines
    assert lines[-1] == 'python -m pytest -q "$@"'
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(dep.split("[")[0].split("=")[0].strip() == "pytest" for dep in extras["dev"])


@needs_bash
@pytest.mark.parametrize("script", [CI_RUN, TEST_SCRIPT], ids=lambda p: p.name)
def test_scripts_parse(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True, timeout=30)


def test_readme_main_command() -> None:
    assert "pip install -e '.[train]' && leancot run\n" in README.read_text(encoding="utf-8")


def test_run_time_as_measured() -> None:
    from leancot.cli.pipeline_commands import RUN_DESCRIPTION
    from leancot.pipeline.config import RunConfig

    for text in (RUN_DESCRIPTION, RunConfig.__doc__ or ""):
        assert "about 8-10 min on 2 cores" in text and "retriev" in text
    quick_start = README.read_text(encoding="utf-8").split("## Quick start", 1)[1]
    quick_start = quick_start.split("\n## ", 1)[0]
    assert "about 8-10 minutes on 2 cores" in quick_start and "--retrieval" in quick_start
