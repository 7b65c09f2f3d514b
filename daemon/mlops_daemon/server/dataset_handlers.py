"""The dataset endpoints (``/api/datasets``). Thin: parse, call the dataset service, reply."""

from __future__ import annotations

from mlops_kernel.dataset_schemas import DatasetAddRequest, DatasetVersionQuery

from ..datasets import DatasetService
from .base import ApiHandler


class DatasetHandler(ApiHandler):
    @property
    def datasets(self) -> DatasetService:
        service: DatasetService = self.settings["mlops_service"].datasets
        return service


class DatasetsHandler(DatasetHandler):
    async def get(self) -> None:
        self.send(await self.datasets.list_all())

    async def post(self) -> None:
        added = await self.datasets.add(self.body(DatasetAddRequest))
        self.send(added, status=201 if added.created else 200)


class DatasetVersionsHandler(DatasetHandler):
    async def get(self, name: str) -> None:
        self.send(await self.datasets.versions(name))


class DatasetVersionHandler(DatasetHandler):
    async def get(self, name: str, version: str) -> None:
        q = self.query(DatasetVersionQuery)
        self.send(await self.datasets.version(name, version, q.files))
