"""scikit-learn models: detection, task, native predictions and ONNX export (skl2onnx).

The ONNX model has one float32 input ``[None, n]`` (numeric features only; text columns
must be encoded by a preprocess function). Classifiers are exported without ZipMap, so
the outputs are ``label`` (the prediction) and ``probabilities``; regressors output
``variable``.
"""

from __future__ import annotations

import io
import pickle
import warnings
from typing import TYPE_CHECKING, Any

from mlops_kernel.models.errors import ModelError, ModelExportError, first_line
from mlops_kernel.models.manifest import Task
from mlops_kernel.models.predictions import to_predictions

if TYPE_CHECKING:
    import numpy as np

NATIVE_FILE = "native.pkl"
FEATURE_DTYPE = "float32"


def is_sklearn(model: object) -> bool:
    """A scikit-learn estimator or pipeline, or anything shaped like one."""
    root = type(model).__module__.split(".")[0]
    shaped = all(hasattr(model, a) for a in ("fit", "get_params")) and (
        hasattr(model, "predict") or hasattr(model, "transform")
    )
    return root == "sklearn" or shaped


def sklearn_task(model: Any) -> Task:
    from sklearn.base import is_classifier, is_regressor

    if is_classifier(model):
        return "classification"
    return "regression" if is_regressor(model) else "other"


def check_fitted(model: Any) -> None:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ModelError(
            f"log_model: the {type(model).__name__} is not fitted; call fit() before log_model"
        ) from exc
    except TypeError:  # not an estimator check_is_fitted understands: skl2onnx will tell
        pass


def native_predictions(model: Any, model_input: Any, task: Task) -> np.ndarray[Any, Any]:
    """``predict`` (or ``transform`` for a transformer) on the model input as given."""
    method = model.predict if hasattr(model, "predict") else model.transform
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "X does not have valid feature names"
        return to_predictions(task, method(model_input))


def export(model: Any, features: np.ndarray[Any, Any], task: Task) -> tuple[bytes, str]:
    """The ONNX bytes and the name of the prediction output."""
    import skl2onnx

    options = {"zipmap": False} if task == "classification" else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onnx_model = skl2onnx.to_onnx(
                model, features[:1].astype(FEATURE_DTYPE), options=options
            )
    except Exception as exc:
        raise ModelExportError(
            f"log_model: skl2onnx cannot convert {type(model).__name__}: "
            f"{first_line(exc)}; use estimators skl2onnx supports, or register a converter "
            "for this one (skl2onnx.update_registered_converter)"
        ) from exc
    outputs = [o.name for o in onnx_model.graph.output]
    wanted = "label" if task == "classification" else "variable"
    output = wanted if wanted in outputs else outputs[0]
    return onnx_model.SerializeToString(), output


def save_native(model: Any) -> bytes:
    buffer = io.BytesIO()
    pickle.dump(model, buffer, protocol=5)
    return buffer.getvalue()
