"""The gate endpoints (``/api/runs/{run_id}/gate``). Thin: parse, call the gate runner, reply."""

from __future__ import annotations

from mlops_kernel.model_schemas import GateQuery

from ..errors import NotFound
from ..gates import GateRunner
from .base import ApiHandler


class GateHandler(ApiHandler):
    @property
    def gates(self) -> GateRunner:
        runner: GateRunner = self.settings["mlops_gates"]
        return runner

    async def get(self, run_id: str) -> None:
        q = self.query(GateQuery)
        report = await self.gates.report(run_id, wait=q.wait)
        if report is None:
            store = self.gates.store
            await self.gates.db.call(store.get_run, run_id)  # 404 for an unknown run
            raise NotFound(
                f"run {run_id} has no gate report yet: evaluate its gates with "
                f"`mlops gate {run_id}` (POST /api/runs/{run_id}/gate)"
            )
        self.send(report)

    async def post(self, run_id: str) -> None:
        self.send(await self.gates.request(run_id), status=202)
