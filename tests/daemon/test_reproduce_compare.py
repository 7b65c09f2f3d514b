"""Judging a reproduction: every point of every metric, exact unless told otherwise."""

from __future__ import annotations

from typing import Any

from mlops_daemon.reproduce import compare_runs


def run(run_id: str, status: str = "succeeded", identity: str = "i1") -> dict[str, Any]:
    return {"id": run_id, "status": status, "identity": identity}


def series(key: str, *values: Any) -> dict[str, Any]:
    return {"key": key, "steps": list(range(len(values))), "values": list(values)}


def test_identical_series_reproduce_exactly() -> None:
    a = [series("loss", 0.5, 0.25), series("acc", "NaN")]
    verdict = compare_runs(run("a"), run("b"), a, [dict(s) for s in a])
    assert verdict.verdict == "reproduced" and verdict.same_identity
    assert all(m.equal for m in verdict.metrics)


def test_a_last_bit_difference_differs_unless_a_tolerance_allows_it() -> None:
    a = [series("loss", 0.5, 0.25)]
    b = [series("loss", 0.5, 0.25 + 1e-12)]
    exact = compare_runs(run("a"), run("b"), a, b)
    assert exact.verdict == "differs"
    (loss,) = exact.metrics
    assert not loss.equal and loss.max_abs_diff is not None and loss.max_abs_diff > 0
    assert compare_runs(run("a"), run("b"), a, b, rtol=1e-9).verdict == "reproduced"


def test_missing_metrics_steps_and_failures_are_named() -> None:
    a = [series("loss", 1.0, 2.0), series("acc", 0.9)]
    b = [series("loss", 1.0)]
    verdict = compare_runs(run("a"), run("b", identity="i2"), a, b)
    notes = {m.key: m.note for m in verdict.metrics}
    assert notes["acc"] == "missing in the reproduction"
    assert notes["loss"].startswith("different steps")
    assert verdict.verdict == "differs" and not verdict.same_identity
    assert compare_runs(run("a"), run("b", status="failed"), a, a).verdict == "failed"
