"""`FakeLazyLean`: a stand-in for `pipeline.stages.LazyLean` in tests whose searches, models and
trainers are replaced too (no Lean process is started; `get` hands out a placeholder server)."""

from __future__ import annotations

from typing import Any


class FakeLazyLean:
    """Takes `LazyLean`'s arguments and starts nothing; `get()` returns a placeholder that
    the replaced searches never call, `close()` does nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.server = object()

    def get(self) -> Any:
        return self.server

    def close(self) -> None:
        pass
