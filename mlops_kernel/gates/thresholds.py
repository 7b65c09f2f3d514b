"""Checking logged metrics against threshold and no-regression rules.

Inclusive comparisons (``>=``, ``<=``, ``==``) allow a relative/absolute slack of 1e-12,
so a bound computed as ``production - 0.01`` does not fail on floating-point rounding
(``0.93 - 0.01`` is ``0.9200000000000002``). A NaN metric never passes.
"""

from __future__ import annotations

import math

from .rules import MetricRule, RegressionRule

_SLACK = 1e-12


def compare(value: float, op: str, bound: float) -> bool:
    """``value OP bound`` with the rounding slack of inclusive comparisons."""
    if math.isnan(value) or math.isnan(bound):
        return False
    close = math.isclose(value, bound, rel_tol=_SLACK, abs_tol=_SLACK)
    if op == ">=":
        return value >= bound or close
    if op == "<=":
        return value <= bound or close
    if op == "==":
        return close
    if op == ">":
        return value > bound
    if op == "<":
        return value < bound
    raise ValueError(f"unknown comparison {op!r}")


def fmt(value: float) -> str:
    """A metric value as text: up to 6 significant digits."""
    return f"{value:.6g}"


def check_metric(rule: MetricRule, value: float | None) -> tuple[bool, str]:
    """(passed, measured text); a metric the run did not log fails as "not logged"."""
    if value is None:
        return False, "not logged"
    return compare(value, rule.op, rule.value), fmt(value)


def threshold_text(rule: RegressionRule, baseline: float | None) -> str:
    """``>= 0.93 (production 0.94 - 0.01)``, or the rule itself when there is no baseline."""
    if baseline is None:
        return f"{rule.op} {rule.alias}{_margin(rule.margin)}"
    bound = baseline + rule.margin
    return f"{rule.op} {fmt(bound)} ({rule.alias} {fmt(baseline)}{_margin(rule.margin)})"


def check_regression(
    rule: RegressionRule, value: float | None, baseline: float | None
) -> tuple[bool | None, str, str]:
    """(passed, measured, threshold text). passed is None (skipped) when no model is under
    the alias yet or it has no such metric: there is nothing to regress from."""
    measured = "not logged" if value is None else fmt(value)
    if baseline is None:
        return None, measured, f"{threshold_text(rule, None)}: no {rule.alias} value to compare"
    threshold = threshold_text(rule, baseline)
    if value is None:
        return False, measured, threshold
    return compare(value, rule.op, baseline + rule.margin), measured, threshold


def _margin(margin: float) -> str:
    if margin == 0:
        return ""
    return f" - {fmt(-margin)}" if margin < 0 else f" + {fmt(margin)}"
