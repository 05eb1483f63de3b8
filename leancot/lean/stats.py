"""The counters of one Lean server (`ReplSupervisor.stats`)."""

from __future__ import annotations

from dataclasses import dataclass

from leancot.lean.process import GIB


@dataclass(frozen=True)
class ServerStats:
    """Counters of one LeanServer; RSS in bytes over the whole process tree."""

    requests: int
    restarts: int
    recycles: int
    timeouts: int
    crashes: int
    generation: int
    peak_rss: int
    process_peak_rss: tuple[int, ...]
    forged_replies: int = 0  # reply lines without the request's nonce (printed by checked code)
    lean_timeouts: int = 0  # timeouts that Lean ended itself (heartbeats): no restart
    handovers: int = 0  # restarts served by the standby process
    header_hits: int = 0  # cached-environment lookups that found one
    header_misses: int = 0
    forgotten: int = 0  # handles freed with `forget`

    @property
    def peak_rss_gb(self) -> float:
        return self.peak_rss / GIB
