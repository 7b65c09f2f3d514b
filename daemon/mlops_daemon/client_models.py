"""Client functions for the model registry (``/api/models``), typed by the wire schemas.

The daemon records who made each change from the ``X-Mlops-Actor`` header: call
``set_actor(client)`` once (the CLI does) or changes are recorded as ``unknown``.
"""

from __future__ import annotations

import getpass
from typing import Any
from urllib.parse import quote

from mlops_kernel.model_schemas import (
    CutoutRequest,
    ModelDetail,
    ModelList,
    ModelVersionOut,
    PromoteRequest,
    RestoreRequest,
    RollbackRequest,
)

from .client import Client

ACTOR_HEADER = "X-Mlops-Actor"


def login_name() -> str:
    """Who is at this terminal (``unknown`` where the OS cannot say)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def set_actor(client: Client, actor: str | None = None) -> None:
    """Send ``actor`` (default: the login name) with every later request of ``client``."""
    client.headers[ACTOR_HEADER] = actor or login_name()


def _path(name: str, *rest: str) -> str:
    return "/".join(["/api/models", quote(name, safe=""), *rest])


def list_models(client: Client) -> ModelList:
    return ModelList.model_validate(client.request("GET", "/api/models"))


def model_detail(client: Client, name: str) -> ModelDetail:
    return ModelDetail.model_validate(client.request("GET", _path(name)))


def model_version(client: Client, name: str, version: int) -> ModelVersionOut:
    data = client.request("GET", _path(name, "versions", str(version)))
    return ModelVersionOut.model_validate(data)


def _change(client: Client, name: str, action: str, body: dict[str, Any]) -> ModelDetail:
    return ModelDetail.model_validate(client.request("POST", _path(name, action), body=body))


def promote(client: Client, name: str, req: PromoteRequest) -> ModelDetail:
    return _change(client, name, "promote", req.model_dump(exclude_none=True))


def rollback(client: Client, name: str, req: RollbackRequest) -> ModelDetail:
    return _change(client, name, "rollback", req.model_dump(exclude_none=True))


def cutout(client: Client, name: str, req: CutoutRequest) -> ModelDetail:
    return _change(client, name, "cutout", req.model_dump(exclude_none=True))


def restore(client: Client, name: str, req: RestoreRequest) -> ModelDetail:
    return _change(client, name, "restore", req.model_dump(exclude_none=True))
