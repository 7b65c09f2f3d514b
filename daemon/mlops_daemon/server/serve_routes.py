"""The serving routes, spliced into ``routes.ROUTES`` (``*SERVE_ROUTES``)."""

from __future__ import annotations

from mlops_kernel.model_schemas import ServeRequest, ServeResponse, ServingStatsList

from . import serve_handlers as sv
from .routing import Operation, Route

SERVE_ROUTES: tuple[Route, ...] = (
    Route(
        "/serve/{model}/{alias}",
        sv.ServeHandler,
        (
            Operation(
                "post",
                "Predict with the version a model's alias names: one output per input row",
                ServeResponse,
                body=ServeRequest,
                errors=(400, 404, 503),
                description=(
                    "`inputs` holds raw rows, as the model was logged with (the manifest's "
                    "`input_columns` order; its preprocessing is applied). 400: a row does not "
                    "fit (the message names the row and column); 404: no such model or alias; "
                    "503: the alias is cut out (the message gives the reason) or its files "
                    "cannot be served."
                ),
            ),
        ),
    ),
    Route(
        "/api/models/{name}/versions/{version}/files/{path}",
        sv.ModelFileHandler,
        (
            Operation(
                "get",
                "Download model.onnx, model.json or preprocess.py of a registered version",
                None,
                errors=(404, 503),
                download=True,
                description=(
                    "Only these three files are served. model.onnx is checked against the "
                    "SHA-256 recorded at registration first (503 if it changed)."
                ),
            ),
        ),
    ),
    Route(
        "/api/models/{name}/serving",
        sv.ServingStatsHandler,
        (
            Operation(
                "get",
                "Serving statistics of each alias of a model: requests, errors, p50/p99 latency",
                ServingStatsList,
                errors=(404,),
                description="Counted since the daemon started; percentiles over the last "
                "10,000 successful predictions of each alias.",
            ),
        ),
    ),
)
