"""Golden request/response pairs of the REPL protocol (golden/*.in, golden/*.expected.out)."""

from __future__ import annotations

import pytest
from golden_runner import golden_names, run_golden

pytestmark = [pytest.mark.slow, pytest.mark.lean]


@pytest.mark.parametrize("name", golden_names())
def test_golden(lean_server, name):
    actual, expected = run_golden(name, lean_server.request)
    assert len(actual) == len(expected), f"{name}: {len(actual)} responses, not {len(expected)}"
    for k, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert got == want, f"{name}: response {k + 1} differs"
