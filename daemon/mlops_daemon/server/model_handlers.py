"""The model registry endpoints (``/api/models``). Thin: parse, call the registry, reply.

Who made a change is the ``X-Mlops-Actor`` header (the CLI sends the user's login
name); without one it is recorded as ``unknown``.
"""

from __future__ import annotations

from mlops_kernel.model_schemas import (
    CutoutRequest,
    PromoteRequest,
    RestoreRequest,
    RollbackRequest,
)

from ..errors import InvalidInput, NotFound
from ..model_registry import DEFAULT_ACTOR, RegistryService
from ..store.model_registry import MAX_VERSION
from .base import ApiHandler

ACTOR_HEADER = "X-Mlops-Actor"
MAX_ACTOR = 200


class RegistryHandler(ApiHandler):
    @property
    def registry(self) -> RegistryService:
        service: RegistryService = self.settings["mlops_registry"]
        return service

    @property
    def actor(self) -> str:
        actor = self.request.headers.get(ACTOR_HEADER, "").strip()
        if len(actor) > MAX_ACTOR or not actor.isprintable():
            raise InvalidInput(
                f"the {ACTOR_HEADER} header must be printable and at most {MAX_ACTOR} characters"
            )
        return actor or DEFAULT_ACTOR


class ModelsHandler(RegistryHandler):
    async def get(self) -> None:
        self.send(await self.registry.list_models())


class ModelHandler(RegistryHandler):
    async def get(self, name: str) -> None:
        self.send(await self.registry.detail(name))


class ModelVersionHandler(RegistryHandler):
    async def get(self, name: str, version: str) -> None:
        if not version.isdigit() or not 0 < int(version) <= MAX_VERSION:
            raise NotFound(f"no version {version!r} of model {name!r}: versions are 1, 2, ...")
        self.send(await self.registry.version(name, int(version)))


class PromoteHandler(RegistryHandler):
    async def post(self, name: str) -> None:
        req = self.body(PromoteRequest)
        self.send(await self.registry.promote(name, req, self.actor))


class RollbackHandler(RegistryHandler):
    async def post(self, name: str) -> None:
        req = self.body(RollbackRequest)
        self.send(await self.registry.rollback(name, req, self.actor))


class CutoutHandler(RegistryHandler):
    async def post(self, name: str) -> None:
        req = self.body(CutoutRequest)
        self.send(await self.registry.cutout(name, req, self.actor))


class RestoreHandler(RegistryHandler):
    async def post(self, name: str) -> None:
        req = self.body(RestoreRequest)
        self.send(await self.registry.restore(name, req, self.actor))
