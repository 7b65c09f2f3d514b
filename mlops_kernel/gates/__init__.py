"""Promotion gates: what a run must show before its model may be promoted.

The kernel side holds the pure logic (reading ``[gates]`` of ``mlops.toml``, thresholds,
fairness metrics, data checks, the lessons shown with each check); the daemon runs them.
Nothing here imports numpy, pandas or pyarrow at import time.
"""

from __future__ import annotations

from .config import load_gates, parse_gates
from .rules import (
    CHECK_KINDS,
    DataRules,
    FairnessRule,
    GateConfig,
    GateConfigError,
    MetricRule,
    RegressionRule,
    ReproducibleRule,
    TestsRule,
    default_gates,
)

__all__ = [
    "CHECK_KINDS",
    "DataRules",
    "FairnessRule",
    "GateConfig",
    "GateConfigError",
    "MetricRule",
    "RegressionRule",
    "ReproducibleRule",
    "TestsRule",
    "default_gates",
    "load_gates",
    "parse_gates",
]
