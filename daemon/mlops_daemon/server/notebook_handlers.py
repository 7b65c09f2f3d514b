"""The notebook endpoints: lint, extraction plans and jobs, module versions.

Thin, like ``handlers.py``: parse, call the extraction service, reply. What each
takes and returns is declared in ``routes.py``.
"""

from __future__ import annotations

from mlops_kernel.notebook.jobs_schemas import LintRequest, ModulesQuery
from mlops_kernel.notebook.schemas import ExtractionRequest

from ..extraction import ExtractionService
from .base import ApiHandler


class NotebookHandler(ApiHandler):
    @property
    def extractions(self) -> ExtractionService:
        service: ExtractionService = self.settings["mlops_extractions"]
        return service


class LintHandler(NotebookHandler):
    async def post(self) -> None:
        self.send(await self.extractions.lint(self.body(LintRequest)))


class ExtractionPlanHandler(NotebookHandler):
    async def post(self) -> None:
        self.send(await self.extractions.plan(self.body(ExtractionRequest)))


class ExtractionsHandler(NotebookHandler):
    async def post(self) -> None:
        job = await self.extractions.submit(self.body(ExtractionRequest))
        self.send(job, status=202)


class ExtractionHandler(NotebookHandler):
    def get(self, job_id: str) -> None:
        self.send(self.extractions.get(job_id))


class ModulesHandler(NotebookHandler):
    async def get(self) -> None:
        self.send(await self.extractions.modules(self.query(ModulesQuery)))
