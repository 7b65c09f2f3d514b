"""What the daemon needs to check, gate and serve a logged model; no user code runs here
except a model's own ``preprocess.py`` (after its hash is checked).

Sessions use the CPU provider with one intra-op thread by default: serving runs many
requests on a thread pool, and one thread per request avoids oversubscribing the cores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from mlops_kernel.models.errors import ModelError, first_line
from mlops_kernel.models.evaluation import Evaluation as Evaluation
from mlops_kernel.models.evaluation import load_evaluation as load_evaluation
from mlops_kernel.models.manifest import MANIFEST_FILE, ModelManifest, ModelSignature, TensorSpec
from mlops_kernel.models.predictions import compare_predictions as compare_predictions
from mlops_kernel.models.predictions import to_predictions
from mlops_kernel.models.preprocess import Preprocess, file_sha256, load_file
from mlops_kernel.models.rows import rows_to_features as rows_to_features

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime

__all__ = [
    "Evaluation",
    "compare_predictions",
    "load_evaluation",
    "load_preprocess",
    "open_session",
    "read_manifest",
    "rows_to_features",
    "run_onnx",
    "session_signature",
    "validate_model_dir",
]

_ORT_TYPES = {
    "float": "float32",
    "double": "float64",
    "float16": "float16",
    "int64": "int64",
    "int32": "int32",
    "int16": "int16",
    "int8": "int8",
    "uint8": "uint8",
    "uint16": "uint16",
    "uint32": "uint32",
    "uint64": "uint64",
    "bool": "bool",
    "string": "str",
}


def read_manifest(model_dir: Path) -> ModelManifest:
    """The model.json of a model folder; ModelError (a ValueError) when missing or invalid."""
    path = model_dir / MANIFEST_FILE
    try:
        return ModelManifest.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise ModelError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise ModelError(f"{path} is not a valid model manifest: {where}: {first['msg']}") from exc


def open_session(onnx_path: Path, threads: int = 1) -> onnxruntime.InferenceSession:
    """An onnxruntime session on the CPU with ``threads`` intra-op threads."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors only
    return onnxruntime.InferenceSession(
        str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
    )


def session_signature(session: onnxruntime.InferenceSession) -> ModelSignature:
    """The inputs and outputs of a session, as recorded in the manifest."""

    def spec(arg: Any) -> TensorSpec:
        inner = str(arg.type).removeprefix("tensor(").removesuffix(")")
        shape = [d if isinstance(d, int) else None for d in (arg.shape or [])]
        return TensorSpec(name=arg.name, dtype=_ORT_TYPES.get(inner, inner), shape=shape)

    return ModelSignature(
        inputs=[spec(a) for a in session.get_inputs()],
        outputs=[spec(a) for a in session.get_outputs()],
    )


def run_onnx(
    session: onnxruntime.InferenceSession,
    manifest: ModelManifest,
    features: Mapping[str, np.ndarray[Any, Any]],
) -> np.ndarray[Any, Any]:
    """The model's predictions for the feeds (see ``predictions.to_predictions``)."""
    (output,) = session.run([manifest.prediction_output], dict(features))
    return to_predictions(manifest.task, output)


def load_preprocess(model_dir: Path, manifest: ModelManifest) -> Preprocess | None:
    """The model's preprocess function from its copy (hash checked), or None."""
    if manifest.preprocess is None:
        return None
    return load_file(model_dir / manifest.preprocess.file, manifest.preprocess)


def validate_model_dir(model_dir: Path) -> list[str]:
    """Problems that make a model folder unfit to register or serve; [] when valid.

    Checks: the manifest reads; model.onnx exists and its SHA-256 is the recorded one;
    onnx.checker (full check) accepts it; onnxruntime opens it; its inputs and outputs
    are the manifest's signature and include the prediction output; preprocess.py, if
    any, has its recorded hash (it is not imported: validating runs no user code).
    """
    import onnx

    try:
        manifest = read_manifest(model_dir)
    except ModelError as exc:
        return [str(exc)]
    problems: list[str] = []
    onnx_path = model_dir / manifest.onnx_file
    try:
        data = onnx_path.read_bytes()
    except OSError as exc:
        return [f"cannot read {onnx_path}: {exc.strerror or exc}"]
    sha = hashlib.sha256(data).hexdigest()
    if sha != manifest.onnx_sha256:
        problems.append(
            f"{manifest.onnx_file} was changed after logging: sha256 {sha[:12]}..., "
            f"manifest says {manifest.onnx_sha256[:12]}..."
        )
    try:
        onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    except Exception as exc:
        problems.append(f"onnx.checker rejects {manifest.onnx_file}: {first_line(exc)}")
    try:
        session = open_session(onnx_path)
    except Exception as exc:
        problems.append(f"onnxruntime cannot load {manifest.onnx_file}: {first_line(exc)}")
    else:
        actual = session_signature(session)
        if actual != manifest.signature:
            problems.append(
                f"the model's signature differs from the manifest: model has "
                f"{_describe(actual)}; manifest says {_describe(manifest.signature)}"
            )
        if manifest.prediction_output not in {o.name for o in actual.outputs}:
            problems.append(f"the model has no output {manifest.prediction_output!r}")
    info = manifest.preprocess
    if info is not None:  # hashed, not imported: validating runs no user code
        path = model_dir / info.file
        if not path.is_file() or file_sha256(path) != info.sha256:
            problems.append(f"{info.file} is missing or was changed after logging")
    if not (model_dir / manifest.native_file).is_file():
        problems.append(f"the native model file {manifest.native_file} is missing")
    return problems


def _describe(signature: ModelSignature) -> str:
    def one(specs: list[TensorSpec]) -> str:
        return ", ".join(f"{s.name}:{s.dtype}{s.shape}" for s in specs)

    return f"inputs [{one(signature.inputs)}] outputs [{one(signature.outputs)}]"
