"""Shared helpers of the benchmarks: statistics, result rows, a daemon to measure.

Benchmarks are not tests: nothing here is collected by pytest. A benchmark
module exposes ``run(quick: bool) -> BenchResult`` and a ``main`` (see ``run.py``).
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TESTS_DIR = Path(__file__).resolve().parent.parent
if str(TESTS_DIR) not in sys.path:  # tests/ has no __init__.py: import support.* from here
    sys.path.insert(0, str(TESTS_DIR))

from support.daemon import DaemonProcess, kill_run_processes  # noqa: E402

__all__ = [
    "BenchResult",
    "DaemonProcess",
    "Row",
    "epoch",
    "markdown_table",
    "running_daemon",
    "standalone",
    "summary",
    "temp_dir",
    "timed",
    "wait_for",
]


@dataclass
class Row:
    """One line of the report: a measurement, its baseline, and its target."""

    measure: str
    value: float
    unit: str
    baseline: str = ""
    baseline_value: float | None = None
    ratio: float | None = None
    """value / baseline_value (or as stated in ``measure``)."""
    target: str = ""
    passed: bool | None = None
    """None: informational, no target."""

    @property
    def status(self) -> str:
        return "" if self.passed is None else ("PASS" if self.passed else "MISS")


@dataclass
class BenchResult:
    name: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    """Absolute numbers behind the rows (JSON only)."""
    notes: list[str] = field(default_factory=list)
    """Caveats and breakdowns, printed under the table."""
    seconds: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for row, data in zip(self.rows, out["rows"], strict=True):
            data["status"] = row.status
        return out


def summary(samples: list[float]) -> dict[str, float]:
    """Median, p95 (nearest rank), mean, min, max and count of ``samples``."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(0.95 * len(ordered) + 0.5) - 1))
    return {
        "n": len(ordered),
        "median": statistics.median(ordered),
        "p95": ordered[rank],
        "mean": statistics.fmean(ordered),
        "min": ordered[0],
        "max": ordered[-1],
    }


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def wait_for(check: Callable[[], bool], timeout: float, interval: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout} s")
        time.sleep(interval)


def epoch(stamp: str | None) -> float | None:
    """An API timestamp as seconds since the epoch (naive ones are UTC)."""
    if not stamp:
        return None
    when = datetime.fromisoformat(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.timestamp()


@contextlib.contextmanager
def temp_dir(prefix: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix=f"mlops-bench-{prefix}-") as tmp:
        yield Path(tmp)


@contextlib.contextmanager
def running_daemon(home: Path, concurrency: int = 2) -> Iterator[DaemonProcess]:
    """A real daemon on SQLite over ``home``, stopped (with its runs) afterwards."""
    daemon = DaemonProcess(home, concurrency=concurrency).start()
    try:
        yield daemon
    finally:
        daemon.stop()
        kill_run_processes(home)


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    elif abs(value) >= 100:
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def markdown_table(results: list[BenchResult]) -> str:
    lines = [
        "| Benchmark | Measure | Result | Baseline | Ratio | Target | Status |",
        "|---|---|---|---|---|---|---|",
    ]
    for res in results:
        if res.error:
            lines.append(f"| {res.name} | (crashed) | | | | | ERROR |")
        for row in res.rows:
            base = f"{row.baseline}: {fmt(row.baseline_value, row.unit)}" if row.baseline else ""
            ratio = f"{row.ratio:.2f}x" if row.ratio is not None else ""
            lines.append(
                f"| {res.name} | {row.measure} | {fmt(row.value, row.unit)} | {base} "
                f"| {ratio} | {row.target} | {row.status} |"
            )
    return "\n".join(lines)


def standalone(run: Callable[[bool], BenchResult]) -> None:
    """``main`` of a single benchmark module: run it and print its table and notes."""
    result = run("--quick" in sys.argv[1:])
    print(markdown_table([result]))
    for note in result.notes:
        print(f"- {note}")
