"""Check this exported service answers as the registered model did.

Run ``python -m pytest -q`` in this folder. The app is started on a free port in a
thread; the manifest's sample rows must give the manifest's sample outputs (numbers
equal to within float32 rounding), and a malformed row must be refused with a 400.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import math
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
MANIFEST: dict[str, Any] = json.loads((HERE / "model.json").read_text())


def _load_app() -> ModuleType:
    spec = importlib.util.spec_from_file_location("exported_service_app", HERE / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = _load_app().make_server("127.0.0.1", 0, HERE)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def same(a: Any, b: Any) -> bool:
    """Equal, numbers within float32 rounding (the model computes in float32)."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and bool not in (type(a), type(b)):
        return math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
    return bool(a == b)


def test_health(port: int) -> None:
    status, answer = request(port, "GET", "/health")
    assert status == 200
    assert answer["status"] == "ok"
    assert answer["model"] == MANIFEST["name"]


def test_sample_input_gives_sample_output(port: int) -> None:
    rows = MANIFEST["sample_input"]
    assert rows, "model.json has no sample_input to check the service with"
    body = json.dumps({"inputs": rows}).encode()
    status, answer = request(port, "POST", "/predict", body)
    assert status == 200, answer
    assert len(answer["outputs"]) == len(rows)
    assert same(answer["outputs"], MANIFEST["sample_output"]), (
        answer["outputs"],
        MANIFEST["sample_output"],
    )


def test_bad_row_is_refused(port: int) -> None:
    row = list(MANIFEST["sample_input"][0])
    body = json.dumps({"inputs": [row + row]}).encode()  # twice as many values as a row has
    status, answer = request(port, "POST", "/predict", body)
    assert status == 400, answer
    assert answer["error"] == "invalid_input"
    assert "row 0" in answer["message"]


def test_malformed_body_is_refused(port: int) -> None:
    for body in (b"not json", b"[1, 2]", b'{"inputs": []}', b'{"rows": [[1]]}'):
        status, answer = request(port, "POST", "/predict", body)
        assert status == 400, (body, answer)
        assert answer["message"]
