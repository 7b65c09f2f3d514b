"""``log_model``: export a trained model to ONNX and keep it with the run.

Typical use at the end of a training function::

    from mlops_kernel import log_model

    log_model(pipeline, X_train[:5], name="churn", evaluation=(X_test, y_test),
              sensitive=["sex"])

The model folder (layout in :mod:`mlops_kernel.models.manifest`) holds everything the
daemon needs to register, gate and serve the model without the training libraries.
``sample_input`` and ``evaluation`` hold RAW rows, as a served request would; with a
``preprocess`` function the model's input is ``preprocess(raw)``, where ``raw`` is a
DataFrame (if the rows were one) or a 2-D numpy array, at log time and at serving alike.
Only numeric model inputs are exported (one ONNX input ``[None, n]``): encode text
columns in the preprocess function or refuse them here with a message naming them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shutil
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_kernel import runfiles, tracking
from mlops_kernel.model_schemas import MODEL_NAME
from mlops_kernel.models import flavors
from mlops_kernel.models import preprocess as prep
from mlops_kernel.models.errors import ModelError
from mlops_kernel.models.evaluation import Evaluation, write_evaluation
from mlops_kernel.models.flavors import Adapter
from mlops_kernel.models.inputs import RawTable, json_value, model_matrix, to_raw, to_vector
from mlops_kernel.models.manifest import (
    EVALUATION_FILE,
    MANIFEST_FILE,
    MODELS_DIR,
    ONNX_FILE,
    ModelManifest,
    ParityResult,
    PreprocessInfo,
    Task,
)
from mlops_kernel.models.onnx_runtime import open_session, run_onnx, session_signature
from mlops_kernel.models.predictions import compare_predictions
from mlops_kernel.models.rows import model_features

if TYPE_CHECKING:
    import numpy as np

SAMPLE_ROWS = 5
_TASKS = ("classification", "regression", "other")


def log_model(
    model: Any,
    sample_input: Any,
    *,
    name: str,
    evaluation: tuple[Any, Any] | Any | None = None,
    sensitive: Mapping[str, Any] | Sequence[str] | None = None,
    preprocess: Callable[[Any], Any] | None = None,
    task: Task | None = None,
    parity_tolerance: float = 1e-4,
) -> ModelManifest:
    """Export ``model`` to ONNX into ``<run dir>/models/<name>/``; returns its manifest.

    ``evaluation`` is ``(X_eval, y_eval)`` (a tuple) or ``X_eval`` alone; ``sensitive``
    names columns of an X_eval DataFrame, or maps names to one value per X_eval row.
    Parity of ONNX vs the native model is measured on the evaluation rows (else the
    sample) and recorded, not enforced: the gates decide. Raises ModelError (a
    ValueError) for a mistake in the arguments, ModelExportError when export fails.
    """
    if not isinstance(name, str) or not re.fullmatch(MODEL_NAME, name):
        raise ModelError(
            f"log_model: name must be letters, digits, '.', '_' or '-' (at most 100, "
            f"starting with a letter or digit); got {name!r}"
        )
    if task is not None and task not in _TASKS:
        raise ModelError(f"log_model: task must be one of {', '.join(_TASKS)}; got {task!r}")
    info_source = prep.describe(preprocess) if preprocess is not None else None
    raw = to_raw(sample_input, "log_model: sample_input")
    x_eval, y_eval = _split_evaluation(evaluation)
    if sensitive is not None and x_eval is None:
        raise ModelError("log_model: sensitive needs evaluation=(X_eval, y_eval) to take rows from")
    model_input = preprocess(raw.value) if preprocess is not None else raw.value
    matrix = model_matrix(model_input, _input_what(preprocess))
    adapter = flavors.adapter(model, matrix, task)
    features = matrix.astype(adapter.dtype)

    model_dir = tracking.run_dir() / MODELS_DIR / name
    if model_dir.exists():
        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True)
    try:
        onnx_path = model_dir / ONNX_FILE
        used_dynamo, prediction_output = adapter.export(features, onnx_path)
        native_file = adapter.save_native(model_dir)
        info = _copy_preprocess(info_source, model_dir, raw, matrix)

        session = open_session(onnx_path)
        signature = session_signature(session)
        manifest = ModelManifest(
            name=name,
            flavor=adapter.flavor,
            task=adapter.task,
            onnx_sha256=hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
            opset=_opset(onnx_path),
            native_file=native_file,
            signature=signature,
            prediction_output=prediction_output,
            input_columns=raw.columns,
            raw_input_width=raw.width,
            input_dtypes=raw.dtypes,
            preprocess=info,
            libraries=_versions(adapter, used_dynamo, raw, model_input),
            created_at=datetime.now(UTC),
        )
        feed_name = signature.inputs[0].name
        if x_eval is not None:
            ev = _evaluation(adapter, manifest, x_eval, y_eval, sensitive, preprocess, raw)
            write_evaluation(model_dir / EVALUATION_FILE, ev)
            onnx_pred = run_onnx(session, manifest, ev.features)
            parity = compare_predictions(ev.native, onnx_pred, adapter.task, parity_tolerance)
            extra: dict[str, Any] = {
                "evaluation_file": EVALUATION_FILE,
                "evaluation_rows": ev.rows,
                "sensitive": sorted(ev.sensitive),
            }
        else:
            native = adapter.predict(model_input, features)
            onnx_pred = run_onnx(session, manifest, {feed_name: features})
            parity = compare_predictions(native, onnx_pred, adapter.task, parity_tolerance)
            extra = {}
        sample_output = run_onnx(session, manifest, {feed_name: features[:SAMPLE_ROWS]})
        manifest = manifest.model_copy(
            update={
                **extra,
                "parity": _described(parity, "evaluation" if x_eval is not None else "sample"),
                "sample_input": _json_rows(raw),
                "sample_output": [json_value(v) for v in sample_output.tolist()],
            }
        )
        runfiles.write_json_atomic(model_dir / MANIFEST_FILE, manifest.model_dump(mode="json"))
    except BaseException:
        shutil.rmtree(model_dir, ignore_errors=True)  # no half model folder is left behind
        raise
    return manifest


def _input_what(preprocess: object) -> str:
    return "log_model: preprocess(sample_input)" if preprocess else "log_model: sample_input"


def _split_evaluation(evaluation: Any) -> tuple[Any | None, Any | None]:
    if evaluation is None:
        return None, None
    if isinstance(evaluation, tuple):
        if len(evaluation) != 2:
            raise ModelError(
                f"log_model: evaluation must be (X_eval, y_eval) or X_eval; "
                f"got a tuple of {len(evaluation)}"
            )
        return evaluation[0], evaluation[1]
    return evaluation, None


def _copy_preprocess(
    described: tuple[PreprocessInfo, Path] | None,
    model_dir: Path,
    raw: RawTable,
    matrix: np.ndarray[Any, Any],
) -> PreprocessInfo | None:
    """Copy the module, load the copy back, and check it computes the same model input."""
    import numpy as np

    if described is None:
        return None
    info, source = described
    copy = prep.load_file(prep.copy_into(source, model_dir, info), info)
    again = model_matrix(copy(raw.value), "the copied preprocess(sample_input)")
    if again.shape != matrix.shape or not np.array_equal(again, matrix, equal_nan=True):
        raise ModelError(
            f"log_model: preprocess {info.module}.{info.function} gives a different result "
            "when loaded from its copied module file; make it depend only on its argument "
            "and on installed packages"
        )
    return info


def _evaluation(
    adapter: Adapter,
    manifest: ModelManifest,
    x_eval: Any,
    y_eval: Any,
    sensitive: Mapping[str, Any] | Sequence[str] | None,
    preprocess: Callable[[Any], Any] | None,
    raw: RawTable,
) -> Evaluation:
    """The evaluation rows: ONNX feeds, native predictions, labels, sensitive columns."""
    import numpy as np

    ev_raw = to_raw(x_eval, "log_model: evaluation X_eval")
    if ev_raw.columns != raw.columns or ev_raw.width != raw.width:
        want = ", ".join(raw.columns) if raw.columns else f"{raw.width} columns"
        got = ", ".join(ev_raw.columns) if ev_raw.columns else f"{ev_raw.width} columns"
        raise ModelError(
            f"log_model: X_eval must have the columns of sample_input ({want}); got ({got})"
        )
    model_input = preprocess(ev_raw.value) if preprocess is not None else ev_raw.value
    spec = manifest.signature.inputs[0]
    features = model_features(model_input, spec, "log_model: X_eval (as model input)")
    native = np.asarray(adapter.predict(model_input, features))
    if native.dtype.kind not in "iufbU":
        native = native.astype(str)
    y_true = None if y_eval is None else to_vector(y_eval, "y_eval", ev_raw.rows)
    return Evaluation(
        features={spec.name: features},
        y_true=y_true,
        native=native,
        sensitive=_sensitive(sensitive, ev_raw),
        rows=ev_raw.rows,
    )


def _sensitive(
    sensitive: Mapping[str, Any] | Sequence[str] | None, ev_raw: RawTable
) -> dict[str, np.ndarray[Any, Any]]:
    if sensitive is None:
        return {}
    if isinstance(sensitive, Mapping):
        return {
            str(k): to_vector(v, f"sensitive[{k!r}]", ev_raw.rows) for k, v in sensitive.items()
        }
    names = [sensitive] if isinstance(sensitive, str) else list(sensitive)
    if ev_raw.columns is None:
        raise ModelError(
            "log_model: sensitive as column names needs X_eval to be a DataFrame; "
            "pass a mapping {name: values} instead"
        )
    missing = [n for n in names if n not in ev_raw.columns]
    if missing:
        raise ModelError(
            f"log_model: sensitive columns {missing} are not in X_eval (columns: "
            f"{', '.join(ev_raw.columns)}); pass a mapping {{name: values}} for other data"
        )
    frame = ev_raw.value
    frame = frame.set_axis([str(c) for c in frame.columns], axis=1)
    return {n: to_vector(frame[n], f"sensitive column {n!r}", ev_raw.rows) for n in names}


def _described(parity: ParityResult, rows_from: str) -> ParityResult:
    return parity.model_copy(update={"detail": f"{parity.detail} (on the {rows_from} rows)"})


def _json_rows(raw: RawTable) -> list[list[Any]]:
    from mlops_kernel.models.inputs import json_rows

    return json_rows(raw, SAMPLE_ROWS)


def _opset(path: Path) -> int:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def _versions(
    adapter: Adapter, used_dynamo: bool, raw: RawTable, model_input: Any
) -> dict[str, str]:
    """Versions of the libraries this model was made and exported with."""
    from mlops_kernel.models.inputs import is_dataframe

    names = ["numpy", "onnx", "onnxruntime", *adapter.libraries]
    names += ["onnxscript"] if used_dynamo else []
    names += ["pandas"] if raw.columns is not None or is_dataframe(model_input) else []
    versions: dict[str, str] = {}
    for name in sorted(names):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions
