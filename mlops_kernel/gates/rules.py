"""The parsed form of the ``[gates]`` table of ``mlops.toml``: one frozen dataclass per rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from mlops_kernel.model_schemas import CheckKind

CHECK_KINDS: tuple[str, ...] = tuple(k for k in get_args(CheckKind) if k != "config")
"""The kinds of gate checks a config can name (``GateCheck.kind``; "config" is the
runner's own report of a config it could not read)."""

COMPARISONS = (">=", ">", "<=", "<", "==")
DEFAULT_TESTS_TIMEOUT_S = 600.0
DEFAULT_PARITY_TOLERANCE = 1e-4


class GateConfigError(ValueError):
    """A mistake in the ``[gates]`` table: ``str(e)`` names the file, line, key and the fix."""

    def __init__(self, message: str, *, key: str = "", line: int | None = None) -> None:
        super().__init__(message)
        self.key = key
        """The key path, e.g. ``gates.metrics[1]`` ("" for a file-level problem)."""
        self.line = line
        """The 1-based line in the file, or None when it cannot be told."""


@dataclass(frozen=True)
class MetricRule:
    """``accuracy >= 0.9``: a logged metric against a fixed threshold."""

    metric: str
    op: str
    value: float
    text: str


@dataclass(frozen=True)
class RegressionRule:
    """``accuracy >= production - 0.01``: a metric against the model under an alias."""

    metric: str
    op: str
    alias: str
    margin: float
    """Signed: ``production - 0.01`` gives -0.01; no margin gives 0.0."""
    text: str


@dataclass(frozen=True)
class DataRules:
    """Rules for the files of one dataset version the run used."""

    dataset: str
    columns: dict[str, str] = field(default_factory=dict)
    """Column -> dtype family (int, float, bool, string, datetime)."""
    not_null: tuple[str, ...] = ()
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    min_rows: int | None = None


@dataclass(frozen=True)
class FairnessRule:
    sensitive: tuple[str, ...]
    max_demographic_parity_difference: float | None = None
    max_equalized_odds_difference: float | None = None
    positive_label: Any | None = None
    """None: the largest label seen in the true and predicted labels."""


@dataclass(frozen=True)
class TestsRule:
    __test__ = False  # not a pytest test class, despite its name

    enabled: bool = True
    paths: tuple[str, ...] | None = None
    """None: the entry module's ``tests/test_<name>.py`` if it exists, else ``tests/``."""
    timeout_s: float = DEFAULT_TESTS_TIMEOUT_S


@dataclass(frozen=True)
class ReproducibleRule:
    """Retraining with the same inputs must give the same metrics, within these tolerances."""

    rtol: float = 0.0
    atol: float = 0.0


@dataclass(frozen=True)
class GateConfig:
    source: Path | None
    """The file read; None for the defaults."""
    tests: TestsRule = TestsRule()
    onnx_valid: bool = True
    metrics: tuple[MetricRule, ...] = ()
    no_regression: tuple[RegressionRule, ...] = ()
    data: tuple[DataRules, ...] = ()
    fairness: FairnessRule | None = None
    onnx_parity: float | None = None
    """The parity tolerance; None: the check is off."""
    reproducible: ReproducibleRule | None = None
    advisory: frozenset[str] = frozenset()
    """Check kinds (``fairness``) or names (``metric:rmse``) that report but never block."""

    def is_required(self, kind: str, name: str) -> bool:
        """Whether a check of ``kind`` named ``name`` must pass before promotion."""
        return kind not in self.advisory and name not in self.advisory


def default_gates() -> GateConfig:
    """The gates of a project without ``mlops.toml`` (or without ``[gates]``):
    its tests must pass and every logged model must be a valid ONNX file."""
    return GateConfig(source=None)
