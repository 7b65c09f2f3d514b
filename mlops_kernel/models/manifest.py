"""What ``log_model`` leaves in a run directory, and how the daemon reads it back.

Layout, one folder per logged model::

    models/<name>/
      model.json       the ModelManifest below (written last, atomically: its
                       presence means the rest is complete)
      model.onnx       the exported model, checked with onnx.checker
      native.pkl|.pt   the model as trained (scikit-learn: pickle; PyTorch: torch.save)
      preprocess.py    a copy of the preprocessing function's module, if one was given
      evaluation.npz   the evaluation split (see EVALUATION_* keys), if one was given

The manifest is plain JSON so that the daemon (which never imports the training
libraries) can register, gate and serve the model from it alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

MODELS_DIR = "models"
MANIFEST_FILE = "model.json"
ONNX_FILE = "model.onnx"
PREPROCESS_FILE = "preprocess.py"
EVALUATION_FILE = "evaluation.npz"
MANIFEST_FORMAT = 1

# Keys of evaluation.npz. Features are the ONNX model's inputs (after preprocessing),
# one array per ONNX input, so that the daemon can run the ONNX model on them without
# any user code.
EVALUATION_FEATURE_PREFIX = "feature:"
"""``feature:<onnx input name>``: that input's values for every evaluation row."""
EVALUATION_Y_TRUE = "y_true"
"""The true labels or targets, when given."""
EVALUATION_NATIVE = "native"
"""The native model's predictions (class labels or regression values) on the rows."""
EVALUATION_SENSITIVE_PREFIX = "sensitive:"
"""``sensitive:<column>``: the sensitive attribute's value for every row (fairness gate)."""

Flavor = Literal["sklearn", "torch"]
Task = Literal["classification", "regression", "other"]


class TensorSpec(BaseModel):
    name: str
    dtype: str = Field(description="numpy dtype name: 'float32', 'int64', 'str', ...")
    shape: list[int | None] = Field(description="None marks a free dimension (the batch).")


class ModelSignature(BaseModel):
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]


class PreprocessInfo(BaseModel):
    """The function applied to raw input rows before the model, at training and serving."""

    module: str = Field(description="Import name of the function's module when it was logged.")
    function: str
    file: str = Field(default=PREPROCESS_FILE, description="The copy, inside the model folder.")
    sha256: str = Field(description="Hex SHA-256 of the module's source file.")


class ParityResult(BaseModel):
    """Native vs ONNX predictions on the same rows."""

    passed: bool
    rows: int
    tolerance: float
    max_abs_diff: float | None = Field(default=None, description="Regression: largest |diff|.")
    mismatches: int = Field(default=0, description="Classification: rows whose labels differ.")
    detail: str = ""


class ModelManifest(BaseModel):
    format: int = MANIFEST_FORMAT
    name: str
    flavor: Flavor
    task: Task
    onnx_file: str = ONNX_FILE
    onnx_sha256: str
    opset: int
    native_file: str
    signature: ModelSignature
    prediction_output: str = Field(
        description="The ONNX output holding predictions (labels or values)."
    )
    input_columns: list[str] | None = Field(
        default=None,
        description="Column names of the raw input, when the sample was a DataFrame: a served "
        "row gives one value per column, in this order.",
    )
    raw_input_width: int | None = Field(
        default=None, description="Values per raw input row (what a served row must hold)."
    )
    input_dtypes: list[str] | None = Field(
        default=None,
        description="dtype name of each raw input column ('float64', 'object', ...), so that "
        "served rows reach the preprocess function with the types it saw at training.",
    )
    preprocess: PreprocessInfo | None = None
    evaluation_file: str | None = None
    evaluation_rows: int = 0
    sensitive: list[str] = Field(default_factory=list)
    sample_input: list[list[Any]] = Field(
        default_factory=list, description="Up to 5 raw rows, as JSON values."
    )
    sample_output: list[Any] = Field(
        default_factory=list, description="The ONNX predictions for sample_input."
    )
    parity: ParityResult | None = Field(
        default=None, description="Checked by log_model on the evaluation split or the sample."
    )
    libraries: dict[str, str] = Field(default_factory=dict, description="name -> version")
    created_at: datetime
