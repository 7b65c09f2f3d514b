"""Fairness metrics against fairlearn as the oracle, plus the documented edge rules."""

from __future__ import annotations

import numpy as np
import pytest

from mlops_kernel.gates.fairness import (
    demographic_parity_difference,
    equalized_odds_difference,
    fairness_report,
)

fairlearn_metrics = pytest.importorskip("fairlearn.metrics")


@pytest.mark.parametrize("seed", range(8))
def test_binary_equals_fairlearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = int(rng.integers(40, 400))
    groups = rng.choice(["a", "b", "c", "d"][: int(rng.integers(2, 5))], rows)
    y_true = rng.integers(0, 2, rows)
    # a model that favours group "a" a little, so the differences are not all near 0
    y_pred = np.where(rng.random(rows) < np.where(groups == "a", 0.7, 0.4), 1, 0)
    want_dpd = fairlearn_metrics.demographic_parity_difference(
        y_true, y_pred, sensitive_features=groups
    )
    want_eod = fairlearn_metrics.equalized_odds_difference(
        y_true, y_pred, sensitive_features=groups
    )
    assert demographic_parity_difference(y_pred, groups) == pytest.approx(want_dpd, abs=1e-12)
    assert equalized_odds_difference(y_true, y_pred, groups) == pytest.approx(want_eod, abs=1e-12)
    (result,) = fairness_report(y_true, y_pred, {"group": groups})
    assert result.dpd == pytest.approx(want_dpd, abs=1e-12)
    assert result.eod == pytest.approx(want_eod, abs=1e-12)
    assert result.positive_label == 1


def test_string_labels_use_the_largest_as_positive() -> None:
    rng = np.random.default_rng(7)
    groups = rng.choice([0, 1], 300)
    y_true = rng.choice(["no", "yes"], 300)
    y_pred = rng.choice(["no", "yes"], 300)
    want = fairlearn_metrics.equalized_odds_difference(
        (y_true == "yes").astype(int), (y_pred == "yes").astype(int), sensitive_features=groups
    )
    assert equalized_odds_difference(y_true, y_pred, groups) == pytest.approx(want, abs=1e-12)
    (result,) = fairness_report(y_true, y_pred, {"g": groups})
    assert result.positive_label == "yes"


def _one_vs_rest(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, label: int
) -> tuple[float, float]:
    t, p = (y_true == label).astype(int), (y_pred == label).astype(int)
    return (
        fairlearn_metrics.demographic_parity_difference(t, p, sensitive_features=groups),
        fairlearn_metrics.equalized_odds_difference(t, p, sensitive_features=groups),
    )


def test_multiclass_with_and_without_positive_label() -> None:
    rng = np.random.default_rng(3)
    rows = 500
    groups = rng.choice(["x", "y", "z"], rows)
    y_true = rng.integers(0, 3, rows)
    y_pred = np.where(groups == "x", rng.integers(0, 2, rows), rng.integers(0, 3, rows))
    per_class = {c: _one_vs_rest(y_true, y_pred, groups, c) for c in range(3)}
    # a positive label: one-vs-rest for it
    assert demographic_parity_difference(y_pred, groups, positive_label=2) == pytest.approx(
        per_class[2][0]
    )
    assert equalized_odds_difference(y_true, y_pred, groups, positive_label=2) == pytest.approx(
        per_class[2][1]
    )
    # none: the largest one-vs-rest difference over the classes
    want_dpd = max(d for d, _ in per_class.values())
    want_eod = max(e for _, e in per_class.values())
    assert demographic_parity_difference(y_pred, groups) == pytest.approx(want_dpd)
    assert equalized_odds_difference(y_true, y_pred, groups) == pytest.approx(want_eod)
    (result,) = fairness_report(y_true, y_pred, {"g": groups})
    assert result.dpd == pytest.approx(want_dpd)
    assert result.eod == pytest.approx(want_eod)
    assert result.positive_label is None
    assert set(result.groups["x"]) >= {"n", "selection_rate[0]", "tpr[2]", "fpr[1]"}
    assert result.groups["x"]["selection_rate[2]"] == 0.0


def test_unfair_model_has_large_differences() -> None:
    rng = np.random.default_rng(11)
    rows = 2000
    sex = rng.choice(["f", "m"], rows)
    y_true = rng.integers(0, 2, rows)  # the outcome does not depend on sex
    # the "model" approves 80% of men and 20% of women, whatever the truth
    y_pred = (rng.random(rows) < np.where(sex == "m", 0.8, 0.2)).astype(int)
    (result,) = fairness_report(y_true, y_pred, {"sex": sex})
    assert result.dpd > 0.5
    assert result.eod is not None and result.eod > 0.5
    assert result.groups["m"]["selection_rate"] > 0.7 > 0.3 > result.groups["f"]["selection_rate"]
    # the same labels, predicted independently of sex: small differences
    fair = (rng.random(rows) < 0.5).astype(int)
    (fair_result,) = fairness_report(y_true, fair, {"sex": sex})
    assert fair_result.dpd < 0.1


def test_single_group_is_zero_and_report_without_truth() -> None:
    y_pred = np.array([0, 1, 1, 0, 1])
    assert demographic_parity_difference(y_pred, ["a"] * 5) == 0.0
    assert equalized_odds_difference([1, 1, 0, 0, 1], y_pred, ["a"] * 5) == 0.0
    (result,) = fairness_report(None, y_pred, {"s": ["a", "a", "b", "b", "b"]})
    assert result.eod is None
    assert result.dpd == pytest.approx(2 / 3 - 0.5)
    assert result.groups == {
        "a": {"n": 2.0, "selection_rate": 0.5},
        "b": {"n": 3.0, "selection_rate": pytest.approx(2 / 3)},
    }


def test_group_without_positives_is_left_out_of_the_tpr_difference() -> None:
    groups = np.array(["a"] * 4 + ["b"] * 4 + ["c"] * 2)
    y_true = np.array([1, 1, 0, 0, 1, 1, 0, 0, 0, 0])  # group c has no actual positives
    y_pred = np.array([1, 1, 0, 0, 1, 0, 1, 0, 0, 0])
    # TPR: a 1.0, b 0.5, c undefined; FPR: a 0.0, b 0.5, c 0.0
    (result,) = fairness_report(y_true, y_pred, {"g": groups})
    assert result.eod == pytest.approx(0.5)
    assert "tpr" not in result.groups["c"]
    assert result.groups["c"]["fpr"] == 0.0
    # fairlearn counts the undefined TPR as 0, which would report 1.0 here
    oracle = fairlearn_metrics.equalized_odds_difference(y_true, y_pred, sensitive_features=groups)
    assert oracle == pytest.approx(1.0)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="rows"):
        demographic_parity_difference([1, 0], ["a"])
    with pytest.raises(ValueError, match="y_true has 3 rows"):
        equalized_odds_difference([1, 0, 1], [1, 0], ["a", "b"])
    with pytest.raises(ValueError, match="empty"):
        demographic_parity_difference([], [])
    with pytest.raises(ValueError, match="one-dimensional"):
        demographic_parity_difference(np.zeros((2, 2)), ["a", "b"])


def test_mixed_sensitive_values_are_compared_as_text() -> None:
    sensitive = np.array(["a", None, "a", None], dtype=object)
    (result,) = fairness_report(None, [1, 0, 1, 1], {"s": sensitive})
    assert set(result.groups) == {"a", "None"}
    assert result.dpd == pytest.approx(0.5)
