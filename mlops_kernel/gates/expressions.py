"""Reading threshold (``accuracy >= 0.9``) and regression (``accuracy >= production - 0.01``)
expressions. Errors say what to write instead, using the user's own metric name."""

from __future__ import annotations

import re

from .config_lines import PathKey
from .reader import Reader
from .rules import COMPARISONS, MetricRule, RegressionRule

_NUMBER = r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_SIGNED = re.compile(rf"^[+-]?{_NUMBER}$")
_COMPARE = re.compile(r"^\s*(?P<metric>[A-Za-z_][\w.:/-]*)\s*(?P<op>[<>=!]+)\s*(?P<rhs>.*?)\s*$")
_BASELINE = re.compile(
    rf"^(?P<alias>[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\s*(?P<sign>[+-])\s*(?P<margin>{_NUMBER}))?$"
)
_ALIAS = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


def metric_rule(reader: Reader, text: str, path: PathKey) -> MetricRule:
    metric, op, rhs = _split(reader, text, path, "accuracy >= 0.9")
    example = f"'{metric} {op} 0.9'"
    if not rhs:
        raise reader.error(path, f"{text!r} has no threshold; write it like {example}")
    if not _SIGNED.match(rhs):
        if _BASELINE.match(rhs):
            raise reader.error(
                path,
                f"{text!r} compares with a model alias; put it in no_regression, or give a "
                f"number here, like {example}",
            )
        raise reader.error(path, f"{rhs!r} is not a number; write it like {example}")
    return MetricRule(metric=metric, op=op, value=float(rhs), text=text.strip())


def regression_rule(reader: Reader, text: str, path: PathKey) -> RegressionRule:
    metric, op, rhs = _split(reader, text, path, "accuracy >= production - 0.01")
    example = f"'{metric} {op} production - 0.01'"
    if op == "==":
        raise reader.error(
            path, f"{text!r}: '==' cannot allow for noise; use >=, >, <= or <, like {example}"
        )
    if _SIGNED.match(rhs):
        raise reader.error(
            path,
            f"{text!r} compares with a fixed number; put it in metrics, or compare with a "
            f"model alias here, like {example}",
        )
    found = _BASELINE.match(rhs)
    if found is None:
        raise reader.error(
            path, f"cannot read {rhs!r} as 'ALIAS - MARGIN'; write it like {example}"
        )
    alias = found["alias"]
    if not _ALIAS.match(alias):
        raise reader.error(
            path,
            f"{alias!r} is not an alias name (lower-case letters, digits and '-', "
            f"starting with a letter); write it like {example}",
        )
    margin = 0.0
    if found["margin"] is not None:
        margin = float(found["margin"]) * (-1.0 if found["sign"] == "-" else 1.0)
    return RegressionRule(metric=metric, op=op, alias=alias, margin=margin, text=text.strip())


def _split(reader: Reader, text: str, path: PathKey, example: str) -> tuple[str, str, str]:
    found = _COMPARE.match(text)
    if found is None:
        raise reader.error(path, f"cannot read {text!r}; write it like '{example}'")
    metric, op, rhs = found["metric"], found["op"], found["rhs"]
    if op not in COMPARISONS:
        ops = ", ".join(COMPARISONS)
        suggestion = example.replace(example.split()[0], metric, 1)
        raise reader.error(
            path,
            f"'{op}' is not a comparison (use one of {ops}); write it like '{suggestion}'",
        )
    return metric, op, rhs
