"""log_model on small torch MLPs: classification, regression, other, and refusals."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from mlops_kernel.models import onnx_runtime as rt
from mlops_kernel.models.errors import ModelError
from mlops_kernel.models.log import log_model
from mlops_kernel.models.manifest import MODELS_DIR

pytestmark = pytest.mark.slow

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)


def mlp(outputs: int) -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, outputs))


class TwoOutputs(nn.Module):
    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, x


def test_classifier_predictions_are_the_argmax_of_the_logits(run_dir: Path) -> None:
    model = mlp(2)
    manifest = log_model(model, X[:5], name="clf", task="classification", evaluation=(X, Y))
    assert (manifest.flavor, manifest.task, manifest.prediction_output) == (
        "torch",
        "classification",
        "output",
    )
    assert manifest.signature.inputs[0].shape == [None, 4]
    assert manifest.parity is not None and manifest.parity.passed
    with torch.no_grad():
        expected = model(torch.from_numpy(X[:5])).argmax(dim=1).tolist()
    assert manifest.sample_output == expected
    model_dir = run_dir / MODELS_DIR / "clf"
    assert rt.validate_model_dir(model_dir) == []
    ev = rt.load_evaluation(model_dir, manifest)
    assert ev is not None
    session = rt.open_session(model_dir / manifest.onnx_file)
    np.testing.assert_array_equal(rt.run_onnx(session, manifest, ev.features), ev.native)
    assert "torch" in manifest.libraries and "onnxscript" not in manifest.libraries
    reloaded = torch.load(model_dir / manifest.native_file, weights_only=False)
    with torch.no_grad():
        assert reloaded(torch.from_numpy(X[:5])).argmax(dim=1).tolist() == expected


def test_one_output_column_is_inferred_as_regression(run_dir: Path) -> None:
    manifest = log_model(mlp(1), X.astype(np.float64), name="reg")
    assert manifest.task == "regression"
    assert manifest.signature.inputs[0].dtype == "float32"
    assert manifest.parity is not None and manifest.parity.passed
    assert manifest.parity.max_abs_diff is not None
    session = rt.open_session(run_dir / MODELS_DIR / "reg" / manifest.onnx_file)
    feeds = rt.rows_to_features(manifest, X[:7].tolist(), None)
    assert rt.run_onnx(session, manifest, feeds).shape == (7,)  # dynamic batch axis


def test_several_output_columns_without_a_task_are_other(run_dir: Path) -> None:
    manifest = log_model(mlp(3), X, name="emb")
    assert manifest.task == "other"
    assert len(manifest.sample_output) == 5 and len(manifest.sample_output[0]) == 3


def test_a_classifier_with_one_logit_is_refused(run_dir: Path) -> None:
    with pytest.raises(ModelError, match="one logit per class"):
        log_model(mlp(1), X, name="bad", task="classification")


def test_a_model_returning_a_tuple_is_refused(run_dir: Path) -> None:
    with pytest.raises(ModelError, match="must return one tensor; it returned tuple"):
        log_model(TwoOutputs(), X, name="bad")


def test_the_dynamo_exporter_is_the_fallback(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_export = torch.onnx.export

    def torchscript_fails(*args: object, **kwargs: object) -> object:
        if kwargs.get("dynamo") is False:
            raise RuntimeError("TorchScript exporter unavailable")
        return real_export(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(torch.onnx, "export", torchscript_fails)
    manifest = log_model(mlp(2), X, name="dyn", task="classification", evaluation=(X, Y))
    assert "onnxscript" in manifest.libraries
    assert manifest.parity is not None and manifest.parity.passed
    assert manifest.signature.inputs[0].shape[0] is None


def test_logging_mid_training_leaves_the_model_as_it_was(run_dir: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 2))
    model.train()
    before = [p.detach().clone() for p in model.parameters()]
    manifest = log_model(model, X[:5], name="mid", task="classification", evaluation=(X, Y))
    assert model.training, "log_model must put the model's training mode back"
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    # the export and native predictions ran in eval mode (dropout off): they agree exactly
    assert manifest.parity is not None and manifest.parity.passed


def test_a_model_on_the_cpu_is_exported_as_is_and_others_from_a_cpu_copy() -> None:
    from mlops_kernel.models.export_torch import on_cpu

    model = mlp(2)
    assert on_cpu(model) is model
    # A CUDA model is copied to the CPU; the copy is proven on a GPU by tests/gpu/gpu_proof.py
