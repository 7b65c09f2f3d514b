"""A prediction service for one exported model: ``POST /predict`` and ``GET /health``.

Written by ``mlops export-service``. It needs only the files beside it and the packages
in ``requirements.txt`` (numpy, onnxruntime, and what ``preprocess.py`` imports): it
does not use jupyter-mlops. Requests and answers are those of the mlops daemon's
``POST /serve/{model}/{alias}``::

    POST /predict  {"inputs": [[...raw row...], ...]}
    -> 200 {"model": ..., "alias": ..., "version": ..., "outputs": [...], "latency_ms": ...}
    -> 400 {"error": "invalid_input", "message": "row 0: ..."}

Run it with ``python app.py --port 8080`` (``--host 0.0.0.0`` to listen beyond this host).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import sys
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

HERE = Path(__file__).resolve().parent
MAX_ROWS = 100_000
MAX_BODY_BYTES = 256 * 1024 * 1024
NUMERIC = "iufb"


class BadInput(ValueError):
    """A request that does not fit the model: answered 400 with this message."""


class Model:
    """The exported model: its manifest, ONNX session and preprocessing, checked on load."""

    def __init__(self, folder: Path) -> None:
        self.manifest: dict[str, Any] = json.loads((folder / "model.json").read_text())
        service = folder / "service.json"
        about: dict[str, Any] = json.loads(service.read_text()) if service.exists() else {}
        self.name = str(about.get("model", self.manifest["name"]))
        self.alias = str(about.get("alias", ""))
        self.version = int(about.get("version", 0))
        onnx = folder / self.manifest.get("onnx_file", "model.onnx")
        data = onnx.read_bytes()
        if hashlib.sha256(data).hexdigest() != self.manifest["onnx_sha256"]:
            raise SystemExit(f"{onnx} is not the file this model was exported with (sha256)")
        self.session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
        spec = self.manifest["signature"]["inputs"][0]
        self.input_name: str = spec["name"]
        self.input_dtype: str = spec["dtype"]
        shape = spec["shape"]
        self.model_width: int | None = shape[1] if len(shape) == 2 else None
        self.width: int | None = self.manifest.get("raw_input_width") or self.model_width
        self.columns: list[str] | None = self.manifest.get("input_columns")
        self.dtypes: list[str] | None = self.manifest.get("input_dtypes")
        self.output: str = self.manifest["prediction_output"]
        self.task: str = self.manifest["task"]
        self.preprocess = _load_preprocess(folder, self.manifest.get("preprocess"))

    def predict(self, rows: list[Any]) -> list[Any]:
        """One prediction per raw row, as JSON values."""
        feeds = {self.input_name: self.features(rows)}
        try:
            (output,) = self.session.run([self.output], feeds)
        except Exception as exc:
            if type(exc).__module__.startswith("onnxruntime"):
                raise BadInput(f"the model could not run on these inputs: {exc}") from None
            raise
        return [_json(v) for v in to_predictions(self.task, output).tolist()]

    def features(self, rows: list[Any]) -> np.ndarray[Any, Any]:
        """Raw rows -> the ONNX input (the mlops daemon's rules, row and column named)."""
        for i, row in enumerate(rows):
            if not isinstance(row, list) or (self.width is not None and len(row) != self.width):
                got = f"{len(row)} values" if isinstance(row, list) else type(row).__name__
                names = f" ({', '.join(self.columns)})" if self.columns else ""
                raise BadInput(f"row {i}: expected a list of {self.width} values{names}; got {got}")
        if self.preprocess is None:
            return numeric(rows, self.columns, self.input_dtype)
        raw = self.raw_value(rows)
        try:
            value = self.preprocess(raw)
        except Exception as exc:
            raise BadInput(f"preprocess failed on these rows: {type(exc).__name__}: {exc}") from exc
        array = _matrix(value)
        if self.model_width is not None and array.shape[1] != self.model_width:
            raise BadInput(
                f"the preprocessed input has {array.shape[1]} columns; "
                f"the model takes {self.model_width}"
            )
        return array.astype(self.input_dtype, copy=False)

    def raw_value(self, rows: list[list[Any]]) -> Any:
        """The rows as the preprocess function saw its input when the model was logged."""
        dtypes = self.dtypes or ["object"] * len(rows[0])
        if self.columns is None:
            if _kind(dtypes[0]) in NUMERIC:
                return numeric(rows, None, dtypes[0])
            return np.array(rows, dtype=str if _kind(dtypes[0]) == "U" else object)
        import pandas as pd

        data: dict[str, Any] = {}
        for j, (name, dtype) in enumerate(zip(self.columns, dtypes, strict=True)):
            values = [row[j] for row in rows]
            kind = _kind(dtype)
            if kind in NUMERIC:
                data[name] = numeric([[v] for v in values], [name], dtype)[:, 0]
                continue
            try:
                if kind == "M":
                    data[name] = pd.to_datetime(pd.Series(values, dtype=object))
                elif kind == "O" and dtype != "object":
                    data[name] = pd.Series(values).astype(dtype)
                else:
                    data[name] = pd.Series(values, dtype=object)
            except (TypeError, ValueError) as exc:
                raise BadInput(f"column {name!r}: values do not fit dtype {dtype}: {exc}") from exc
        return pd.DataFrame(data, columns=self.columns)


def to_predictions(task: str, output: Any) -> np.ndarray[Any, Any]:
    """Model output -> one prediction per row: argmax of a classifier's scores, a single
    column flattened, anything else as it is (the same rule as the mlops daemon)."""
    array = np.asarray(output)
    if task == "classification" and array.ndim >= 2 and array.dtype.kind == "f":
        return np.asarray(array.argmax(axis=-1), dtype=np.int64)
    if array.ndim == 2 and array.shape[1] == 1:
        return array[:, 0]
    return array


def numeric(rows: list[list[Any]], columns: list[str] | None, dtype: str) -> np.ndarray[Any, Any]:
    """Rows of numbers as a 2-D array of ``dtype``; names the first bad cell otherwise."""
    try:
        array = np.asarray(rows)
    except ValueError:
        array = np.asarray([], dtype=object)
    if array.dtype.kind in NUMERIC and array.ndim == 2:
        return array.astype(dtype)
    nulls = _kind(dtype) == "f"
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if value is None and nulls:
                continue
            if value is None or not isinstance(value, bool | int | float):
                column = repr(columns[j]) if columns else str(j)
                need = "a number or null" if nulls else "a number"
                raise BadInput(f"row {i}, column {column}: {value!r} is not {need}")
    return np.asarray(rows, dtype=np.float64).astype(dtype)


def _matrix(value: Any) -> np.ndarray[Any, Any]:
    if hasattr(value, "to_numpy") and hasattr(value, "dtypes"):  # a pandas DataFrame
        value = value.to_numpy()
    array = np.asarray(value)
    if array.ndim != 2 or array.dtype.kind not in NUMERIC:
        raise BadInput(
            f"preprocess returned {array.dtype} values of shape {array.shape}; "
            "the model takes a 2-D array of numbers"
        )
    return array


def _kind(dtype: str) -> str:
    try:
        return str(np.dtype(dtype).kind)
    except TypeError:  # pandas' own dtypes: category, string, Int64, ...
        return "O"


def _json(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _load_preprocess(folder: Path, info: dict[str, Any] | None) -> Callable[[Any], Any] | None:
    if info is None:
        return None
    path = folder / info.get("file", "preprocess.py")
    if hashlib.sha256(path.read_bytes()).hexdigest() != info["sha256"]:
        raise SystemExit(f"{path} is not the file this model was exported with (sha256)")
    spec = importlib.util.spec_from_file_location("exported_preprocess", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function: Callable[[Any], Any] = getattr(module, info["function"])
    return function


def parse_request(body: bytes) -> list[Any]:
    """The rows of a request body, or BadInput saying what is wrong with it."""
    try:
        data = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadInput('the request body must be a JSON object: {"inputs": [[...], ...]}')
    extra = sorted(set(data) - {"inputs"})
    if extra:
        raise BadInput(f"invalid request body: unknown field(s) {', '.join(extra)}")
    rows = data.get("inputs")
    if not isinstance(rows, list) or not rows:
        raise BadInput("invalid request body: inputs must be a non-empty list of rows")
    if len(rows) > MAX_ROWS:
        raise BadInput(f"invalid request body: at most {MAX_ROWS} rows per request")
    return rows


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def do_GET(self) -> None:
        if self.path.rstrip("/") != "/health":
            self.reply(404, {"error": "not_found", "message": f"no such endpoint: {self.path}"})
            return
        model = self.server.model
        self.reply(200, {"status": "ok", "model": model.name, "version": model.version})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self.reply(413, {"error": "too_large", "message": "the request body is too large"})
            return
        body = self.rfile.read(length)
        if self.path.rstrip("/") != "/predict":
            self.reply(404, {"error": "not_found", "message": f"no such endpoint: {self.path}"})
            return
        start = time.perf_counter()
        model = self.server.model
        try:
            outputs = model.predict(parse_request(body))
        except BadInput as exc:
            self.reply(400, {"error": "invalid_input", "message": str(exc)})
            return
        except Exception as exc:
            self.log_error("prediction failed: %s: %s", type(exc).__name__, exc)
            self.reply(500, {"error": "internal_error", "message": "prediction failed"})
            return
        latency_ms = (time.perf_counter() - start) * 1000
        answer = {"model": model.name, "alias": model.alias, "version": model.version}
        self.reply(200, {**answer, "outputs": outputs, "latency_ms": latency_ms})

    def reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], model: Model, verbose: bool) -> None:
        super().__init__(address, Handler)
        self.model = model
        self.verbose = verbose


def make_server(host: str, port: int, folder: Path = HERE, verbose: bool = False) -> Server:
    """A server for the model in ``folder`` (port 0: a free one); call ``serve_forever``."""
    return Server((host, port), Model(folder), verbose)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    server = make_server(args.host, args.port, verbose=not args.quiet)
    print(f"serving {server.model.name} on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
