"""``evaluation.npz``: the rows the gates judge a logged model on.

Written by ``log_model``; read by the daemon's gates without any user code: the
features are the ONNX inputs (after preprocessing), so the ONNX model runs on them
directly. Text values are stored as fixed-width unicode, so no pickle is needed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_kernel.models.errors import ModelError
from mlops_kernel.models.manifest import (
    EVALUATION_FEATURE_PREFIX,
    EVALUATION_NATIVE,
    EVALUATION_SENSITIVE_PREFIX,
    EVALUATION_Y_TRUE,
    ModelManifest,
)

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Evaluation:
    features: dict[str, np.ndarray[Any, Any]]
    y_true: np.ndarray[Any, Any] | None
    native: np.ndarray[Any, Any]
    sensitive: dict[str, np.ndarray[Any, Any]] = field(default_factory=dict)
    rows: int = 0


def write_evaluation(path: Path, evaluation: Evaluation) -> None:
    """Write the file under a temporary name, then rename it into place."""
    import numpy as np

    arrays: dict[str, Any] = {EVALUATION_NATIVE: evaluation.native}
    for name, values in evaluation.features.items():
        arrays[EVALUATION_FEATURE_PREFIX + name] = values
    if evaluation.y_true is not None:
        arrays[EVALUATION_Y_TRUE] = evaluation.y_true
    for column, values in evaluation.sensitive.items():
        arrays[EVALUATION_SENSITIVE_PREFIX + column] = values
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)  # no object arrays: loads without pickle
    os.replace(tmp, path)


def load_evaluation(model_dir: Path, manifest: ModelManifest) -> Evaluation | None:
    """The model's evaluation split, or None when it was logged without one.

    Raises ModelError when the file is unreadable or lacks one of the model's inputs.
    """
    import numpy as np

    if manifest.evaluation_file is None:
        return None
    path = model_dir / manifest.evaluation_file
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read {path}: {exc}") from exc
    features: dict[str, np.ndarray[Any, Any]] = {}
    sensitive: dict[str, np.ndarray[Any, Any]] = {}
    for key, values in arrays.items():
        if key.startswith(EVALUATION_FEATURE_PREFIX):
            features[key.removeprefix(EVALUATION_FEATURE_PREFIX)] = values
        elif key.startswith(EVALUATION_SENSITIVE_PREFIX):
            sensitive[key.removeprefix(EVALUATION_SENSITIVE_PREFIX)] = values
    missing = [s.name for s in manifest.signature.inputs if s.name not in features]
    if missing or EVALUATION_NATIVE not in arrays:
        lacking = [EVALUATION_FEATURE_PREFIX + m for m in missing]
        if EVALUATION_NATIVE not in arrays:
            lacking.append(EVALUATION_NATIVE)
        raise ModelError(f"{path} lacks {', '.join(lacking)}; log the model again")
    native = arrays[EVALUATION_NATIVE]
    return Evaluation(
        features=features,
        y_true=arrays.get(EVALUATION_Y_TRUE),
        native=native,
        sensitive=sensitive,
        rows=int(native.shape[0]),
    )
