"""The types every route table is written in: a route's path, handler and operations.

``routes.py`` collects the tables; the OpenAPI document and tornado's URL table are
both generated from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pydantic import BaseModel
from tornado.web import RequestHandler


@dataclass(frozen=True)
class Operation:
    method: str
    summary: str
    response: type[BaseModel] | None
    status: int = 200
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    public: bool = False
    event_stream: bool = False
    """Also answers ``text/event-stream`` (server-sent events)."""
    download: bool = False
    """Answers a file's bytes (``application/octet-stream``) rather than JSON."""
    also: tuple[int, ...] = ()
    """Other success codes answered with the same body (e.g. 200 beside a 201)."""
    description: str = ""


@dataclass(frozen=True)
class Route:
    path: str
    """OpenAPI style, e.g. ``/api/runs/{run_id}``."""
    handler: type[RequestHandler]
    operations: tuple[Operation, ...] = field(default_factory=tuple)

    @property
    def pattern(self) -> str:
        """Tornado's regex: a parameter matches one path segment, except a final
        ``{path}``, which may span several (an artifact's relative path)."""
        pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)
        if self.path.endswith("{path}"):
            pattern = pattern.removesuffix("[^/]+)") + ".+)"
        return pattern + "/?$"

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)
