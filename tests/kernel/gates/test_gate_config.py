"""Reading [gates] of mlops.toml: defaults, every accepted form, and located errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mlops_kernel.gates import (
    DataRules,
    FairnessRule,
    GateConfigError,
    MetricRule,
    RegressionRule,
    ReproducibleRule,
    TestsRule,
    default_gates,
    load_gates,
    parse_gates,
)
from mlops_kernel.gates.lessons import LESSONS
from mlops_kernel.gates.rules import CHECK_KINDS

FULL = """\
[docker]
base_image = "python:3.11-slim"

[gates]
metrics = ["accuracy >= 0.9", "rmse <= 3.0"]
no_regression = ["accuracy >= production - 0.01", "rmse <= staging-eu + 0.5", "f1 > production"]
tests = true
onnx_valid = false
onnx_parity = 1e-4
reproducible = true
advisory = ["fairness", "metric:rmse", "onnx_parity[iris]"]

[gates.fairness]
sensitive = ["sex"]
max_demographic_parity_difference = 0.1
max_equalized_odds_difference = 0.2
positive_label = 1

[gates.data.iris]
columns = { sepal_length = "float", species = "string" }
not_null = ["sepal_length"]
ranges = { sepal_length = [0, 10], petal_width = { min = 0 } }
min_rows = 100
"""


def test_defaults_without_file_or_table(tmp_path: Path) -> None:
    defaults = default_gates()
    assert defaults.source is None
    assert defaults.tests == TestsRule(enabled=True, paths=None, timeout_s=600.0)
    assert defaults.onnx_valid is True
    assert (defaults.metrics, defaults.no_regression, defaults.data) == ((), (), ())
    assert defaults.fairness is None
    assert defaults.onnx_parity is None
    assert defaults.reproducible is None
    assert defaults.advisory == frozenset()
    assert load_gates(tmp_path) == defaults
    (tmp_path / "mlops.toml").write_text('[docker]\nbase_image = "x"\n')
    other = load_gates(tmp_path)
    assert other.source == tmp_path / "mlops.toml"
    assert other.tests == defaults.tests and other.onnx_valid and not other.metrics


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / "mlops.toml").write_text(FULL)
    config = load_gates(tmp_path)
    assert config.source == tmp_path / "mlops.toml"
    assert config.metrics == (
        MetricRule("accuracy", ">=", 0.9, "accuracy >= 0.9"),
        MetricRule("rmse", "<=", 3.0, "rmse <= 3.0"),
    )
    assert config.no_regression == (
        RegressionRule("accuracy", ">=", "production", -0.01, "accuracy >= production - 0.01"),
        RegressionRule("rmse", "<=", "staging-eu", 0.5, "rmse <= staging-eu + 0.5"),
        RegressionRule("f1", ">", "production", 0.0, "f1 > production"),
    )
    assert config.tests == TestsRule()
    assert config.onnx_valid is False
    assert config.onnx_parity == 1e-4
    assert config.reproducible == ReproducibleRule(rtol=0.0, atol=0.0)
    assert config.advisory == {"fairness", "metric:rmse", "onnx_parity[iris]"}
    assert config.fairness == FairnessRule(("sex",), 0.1, 0.2, 1)
    assert config.data == (
        DataRules(
            dataset="iris",
            columns={"sepal_length": "float", "species": "string"},
            not_null=("sepal_length",),
            ranges={"sepal_length": (0.0, 10.0), "petal_width": (0.0, None)},
            min_rows=100,
        ),
    )
    assert not config.is_required("fairness", "fairness[iris]")
    assert not config.is_required("metric", "metric:rmse")
    assert config.is_required("metric", "metric:accuracy")


def test_table_forms() -> None:
    config = parse_gates(
        """
[gates.tests]
paths = ["tests/unit", "tests/test_train.py"]
timeout_s = 120
[gates.onnx_parity]
tolerance = 0.001
[gates.reproducible]
rtol = 1e-6
[gates.fairness]
sensitive = "sex"
max_equalized_odds_difference = 0.05
"""
    )
    assert config.tests == TestsRule(True, ("tests/unit", "tests/test_train.py"), 120.0)
    assert config.onnx_parity == 0.001
    assert config.reproducible == ReproducibleRule(rtol=1e-6, atol=0.0)
    assert config.fairness == FairnessRule(("sex",), None, 0.05, None)
    off = parse_gates("[gates]\ntests = false\nonnx_parity = true\nreproducible = false\n")
    assert off.tests.enabled is False
    assert off.onnx_parity == 1e-4
    assert off.reproducible is None
    disabled = parse_gates("[gates.tests]\nenabled = false\n")
    assert disabled.tests.enabled is False


def _error(text: str) -> GateConfigError:
    with pytest.raises(GateConfigError) as info:
        parse_gates(text, Path("/project/mlops.toml"))
    return info.value


@pytest.mark.parametrize(
    ("text", "line", "key", "says"),
    [
        (  # a typo must never silently switch a gate off
            '[gates]\nmetrcs = ["accuracy >= 0.9"]\n',
            2,
            "gates.metrcs",
            "did you mean 'metrics'?",
        ),
        (
            '[docker]\nx = 1\n\n[gates]\nmetrics = [\n  "accuracy >= 0.9",\n  "rmse >> 3",\n]\n',
            7,
            "gates.metrics[1]",
            "write it like 'rmse >= 0.9'",
        ),
        ('[gates]\nmetrics = ["accuracy >= 90%"]\n', 2, "gates.metrics[0]", "is not a number"),
        ('[gates]\nmetrics = ["accuracy"]\n', 2, "gates.metrics[0]", "cannot read 'accuracy'"),
        (
            '[gates]\nmetrics = ["accuracy >= production"]\n',
            2,
            "gates.metrics[0]",
            "put it in no_regression",
        ),
        ("[gates]\nmetrics = [0.9]\n", 2, "gates.metrics[0]", "must be a string"),
        (
            '[gates]\n\nno_regression = ["accuracy >= 0.9"]\n',
            3,
            "gates.no_regression[0]",
            "put it in metrics",
        ),
        (
            '[gates]\nno_regression = ["accuracy >= Production - 0.01"]\n',
            2,
            "gates.no_regression[0]",
            "is not an alias name",
        ),
        (
            '[gates]\nno_regression = ["accuracy >= production * 2"]\n',
            2,
            "gates.no_regression[0]",
            "write it like 'accuracy >= production - 0.01'",
        ),
        (
            '[gates]\nno_regression = ["accuracy == production"]\n',
            2,
            "gates.no_regression[0]",
            "'=='",
        ),
        ('[gates]\ntests = "yes"\n', 2, "gates.tests", "must be a table"),
        ("[gates.tests]\npath = ['tests']\n", 2, "gates.tests.path", "did you mean 'paths'?"),
        ("[gates.tests]\ntimeout_s = 0\n", 2, "gates.tests.timeout_s", "greater than 0"),
        ("[gates.tests]\npaths = []\n", 2, "gates.tests.paths", "empty list"),
        ('[gates]\nonnx_valid = "true"\n', 2, "gates.onnx_valid", "must be true or false"),
        ("[gates]\nonnx_parity = -1\n", 2, "gates.onnx_parity", "at least 0"),
        ("[gates.onnx_parity]\ntolerence = 1\n", 2, "gates.onnx_parity.tolerence", "tolerance"),
        ("[gates.reproducible]\nrtol = -0.1\n", 2, "gates.reproducible.rtol", "at least 0"),
        ('[gates]\nadvisory = ["fairnes"]\n', 2, "gates.advisory[0]", "did you mean 'fairness'?"),
        (
            "[gates.fairness]\nsensitive = ['sex']\nmax_demographic_parity_difference = -0.1\n",
            3,
            "gates.fairness.max_demographic_parity_difference",
            "at least 0",
        ),
        (
            "[gates.fairness]\nsensitive = ['sex']\nmax_equalized_odds_difference = 2\n",
            3,
            "gates.fairness.max_equalized_odds_difference",
            "at most 1",
        ),
        (
            "[gates.fairness]\n\nmax_demographic_parity_difference = 0.1\n",
            1,
            "gates.fairness",
            "needs the sensitive columns",
        ),
        ("[gates.fairness]\nsensitive = ['sex']\n", 1, "gates.fairness", "sets no bound"),
        (
            "[gates.fairness]\nsensitive = ['sex']\nmax_dpd = 0.1\n",
            3,
            "gates.fairness.max_dpd",
            "unknown key 'max_dpd'",
        ),
        (
            '[gates.data.iris]\ncolumns = { a = "flaot" }\n',
            2,
            "gates.data.iris.columns.a",
            "did you mean 'float'?",
        ),
        (
            "[gates]\nx = 1\n[gates.data.iris]\nmin_rows = 1\n\nranges = { a = [5, 1] }\n",
            2,
            "gates.x",
            "unknown key 'x'",
        ),
        (
            "[gates.data.iris]\nmin_rows = 1\n\nranges = { a = [5, 1] }\n",
            4,
            "gates.data.iris.ranges.a",
            "min 5 is greater than max 1",
        ),
        (
            "[gates.data.iris]\nranges = { a = { min = 5, max = 1 } }\n",
            2,
            "gates.data.iris.ranges.a",
            "greater than max",
        ),
        ("[gates.data.iris]\nranges = { a = [1] }\n", 2, "gates.data.iris.ranges.a", "[min, max]"),
        ("[gates.data.iris]\nranges = { a = {} }\n", 2, "gates.data.iris.ranges.a", "neither"),
        ("[gates.data.iris]\nmin_rows = 1.5\n", 2, "gates.data.iris.min_rows", "whole number"),
        ("[gates.data.iris]\nmin_rows = -1\n", 2, "gates.data.iris.min_rows", "at least 0"),
        ("[gates.data.iris]\nnot_nul = ['a']\n", 2, "gates.data.iris.not_nul", "'not_null'"),
        ("[gates.data.iris]\n", 1, "gates.data.iris", "has no rules"),
        ("[gates.data]\niris = 3\n", 2, "gates.data.iris", "must be a table"),
        (  # a dotted key inside [gates]
            "[gates]\nfairness.sensitive = ['sex']\nfairness.max_eod = 0.1\n",
            3,
            "gates.fairness.max_eod",
            "unknown key",
        ),
    ],
)
def test_errors_name_file_line_key_and_fix(text: str, line: int, key: str, says: str) -> None:
    error = _error(text)
    assert error.line == line
    assert error.key == key
    message = str(error)
    assert message.startswith(f"mlops.toml line {line}: ")
    assert says in message
    assert "\n" not in message


def test_error_message_shows_table_and_key() -> None:
    error = _error('[gates]\nmetrics = ["accuracy >> 0.9"]\n')
    assert str(error).startswith("mlops.toml line 2: [gates] metrics[0]: ")
    error = _error("[gates.data.iris]\nranges = { age = [9, 1] }\n")
    assert str(error).startswith("mlops.toml line 2: [gates.data.iris] ranges.age: ")


def test_toml_syntax_error_has_line() -> None:
    error = _error('[docker]\nbase_image = "x"\n[gates]\nmetrics = "a >= 1\nonnx_valid = true\n')
    assert error.line == 4
    assert str(error).startswith("mlops.toml line 4: not valid TOML: ")
    assert "(at line" not in str(error)
    assert error.key == ""
    at_end = _error('[gates]\nmetrics = ["a >= 1"\n')
    assert at_end.line == 2


def test_other_tables_are_ignored() -> None:
    config = parse_gates('[docker]\nanything = { goes = 1 }\n[gates]\nmetrics = "acc > 0.5"\n')
    assert config.metrics == (MetricRule("acc", ">", 0.5, "acc > 0.5"),)


def test_unreadable_file(tmp_path: Path) -> None:
    (tmp_path / "mlops.toml").write_bytes(b"[gates]\nx = '\xff'\n")
    with pytest.raises(GateConfigError, match="not UTF-8"):
        load_gates(tmp_path)


def test_lessons_cover_every_kind() -> None:
    assert set(LESSONS) == set(CHECK_KINDS)
    for kind, lesson in LESSONS.items():
        sentences = [s for s in lesson.split(". ") if s]
        assert 1 <= len(sentences) <= 2, kind
        assert lesson.endswith("."), kind


def test_importing_gates_stays_light() -> None:
    code = (
        "import sys\n"
        "import mlops_kernel.gates, mlops_kernel.gates.fairness, mlops_kernel.gates.data_checks\n"
        "import mlops_kernel.gates.thresholds, mlops_kernel.gates.lessons\n"
        "bad = {'numpy', 'pandas', 'pyarrow', 'tornado', 'jupyter_server', 'docker',\n"
        "       'sqlmodel', 'mlops_daemon'} & set(sys.modules)\n"
        "print(sorted(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
