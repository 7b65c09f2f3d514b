"""Latency statistics per served (model, alias): counts and a ring of recent latencies.

Percentiles are over the last ``WINDOW`` successful predictions only (a ring), so a
long-running daemon keeps constant memory and the figures follow recent behaviour.
``count`` and ``errors`` are totals since the daemon started.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from mlops_kernel.model_schemas import ServingStats

WINDOW = 10_000


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile ``q`` (0..100) of an ascending list; None when empty."""
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass
class LatencyRecorder:
    """Counters and the latency ring of one (model, alias)."""

    count: int = 0
    errors: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=WINDOW))

    def success(self, latency_ms: float) -> None:
        self.count += 1
        self.latencies_ms.append(latency_ms)

    def failure(self) -> None:
        self.count += 1
        self.errors += 1

    def snapshot(self, model: str, alias: str) -> ServingStats:
        ordered = sorted(self.latencies_ms)
        return ServingStats(
            model=model,
            alias=alias,
            count=self.count,
            errors=self.errors,
            p50_ms=percentile(ordered, 50),
            p99_ms=percentile(ordered, 99),
            window=len(ordered),
        )
