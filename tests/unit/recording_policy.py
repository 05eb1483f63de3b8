"""A scoring-API policy for tests that records the prompts it is given."""

from __future__ import annotations

from leancot.models.scoring import Completion, PolicyBase


class RecordingPolicy(PolicyBase):
    """Answers every prompt with one `think / simp` completion and keeps the prompts."""

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def generate(self, prompts, params):
        self.prompts += prompts
        return [[Completion("think\nsimp", -1.0)] for _ in prompts]
