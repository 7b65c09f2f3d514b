"""POST /serve/{model}/{alias} through a real daemon: predictions equal onnxruntime's
and the native model's, bad requests are 400s with clear messages, unknown names 404,
a cut-out alias 503 from the very next request, and the version files endpoint."""

from __future__ import annotations

import hashlib
import http.client
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import onnxruntime
import pytest
from support.daemon import DaemonProcess
from support.serving_models import LoggedModel, daemon_serving

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def daemon(
    tmp_path_factory: pytest.TempPathFactory, logged: dict[str, LoggedModel]
) -> Iterator[DaemonProcess]:
    with daemon_serving(tmp_path_factory.mktemp("serving") / "home", logged) as proc:
        yield proc


def call(
    daemon: DaemonProcess, method: str, path: str, body: Any = None, token: bool = True
) -> tuple[int, Any, bytes]:
    """(status, JSON answer or None, raw bytes) of one request."""
    conn = http.client.HTTPConnection(daemon.api.host, daemon.api.port, timeout=60)
    headers = {"Authorization": f"Bearer {daemon.api.token}"} if token else {}
    payload = body if isinstance(body, bytes) else None if body is None else json.dumps(body)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    try:
        answer = json.loads(data)
    except ValueError:
        answer = None
    return response.status, answer, data


def serve(
    daemon: DaemonProcess, model: str, body: Any, alias: str = "production"
) -> tuple[int, Any]:
    status, answer, _ = call(daemon, "POST", f"/serve/{model}/{alias}", body)
    return status, answer


def test_predictions_equal_onnxruntime_and_native(
    daemon: DaemonProcess, logged: dict[str, LoggedModel]
) -> None:
    iris = logged["iris"]
    status, answer = serve(daemon, "iris", {"inputs": iris.rows})
    assert status == 200, answer
    assert (answer["model"], answer["alias"], answer["version"]) == ("iris", "production", 1)
    session = onnxruntime.InferenceSession(str(iris.model_dir / "model.onnx"))
    (labels,) = session.run(["label"], {"X": np.asarray(iris.rows, dtype=np.float32)})
    assert answer["outputs"] == labels.tolist()
    assert answer["outputs"] == iris.expected

    diabetes = logged["diabetes"]
    status, answer = serve(daemon, "diabetes", {"inputs": diabetes.rows})
    assert status == 200, answer
    np.testing.assert_allclose(answer["outputs"], diabetes.expected, rtol=1e-4, atol=1e-3)

    colours = logged["colours"]
    status, answer = serve(daemon, "colours", {"inputs": colours.rows})
    assert status == 200, answer
    assert answer["outputs"] == colours.expected


@pytest.mark.parametrize(
    ("model", "body", "message"),
    [
        ("iris", {"inputs": [[1, 2, 3]]}, "row 0: expected a list of 4 values; got 3 values"),
        ("iris", {"inputs": [[1, 2, "tall", 4]]}, "row 0, column 2: 'tall' is not a number"),
        ("diabetes", {"inputs": [["x"] + [0.0] * 9]}, "row 0, column 'age': 'x' is not a number"),
        ("iris", {"inputs": []}, "inputs: List should have at least 1 item"),
        ("iris", {"inputs": [1, 2, 3, 4]}, "inputs.0: Input should be a valid list"),
        ("iris", {"rows": [[1, 2, 3, 4]]}, "invalid request body"),
        ("iris", [[1, 2, 3, 4]], "the request body must be a JSON object"),
        ("iris", b"{not json", "the request body is not valid JSON"),
    ],
)
def test_bad_requests_are_400_with_a_clear_message(
    daemon: DaemonProcess, model: str, body: Any, message: str
) -> None:
    status, answer = serve(daemon, model, body)
    assert status == 400, answer
    assert answer["error"] == "invalid_input"
    assert message in answer["message"]
    assert "Traceback" not in answer["message"]


def test_unknown_model_or_alias_is_404(daemon: DaemonProcess) -> None:
    status, answer = serve(daemon, "nosuch", {"inputs": [[1, 2, 3, 4]]})
    assert status == 404 and "nosuch" in answer["message"]
    status, answer = serve(daemon, "iris", {"inputs": [[1, 2, 3, 4]]}, alias="staging")
    assert status == 404 and "no alias 'staging'" in answer["message"]


def test_a_token_is_required(daemon: DaemonProcess) -> None:
    status, _, _ = call(
        daemon, "POST", "/serve/iris/production", {"inputs": [[1, 2, 3, 4]]}, token=False
    )
    assert status == 401


def test_cut_out_answers_503_from_the_next_request_until_restored(
    daemon: DaemonProcess, logged: dict[str, LoggedModel]
) -> None:
    rows = {"inputs": logged["iris"].rows[:3]}
    assert serve(daemon, "iris", rows)[0] == 200  # the alias is resolved (and cached)
    cut = {"alias": "production", "reason": "drift in the EU traffic"}
    status, answer, _ = call(daemon, "POST", "/api/models/iris/cutout", cut)
    assert status == 200, answer
    status, answer = serve(daemon, "iris", rows)  # the very next request
    assert status == 503, answer
    assert answer["error"] == "cut_out"
    assert "drift in the EU traffic" in answer["message"]
    status, answer, _ = call(daemon, "POST", "/api/models/iris/restore", {"alias": "production"})
    assert status == 200, answer
    status, answer = serve(daemon, "iris", rows)
    assert status == 200, answer
    assert answer["outputs"] == logged["iris"].expected[:3]


def test_version_files_are_served_checked(
    daemon: DaemonProcess, logged: dict[str, LoggedModel]
) -> None:
    base = "/api/models/colours/versions/1/files"
    status, _, data = call(daemon, "GET", f"{base}/model.onnx")
    assert status == 200
    assert hashlib.sha256(data).hexdigest() == logged["colours"].manifest.onnx_sha256
    status, manifest, _ = call(daemon, "GET", f"{base}/model.json")
    assert status == 200 and manifest["name"] == "colours"
    status, _, data = call(daemon, "GET", f"{base}/preprocess.py")
    assert status == 200 and b"def encode" in data
    status, answer, _ = call(daemon, "GET", f"{base}/native.pkl")
    assert status == 404 and "only model.onnx, model.json, preprocess.py" in answer["message"]
    status, answer, _ = call(daemon, "GET", "/api/models/iris/versions/1/files/preprocess.py")
    assert status == 404 and "no preprocess function" in answer["message"]
    status, answer, _ = call(daemon, "GET", "/api/models/iris/versions/9/files/model.onnx")
    assert status == 404 and "no version 9" in answer["message"]
    status, _, _ = call(daemon, "GET", f"{base}/model.onnx", token=False)
    assert status == 401


def test_openapi_documents_the_serving_routes(daemon: DaemonProcess) -> None:
    status, doc, _ = call(daemon, "GET", "/api/openapi.json")
    assert status == 200
    operation = doc["paths"]["/serve/{model}/{alias}"]["post"]
    assert {"400", "404", "503"} <= set(operation["responses"])
    assert "/api/models/{name}/versions/{version}/files/{path}" in doc["paths"]


def test_latency_is_recorded_per_alias(
    daemon: DaemonProcess, logged: dict[str, LoggedModel]
) -> None:
    def stats() -> dict[str, Any]:
        status, answer, _ = call(daemon, "GET", "/api/models/diabetes/serving")
        assert status == 200, answer
        found = {s["alias"]: s for s in answer["aliases"]}
        return found.get("production", {"count": 0, "errors": 0})

    before = stats()
    rows = logged["diabetes"].rows
    for _ in range(3):
        assert serve(daemon, "diabetes", {"inputs": rows})[0] == 200
    assert serve(daemon, "diabetes", {"inputs": [[1.0]]})[0] == 400
    after = stats()
    assert after["count"] - before["count"] == 4
    assert after["errors"] - before["errors"] == 1
    assert 0 < after["p50_ms"] <= after["p99_ms"]
    status, answer, _ = call(daemon, "GET", "/api/models/nosuch/serving")
    assert status == 404, answer
