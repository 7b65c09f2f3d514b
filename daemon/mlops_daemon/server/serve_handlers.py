"""The serving endpoints: predictions, and a registered version's files (for
``mlops export-service``). Thin: parse, call the serving service, reply."""

from __future__ import annotations

from mlops_kernel.model_schemas import ServeRequest

from ..serving import ServingService
from .base import ApiHandler


class ServingHandler(ApiHandler):
    @property
    def serving(self) -> ServingService:
        """The app's serving service, whose ``invalidate`` the registry calls on every change."""
        service: ServingService = self.settings["mlops_serving"]
        return service


class ServeHandler(ServingHandler):
    async def post(self, model: str, alias: str) -> None:
        self.send(await self.serving.predict(model, alias, self.body(ServeRequest)))


class ModelFileHandler(ServingHandler):
    """``model.onnx``, ``model.json`` or ``preprocess.py`` of one registered version."""

    async def get(self, name: str, version: str, path: str) -> None:
        data = await self.serving.version_file(name, version, path)
        kind = "application/json" if path.endswith(".json") else "application/octet-stream"
        self.set_header("Content-Type", kind)
        self.set_header("Content-Disposition", f'attachment; filename="{path}"')
        self.finish(data)


class ServingStatsHandler(ServingHandler):
    async def get(self, name: str) -> None:
        self.send(await self.serving.stats_of(name))
