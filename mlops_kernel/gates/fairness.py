"""Group fairness of a classifier's predictions, with numpy only.

For a binary task (and the positive label, by default the largest label seen) these equal
fairlearn's ``demographic_parity_difference`` and ``equalized_odds_difference``:

* demographic parity difference: the largest minus the smallest *selection rate*
  P(prediction == positive) over the groups of a sensitive column;
* equalized odds difference: the larger of the true-positive-rate difference and the
  false-positive-rate difference over the groups.

Rules where a choice had to be made:

* A sensitive column with a single group has difference 0 (there is no one to compare with).
* A group with no actual positives has no true positive rate (and one with no actual
  negatives no false positive rate). Such an undefined rate is left out of that difference
  instead of being counted as 0 as fairlearn does: a small group without positives would
  otherwise make the difference as large as the other groups' TPR, a gap the model did not
  cause. When fewer than two groups have the rate, its difference is 0.
* Multiclass (more than two labels): with ``positive_label`` the rule is one-vs-rest for that
  label; without it, the largest one-vs-rest difference over all classes (the class treated
  least evenly decides). For two labels both ways give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy.typing as npt

    Array = npt.NDArray[Any]


@dataclass
class FairnessResult:
    column: str
    dpd: float
    """Demographic parity difference."""
    eod: float | None
    """Equalized odds difference; None without true labels."""
    groups: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per group: ``n``, ``selection_rate`` and, where defined, ``tpr`` and ``fpr``
    (multiclass without a positive label: ``selection_rate[CLASS]`` etc. per class)."""
    positive_label: Any | None = None
    """The label treated as positive; None when the max over classes was taken."""


def demographic_parity_difference(
    y_pred: Any, sensitive: Any, positive_label: Any | None = None
) -> float:
    """Largest minus smallest selection rate over the groups of ``sensitive``."""
    pred = _vector(y_pred, "y_pred")
    inverse, count = _groups(_vector(sensitive, "sensitive"), len(pred))
    return max(
        _spread(_selection(pred == c, inverse, count)) for c in _targets(None, pred, positive_label)
    )


def equalized_odds_difference(
    y_true: Any, y_pred: Any, sensitive: Any, positive_label: Any | None = None
) -> float:
    """The larger of the TPR and FPR differences over the groups of ``sensitive``."""
    true, pred = _vector(y_true, "y_true"), _vector(y_pred, "y_pred")
    if len(true) != len(pred):
        raise ValueError(f"y_true has {len(true)} rows but y_pred has {len(pred)}")
    inverse, count = _groups(_vector(sensitive, "sensitive"), len(pred))
    worst = 0.0
    for c in _targets(true, pred, positive_label):
        tpr, fpr = _odds(true == c, pred == c, inverse, count)
        worst = max(worst, _spread(tpr), _spread(fpr))
    return worst


def fairness_report(
    y_true: Any | None,
    y_pred: Any,
    sensitive: dict[str, Any],
    positive_label: Any | None = None,
) -> list[FairnessResult]:
    """One result per sensitive column: both differences and the per-group rates."""
    pred = _vector(y_pred, "y_pred")
    true = None if y_true is None else _vector(y_true, "y_true")
    if true is not None and len(true) != len(pred):
        raise ValueError(f"y_true has {len(true)} rows but y_pred has {len(pred)}")
    targets = _targets(true, pred, positive_label)
    per_class = len(targets) > 1
    results: list[FairnessResult] = []
    for column, values in sensitive.items():
        column_values = _vector(values, f"sensitive column {column!r}")
        inverse, count = _groups(column_values, len(pred))
        names = _group_names(column_values)
        groups: dict[str, dict[str, float]] = {
            name: {"n": float(n)} for name, n in zip(names, count, strict=True)
        }
        dpd, eod = 0.0, None if true is None else 0.0
        for c in targets:
            suffix = f"[{c}]" if per_class else ""
            selection = _selection(pred == c, inverse, count)
            dpd = max(dpd, _spread(selection))
            _put(groups, names, f"selection_rate{suffix}", selection)
            if true is not None and eod is not None:
                tpr, fpr = _odds(true == c, pred == c, inverse, count)
                eod = max(eod, _spread(tpr), _spread(fpr))
                _put(groups, names, f"tpr{suffix}", tpr)
                _put(groups, names, f"fpr{suffix}", fpr)
        results.append(
            FairnessResult(
                column=column,
                dpd=dpd,
                eod=eod,
                groups=groups,
                positive_label=None if per_class else _plain(targets[0]),
            )
        )
    return results


# -- helpers ------------------------------------------------------------------------


def _vector(values: Any, what: str) -> Array:
    import numpy as np

    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, not of shape {array.shape}")
    if len(array) == 0:
        raise ValueError(f"{what} is empty: there are no rows to measure fairness on")
    return array


def _groups(sensitive: Array, rows: int) -> tuple[Array, Array]:
    """(group index of each row, rows per group)."""
    import numpy as np

    if len(sensitive) != rows:
        raise ValueError(f"the sensitive column has {len(sensitive)} rows, the predictions {rows}")
    _, inverse = np.unique(_sortable(sensitive), return_inverse=True)
    inverse = inverse.reshape(-1)
    return inverse, np.bincount(inverse)


def _group_names(sensitive: Array) -> list[str]:
    import numpy as np

    return [str(v) for v in np.unique(_sortable(sensitive))]


def _sortable(values: Array) -> Array:
    """Object arrays of mixed types (None among strings) cannot be sorted: compare as text."""
    import numpy as np

    if values.dtype == object:
        try:
            np.unique(values)
        except TypeError:
            return np.array([str(v) for v in values])
    return values


def _targets(true: Array | None, pred: Array, positive_label: Any | None) -> list[Any]:
    """The labels to treat as positive, one-vs-rest: the given one; the largest of two
    labels; every label of a multiclass task (the max over them is reported)."""
    import numpy as np

    if positive_label is not None:
        return [positive_label]
    both = pred if true is None else np.concatenate([true, pred])
    try:
        labels = list(np.unique(both))
    except TypeError as exc:
        raise ValueError(
            "the labels are of mixed types; give the positive_label to compare with"
        ) from exc
    return [labels[-1]] if len(labels) <= 2 else labels


def _selection(positive: Array, inverse: Array, count: Array) -> Array:
    import numpy as np

    hits = np.bincount(inverse, weights=positive.astype(float), minlength=len(count))
    return np.asarray(hits / count, dtype=float)


def _odds(true_pos: Array, pred_pos: Array, inverse: Array, count: Array) -> tuple[Array, Array]:
    """Per-group TPR and FPR; NaN where the group has no actual positives (negatives)."""
    import numpy as np

    groups = len(count)
    rates: list[Array] = []
    for actual in (true_pos, ~true_pos):
        total = np.bincount(inverse[actual], minlength=groups).astype(float)
        hits = np.bincount(
            inverse[actual], weights=pred_pos[actual].astype(float), minlength=groups
        )
        rate = np.full(groups, np.nan)
        np.divide(hits, total, out=rate, where=total > 0)
        rates.append(rate)
    return rates[0], rates[1]


def _spread(rates: Array) -> float:
    """Max minus min of the defined rates; 0 when fewer than two are defined."""
    import numpy as np

    defined = rates[~np.isnan(rates)]
    if len(defined) < 2:
        return 0.0
    return float(defined.max() - defined.min())


def _put(groups: dict[str, dict[str, float]], names: list[str], key: str, rates: Array) -> None:
    import numpy as np

    for name, rate in zip(names, rates, strict=True):
        if not np.isnan(rate):
            groups[name][key] = float(rate)


def _plain(label: Any) -> Any:
    """A numpy scalar label as a plain Python value (for JSON)."""
    return label.item() if hasattr(label, "item") else label
