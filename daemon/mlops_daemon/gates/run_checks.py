"""The gates that look at the run itself: metric thresholds, no regression
against the model in production, and the data checks on the run's datasets."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

from mlops_kernel.gates import DataRules, MetricRule, RegressionRule
from mlops_kernel.gates.data_checks import check_dataset
from mlops_kernel.gates.lessons import LESSONS
from mlops_kernel.gates.thresholds import check_metric, check_regression
from mlops_kernel.model_schemas import CheckStatus, GateCheck
from mlops_kernel.schemas import MetricValue

NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def metric_number(value: MetricValue | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        return NON_FINITE.get(value, math.nan)
    return float(value)


def metric_check(rule: MetricRule, metrics: Mapping[str, MetricValue], required: bool) -> GateCheck:
    value = metric_number(metrics.get(rule.metric))
    passed, measured = check_metric(rule, value)
    evidence = (
        f"the run's last logged {rule.metric!r}"
        if value is not None
        else f"the run logged no metric {rule.metric!r} (logged: {', '.join(sorted(metrics))})"
    )
    return GateCheck(
        name=f"metric:{rule.metric}",
        kind="metric",
        status=CheckStatus.passed if passed else CheckStatus.failed,
        required=required,
        measured=measured,
        threshold=rule.text,
        evidence=evidence,
        lesson=LESSONS["metric"],
    )


def regression_checks(
    rule: RegressionRule,
    metrics: Mapping[str, MetricValue],
    models: list[str],
    baseline: Callable[[str, str, str], float | None],
    required: bool,
) -> list[GateCheck]:
    """One check per model the run logged, against that model's version under the alias.

    ``baseline(model, alias, metric)`` is the metric of the run behind the alias (None
    when the alias names nothing yet)."""
    value = metric_number(metrics.get(rule.metric))
    if not models:
        return [
            GateCheck(
                name=f"no_regression:{rule.metric}",
                kind="no_regression",
                status=CheckStatus.skipped,
                required=required,
                threshold=rule.text,
                evidence="the run logged no model, so there is nothing to compare with",
                lesson=LESSONS["no_regression"],
            )
        ]
    checks = []
    for model in models:
        base = baseline(model, rule.alias, rule.metric)
        passed, measured, threshold = check_regression(rule, value, base)
        if passed is None:
            status, evidence = (
                CheckStatus.skipped,
                f"no version of {model!r} is under {rule.alias!r} yet: nothing to regress from",
            )
        else:
            status = CheckStatus.passed if passed else CheckStatus.failed
            evidence = f"{rule.metric}: this run {value}, {model}@{rule.alias} {base}"
        checks.append(
            GateCheck(
                name=f"no_regression:{rule.metric}[{model}]",
                kind="no_regression",
                model=model,
                status=status,
                required=required,
                measured=measured,
                threshold=threshold,
                evidence=evidence,
                lesson=LESSONS["no_regression"],
            )
        )
    return checks


def data_check(
    rules: DataRules, datasets: Mapping[str, tuple[str, Path]], required: bool
) -> GateCheck:
    """``datasets``: the run's mount name -> (``name@version``, folder or file)."""

    def check(status: CheckStatus, measured: str | None, evidence: str) -> GateCheck:
        return GateCheck(
            name=f"data:{rules.dataset}",
            kind="data",
            status=status,
            required=required,
            measured=measured,
            threshold=_data_threshold(rules),
            evidence=evidence,
            lesson=LESSONS["data"],
        )

    found = datasets.get(rules.dataset)
    if found is None:
        used = ", ".join(sorted(datasets)) or "none"
        return check(
            CheckStatus.skipped,
            None,
            f"the run did not use dataset {rules.dataset!r} (it used: {used})",
        )
    ref, root = found
    if not root.exists():
        return check(CheckStatus.error, None, f"{ref}: its files are gone from {root}")
    findings = check_dataset(root, rules)
    failed = [f for f in findings if not f.passed]
    lines = [f"{ref} at {root}"] + [
        f"{'ok  ' if f.passed else 'FAIL'} {f.rule}: {f.detail}" for f in findings
    ]
    status = CheckStatus.failed if failed else CheckStatus.passed
    measured = f"{len(findings) - len(failed)} of {len(findings)} rules hold"
    return check(status, measured, "\n".join(lines))


def _data_threshold(rules: DataRules) -> str:
    parts = []
    if rules.columns:
        parts.append(f"columns {', '.join(f'{c}: {t}' for c, t in rules.columns.items())}")
    if rules.not_null:
        parts.append(f"no nulls in {', '.join(rules.not_null)}")
    for column, (low, high) in rules.ranges.items():
        parts.append(f"{column} in [{'' if low is None else low}, {'' if high is None else high}]")
    if rules.min_rows is not None:
        parts.append(f"at least {rules.min_rows} rows")
    return "; ".join(parts) or "readable"
