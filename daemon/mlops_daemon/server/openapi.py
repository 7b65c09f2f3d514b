"""Generate the OpenAPI 3.1 document from the route table and the pydantic schemas."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from mlops_kernel.schemas import ErrorBody

from .. import __version__
from .routes import ROUTES
from .routing import Operation, Route

REF = "#/components/schemas/{model}"
ERROR_TEXT = {
    400: "Bad input: the message says which field and why",
    401: "Missing or wrong bearer token",
    404: "No such object",
    409: "Not allowed in the object's current state",
    422: "Well-formed, but its content cannot be processed (e.g. a notebook cell fails)",
    503: "Unavailable for now (e.g. a cut-out model alias); the message says why",
}


def build_openapi() -> dict[str, Any]:
    models = _models()
    refs, defs = models_json_schema(models, ref_template=REF)
    paths: dict[str, Any] = {}
    for route in ROUTES:
        paths[route.path] = {op.method: _operation(route, op, refs) for op in route.operations}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "jupyter-mlops daemon",
            "version": __version__,
            "description": (
                "Runs, metrics and logs of the local jupyter-mlops daemon, and notebooks "
                "linted and extracted into versioned modules."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def _models() -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    out: list[tuple[type[BaseModel], JsonSchemaMode]] = [(ErrorBody, "serialization")]
    for route in ROUTES:
        for op in route.operations:
            if op.response is not None:
                out.append((op.response, "serialization"))
            if op.body is not None:
                out.append((op.body, "validation"))
    return list(dict.fromkeys(out))


def _operation(route: Route, op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method}_{re.sub(r'[^A-Za-z0-9]+', '_', route.path).strip('_')}",
        "parameters": _parameters(route, op),
        "responses": _responses(op, refs),
    }
    if op.description:
        doc["description"] = op.description
    if op.public:
        doc["security"] = []
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": refs[(op.body, "validation")]}},
        }
    return doc


def _parameters(route: Route, op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in route.path_params
    ]
    if op.query is not None:
        schema = op.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            entry: dict[str, Any] = {
                "name": name,
                "in": "query",
                "required": name in required,
                "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            }
            if "description" in prop:
                entry["description"] = prop["description"]
            params.append(entry)
    return params


def _responses(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    error = {"application/json": {"schema": refs[(ErrorBody, "serialization")]}}
    content: dict[str, Any]
    if op.download:
        binary = {"type": "string", "contentMediaType": "application/octet-stream"}
        content = {"application/octet-stream": {"schema": binary}}
    elif op.response is not None:
        content = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    else:
        content = {"application/json": {"schema": {"type": "object"}}}
    if op.event_stream:
        content["text/event-stream"] = {"schema": _event_schema(op, refs)}
    ok = "Accepted" if op.status == 202 else "OK"
    responses: dict[str, Any] = {str(op.status): {"description": ok, "content": content}}
    for code in op.also:
        responses[str(code)] = {"description": "OK", "content": content}
    codes = set(op.errors)
    if not op.public:
        codes.add(401)
    for code in sorted(codes):
        responses[str(code)] = {"description": ERROR_TEXT[code], "content": error}
    return responses


def _event_schema(op: Operation, refs: dict[Any, Any]) -> dict[str, Any]:
    """One server-sent event (in OpenAPI 3.1 a stream's ``schema`` describes each event):
    ``log`` events carry the operation's response model as JSON, the one ``end``
    event the run's final status."""

    def event(name: str, payload: dict[str, Any]) -> dict[str, Any]:
        data = {"type": "string", "contentMediaType": "application/json", "contentSchema": payload}
        return {
            "type": "object",
            "properties": {"event": {"const": name}, "data": data},
            "required": ["event", "data"],
        }

    end = {
        "type": "object",
        "properties": {"status": {"$ref": REF.format(model="RunStatus")}},
        "required": ["status"],
    }
    return {"oneOf": [event("log", refs[(op.response, "serialization")]), event("end", end)]}


def main() -> None:
    """Print the document (``python -m mlops_daemon.server.openapi``): the front end's
    TypeScript types are generated from this output without a running daemon."""
    import json
    import sys

    json.dump(build_openapi(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
