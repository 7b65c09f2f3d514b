"""Metric thresholds and no-regression comparisons."""

from __future__ import annotations

import math

import pytest

from mlops_kernel.gates import MetricRule, RegressionRule
from mlops_kernel.gates.thresholds import check_metric, check_regression, compare


@pytest.mark.parametrize(
    ("op", "value", "bound", "passed"),
    [
        (">=", 0.9, 0.9, True),
        (">=", 0.89, 0.9, False),
        (">", 0.9, 0.9, False),
        (">", 0.91, 0.9, True),
        ("<=", 3.0, 3.0, True),
        ("<=", 3.1, 3.0, False),
        ("<", 3.0, 3.0, False),
        ("==", 1.0, 1.0, True),
        ("==", 1.0, 1.001, False),
        (">=", math.nan, 0.0, False),
        ("<=", 1.0, math.nan, False),
    ],
)
def test_compare(op: str, value: float, bound: float, passed: bool) -> None:
    assert compare(value, op, bound) is passed


def test_check_metric() -> None:
    rule = MetricRule("accuracy", ">=", 0.9, "accuracy >= 0.9")
    assert check_metric(rule, 0.95) == (True, "0.95")
    assert check_metric(rule, 0.8) == (False, "0.8")
    assert check_metric(rule, None) == (False, "not logged")
    assert check_metric(rule, math.nan) == (False, "nan")


def test_check_regression_with_margin() -> None:
    rule = RegressionRule("accuracy", ">=", "production", -0.01, "accuracy >= production - 0.01")
    # 0.93 - 0.01 is 0.9200000000000002 in floating point: the bound itself must pass
    assert check_regression(rule, 0.92, 0.93) == (True, "0.92", ">= 0.92 (production 0.93 - 0.01)")
    passed, measured, threshold = check_regression(rule, 0.915, 0.93)
    assert (passed, measured) == (False, "0.915")
    assert threshold == ">= 0.92 (production 0.93 - 0.01)"
    assert check_regression(rule, None, 0.93)[0] is False


def test_check_regression_lower_is_better() -> None:
    rule = RegressionRule("rmse", "<=", "staging", 0.5, "rmse <= staging + 0.5")
    assert check_regression(rule, 3.4, 3.0)[0] is True
    assert check_regression(rule, 3.6, 3.0) == (False, "3.6", "<= 3.5 (staging 3 + 0.5)")


def test_regression_without_baseline_is_skipped() -> None:
    rule = RegressionRule("accuracy", ">=", "production", 0.0, "accuracy >= production")
    passed, measured, threshold = check_regression(rule, 0.9, None)
    assert passed is None
    assert measured == "0.9"
    assert "no production value" in threshold
