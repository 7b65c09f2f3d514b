"""PyTorch models: detection, forward pass, task and ONNX export.

The model must take one tensor of shape ``(batch, n)`` and return one tensor. It is
exported with input ``input`` and output ``output`` and a dynamic batch axis, by the
TorchScript exporter (fast, quiet); the dynamo exporter is the fallback.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_kernel.models.errors import ModelError, ModelExportError, first_line
from mlops_kernel.models.manifest import Task

if TYPE_CHECKING:
    import numpy as np

NATIVE_FILE = "native.pt"
INPUT_NAME = "input"
OUTPUT_NAME = "output"


def is_torch(model: object) -> bool:
    if "torch" not in sys.modules:
        return False
    import torch

    return isinstance(model, torch.nn.Module)


def feature_dtype(model: Any, features: np.ndarray[Any, Any]) -> str:
    """float32 (float64 for a model whose parameters are), int64 for integer inputs."""
    import torch

    if features.dtype.kind in "iu":
        return "int64"
    if features.dtype.kind == "b":
        return "bool"
    first = next(iter(model.parameters()), None)
    return "float64" if first is not None and first.dtype == torch.float64 else "float32"


def on_cpu(model: Any) -> Any:
    """The model itself when it lives on the CPU, else a copy of it moved there.

    A model trained on a GPU is exported, evaluated and saved from its CPU copy: ONNX
    Runtime serves on the CPU, parity is measured where the ONNX model runs, and the
    saved native model loads on a machine without CUDA. The user's model stays where it is.
    """
    import copy

    import torch

    tensors = [*model.parameters(), *model.buffers()]
    if all(t.device.type == "cpu" for t in tensors):
        return model
    copied = copy.deepcopy(model)
    return copied.to(torch.device("cpu"))


def forward(model: Any, features: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The model's raw output on the features (eval mode, no gradients).

    The model's training mode is put back afterwards: logging a model mid-training must
    not switch its dropout and batch-norm updates off.
    """
    import torch

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            output = model(torch.from_numpy(features))
    finally:
        model.train(was_training)
    if not isinstance(output, torch.Tensor):
        raise ModelError(
            f"log_model: the torch model must return one tensor; it returned "
            f"{type(output).__name__}: wrap it so forward() returns the prediction tensor"
        )
    return output.detach().cpu().numpy()


def torch_task(output: np.ndarray[Any, Any], task: Task | None) -> Task:
    """The given task, checked; else regression for one output column, other otherwise."""
    one_column = output.ndim == 1 or (output.ndim == 2 and output.shape[1] == 1)
    if task == "classification" and (one_column or output.ndim != 2):
        raise ModelError(
            f"log_model: a torch classifier must return one logit per class, shape "
            f"(batch, classes); got {output.shape}: for a binary classifier return two logits"
        )
    if task is not None:
        return task
    return "regression" if one_column else "other"


def export(model: Any, features: np.ndarray[Any, Any], path: Path) -> bool:
    """Write the ONNX model to ``path``; True when the dynamo fallback was needed."""
    import torch

    sample = (torch.from_numpy(features[:2]),)  # 2 rows: dynamo keeps the batch free
    common: dict[str, Any] = {
        "input_names": [INPUT_NAME],
        "output_names": [OUTPUT_NAME],
    }
    try:
        _quietly(
            lambda: torch.onnx.export(
                model,
                sample,
                str(path),
                dynamo=False,
                dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                **common,
            )
        )
        return False
    except Exception as first:
        try:
            batch = torch.export.Dim("batch")
            _quietly(
                lambda: torch.onnx.export(
                    model,
                    sample,
                    str(path),
                    dynamo=True,
                    dynamic_shapes=({0: batch},),
                    **common,
                )
            )
            return True
        except Exception as second:
            raise ModelExportError(
                f"log_model: torch.onnx.export failed ({first_line(first)}; the dynamo "
                f"exporter too: {first_line(second)}); make forward() take one tensor "
                "and return one tensor, using operations ONNX supports"
            ) from second


def save_native(model: Any, path: Path) -> None:
    import torch

    torch.save(model, path)


def _quietly(call: Any) -> None:
    """Run an exporter with its warnings and progress prints silenced."""
    sink = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        warnings.simplefilter("ignore")
        call()
