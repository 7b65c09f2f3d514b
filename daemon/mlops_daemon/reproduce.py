"""Did a run reproduce? Compare every metric of two runs, point by point.

Deterministic code must give bit-identical metrics, so the default tolerance
is zero: every step of every series must be equal (NaN equals NaN here).
Code that is not deterministic (threads, GPUs) is judged with a relative and
an absolute tolerance, as ``math.isclose`` does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class MetricComparison:
    key: str
    original: float | str | None
    """The original run's last value (None when it lacks the metric)."""
    again: float | str | None
    equal: bool
    points: int
    """How many points the original's series has."""
    max_abs_diff: float | None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "original": self.original,
            "again": self.again,
            "equal": self.equal,
            "points": self.points,
            "max_abs_diff": self.max_abs_diff,
            "note": self.note,
        }


@dataclass(frozen=True)
class Verdict:
    original: str
    reproduction: str
    status: str
    """The reproduction's status."""
    same_identity: bool
    rtol: float
    atol: float
    metrics: list[MetricComparison] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.status != "succeeded":
            return "failed"
        if not self.metrics:
            return "no-metrics"
        return "reproduced" if all(m.equal for m in self.metrics) else "differs"

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "original": self.original,
            "reproduction": self.reproduction,
            "status": self.status,
            "same_identity": self.same_identity,
            "rtol": self.rtol,
            "atol": self.atol,
            "metrics": [m.to_json() for m in self.metrics],
        }


def _number(value: Any) -> float:
    if isinstance(value, str):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}.get(value, math.nan)
    return float(value)


def _same(a: float, b: float, rtol: float, atol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if rtol == 0 and atol == 0:
        return a == b
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)


def _last(series: dict[str, Any] | None) -> Any:
    return series["values"][-1] if series and series["values"] else None


def compare_series(
    key: str,
    original: dict[str, Any] | None,
    again: dict[str, Any] | None,
    rtol: float,
    atol: float,
) -> MetricComparison:
    """One metric's series (``{"steps": [...], "values": [...]}``) in both runs."""
    if original is None or again is None:
        missing = "the original" if original is None else "the reproduction"
        return MetricComparison(
            key,
            _last(original),
            _last(again),
            False,
            len(original["values"]) if original else 0,
            None,
            f"missing in {missing}",
        )
    a = [_number(v) for v in original["values"]]
    b = [_number(v) for v in again["values"]]
    if original["steps"] != again["steps"] or len(a) != len(b):
        return MetricComparison(
            key,
            _last(original),
            _last(again),
            False,
            len(a),
            None,
            f"different steps ({len(a)} points vs {len(b)})",
        )
    equal = all(_same(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
    finite = [abs(x - y) for x, y in zip(a, b, strict=True) if math.isfinite(x - y)]
    return MetricComparison(
        key, _last(original), _last(again), equal, len(a), max(finite) if finite else 0.0
    )


def compare_runs(
    original: dict[str, Any],
    again: dict[str, Any],
    original_series: list[dict[str, Any]],
    again_series: list[dict[str, Any]],
    rtol: float = 0.0,
    atol: float = 0.0,
) -> Verdict:
    """The verdict on ``again`` as a reproduction of ``original`` (both RunDetail JSON)."""
    first = {s["key"]: s for s in original_series}
    second = {s["key"]: s for s in again_series}
    metrics = [
        compare_series(key, first.get(key), second.get(key), rtol, atol)
        for key in sorted(first.keys() | second.keys())
    ]
    return Verdict(
        original=original["id"],
        reproduction=again["id"],
        status=again["status"],
        same_identity=bool(original.get("identity"))
        and original.get("identity") == again.get("identity"),
        rtol=rtol,
        atol=atol,
        metrics=metrics,
    )
