"""The REST endpoints. Thin: parse, call the run service or store, reply.

What each endpoint takes and returns is declared once in ``routes.py``, which
also feeds the OpenAPI document.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tornado.iostream import StreamClosedError

from mlops_kernel.schemas import (
    API_VERSION,
    Health,
    LogChunk,
    LogQuery,
    MetricsQuery,
    RunQuery,
    RunSpec,
    RunStatus,
)

from .. import __version__
from ..logs import read_log
from ..service import RunService
from .base import ApiHandler


class ServiceHandler(ApiHandler):
    @property
    def service(self) -> RunService:
        service: RunService = self.settings["mlops_service"]
        return service


class HealthHandler(ApiHandler):
    public = True

    def get(self) -> None:
        self.send(Health(status="ok", version=__version__, api_version=API_VERSION))


class OpenApiHandler(ApiHandler):
    def get(self) -> None:
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(self.settings["mlops_openapi"])


class InfoHandler(ServiceHandler):
    async def get(self) -> None:
        self.send(await self.service.info())


class ProjectsHandler(ServiceHandler):
    async def get(self) -> None:
        s = self.service
        self.send(await s.db.call(s.store.list_projects))


class RunsHandler(ServiceHandler):
    async def get(self) -> None:
        q = self.query(RunQuery)
        s = self.service
        self.send(await s.db.call(s.store.list_runs, q))

    async def post(self) -> None:
        spec = self.body(RunSpec)
        self.send(await self.service.submit(spec), status=201)


class RunHandler(ServiceHandler):
    async def get(self, run_id: str) -> None:
        s = self.service
        self.send(await s.db.call(s.store.get_run, run_id))


class RunMetricsHandler(ServiceHandler):
    async def get(self, run_id: str) -> None:
        q = self.query(MetricsQuery)
        s = self.service
        self.send(await s.db.call(s.store.metrics, run_id, q.key))


class RunCancelHandler(ServiceHandler):
    async def post(self, run_id: str) -> None:
        self.send(await self.service.cancel(run_id))


class RunLogsHandler(ServiceHandler):
    """A page of the log, or with ``follow=true`` a server-sent event stream.

    Events: ``log`` (data: a LogChunk) as text arrives, then one ``end`` (data:
    the run's final status) once the run has ended and its log is drained.
    """

    async def get(self, run_id: str) -> None:
        q = self.query(LogQuery)
        s = self.service
        row = await s.db.call(s.store.get_row, run_id)
        run_dir = Path(row.run_dir)
        if not q.follow:
            self.send(await self._chunk(run_id, run_dir, q.offset, q.max_bytes))
            return
        await self._stream(run_id, run_dir, q)

    async def _chunk(self, run_id: str, run_dir: Path, offset: int, max_bytes: int) -> LogChunk:
        s = self.service
        ended = (await s.db.call(s.store.get_row, run_id)).status
        text, nxt, size = await asyncio.to_thread(read_log, run_dir, offset, max_bytes)
        complete = RunStatus(ended).terminal and nxt >= size
        return LogChunk(run_id=run_id, offset=offset, next_offset=nxt, text=text, complete=complete)

    async def _stream(self, run_id: str, run_dir: Path, q: LogQuery) -> None:
        self.set_header("Content-Type", "text/event-stream; charset=UTF-8")
        self.set_header("Cache-Control", "no-cache")
        self.set_header("X-Accel-Buffering", "no")
        offset = q.offset
        try:
            while True:
                chunk = await self._chunk(run_id, run_dir, offset, q.max_bytes)
                if chunk.text:
                    self._event("log", chunk.model_dump_json())
                    await self.flush()
                offset = chunk.next_offset
                if chunk.complete:
                    s = self.service
                    row = await s.db.call(s.store.get_row, run_id)
                    self._event("end", json.dumps({"status": row.status}))
                    await self.flush()
                    break
                if not chunk.text:
                    await asyncio.sleep(0.2)
        except StreamClosedError:
            return
        self.finish()

    def _event(self, name: str, data: str) -> None:
        self.write(f"event: {name}\ndata: {data}\n\n")

    def on_connection_close(self) -> None:
        """The client went away; the stream loop notices on its next write."""
