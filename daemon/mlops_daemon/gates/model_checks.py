"""The gates that look at a logged model: a valid ONNX file, ONNX parity, fairness.

All blocking (onnxruntime, numpy): the runner calls them in a thread. None of
them runs user code: the evaluation split was saved by ``log_model`` as arrays of
the model's inputs, so the ONNX model runs on them here directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_kernel.gates import FairnessRule
from mlops_kernel.gates.fairness import fairness_report
from mlops_kernel.gates.lessons import LESSONS
from mlops_kernel.model_schemas import CheckStatus, GateCheck
from mlops_kernel.models.manifest import ModelManifest
from mlops_kernel.models.onnx_runtime import (
    Evaluation,
    compare_predictions,
    load_evaluation,
    open_session,
    run_onnx,
    validate_model_dir,
)

HOW_TO_EVALUATE = (
    "log the evaluation split with the model: "
    "log_model(model, X_train[:5], name=..., evaluation=(X_test, y_test), sensitive=[...])"
)


@dataclass
class LoggedModel:
    """A model the run logged, with what the checks share (computed once)."""

    name: str
    model_dir: Path
    manifest: ModelManifest
    problems: list[str]
    evaluation: Evaluation | None = None
    onnx_predictions: Any = None
    load_error: str | None = None


def inspect_model(name: str, model_dir: Path, manifest: ModelManifest) -> LoggedModel:
    """Validate the model and, when valid, predict its evaluation split with ONNX."""
    model = LoggedModel(name, model_dir, manifest, validate_model_dir(model_dir))
    if model.problems:
        return model
    try:
        model.evaluation = load_evaluation(model_dir, manifest)
        if model.evaluation is not None:
            session = open_session(model_dir / manifest.onnx_file)
            model.onnx_predictions = run_onnx(session, manifest, model.evaluation.features)
    except Exception as exc:  # a broken evaluation file must not hide the other checks
        model.load_error = f"{type(exc).__name__}: {exc}"
    return model


def onnx_valid_check(model: LoggedModel, required: bool) -> GateCheck:
    ok = not model.problems
    signature = model.manifest.signature
    shapes = ", ".join(f"{t.name} {t.dtype}{t.shape}" for t in signature.inputs)
    return GateCheck(
        name=f"onnx_valid[{model.name}]",
        kind="onnx_valid",
        model=model.name,
        status=CheckStatus.passed if ok else CheckStatus.failed,
        required=required,
        measured="valid" if ok else f"{len(model.problems)} problem(s)",
        threshold="onnx.checker passes, hash and signature match, onnxruntime loads it",
        evidence=f"inputs: {shapes}" if ok else "\n".join(model.problems),
        lesson=LESSONS["onnx_valid"],
    )


def parity_check(model: LoggedModel, tolerance: float, required: bool) -> GateCheck:
    def check(status: CheckStatus, measured: str | None, evidence: str) -> GateCheck:
        return GateCheck(
            name=f"onnx_parity[{model.name}]",
            kind="onnx_parity",
            model=model.name,
            status=status,
            required=required,
            measured=measured,
            threshold=_parity_threshold(model.manifest.task, tolerance),
            evidence=evidence,
            lesson=LESSONS["onnx_parity"],
        )

    if model.problems:
        return check(CheckStatus.error, None, "the ONNX model is not valid (see onnx_valid)")
    if model.load_error is not None:
        return check(CheckStatus.error, None, f"the evaluation split: {model.load_error}")
    if model.evaluation is None:
        at_log = model.manifest.parity
        if at_log is None:
            return check(CheckStatus.error, None, f"no evaluation split: {HOW_TO_EVALUATE}")
        status = CheckStatus.passed if at_log.passed else CheckStatus.failed
        note = f"no evaluation split; log_model's own check on {at_log.rows} sample rows"
        return check(status, _parity_measured(at_log), f"{note}. {at_log.detail}".strip())
    result = compare_predictions(
        model.evaluation.native, model.onnx_predictions, model.manifest.task, tolerance
    )
    status = CheckStatus.passed if result.passed else CheckStatus.failed
    evidence = f"{result.rows} evaluation rows, native vs onnxruntime. {result.detail}".strip()
    return check(status, _parity_measured(result), evidence)


def _parity_threshold(task: str, tolerance: float) -> str:
    if task == "classification":
        return f"share of differing labels <= {tolerance:g}"
    return f"max |native - onnx| <= {tolerance:g} x max(1, max |native|)"


def _parity_measured(result: Any) -> str:
    if result.max_abs_diff is not None:
        return f"max |diff| {result.max_abs_diff:.3g} over {result.rows} rows"
    return f"{result.mismatches} of {result.rows} labels differ"


def fairness_check(model: LoggedModel, rule: FairnessRule, required: bool) -> GateCheck:
    bounds = []
    if rule.max_demographic_parity_difference is not None:
        bounds.append(f"demographic parity difference <= {rule.max_demographic_parity_difference}")
    if rule.max_equalized_odds_difference is not None:
        bounds.append(f"equalized odds difference <= {rule.max_equalized_odds_difference}")

    def check(status: CheckStatus, measured: str | None, evidence: str) -> GateCheck:
        return GateCheck(
            name=f"fairness[{model.name}]",
            kind="fairness",
            model=model.name,
            status=status,
            required=required,
            measured=measured,
            threshold=", ".join(bounds) + f" over {', '.join(rule.sensitive)}",
            evidence=evidence,
            lesson=LESSONS["fairness"],
        )

    if model.problems:
        return check(CheckStatus.error, None, "the ONNX model is not valid (see onnx_valid)")
    if model.load_error is not None:
        return check(CheckStatus.error, None, f"the evaluation split: {model.load_error}")
    evaluation = model.evaluation
    if evaluation is None or evaluation.y_true is None:
        return check(CheckStatus.error, None, f"no labelled evaluation split: {HOW_TO_EVALUATE}")
    missing = [c for c in rule.sensitive if c not in evaluation.sensitive]
    if missing:
        have = ", ".join(sorted(evaluation.sensitive)) or "none"
        return check(
            CheckStatus.error,
            None,
            f"sensitive column(s) {', '.join(missing)} were not logged with the model "
            f"(logged: {have}); {HOW_TO_EVALUATE}",
        )
    columns = {c: evaluation.sensitive[c] for c in rule.sensitive}
    results = fairness_report(
        evaluation.y_true, model.onnx_predictions, columns, positive_label=rule.positive_label
    )
    failed = False
    measured: list[str] = []
    evidence: list[str] = [f"{evaluation.rows} evaluation rows, predictions of the ONNX model"]
    for result in results:
        measured.append(f"{result.column}: dpd {result.dpd:.3f}")
        if rule.max_demographic_parity_difference is not None:
            failed |= result.dpd > rule.max_demographic_parity_difference
        if result.eod is not None:
            measured[-1] += f", eod {result.eod:.3f}"
            if rule.max_equalized_odds_difference is not None:
                failed |= result.eod > rule.max_equalized_odds_difference
        for group, rates in result.groups.items():
            shown = ", ".join(f"{k} {v:.3g}" for k, v in rates.items())
            evidence.append(f"{result.column}={group}: {shown}")
    status = CheckStatus.failed if failed else CheckStatus.passed
    return check(status, "; ".join(measured), "\n".join(evidence))
