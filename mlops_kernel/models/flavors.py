"""One interface over the supported model libraries (scikit-learn, PyTorch).

:func:`adapter` recognises the model, settles its task, and binds what ``log_model``
needs: the feature dtype, native predictions, ONNX export (checked with onnx.checker)
and saving the native model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_kernel.models import export_sklearn, export_torch
from mlops_kernel.models.errors import ModelError, ModelExportError, first_line
from mlops_kernel.models.manifest import Flavor, Task
from mlops_kernel.models.predictions import to_predictions

if TYPE_CHECKING:
    import numpy as np

Predict = Callable[[Any, "np.ndarray[Any, Any]"], "np.ndarray[Any, Any]"]


@dataclass
class Adapter:
    """A model with its flavor's operations."""

    model: Any
    flavor: Flavor
    task: Task
    dtype: str
    """dtype of the ONNX input (the features are cast to it)."""
    predict: Predict
    """(model input as given, features) -> native predictions (see to_predictions)."""
    libraries: list[str]

    def export(self, features: np.ndarray[Any, Any], path: Path) -> tuple[bool, str]:
        """Write model.onnx and check it; (dynamo exporter used, prediction output)."""
        import onnx

        if self.flavor == "torch":
            used_dynamo = export_torch.export(self.model, features, path)
            output = export_torch.OUTPUT_NAME
        else:
            data, output = export_sklearn.export(self.model, features, self.task)
            path.write_bytes(data)
            used_dynamo = False
        try:
            onnx.checker.check_model(onnx.load(str(path)), full_check=True)
        except Exception as exc:
            raise ModelExportError(
                f"log_model: the exported ONNX model fails onnx.checker: {first_line(exc)}; "
                "report this with the model type and the library versions"
            ) from exc
        return used_dynamo, output

    def save_native(self, model_dir: Path) -> str:
        """Save the model as trained; returns the file name."""
        if self.flavor == "torch":
            export_torch.save_native(self.model, model_dir / export_torch.NATIVE_FILE)
            return export_torch.NATIVE_FILE
        data = export_sklearn.save_native(self.model)
        (model_dir / export_sklearn.NATIVE_FILE).write_bytes(data)
        return export_sklearn.NATIVE_FILE


def adapter(model: Any, matrix: np.ndarray[Any, Any], task: Task | None) -> Adapter:
    """Recognise the flavor (ModelError if neither) and settle the task."""
    if export_torch.is_torch(model):
        model = export_torch.on_cpu(model)
        dtype = export_torch.feature_dtype(model, matrix)
        output = export_torch.forward(model, matrix.astype(dtype))
        settled = export_torch.torch_task(output, task)

        def torch_predict(_: Any, features: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            return to_predictions(settled, export_torch.forward(model, features))

        return Adapter(model, "torch", settled, dtype, torch_predict, ["torch"])
    if export_sklearn.is_sklearn(model):
        export_sklearn.check_fitted(model)
        settled = task or export_sklearn.sklearn_task(model)

        def sklearn_predict(model_input: Any, _: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
            return export_sklearn.native_predictions(model, model_input, settled)

        return Adapter(
            model,
            "sklearn",
            settled,
            export_sklearn.FEATURE_DTYPE,
            sklearn_predict,
            ["scikit-learn", "skl2onnx"],
        )
    raise ModelError(
        f"log_model: unsupported model type {type(model).__module__}.{type(model).__name__}; "
        "pass a fitted scikit-learn estimator or pipeline, or a torch.nn.Module"
    )
