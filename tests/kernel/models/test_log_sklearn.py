"""log_model on scikit-learn models: files, manifest, parity, evaluation, read back."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

import mlops_kernel
from mlops_kernel.models import onnx_runtime as rt
from mlops_kernel.models.log import log_model
from mlops_kernel.models.manifest import (
    EVALUATION_FILE,
    MANIFEST_FILE,
    MODELS_DIR,
    ONNX_FILE,
)


@pytest.fixture(scope="module")
def iris() -> tuple[pd.DataFrame, np.ndarray]:
    data = load_iris(as_frame=True)
    frame = data.data.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
    return frame, data.target.to_numpy()


@pytest.fixture(scope="module")
def pipeline(iris: tuple[pd.DataFrame, np.ndarray]) -> Pipeline:
    frame, y = iris
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(frame, y)


def test_pipeline_is_exported_with_parity_on_the_evaluation_rows(
    run_dir: Path, iris: tuple[pd.DataFrame, np.ndarray], pipeline: Pipeline
) -> None:
    frame, y = iris
    manifest = log_model(pipeline, frame.iloc[:8], name="iris", evaluation=(frame, y))

    model_dir = run_dir / MODELS_DIR / "iris"
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(
        [MANIFEST_FILE, ONNX_FILE, "native.pkl", EVALUATION_FILE]
    )
    assert rt.read_manifest(model_dir) == manifest
    assert json.loads((model_dir / MANIFEST_FILE).read_text())["name"] == "iris"
    assert (manifest.flavor, manifest.task, manifest.prediction_output) == (
        "sklearn",
        "classification",
        "label",
    )
    assert manifest.input_columns == list(frame.columns)
    assert manifest.raw_input_width == 4
    assert manifest.signature.inputs[0].shape == [None, 4]
    assert manifest.signature.inputs[0].dtype == "float32"
    assert {o.name for o in manifest.signature.outputs} == {"label", "probabilities"}
    assert manifest.parity is not None and manifest.parity.passed
    assert manifest.parity.rows == len(frame)
    assert manifest.evaluation_rows == len(frame)
    assert manifest.sample_input == frame.iloc[:5].to_numpy().tolist()
    assert manifest.sample_output == pipeline.predict(frame.iloc[:5]).tolist()
    assert {"scikit-learn", "skl2onnx", "onnx", "onnxruntime", "numpy"} <= set(manifest.libraries)
    assert manifest.opset > 0
    native = pickle.loads((model_dir / "native.pkl").read_bytes())
    np.testing.assert_array_equal(native.predict(frame), pipeline.predict(frame))
    assert rt.validate_model_dir(model_dir) == []


def test_evaluation_file_reads_back_and_runs_without_user_code(
    run_dir: Path, iris: tuple[pd.DataFrame, np.ndarray], pipeline: Pipeline
) -> None:
    frame, y = iris
    log_model(pipeline, frame, name="iris", evaluation=(frame, y))
    model_dir = run_dir / MODELS_DIR / "iris"
    manifest = rt.read_manifest(model_dir)
    ev = rt.load_evaluation(model_dir, manifest)
    assert ev is not None
    assert ev.rows == len(frame)
    np.testing.assert_array_equal(ev.y_true, y)
    np.testing.assert_array_equal(ev.native, pipeline.predict(frame))
    (feed,) = ev.features.values()
    assert feed.dtype == np.float32 and feed.shape == (len(frame), 4)
    session = rt.open_session(model_dir / manifest.onnx_file)
    onnx_pred = rt.run_onnx(session, manifest, ev.features)
    parity = rt.compare_predictions(ev.native, onnx_pred, manifest.task, 1e-4)
    assert parity.passed and parity.mismatches == 0


def test_no_evaluation_checks_parity_on_the_sample(
    run_dir: Path, iris: tuple[pd.DataFrame, np.ndarray], pipeline: Pipeline
) -> None:
    frame, _ = iris
    manifest = log_model(pipeline, frame.to_numpy()[:20], name="plain")
    assert manifest.evaluation_file is None
    assert manifest.input_columns is None and manifest.raw_input_width == 4
    assert manifest.parity is not None and manifest.parity.rows == 20
    assert rt.load_evaluation(run_dir / MODELS_DIR / "plain", manifest) is None


def test_regressor_parity_and_served_rows(run_dir: Path) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = RandomForestRegressor(n_estimators=10, random_state=0).fit(X, y)
    manifest = log_model(model, X[:5].tolist(), name="diabetes", evaluation=(X[:100], y[:100]))
    assert (manifest.task, manifest.prediction_output) == ("regression", "variable")
    assert manifest.parity is not None and manifest.parity.passed
    assert manifest.parity.max_abs_diff is not None
    assert manifest.parity.max_abs_diff < 1e-4 * max(1.0, float(np.abs(y).max()))
    model_dir = run_dir / MODELS_DIR / "diabetes"
    session = rt.open_session(model_dir / ONNX_FILE)
    feeds = rt.rows_to_features(manifest, manifest.sample_input, None)
    served = rt.run_onnx(session, manifest, feeds)
    assert served.shape == (5,)
    np.testing.assert_allclose(served, model.predict(X[:5]), rtol=1e-4)
    np.testing.assert_allclose(served, manifest.sample_output, rtol=1e-6)


def test_string_labels_survive_export_and_evaluation(run_dir: Path) -> None:
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = LogisticRegression(max_iter=500).fit(X, names)
    manifest = log_model(model, X[:3], name="named", evaluation=(X, names))
    assert manifest.parity is not None and manifest.parity.passed
    assert manifest.sample_output == model.predict(X[:3]).tolist()
    ev = rt.load_evaluation(run_dir / MODELS_DIR / "named", manifest)
    assert ev is not None and ev.y_true is not None
    assert ev.y_true.dtype.kind == "U" and ev.native.dtype.kind == "U"


def test_sensitive_columns_from_the_dataframe(run_dir: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=60), "group": rng.integers(0, 2, size=60)})
    y = (frame["x"] > 0).astype(int).to_numpy()
    model = LogisticRegression().fit(frame, y)
    manifest = log_model(model, frame[:3], name="fair", evaluation=(frame, y), sensitive=["group"])
    assert manifest.sensitive == ["group"]
    ev = rt.load_evaluation(run_dir / MODELS_DIR / "fair", manifest)
    assert ev is not None
    np.testing.assert_array_equal(ev.sensitive["group"], frame["group"].to_numpy())


def test_sensitive_columns_from_a_mapping(run_dir: Path) -> None:
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    sex = np.where(np.arange(len(X)) % 2 == 0, "f", "m").astype(object)
    manifest = log_model(model, X[:2], name="m", evaluation=(X, y), sensitive={"sex": sex})
    assert manifest.sensitive == ["sex"]
    ev = rt.load_evaluation(run_dir / MODELS_DIR / "m", manifest)
    assert ev is not None
    assert ev.sensitive["sex"].tolist() == sex.tolist()


def test_logging_the_same_name_again_replaces_the_folder(
    run_dir: Path, iris: tuple[pd.DataFrame, np.ndarray], pipeline: Pipeline
) -> None:
    frame, y = iris
    log_model(pipeline, frame, name="iris", evaluation=(frame, y))
    manifest = log_model(pipeline, frame, name="iris")
    assert manifest.evaluation_file is None
    assert not (run_dir / MODELS_DIR / "iris" / EVALUATION_FILE).exists()


def test_log_model_is_exported_lazily_from_the_package() -> None:
    assert mlops_kernel.log_model is log_model
    assert "log_model" in dir(mlops_kernel)
